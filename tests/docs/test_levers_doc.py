"""docs/levers.md cannot rot: its python blocks run, its lever examples run through the
pipeline on the fake model, its TOML parses and its commands exist."""

from __future__ import annotations

import re
import shlex
import tomllib
import types
from pathlib import Path

import pytest

from levers.batching import CallBatcher
from levers.config import AgentConfig, Decoding, LeverSpec
from levers.context import Context
from levers.registry import levers_of_plugin
from levers.runner import default_messages, run_agent
from models.plugins import pm
from ruler.loader import load_ruler

DOC = Path(__file__).resolve().parents[2] / "docs" / "levers.md"
README = DOC.parents[1] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
IMPORT_STYLE = "from levers import"


def blocks(lang: str, path: Path = DOC) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block of that language."""
    text = path.read_text(encoding="utf-8")
    return [
        (text[: m.start()].count("\n") + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == lang
    ]


def one_case_ctx() -> Context:
    """A real ctx for one case on fake:planner, after the default prompt and one generate call."""
    config = AgentConfig(model="fake:planner", levers=[LeverSpec(name="prompt")])
    ctx = Context(
        case_id="c01",
        task="plan a trip to Paris",
        config=config,
        options=Decoding().options(),
        batcher=CallBatcher(active=1),
    )
    ctx.messages = default_messages(ctx)
    ctx.draft = ctx.call(None, ctx.messages, label="generate").text
    return ctx


def run_levers(names: list[str]) -> None:
    """The prompt lever plus `names` on three ruler cases: every case must make seven questions."""
    config = AgentConfig(
        model="fake:planner", levers=[LeverSpec(name="prompt"), *(LeverSpec(name=n) for n in names)]
    )
    runs = run_agent(config, load_ruler().gate_cases("dev-10")[:3])
    for run in runs:
        assert not run.failed, run.error
        assert len(run.parsed.plan.questions) == 7, run.text


def test_every_python_block_runs_and_every_lever_runs_in_the_pipeline() -> None:
    found = blocks("python")
    assert len(found) >= 8
    namespace: dict = {"ctx": one_case_ctx()}
    levers_seen: list[str] = []
    for line, code in found:
        exec(compile(code, f"{DOC}:{line}", "exec"), namespace)  # noqa: S102
        if "register_levers" not in namespace:
            continue
        plugin = types.ModuleType(f"doc_levers_md_{line}")
        plugin.register_levers = namespace.pop("register_levers")
        pm.register(plugin, name=plugin.__name__)
        try:
            names = [cls.name for cls in levers_of_plugin(plugin.__name__)]
            assert names, f"docs/levers.md:{line} registers no lever"
            run_levers(names)
            levers_seen += names
        finally:
            pm.unregister(name=plugin.__name__)
    assert {"critical_hint", "dedupe_questions", "tidy_numbered"} <= set(levers_seen)


def test_the_reference_and_the_readme_use_one_import_style() -> None:
    for path in (DOC, README, README.parent / "examples" / "lever-plugin" / "README.md"):
        code = "\n".join(c for _, c in blocks("python", path))
        assert "from levers." not in code, f"{path.name}: import from `levers`, not a submodule"
        if "Lever" in code:
            assert IMPORT_STYLE in code, path.name
    example = (
        README.parent / "examples" / "lever-plugin" / "autoresearch_lever_tidy.py"
    ).read_text()
    assert IMPORT_STYLE in example and not re.search(
        r"^from (levers\.|ruler|models)", example, re.M
    )
    assert "docs/levers.md" in README.read_text(encoding="utf-8")


def test_toml_blocks_parse_and_agent_snippets_validate() -> None:
    for line, code in blocks("toml"):
        data = tomllib.loads(code)
        if "levers" in data:
            AgentConfig.model_validate(data)  # the shape of agent.toml, names aside
        assert data, f"docs/levers.md:{line}"


@pytest.fixture(scope="module")
def cli():
    from orchestrator.cli import load_commands

    return load_commands()


def test_every_command_in_the_reference_exists(cli) -> None:
    import click

    commands = 0
    for _, code in blocks("sh"):
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            while words and "=" in words[0]:
                words = words[1:]  # VAR=value before the command
            if not words or words[0] != "autoresearch":
                continue
            group, commands = cli, commands + 1
            for word in words[1:]:
                if word.startswith("-") or not isinstance(group, click.Group):
                    break
                sub = group.get_command(click.Context(group), word)
                if sub is None:
                    break
                group = sub
            assert group is not cli, line
            params = {o for p in group.params for o in getattr(p, "opts", [])}
            for word in words[1:]:
                flag = word.split("=")[0]
                if flag.startswith("-") and flag not in ("-h",):
                    assert flag in params, f"{line}: {flag} is not an option of {group.name}"
    assert commands >= 5
