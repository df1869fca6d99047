"""The ct2 backend: its stop handling and listing (fast), the real SmolLM2-135M through
CTranslate2 int8 on the CPU, and a gate run in the sandboxed pipeline worker (slow)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from models import GenerationOptions, Message, available_models, get_model
from models.backends import ct2
from models.backends.ct2 import CT2Model, StopWatch

PROMPT = "I want to plan a trip to Paris. List five questions you would ask me, numbered."
GREEDY = GenerationOptions(max_tokens=80)


def chat(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


class CharTokenizer:
    """One character per token id."""

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(i) for i in ids)


def steps(row: int, text: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(batch_id=row, token_id=ord(c)) for c in text]


def test_the_stop_watch_ends_each_row_at_its_own_stop_string() -> None:
    watch = StopWatch(CharTokenizer(), rows=2, stop=["\n3."])
    first = [watch(s) for s in steps(0, "1. a\n2. b\n3.")]
    assert first == [False] * 11 + [True]  # the row ends on the token that completes the stop
    assert not any(watch(s) for s in steps(1, "1. a\n2. b"))  # the other row goes on
    assert not any(StopWatch(CharTokenizer(), rows=1, stop=[])(s) for s in steps(0, "\n3."))


def test_ct2_models_are_listed_with_what_they_need() -> None:
    infos = {i.spec: i for i in available_models()}
    assert infos["ct2:smollm2-135m"].backend == "ct2"
    assert "CTranslate2 int8" in infos["ct2:smollm2-135m"].description
    if not ct2.installed():
        assert "ctranslate2" in infos["ct2:smollm2-135m"].reason


@pytest.fixture(scope="module")
def model() -> CT2Model:
    pytest.importorskip("ctranslate2")
    found = get_model("ct2:smollm2-135m")
    assert isinstance(found, CT2Model)
    found.load()
    return found


@pytest.mark.slow
def test_greedy_generation_is_repeatable_batch_by_batch(model) -> None:
    batch = [chat(PROMPT), chat("Name three vegetables.")]
    first, again = model.generate_batch(batch, GREEDY), model.generate_batch(batch, GREEDY)
    assert [c.text for c in first] == [c.text for c in again]
    assert all(c.text.strip() and c.model_id == "ct2:smollm2-135m" for c in first)
    assert all(0 < c.output_tokens <= GREEDY.max_tokens and c.input_tokens > 10 for c in first)


@pytest.mark.slow
def test_a_stop_string_ends_generation_there(model) -> None:
    full = model.generate(chat(PROMPT), GREEDY)
    assert "\n3." in full.text, full.text
    cut = model.generate(chat(PROMPT), GREEDY.model_copy(update={"stop": ["\n3."]}))
    assert cut.text == full.text[: full.text.find("\n3.")].strip()
    assert cut.output_tokens < full.output_tokens  # decoding stopped, not only the text cut


@pytest.mark.slow
def test_seeded_sampling_repeats_with_its_seed_and_differs_with_another(model) -> None:
    def sample(seed: int) -> str:
        options = GenerationOptions(temperature=0.9, seed=seed, max_tokens=40)
        return model.generate(chat(PROMPT), options).text

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


@pytest.mark.slow
def test_a_schema_constrained_call_runs_on_the_torch_backend(model) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": False,
    }
    options = GenerationOptions(max_tokens=40, json_schema=schema)
    answer = model.generate(chat("Give a title for a trip to Paris."), options)
    assert answer.model_id == "local:smollm2-135m"  # the trace says which backend answered
    assert isinstance(json.loads(answer.text)["title"], str)


@pytest.mark.slow
def test_a_ct2_agent_runs_a_gate_in_its_sandboxed_worker(tmp_path) -> None:
    pytest.importorskip("ctranslate2")
    from orchestrator.cli import load_commands

    cli = load_commands()
    workspace = tmp_path / "w"
    runner = CliRunner()
    init = runner.invoke(cli, ["init", str(workspace), "--model", "ct2:smollm2-135m"])
    assert init.exit_code == 0, init.output
    result = runner.invoke(cli, ["eval", "-C", str(workspace), "--gate", "dev-10", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["model"] == "ct2:smollm2-135m"
    assert not found["failed_cases"] and found["quality"] > 0.05
