"""The apple backend against a fake `apple_fm_sdk` shaped like the real (async) SDK."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import IntEnum
from types import ModuleType

import pytest

from models import GenerationOptions, Message, ModelError, get_model
from models.backends.apple import AppleModel, list_known
from ruler.plan import parse_plan

SYSTEM = "You are a discovery planner."
MESSAGES = [Message(role="system", content=SYSTEM), Message(role="user", content="Task: Paris")]
PLAN = {"title": "Trip to Paris", "questions": [f"Question {i}?" for i in range(1, 8)]}


class SystemLanguageModelUnavailableReason(IntEnum):
    APPLE_INTELLIGENCE_NOT_ENABLED = 0
    DEVICE_NOT_ELIGIBLE = 1
    MODEL_NOT_READY = 2
    UNKNOWN = 0xFF


@dataclass
class SamplingMode:
    mode_type: str
    top: int | None = None
    probability_threshold: float | None = None
    seed: int | None = None

    @classmethod
    def greedy(cls) -> SamplingMode:
        return cls("greedy")

    @classmethod
    def random(cls, top=None, probability_threshold=None, seed=None) -> SamplingMode:
        return cls("random", top, probability_threshold, seed)


@dataclass
class GenerationOptions_:  # noqa: N801 - the SDK's GenerationOptions, renamed here
    sampling: SamplingMode | None = None
    temperature: float | None = None
    maximum_response_tokens: int | None = None


class GeneratedContent:
    def __init__(self, content_dict: dict | None = None) -> None:
        self._content_dict = content_dict or {}

    def to_json(self) -> str:
        return json.dumps(self._content_dict)


class FoundationModelsError(Exception):
    pass


class GuardrailViolationError(FoundationModelsError):
    pass


def fake_sdk(available=True, reason=None, answer="Title: Trip\n1. When?", fail=None) -> ModuleType:
    """A module with the real SDK's names and call shapes; it records what it was asked."""
    fm = ModuleType("apple_fm_sdk")
    fm.calls = []

    class SystemLanguageModel:
        def __init__(self, use_case=0, guardrails=0) -> None:
            pass

        def is_available(self):
            return (True, None) if available else (False, reason)

        async def token_count(self, value=None, *, instructions=None) -> int:
            return len(str(value).split())

    class LanguageModelSession:
        def __init__(self, instructions=None, model=None, tools=None) -> None:
            self.instructions, self.model = instructions, model

        async def respond(
            self, prompt, generating=None, *, schema=None, json_schema=None, options=None
        ):
            fm.calls.append(
                {
                    "instructions": self.instructions,
                    "prompt": prompt,
                    "json_schema": json_schema,
                    "options": options,
                    "model": self.model,
                }
            )
            if fail is not None:
                raise fail
            if json_schema is not None:
                return GeneratedContent(PLAN)
            return answer

    fm.SystemLanguageModel = SystemLanguageModel
    fm.SystemLanguageModelUnavailableReason = SystemLanguageModelUnavailableReason
    fm.LanguageModelSession = LanguageModelSession
    fm.GenerationOptions = GenerationOptions_
    fm.SamplingMode = SamplingMode
    fm.GeneratedContent = GeneratedContent
    fm.FoundationModelsError = FoundationModelsError
    fm.GuardrailViolationError = GuardrailViolationError
    return fm


@pytest.fixture
def install(monkeypatch):
    def put(module: ModuleType | None) -> ModuleType | None:
        monkeypatch.setitem(sys.modules, "apple_fm_sdk", module)
        return module

    return put


def test_available_generate_passes_instructions_prompt_and_options(install):
    fm = install(fake_sdk())
    model = get_model("apple:system")
    completion = model.generate(MESSAGES, GenerationOptions(max_tokens=200))
    call = fm.calls[0]
    assert call["instructions"] == SYSTEM
    assert call["prompt"] == "Task: Paris"
    assert call["json_schema"] is None
    assert call["options"].temperature == 0.0
    assert call["options"].maximum_response_tokens == 200
    assert call["options"].sampling.mode_type == "greedy"
    assert isinstance(call["model"], fm.SystemLanguageModel)
    assert completion.text == "Title: Trip\n1. When?"
    assert completion.model_id == "apple:system"
    assert completion.input_tokens > 0 and completion.output_tokens == 4
    assert completion.cost_usd == 0.0


