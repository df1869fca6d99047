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


FILE_LINE = re.compile(r"^# (\w+)\.py\n")
EXAMPLE_README = README.parent / "examples" / "lever-plugin" / "README.md"


def uses_ctx(code: str) -> bool:
    """A stage body: `ctx` used at the top level (not only inside a stage method)."""
    return any(re.match(r"(ctx\b|\S.*\bctx\b)", line) for line in code.splitlines())


@pytest.fixture
def doc_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every block that names its file (`# dedupe_questions.py`), saved there and importable."""
    for _, code in blocks("python"):
        if match := FILE_LINE.match(code):
            (tmp_path / f"{match.group(1)}.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def run_alone(path: Path, line: int, code: str) -> dict:
    """One block in a fresh namespace; a stage body is given one real `ctx`, nothing else."""
    namespace: dict = {"__name__": f"doc_block_{line}"}
    if uses_ctx(code):
        namespace["ctx"] = one_case_ctx()
    exec(compile(code, f"{path}:{line}", "exec"), namespace)  # noqa: S102
    return namespace


def test_every_python_block_runs_alone_and_every_lever_runs_in_the_pipeline(
    doc_files: Path,
) -> None:
    found = [(DOC, line, code) for line, code in blocks("python")]
    found += [(EXAMPLE_README, line, code) for line, code in blocks("python", EXAMPLE_README)]
    assert len(found) >= 12
    assert sum(uses_ctx(code) for _, _, code in found) >= 5  # stage bodies given a ctx
    assert list(doc_files.glob("*.py")) == [doc_files / "dedupe_questions.py"]
    levers_seen: list[str] = []
    for path, line, code in found:
        namespace = run_alone(path, line, code)
        if "register_levers" not in namespace:
            continue
        plugin = types.ModuleType(f"doc_levers_md_{path.stem}_{line}")
        plugin.register_levers = namespace["register_levers"]
        pm.register(plugin, name=plugin.__name__)
        try:
            names = [cls.name for cls in levers_of_plugin(plugin.__name__)]
            assert names, f"{path}:{line} registers no lever"
            run_levers(names)
            levers_seen += names
        finally:
            pm.unregister(name=plugin.__name__)
    assert {"critical_hint", "dedupe_questions", "tidy_numbered", "short_questions"} <= set(
        levers_seen
    )
    assert "tidy_questions" in levers_seen  # the example package's README


def test_a_block_that_needs_an_earlier_one_fails_alone() -> None:
    """The guard the shared namespace hid: the lever-shape block without its imports."""
    line, code = next((ln, c) for ln, c in blocks("python") if "class ShortQuestions" in c)
    broken = code.replace(", Plan, hookimpl, parse_plan, render_plan", ", hookimpl")
    namespace = run_alone(DOC, line, broken)
    with pytest.raises(NameError, match="parse_plan"):
        namespace["ShortQuestions"]().finalize(one_case_ctx())


def quoted_defaults() -> dict[str, str]:
    """`field -> default` from the `GenerationOptions` table of docs/levers.md."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("### `GenerationOptions`") :].split("\n\n")[1]
    rows = [r.split("|")[1:3] for r in table.splitlines()[2:]]
    return {name.strip().strip("`"): value.strip() for name, value in rows}


def test_the_defaults_the_doc_quotes_are_the_codes() -> None:
    from levers import GenerationOptions
    from levers.config import BASELINE_AGENT, Decoding

    quoted = quoted_defaults()
    assert set(quoted) == set(GenerationOptions.model_fields)
    for name, field in GenerationOptions.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "`[]`" if default == [] else str(default)
        assert quoted[name].split(" (")[0] == shown, f"docs/levers.md: {name} is {default}"
    decoding = re.search(
        r"`\[decoding\]` defaults to (\d+); `autoresearch init` writes (\d+)", quoted["max_tokens"]
    )
    assert decoding, quoted["max_tokens"]
    assert int(decoding.group(1)) == Decoding.model_fields["max_tokens"].default
    assert int(decoding.group(2)) == BASELINE_AGENT.decoding.max_tokens


def test_a_stage_with_a_mistyped_argument_is_one_clear_error() -> None:
    from levers import Lever, LeverError, hookimpl

    class Mistyped(Lever):
        """A finalize stage whose argument is not named ctx."""

        name = "mistyped"
        lever_class = "other"

        def finalize(self, context):  # the mistake the doc warns about
            pass

    plugin = types.ModuleType("doc_mistyped")
    plugin.register_levers = hookimpl(lambda register: register(Mistyped))
    pm.register(plugin, name=plugin.__name__)
    try:
        with pytest.raises(LeverError) as raised:
            levers_of_plugin(plugin.__name__)
    finally:
        pm.unregister(name=plugin.__name__)
    message = str(raised.value)
    assert "\n" not in message and "finalize(self, context)" in message
    assert "def finalize(self, ctx)" in message


def test_the_reference_and_the_readme_use_one_import_style() -> None:
    lever_pages = 0
    for path in (DOC, README, EXAMPLE_README):
        code = "\n".join(c for _, c in blocks("python", path))
        assert "from levers." not in code, f"{path.name}: import from `levers`, not a submodule"
        if "Lever" in code:
            assert IMPORT_STYLE in code, path.name
            lever_pages += 1
    assert lever_pages >= 2  # the reference and the example package show a lever
    example = (
        README.parent / "examples" / "lever-plugin" / "autoresearch_lever_tidy.py"
    ).read_text()
    assert IMPORT_STYLE in example and not re.search(
        r"^from (levers\.|ruler|models)", example, re.M
    )
    assert "docs/levers.md" in README.read_text(encoding="utf-8")


def test_toml_blocks_parse_and_agent_snippets_validate() -> None:
    found = blocks("toml")
    parsed = [(line, tomllib.loads(code)) for line, code in found]
    assert len(parsed) >= 2 and all(data for _, data in parsed), found
    agents = [data for _, data in parsed if "levers" in data]
    assert agents, "no agent.toml snippet on the page"
    for data in agents:
        AgentConfig.model_validate(data)  # the shape of agent.toml, names aside


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
