"""Claude through the `anthropic` SDK (2.x, on httpx2): `anthropic:<model-id>`.

The long fixed system prompt is marked for prompt caching; `options.json_schema` becomes
structured output (`output_config.format`, through the SDK's `transform_schema`); the SDK
retries 429/5xx/timeouts with backoff; every completion carries its tokens (cache reads
included) and its cost in USD.

Decoding: the SDK no longer takes sampling arguments, so the temperature travels in
`extra_body`, and only to models that accept it (Claude 4.6 and older; Opus 4.7+ and the
Claude 5 family choose their own sampling and reject the field, so they get none). A seed is
meaningless at temperature 0 and ignored there; top_p (Claude 4.5+ refuse it beside a
temperature), a seed with sampling, a repetition penalty or an adapter cannot be honoured and
is a one-line error. The API key never appears in an error, a record
or a log line (the SDK's loggers get a redacting filter).
"""

from __future__ import annotations

import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from models.base import Completion, GenerationOptions, Message, ModelError, ModelInfo
from models.hookspecs import hookimpl

KEY_ENV = "ANTHROPIC_API_KEY"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float  # 5-minute ephemeral cache writes
    cache_read: float

    def cost(self, fresh: int, output: int, cache_write: int, cache_read: int) -> float:
        total = (
            fresh * self.input
            + output * self.output
            + cache_write * self.cache_write
            + cache_read * self.cache_read
        )
        return total / 1_000_000


PRICES: dict[str, Price] = {
    "claude-opus-4-6": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-5": Price(5.0, 25.0, 6.25, 0.50),
    "claude-sonnet-4-6": Price(3.0, 15.0, 3.75, 0.30),
    "claude-sonnet-4-5": Price(3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 0.10),
    "claude-opus-4-7": Price(5.0, 25.0, 6.25, 0.50),
    "claude-sonnet-5": Price(2.0, 10.0, 2.50, 0.20),
    "claude-opus-5": Price(5.0, 25.0, 6.25, 0.50),
}

KNOWN = {
    "claude-sonnet-4-6": "Claude Sonnet 4.6: gold plans, judge, researcher",
    "claude-haiku-4-5": "Claude Haiku 4.5: fast, cheap judge or ceiling candidate",
    "claude-opus-4-6": "Claude Opus 4.6: strongest ceiling candidate",
}

_DATE_SUFFIX = re.compile(r"-\d{8}$")
_VERSION = re.compile(r"^claude-[a-z]+-(\d+)(?:-(\d))?(?:-|$)")


def base_id(model_id: str) -> str:
    """`claude-haiku-4-5-20251001` -> `claude-haiku-4-5` (prices are per model family)."""
    return _DATE_SUFFIX.sub("", model_id)


def price_for(model_id: str) -> Price | None:
    return PRICES.get(base_id(model_id))


def accepts_sampling(model_id: str) -> bool:
    """Claude 4.6 and older take temperature/top_p; Opus 4.7+ and Claude 5+ reject them."""
    match = _VERSION.match(base_id(model_id))
    if not match:
        return True
    version = (int(match.group(1)), int(match.group(2) or 0))
    return version < (4, 7)


