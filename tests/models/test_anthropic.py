"""The anthropic backend against httpx2.MockTransport with real-shaped API responses."""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx2
import pytest

from models import GenerationOptions, Message, ModelError, get_model
from models.backends import anthropic_backend
from models.backends.anthropic_backend import AnthropicModel, accepts_sampling, list_known
from ruler.plan import parse_plan
from tests.anthropic_mock import KEY, message_json, mock_model

SYSTEM = "You are a discovery planner. " * 50
MESSAGES = [Message(role="system", content=SYSTEM), Message(role="user", content="Task: x")]


def error_json(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request body."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.bodies: list[dict] = []
        self.headers: list[httpx2.Headers] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        self.headers.append(request.headers)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(**kwargs) -> httpx2.Response:
    return httpx2.Response(200, json=message_json(**kwargs))


def test_success_request_shape_and_completion():
    recorder = Recorder(ok())

    def slow(request: httpx2.Request) -> httpx2.Response:
        time.sleep(0.05)
        return recorder(request)

    model = mock_model(slow)
    completion = model.generate(MESSAGES, GenerationOptions(max_tokens=300, temperature=0.0))
    body = recorder.bodies[0]
    assert body["model"] == "claude-sonnet-4-6"
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0.0
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert body["messages"] == [{"role": "user", "content": "Task: x"}]
    assert "output_config" not in body
    assert recorder.headers[0]["authorization"] == f"Bearer {KEY}"
    assert completion.text == "Title: A\n1. Q?"
    assert completion.model_id == "anthropic:claude-sonnet-4-6"
    assert (completion.input_tokens, completion.output_tokens) == (12, 7)
    assert 0.05 <= completion.seconds < 60  # the call is timed (the sleep included), not a clock


def test_json_schema_becomes_output_config_and_stop_sequences():
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": False,
    }
    recorder = Recorder(ok(text='{"title": "Paris"}'))
    model = mock_model(recorder)
    completion = model.generate(MESSAGES, GenerationOptions(json_schema=schema, stop=["\n\n"]))
    body = recorder.bodies[0]
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert body["stop_sequences"] == ["\n\n"]
    assert json.loads(completion.text) == {"title": "Paris"}


def test_models_that_choose_their_own_sampling_get_no_temperature():
    assert accepts_sampling("claude-sonnet-4-6") and accepts_sampling("claude-haiku-4-5-20251001")
    assert not accepts_sampling("claude-opus-4-7") and not accepts_sampling("claude-sonnet-5")
    recorder = Recorder(ok(model="claude-sonnet-5"))
    mock_model(recorder, "claude-sonnet-5").generate(MESSAGES, GenerationOptions(top_p=0.9))
    assert "temperature" not in recorder.bodies[0] and "top_p" not in recorder.bodies[0]


def test_no_system_message_sends_no_system_block():
    recorder = Recorder(ok())
    mock_model(recorder).generate([Message(role="user", content="hi")], GenerationOptions())
    assert "system" not in recorder.bodies[0]


def test_rate_limit_then_success_retries():
    limited = httpx2.Response(
        429,
        json=error_json("rate_limit_error", "Number of requests has exceeded your rate limit"),
        headers={"retry-after-ms": "1"},
    )
    recorder = Recorder(limited, ok())
    completion = mock_model(recorder, max_retries=3).generate(MESSAGES, GenerationOptions())
    assert len(recorder.bodies) == 2
    assert recorder.headers[1]["x-stainless-retry-count"] == "1"
    assert completion.text.startswith("Title")


def test_server_error_after_retries_is_one_line():
    failing = httpx2.Response(
        500,
        json=error_json("api_error", "Internal server error"),
        headers={"retry-after-ms": "1"},  # the SDK's own backoff would wait 0.5 s and more
    )
    recorder = Recorder(failing)
    model = mock_model(recorder, max_retries=2)
    with pytest.raises(ModelError) as info:
        model.generate(MESSAGES, GenerationOptions())
    assert len(recorder.bodies) == 3  # the first try and two retries
    text = str(info.value)
    assert "\n" not in text
    assert "500" in text and "api_error" in text and "anthropic:claude-sonnet-4-6" in text


def test_timeout_is_retried_then_one_line_error():
    recorder = Recorder(httpx2.ReadTimeout("read timed out"))
    model = mock_model(recorder, max_retries=1, timeout=5)
    with pytest.raises(ModelError, match=r"timed out after 5 s \(1 retries\)") as info:
        model.generate(MESSAGES, GenerationOptions())
    assert len(recorder.bodies) == 2
    assert "\n" not in str(info.value)


def test_timeout_then_success():
    recorder = Recorder(httpx2.ConnectTimeout("connect timed out"), ok())
    completion = mock_model(recorder, max_retries=2).generate(MESSAGES, GenerationOptions())
    assert completion.text.startswith("Title") and len(recorder.bodies) == 2


