"""Local models through CTranslate2, int8 on the CPU: `ct2:smollm2-135m`, `ct2:hf:<path>`.

The same weights as `local:<name>` (the fp32 folder `models.backends.local` converts once from
the GGUF), converted once more to a CTranslate2 int8 folder under `$AUTORESEARCH_HOME/ct2/`.
On two cores it generates a batch of ten planner answers about three times faster than the
torch backend (`benchmarks/bench_ct2.py`). Its outputs are not the torch backend's (int8
weights), so it is a model spec of its own: results under `ct2:` and `local:` are never
compared. A call that constrains decoding to a JSON Schema or loads a LoRA adapter goes to the
torch backend on the same weights (`local:<name>`), which can do both; its completion says so
in its `model_id`.

Unlike the torch backend, a case's greedy answer depends on the batch it is generated in:
CTranslate2 has no attention mask for a batch of prompts of different lengths, and feeds each
prompt's tokens past the shortest one through the decoding loop, which rounds differently in
int8. The same batch gives the same answers every time; `include_prompt_in_result=True` would
make answers batch-independent, at three times the cost on the planner's retrieval prompts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

from models.backends.local import (
    SOURCES,
    LocalModel,
    home,
    render_prompt,
    require_transformers,
)
from models.base import Completion, GenerationOptions, Message, ModelError, ModelInfo, apply_stop
from models.hookspecs import hookimpl

INSTALL = "pip install 'autoresearch[local]' (it brings ctranslate2)"
# One thread per generation: on a small model the second thread costs more in synchronisation
# than it computes (SmolLM2-135M, batch of ten, two cores: 201 tok/s on one, 91 on two).
THREADS = int(os.environ.get("AUTORESEARCH_CT2_THREADS", "1"))


def installed() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


def _require_ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError as exc:
        raise ModelError(f"the ct2 backend needs ctranslate2; run: {INSTALL}") from exc
    return ctranslate2


def ct2_dir(name: str) -> Path:
    """Convert `local:<name>`'s weights to a CTranslate2 int8 folder once; return that folder."""
    source = Path(LocalModel(name).source_dir())
    if name.startswith("hf:"):
        digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
        target = home() / "ct2" / f"hf-{digest}"
    else:
        target = home() / "ct2" / name
    if (target / "model.bin").exists():
        return target
    ctranslate2 = _require_ctranslate2()
    partial = target.with_name(target.name + ".partial")
    converter = ctranslate2.converters.TransformersConverter(str(source))
    converter.convert(str(partial), quantization="int8", force=True)
    os.replace(partial, target)
    return target


def prepare_weights(name: str) -> list[Path]:
    """The folders `ct2:<name>` reads (the tokenizer's and the int8 model's), made ready now."""
    known = name.startswith("hf:") or (name in SOURCES and SOURCES[name].installed())
    if not installed() or not known:
        return []
    return [Path(LocalModel(name).source_dir()).resolve(), ct2_dir(name)]


class StopWatch:
    """Tells CTranslate2 to end a batch row once its text holds a stop string."""

    def __init__(self, tokenizer: Any, rows: int, stop: list[str]) -> None:
        self.tokenizer = tokenizer
        self.stop = [s for s in stop if s]
        self.ids: list[list[int]] = [[] for _ in range(rows)]

    def __call__(self, step: Any) -> bool:
        ids = self.ids[step.batch_id]
        ids.append(step.token_id)
        if not self.stop:
            return False
        text = self.tokenizer.decode(ids[-64:], skip_special_tokens=True)
        return any(s in text for s in self.stop)


class CT2Model:
    """One CTranslate2 int8 generator; batched greedy or seeded sampling."""

    def __init__(self, name: str) -> None:
        self.local = LocalModel(name)  # validates the name; its folder holds the tokenizer
        self.name = name
        self.model_id = f"ct2:{name}"
        self._lock = threading.Lock()
        self._generator: Any = None
        self._tokenizer: Any = None

    def load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._generator is None:
                ctranslate2 = _require_ctranslate2()
                tokenizer = require_transformers().AutoTokenizer.from_pretrained(
                    self.local.source_dir()
                )
                self._generator = self._new_generator(ctranslate2)
                self._tokenizer = tokenizer
        return self._generator, self._tokenizer

    def _new_generator(self, ctranslate2: Any) -> Any:
        return ctranslate2.Generator(
            str(ct2_dir(self.name)), device="cpu", compute_type="int8", intra_threads=THREADS
        )

    def _seeded(self, seed: int) -> Any:
        """A generator whose sampling starts from `seed`. CTranslate2 seeds a worker thread's
        random generator once, when it first samples, so a seeded call needs a fresh generator
        (0.15 s for SmolLM2) to give the same text every time, as the torch backend does."""
        ctranslate2 = _require_ctranslate2()
        ctranslate2.set_random_seed(seed)
        return self._new_generator(ctranslate2)

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        return self.generate_batch([messages], options)[0]

    def generate_batch(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]:
        if options.json_schema is not None or options.adapter is not None:
            return self.local.generate_batch(batch, options)
        if not batch:
            return []
        generator, tokenizer = self.load()
        started = time.perf_counter()
        special = not tokenizer.chat_template  # as the torch backend: a base model needs <bos>
        stop = options.stop if tokenizer.chat_template else [*options.stop, "\n\nUser:"]
        prompts = [render_prompt(tokenizer, messages, options) for messages in batch]
        ids = [tokenizer(p, add_special_tokens=special)["input_ids"] for p in prompts]
        watch = StopWatch(tokenizer, len(batch), stop)
        kwargs: dict[str, Any] = {
            "max_length": options.max_tokens,
            "include_prompt_in_result": False,
            "end_token": tokenizer.eos_token,
            "repetition_penalty": options.repetition_penalty or 1.0,
            "callback": watch,
        }
        if options.temperature > 0:
            kwargs.update(
                sampling_topk=0,  # the whole distribution, as transformers' sampling
                sampling_temperature=options.temperature,
                sampling_topp=options.top_p or 1.0,
            )
        with self._lock:
            if options.temperature > 0:
                generator = self._seeded(options.seed or 0)
            results = generator.generate_batch(
                [tokenizer.convert_ids_to_tokens(row) for row in ids], **kwargs
            )
        seconds = (time.perf_counter() - started) / len(batch)
        completions = []
        for prompt, result in zip(ids, results, strict=True):
            new = result.sequences_ids[0]
            text = apply_stop(tokenizer.decode(new, skip_special_tokens=True), stop)
            completions.append(
                Completion(
                    text=text.strip(),
                    input_tokens=len(prompt),
                    output_tokens=len(new),
                    seconds=seconds,
                    model_id=self.model_id,
                    cost_usd=0.0,
                )
            )
        return completions


def _missing(name: str) -> str:
    if not installed():
        return f"run: {INSTALL}"
    source = SOURCES[name]
    return "" if source.installed() else f"run: autoresearch models install {source.install}"


def list_known() -> list[ModelInfo]:
    return [
        ModelInfo(
            spec=f"ct2:{name}",
            backend="ct2",
            description=f"{source.description.split(' (')[0]}, CTranslate2 int8 (about 3x faster)",
            available=not _missing(name),
            reason=_missing(name),
        )
        for name, source in SOURCES.items()
    ]


@hookimpl
def register_models(register):
    register("ct2", CT2Model, list_known)