def test_sampling_options_and_stop_sequences(install):
    fm = install(fake_sdk(answer="one\n\ntwo"))
    options = GenerationOptions(temperature=0.7, top_p=0.9, seed=5, stop=["\n\n"])
    completion = AppleModel("system").generate(MESSAGES, options)
    sampling = fm.calls[0]["options"].sampling
    assert (sampling.mode_type, sampling.probability_threshold, sampling.seed) == ("random", 0.9, 5)
    assert completion.text == "one"


def test_json_schema_uses_guided_generation(install):
    fm = install(fake_sdk())
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    completion = AppleModel("system").generate(MESSAGES, GenerationOptions(json_schema=schema))
    assert fm.calls[0]["json_schema"] == schema
    assert json.loads(completion.text) == PLAN
    assert parse_plan(completion.text).plan.title == "Trip to Paris"


def test_earlier_turns_are_written_into_the_prompt(install):
    fm = install(fake_sdk())
    turns = [
        *MESSAGES,
        Message(role="assistant", content="Draft"),
        Message(role="user", content="Improve it"),
    ]
    AppleModel("system").generate(turns, GenerationOptions())
    assert fm.calls[0]["prompt"] == "User: Task: Paris\n\nAssistant: Draft\n\nUser: Improve it"


def test_batch_runs_every_prompt_in_order(install):
    fm = install(fake_sdk())
    batch = [[Message(role="user", content=f"t{i}")] for i in range(3)]
    completions = AppleModel("system").generate_batch(batch, GenerationOptions())
    assert [c["prompt"] for c in fm.calls] == ["t0", "t1", "t2"] and len(completions) == 3
    assert fm.calls[0]["instructions"] is None


async def test_generate_works_inside_a_running_event_loop(install):
    install(fake_sdk())
    completion = AppleModel("system").generate(MESSAGES, GenerationOptions())
    assert completion.text.startswith("Title")


def test_unavailable_reason_is_named(install):
    install(
        fake_sdk(
            available=False,
            reason=SystemLanguageModelUnavailableReason.APPLE_INTELLIGENCE_NOT_ENABLED,
        )
    )
    with pytest.raises(ModelError, match="Apple Intelligence is turned off") as info:
        get_model("apple:system")
    assert "\n" not in str(info.value)
    [info_row] = list_known()
    assert not info_row.available and "Apple Intelligence" in info_row.reason


def test_model_still_downloading(install):
    install(fake_sdk(available=False, reason=SystemLanguageModelUnavailableReason.MODEL_NOT_READY))
    [info_row] = list_known()
    assert "downloading" in info_row.reason


def test_not_installed(install):
    install(None)  # a None entry in sys.modules makes `import apple_fm_sdk` raise ImportError
    with pytest.raises(ModelError, match="pip install apple-fm-sdk") as info:
        get_model("apple:system")
    assert "\n" not in str(info.value)
    [info_row] = list_known()
    assert not info_row.available and "apple-fm-sdk" in info_row.reason


def test_adapter_is_a_clear_error(install):
    fm = install(fake_sdk())
    options = GenerationOptions(adapter="adapters/planner.fmadapter")
    with pytest.raises(ModelError, match=r"cannot load \.fmadapter.*Swift") as info:
        AppleModel("system").generate(MESSAGES, options)
    assert "\n" not in str(info.value) and fm.calls == []


def test_sdk_errors_become_one_line_model_errors(install):
    install(fake_sdk(fail=GuardrailViolationError("unsafe\ncontent detected")))
    with pytest.raises(ModelError, match="GuardrailViolationError: unsafe content") as info:
        AppleModel("system").generate(MESSAGES, GenerationOptions())
    assert "\n" not in str(info.value)


def test_unknown_apple_model_name(install):
    install(fake_sdk())
    with pytest.raises(ModelError, match="known: apple:system"):
        get_model("apple:other")


def test_native_bindings_that_fail_to_start(install):
    fm = install(fake_sdk())

    def broken(*args, **kwargs):
        raise OSError("libFoundationModels.dylib\nnot found")

    fm.SystemLanguageModel = broken
    with pytest.raises(ModelError, match="failed to start: OSError") as info:
        get_model("apple:system")
    assert "\n" not in str(info.value)
    [info_row] = list_known()
    assert not info_row.available and "failed to start" in info_row.reason
    assert "\n" not in info_row.reason