def test_malformed_json_content_is_returned_as_is():
    broken = '{"title": "Trip to Paris", "questions": ["When?", "Budget?"'
    recorder = Recorder(ok(text=broken))
    completion = mock_model(recorder).generate(
        MESSAGES, GenerationOptions(json_schema={"type": "object"})
    )
    assert completion.text == broken
    parsed = parse_plan(completion.text)  # never raises
    assert parsed.raw == broken and parsed.problems


def test_cost_accounting_with_cache_reads_and_writes():
    usage = {
        "input_tokens": 1000,
        "output_tokens": 500,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 4000,
    }
    completion = mock_model(Recorder(ok(**usage))).generate(MESSAGES, GenerationOptions())
    # sonnet 4.6: $3 in, $15 out, $3.75 cache write, $0.30 cache read per MTok
    expected = (1000 * 3 + 500 * 15 + 2000 * 3.75 + 4000 * 0.30) / 1e6
    assert completion.cost_usd == pytest.approx(expected)
    assert completion.input_tokens == 7000
    assert completion.cached_input_tokens == 4000
    assert completion.output_tokens == 500


def test_haiku_prices_dated_id_and_unknown_model_has_no_cost():
    haiku = mock_model(Recorder(ok(input_tokens=1_000_000, output_tokens=0)), "claude-haiku-4-5")
    assert haiku.generate(MESSAGES, GenerationOptions()).cost_usd == pytest.approx(1.0)
    dated = mock_model(
        Recorder(ok(output_tokens=1_000_000, input_tokens=0)), "claude-haiku-4-5-20251001"
    )
    assert dated.generate(MESSAGES, GenerationOptions()).cost_usd == pytest.approx(5.0)
    unknown = mock_model(Recorder(ok()), "claude-unreleased-9")
    assert unknown.generate(MESSAGES, GenerationOptions()).cost_usd is None


def test_batch_keeps_order_and_respects_the_concurrency_cap():
    lock = threading.Lock()
    state = {"active": 0, "peak": 0}

    def handler(request: httpx2.Request) -> httpx2.Response:
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
        time.sleep(0.02)
        with lock:
            state["active"] -= 1
        task = json.loads(request.content)["messages"][0]["content"]
        return ok(text=f"answer to {task}")

    model = mock_model(handler, max_concurrency=3)
    batch = [[Message(role="user", content=f"t{i}")] for i in range(12)]
    completions = model.generate_batch(batch, GenerationOptions())
    assert [c.text for c in completions] == [f"answer to t{i}" for i in range(12)]
    assert 1 < state["peak"] <= 3
    assert mock_model(handler).max_concurrency == 8
    assert model.generate_batch([], GenerationOptions()) == []


def test_no_key_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelError, match="ANTHROPIC_API_KEY") as info:
        get_model("anthropic:claude-sonnet-4-6")
    assert "\n" not in str(info.value)
    infos = {i.spec: i for i in list_known()}
    assert not infos["anthropic:claude-sonnet-4-6"].available
    assert "ANTHROPIC_API_KEY" in infos["anthropic:claude-sonnet-4-6"].reason


def test_key_from_environment_marks_models_available(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    infos = list_known()
    assert {"anthropic:claude-sonnet-4-6", "anthropic:claude-haiku-4-5"} <= {i.spec for i in infos}
    assert all(i.available and i.reason == "" for i in infos)
    assert isinstance(get_model("anthropic:claude-haiku-4-5"), AnthropicModel)


def test_key_in_an_sdk_error_is_redacted(caplog):
    leaky = httpx2.Response(
        401, json=error_json("authentication_error", f"invalid x-api-key: {KEY}")
    )
    model = mock_model(Recorder(leaky))
    with caplog.at_level(logging.DEBUG), pytest.raises(ModelError) as info:
        model.generate(MESSAGES, GenerationOptions())
    text = str(info.value)
    assert KEY not in text and "[redacted]" in text
    assert "401" in text and "authentication_error" in text and "ANTHROPIC_API_KEY" in text
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert KEY not in caplog.text


def test_redaction_of_key_shaped_strings_and_log_records(caplog):
    assert KEY not in anthropic_backend.redact(f"oops {KEY}")
    assert "sk-ant-[redacted]" in anthropic_backend.redact("k=sk-ant-api03-otherkey99999999")
    mock_model(Recorder(ok()))  # installs the filter for KEY
    with caplog.at_level(logging.DEBUG, logger="anthropic._base_client"):
        logging.getLogger("anthropic._base_client").debug("headers: %s", {"x-api-key": KEY})
    assert KEY not in caplog.text and "[redacted]" in caplog.text


def test_options_it_cannot_honour_are_errors():
    model = mock_model(Recorder(ok()))
    for options in (
        GenerationOptions(adapter="adapters/abc"),
        GenerationOptions(repetition_penalty=1.2),
        GenerationOptions(temperature=0.7, seed=3),
        GenerationOptions(top_p=0.9),
    ):
        with pytest.raises(ModelError):
            model.generate(MESSAGES, options)
    model.generate(MESSAGES, GenerationOptions(seed=3))  # a seed at temperature 0 is harmless
