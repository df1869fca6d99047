"""Constrained decoding for the local backend: a JSON schema enforced token by token.

`options.json_schema` on a `local:` model becomes an llguidance grammar; a transformers logits
processor keeps one llguidance matcher per batch row and masks every token the grammar does
not allow at that step, so the answer is valid JSON for the schema (unless `max_tokens` cuts it
short). llguidance was chosen over lm-format-enforcer by measured tokens/s on SmolLM2
(`benchmarks/bench_schema.py`); it installs without touching torch.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np

from models.base import ModelError

_TOKENIZERS: dict[int, Any] = {}
_LOCK = threading.Lock()


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf  # noqa: F401
    except ImportError as exc:
        raise ModelError(
            "json_schema on a local model needs llguidance; run: pip install 'autoresearch[local]'"
        ) from exc
    return llguidance


def ll_tokenizer(tokenizer: Any) -> Any:
    """The llguidance view of a fast transformers tokenizer (built once, about a second)."""
    llguidance = _llguidance()
    with _LOCK:
        if id(tokenizer) not in _TOKENIZERS:
            _TOKENIZERS[id(tokenizer)] = llguidance.hf.from_tokenizer(tokenizer)
        return _TOKENIZERS[id(tokenizer)]


def schema_grammar(schema: dict[str, Any]) -> str:
    """The llguidance grammar of a JSON schema, compact JSON (no free whitespace to loop on)."""
    llguidance = _llguidance()
    options = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
    return llguidance.LLMatcher.grammar_from_json_schema(json.dumps(schema), defaults=options)


class SchemaLogitsProcessor:
    """A transformers logits processor: one matcher per row; disallowed tokens get -inf."""

    def __init__(self, tokenizer: Any, schema: dict[str, Any], batch: int, width: int) -> None:
        llguidance = _llguidance()
        self.tokenizer = ll_tokenizer(tokenizer)
        grammar = schema_grammar(schema)
        self.matchers = [llguidance.LLMatcher(self.tokenizer, grammar) for _ in range(batch)]
        if self.matchers and self.matchers[0].is_error():
            raise ModelError(f"json_schema: {self.matchers[0].get_error()}")
        self.width = width
        self.eos = tokenizer.eos_token_id

    def _allowed(self, matcher: Any, vocab: int) -> np.ndarray:
        if matcher.is_stopped() or matcher.is_error():
            allowed = np.zeros(vocab, dtype=bool)
            allowed[self.eos] = True
            return allowed
        bits = np.frombuffer(matcher.compute_bitmask(), dtype=np.uint8)
        allowed = np.unpackbits(bits, bitorder="little").astype(bool)
        if allowed.size < vocab:
            allowed = np.pad(allowed, (0, vocab - allowed.size))
        return allowed[:vocab]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        vocab = scores.shape[1]
        masks = []
        for row, matcher in enumerate(self.matchers):
            if input_ids.shape[1] > self.width and not matcher.is_stopped():
                matcher.consume_token(int(input_ids[row, -1]))
            masks.append(self._allowed(matcher, vocab))
        allowed = torch.from_numpy(np.stack(masks)).to(scores.device)
        return scores.masked_fill(~allowed, float("-inf"))
