"""agent.toml: load, dump, and one-line errors naming file, lever and field."""

from __future__ import annotations

import pytest

from levers.config import (
    BASELINE_AGENT,
    AgentConfig,
    AgentConfigError,
    LeverSpec,
    dump_agent,
    load_agent,
    validate_agent,
    write_agent,
)

AGENT = """
model = "fake:planner"

[decoding]
max_tokens = 200

[[levers]]
name = "prompt"
[levers.params]
instructions = "rubric"
few_shot = 2

[[levers]]
name = "rag"
enabled = false
[levers.params]
k = 3
"""


def test_load_agent_reads_levers_in_order(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(AGENT)
    config = load_agent(path)
    assert config.model == "fake:planner"
    assert config.decoding.max_tokens == 200
    assert [s.name for s in config.levers] == ["prompt", "rag"]
    assert config.levers[0].params == {"instructions": "rubric", "few_shot": 2}
    assert [s.name for s in config.enabled_levers()] == ["prompt"]


def test_dump_then_load_round_trips(tmp_path):
    config = AgentConfig(
        model="fake:planner",
        levers=[
            LeverSpec(name="prompt", params={"system": 'say "hi"\nthen ask', "few_shot": 1}),
            LeverSpec(name="decoding", params={"temperature": 0.7, "seed": 3}),
            LeverSpec(name="multi_call", enabled=False, params={"mode": "overgenerate"}),
        ],
    )
    path = tmp_path / "agent.toml"
    write_agent(config, path)
    assert load_agent(path) == validate_agent(config)
    assert dump_agent(BASELINE_AGENT).startswith('model = "local:smollm2-135m"')


def test_unknown_lever_is_one_line_naming_file_and_lever(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('model = "fake:planner"\n[[levers]]\nname = "telepathy"\n')
    with pytest.raises(AgentConfigError) as err:
        load_agent(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "'telepathy'" in message and "known:" in message


def test_bad_param_names_file_lever_and_field(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[[levers]]\nname = "rag"\n[levers.params]\nk = 99\n')
    with pytest.raises(AgentConfigError) as err:
        load_agent(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "'rag'" in message and "k:" in message


def test_unknown_param_is_rejected(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[[levers]]\nname = "prompt"\n[levers.params]\nfewshot = 2\n')
    with pytest.raises(AgentConfigError, match="fewshot"):
        load_agent(path)


def test_bad_top_level_field_and_bad_toml(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('modle = "fake:planner"\n')
    with pytest.raises(AgentConfigError, match="modle"):
        load_agent(path)
    path.write_text("model = \n")
    with pytest.raises(AgentConfigError, match="not valid TOML"):
        load_agent(path)
    with pytest.raises(AgentConfigError, match="no such agent file"):
        load_agent(tmp_path / "missing.toml")


def test_baseline_agent_is_valid():
    assert validate_agent(BASELINE_AGENT).model == "local:smollm2-135m"
