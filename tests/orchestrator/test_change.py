"""`describe_change`: the recorded method states the actual change to the agent."""

from __future__ import annotations

from orchestrator.change import NO_CHANGE, describe_change

PARENT = {
    "model": "fake:planner",
    "levers": [
        {"name": "prompt", "params": {"instructions": "plain", "few_shot": 0}},
        {"name": "self_critique", "params": {}},
    ],
}


def test_parameters_show_old_and_new_values():
    proposed = {
        **PARENT,
        "levers": [
            {"name": "prompt", "params": {"instructions": "rubric", "few_shot": 0}},
            {"name": "self_critique", "params": {}},
        ],
    }
    assert describe_change(PARENT, proposed) == 'prompt.instructions: "plain" → "rubric"'


def test_levers_enabled_and_removed_with_their_params():
    proposed = {
        **PARENT,
        "levers": [
            {"name": "prompt", "params": {"instructions": "plain", "few_shot": 0}},
            {"name": "rag", "params": {"k": 2, "method": "bm25"}},
        ],
    }
    assert describe_change(PARENT, proposed) == (
        'enabled rag (k=2, method="bm25"); removed self_critique'
    )


def test_a_disabled_lever_counts_as_removed_and_the_order_is_reported():
    proposed = {
        **PARENT,
        "levers": [
            {"name": "self_critique", "params": {}},
            {"name": "prompt", "params": {"instructions": "plain", "few_shot": 0}},
        ],
    }
    assert (
        describe_change(PARENT, proposed)
        == "lever order: prompt, self_critique → self_critique, prompt"
    )
    disabled = {
        **PARENT,
        "levers": [PARENT["levers"][0], {"name": "self_critique", "enabled": False}],
    }
    assert describe_change(PARENT, disabled) == "removed self_critique"


def test_model_decoding_and_the_lever_file_written():
    proposed = {**PARENT, "model": "local:smollm2-135m", "decoding": {"temperature": 0.7}}
    assert describe_change(PARENT, proposed, "/ws/agent/levers/mine.py") == (
        'model: "fake:planner" → "local:smollm2-135m"; decoding.temperature: 0.0 → 0.7; '
        "wrote lever file agent/levers/mine.py"
    )


def test_defaults_filled_in_are_no_change():
    assert describe_change(PARENT, {**PARENT, "decoding": {"max_tokens": 300}}) == NO_CHANGE