def api_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as structured output accepts it: the SDK's `transform_schema` moves what the
    API refuses (minLength, maxItems, minItems above 1, numeric bounds...) into descriptions and
    closes every object; callers still validate the answer against their full schema. A schema
    the SDK cannot transform (a node without a type) is sent as is."""
    import anthropic

    try:
        return anthropic.transform_schema(schema)
    except (ValueError, TypeError):
        return schema


# --- keeping the key out of text -------------------------------------------------------------

_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")
_secrets: set[str] = set()


def redact(text: str) -> str:
    """Text with every known API key (and anything shaped like one) replaced."""
    for secret in _secrets:
        text = text.replace(secret, "[redacted]")
    return _KEY_SHAPE.sub("sk-ant-[redacted]", text)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        return True


_FILTER = _RedactingFilter()


def _guard_logs(key: str) -> None:
    """Remember the key and put the redacting filter on the SDK's and httpx2's loggers."""
    _secrets.add(key)
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.split(".")[0] in {"anthropic", "httpx2", "httpcore2", "httpx", "httpcore"}
    ]
    for name in {"anthropic", "anthropic._base_client", "httpx2", *names}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(redact(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the model -------------------------------------------------------------------------------


class AnthropicModel:
    """One Claude model behind the ChatModel protocol; thread-safe, batched with a pool."""

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None = None,
        http_client: Any = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        key = api_key or os.environ.get(KEY_ENV, "")
        if not key.strip():
            raise ModelError(
                f"anthropic:{name} needs an API key; set {KEY_ENV} "
                "(or use an offline model such as local:smollm2-135m)"
            )
        import anthropic

        _guard_logs(key)
        self.name = name
        self.model_id = f"anthropic:{name}"
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_concurrency = max(1, max_concurrency)
        self._client = anthropic.Anthropic(
            api_key=key, max_retries=max_retries, timeout=timeout, http_client=http_client
        )

    def request(self, messages: list[Message], options: GenerationOptions) -> dict[str, Any]:
        """The keyword arguments of `messages.create` for these messages and options."""
        self._check_options(options)
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        turns = [{"role": m.role, "content": m.content} for m in messages if m.role != "system"]
        if not turns:
            raise ModelError(f"{self.model_id}: the messages hold no user turn")
        kwargs: dict[str, Any] = {
            "model": self.name,
            "max_tokens": options.max_tokens,
            "messages": turns,
        }
        if system:
            kwargs["system"] = [
                {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
            ]
        if options.stop:
            kwargs["stop_sequences"] = list(options.stop)
        if options.json_schema is not None:
            kwargs["output_config"] = {
                "format": {"type": "json_schema", "schema": api_schema(options.json_schema)}
            }
        sampling = self._sampling(options)
        if sampling:
            kwargs["extra_body"] = sampling
        return kwargs

    def _sampling(self, options: GenerationOptions) -> dict[str, float]:
        if not accepts_sampling(self.name):
            return {}
        if options.top_p is not None:  # Claude 4.5+ refuse temperature and top_p together
            raise ModelError(f"{self.model_id} takes a temperature, not top_p; drop top_p")
        return {"temperature": options.temperature}

    def _check_options(self, options: GenerationOptions) -> None:
        if options.adapter is not None:
            raise ModelError(
                f"{self.model_id} cannot use a LoRA adapter ({options.adapter}); "
                "adapters apply to local: models only"
            )
        if options.repetition_penalty is not None:
            raise ModelError(
                f"{self.model_id} has no repetition_penalty; remove it from the decoding options"
            )
        if options.seed is not None and options.temperature > 0:
            raise ModelError(
                f"{self.model_id} cannot seed sampling; use temperature 0 or drop the seed"
            )

    def create(self, **kwargs: Any) -> Any:
        """One raw Messages API call (tools, tool results, cache control as given); the SDK's
        response, or a one-line ModelError. The client honours ANTHROPIC_BASE_URL."""
        return self._call(kwargs)

    def cost(self, usage: Any) -> float:
        """USD for a response's `usage` (cache writes and reads priced apart); 0 when unknown."""
        price = price_for(self.name)
        if price is None:
            return 0.0
        return price.cost(
            usage.input_tokens or 0,
            usage.output_tokens or 0,
            usage.cache_creation_input_tokens or 0,
            usage.cache_read_input_tokens or 0,
        )

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        kwargs = self.request(messages, options)
        started = time.perf_counter()
        response = self._call(kwargs)
        return self._completion(response, time.perf_counter() - started)

    def generate_batch(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]:
        if not batch:
            return []
        workers = min(self.max_concurrency, len(batch))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="anthropic") as pool:
            return list(pool.map(lambda messages: self.generate(messages, options), batch))

    def _call(self, kwargs: dict[str, Any]) -> Any:
        import anthropic

        try:
            return self._client.messages.create(**kwargs)
        except anthropic.APIStatusError as err:
            kind = err.type or "error"
            detail = err.api_message or err.message
            hint = f"; check {KEY_ENV}" if err.status_code in (401, 403) else ""
            message = f"{self.model_id} failed: HTTP {err.status_code} {kind}: {detail}{hint}"
        except anthropic.APITimeoutError:
            message = (
                f"{self.model_id} timed out after {self.timeout:g} s "
                f"({self.max_retries} retries); check the network or raise the timeout"
            )
        except anthropic.APIConnectionError as err:
            cause = err.__cause__ or err
            message = f"{self.model_id}: could not reach the Anthropic API ({cause})"
        except anthropic.AnthropicError as err:
            message = f"{self.model_id} failed: {type(err).__name__}: {err}"
        raise ModelError(_one_line(message)) from None

    def _completion(self, response: Any, seconds: float) -> Completion:
        usage = response.usage
        fresh = usage.input_tokens or 0
        written = usage.cache_creation_input_tokens or 0
        read = usage.cache_read_input_tokens or 0
        output = usage.output_tokens or 0
        price = price_for(self.name)
        text = "".join(block.text for block in response.content if block.type == "text")
        return Completion(
            text=text,
            input_tokens=fresh + written + read,
            output_tokens=output,
            cached_input_tokens=read,
            seconds=seconds,
            model_id=self.model_id,
            cost_usd=price.cost(fresh, output, written, read) if price else None,
        )


def list_known() -> list[ModelInfo]:
    has_key = bool(os.environ.get(KEY_ENV, "").strip())
    infos = []
    for model_id, description in KNOWN.items():
        price = PRICES[model_id]
        infos.append(
            ModelInfo(
                spec=f"anthropic:{model_id}",
                backend="anthropic",
                description=f"{description} (${price.input:g}/${price.output:g} per MTok)",
                available=has_key,
                reason="" if has_key else f"set {KEY_ENV}",
            )
        )
    return infos


@hookimpl
def register_models(register):
    register("anthropic", AnthropicModel, list_known)
