"""The mocked Anthropic API every test shares: real-shaped message responses over
`httpx2.MockTransport`, and `AnthropicModel`s wired to a handler (no network)."""

from __future__ import annotations

from collections.abc import Callable

import httpx2

from models.backends.anthropic_backend import AnthropicModel

KEY = "sk-ant-api03-TESTKEY0123456789abcdef"
Handler = Callable[[httpx2.Request], httpx2.Response]


def message_json(text: str = "Title: A\n1. Q?", model: str = "claude-sonnet-4-6", **usage) -> dict:
    """A Messages API response body with one text block; `usage` overrides the token counts."""
    return {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 12,
            "output_tokens": 7,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **usage,
        },
    }


def text_response(text: str, model: str = "claude-sonnet-4-6", **usage) -> httpx2.Response:
    """A 200 response answering `text`."""
    return httpx2.Response(200, json=message_json(text, model, **usage))


def mock_model(handler: Handler, name: str = "claude-sonnet-4-6", **kwargs) -> AnthropicModel:
    """An `AnthropicModel` whose every request goes to `handler`."""
    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    return AnthropicModel(name, api_key=KEY, http_client=client, **kwargs)
