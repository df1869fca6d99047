"""Apple's on-device foundation model through `apple_fm_sdk` (macOS 26+): `apple:system`.

The SDK is async; each call here opens a fresh `LanguageModelSession` (system messages become
its instructions, earlier turns are written into the prompt) and runs it with asyncio from the
synchronous ChatModel protocol. `options.json_schema` uses the SDK's guided generation. The
Python SDK cannot load `.fmadapter` files, so an adapter is a clear error, never ignored.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from models.base import Completion, GenerationOptions, Message, ModelError, ModelInfo, apply_stop
from models.hookspecs import hookimpl

NAMES = ("system",)
INSTALL_HINT = "pip install apple-fm-sdk (macOS 26+ on Apple silicon with Apple Intelligence)"

_REASONS = {
    "APPLE_INTELLIGENCE_NOT_ENABLED": (
        "Apple Intelligence is turned off; enable it in System Settings > Apple Intelligence"
    ),
    "DEVICE_NOT_ELIGIBLE": "this device is not eligible for Apple Intelligence",
    "MODEL_NOT_READY": "the on-device model is still downloading; try again later",
}

ADAPTER_ERROR = (
    "apple:system cannot load adapter {adapter}: the Python apple-fm-sdk cannot load .fmadapter "
    "files; train it with Apple's adapter training toolkit and use it from Swift, or drop the "
    "adapter lever for this model"
)


def _not_installed() -> str:
    where = "" if sys.platform == "darwin" else f" (this is {sys.platform}, not macOS)"
    return f"apple_fm_sdk is not installed{where}; {INSTALL_HINT}"


def _sdk() -> ModuleType:
    """The imported `apple_fm_sdk`, or a one-line error saying why it is not usable here."""
    try:
        return importlib.import_module("apple_fm_sdk")
    except ImportError as exc:
        raise ModelError(f"apple:system is not available: {_not_installed()}") from exc


def _reason_text(reason: Any) -> str:
    name = getattr(reason, "name", None) or (str(reason) if reason is not None else "UNKNOWN")
    return _REASONS.get(name, f"the on-device model is unavailable ({name})")


def availability() -> tuple[bool, str]:
    """(available, reason) for `apple:system` on this machine; never raises."""
    try:
        fm = importlib.import_module("apple_fm_sdk")
        ok, reason = fm.SystemLanguageModel().is_available()
    except ImportError:
        return False, _not_installed()
    except Exception as exc:  # the native bindings can fail in many ways off-platform
        detail = " ".join(str(exc).split())
        return False, f"apple:system failed to start: {type(exc).__name__}: {detail}"
    return (True, "") if ok else (False, _reason_text(reason))


def _prompt(messages: list[Message]) -> tuple[str, str]:
    """(instructions, prompt): system text, then the turns with the last user message at the end."""
    instructions = "\n\n".join(m.content for m in messages if m.role == "system")
    turns = [m for m in messages if m.role != "system"]
    if not turns:
        raise ModelError("apple:system: the messages hold no user turn")
    if len(turns) == 1:
        return instructions, turns[0].content
    lines = [f"{m.role.capitalize()}: {m.content}" for m in turns]
    return instructions, "\n\n".join(lines)


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class AppleModel:
    """The system foundation model; calls run one at a time, each in a fresh session."""

    def __init__(self, name: str) -> None:
        if name not in NAMES:
            raise ModelError(f"unknown apple model {name!r}; known: apple:system")
        self.name = name
        self.model_id = f"apple:{name}"
        self._fm = _sdk()
        try:
            self._model = self._fm.SystemLanguageModel()
            ok, reason = self._model.is_available()
        except Exception as exc:  # the native bindings can fail in many ways off-platform
            detail = " ".join(str(exc).split())
            raise ModelError(
                f"apple:system failed to start: {type(exc).__name__}: {detail}"
            ) from exc
        if not ok:
            raise ModelError(f"apple:system is not available: {_reason_text(reason)}")

    def _options(self, options: GenerationOptions) -> Any:
        if options.adapter is not None:
            raise ModelError(ADAPTER_ERROR.format(adapter=options.adapter))
        if options.repetition_penalty is not None:
            raise ModelError("apple:system has no repetition_penalty; remove it from decoding")
        kwargs: dict[str, Any] = {
            "temperature": options.temperature,
            "maximum_response_tokens": options.max_tokens,
        }
        sampling = getattr(self._fm, "SamplingMode", None)
        if sampling is not None:
            if options.temperature == 0:
                kwargs["sampling"] = sampling.greedy()
            else:
                kwargs["sampling"] = sampling.random(
                    probability_threshold=options.top_p, seed=options.seed
                )
        return self._fm.GenerationOptions(**kwargs)

    async def _count(self, text: str) -> int:
        counter = getattr(self._model, "token_count", None)
        if counter is not None:
            try:
                return int(await counter(text))
            except Exception:  # older SDKs or a failing count: fall back to words
                pass
        return len(text.split())

    async def _respond(self, messages: list[Message], options: GenerationOptions) -> Completion:
        fm_options = self._options(options)
        instructions, prompt = _prompt(messages)
        session = self._fm.LanguageModelSession(
            instructions=instructions or None, model=self._model
        )
        started = time.perf_counter()
        try:
            if options.json_schema is not None:
                content = await session.respond(
                    prompt, json_schema=options.json_schema, options=fm_options
                )
                text = content.to_json() if hasattr(content, "to_json") else str(content)
            else:
                text = str(await session.respond(prompt, options=fm_options))
        except Exception as exc:
            detail = " ".join(str(exc).split()) or "no detail"
            raise ModelError(f"apple:system failed: {type(exc).__name__}: {detail}") from exc
        seconds = time.perf_counter() - started
        text = apply_stop(text, options.stop)
        return Completion(
            text=text,
            input_tokens=await self._count(instructions + "\n" + prompt),
            output_tokens=await self._count(text),
            seconds=seconds,
            model_id=self.model_id,
            cost_usd=0.0,
        )

    async def _respond_all(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]:
        return [await self._respond(messages, options) for messages in batch]

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        return self.generate_batch([messages], options)[0]

    def generate_batch(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]:
        if not batch:
            return []
        self._options(options)  # fail before starting an event loop
        return _run(self._respond_all(batch, options))


def list_known() -> list[ModelInfo]:
    ok, reason = availability()
    return [
        ModelInfo(
            spec="apple:system",
            backend="apple",
            description="Apple's on-device foundation model (apple-fm-sdk, macOS 26+)",
            available=ok,
            reason=reason,
        )
    ]


@hookimpl
def register_models(register):
    register("apple", AppleModel, list_known)
