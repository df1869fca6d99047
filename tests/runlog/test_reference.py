"""Reference analyses: the cloud ceiling and re-judging stored outputs, kept off main's line.

Workspaces are made by the real loop (`run_loop`, two experiments) on the fake planner, judged
by `fake:judge` (fast) or by a Claude judge mocked over `httpx2.MockTransport`, whose answers
depend only on the request's content (so a fresh re-judge is deterministic).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from levers.config import AgentConfig, LeverSpec
from models import registry
from orchestrator.cli import load_commands
from orchestrator.loop import run_loop
from runlog import reference
from runlog.records import ReferenceRecord
from runlog.report import render_dashboard
from runlog.workspace import Workspace, WorkspaceError
from tests.anthropic_mock import mock_model, text_response
from tests.runlog.conftest import git, make_record, set_agent

JUDGE = "anthropic:claude-sonnet-4-6"
CLOUD = "anthropic:claude-haiku-4-5"
PLAN = "Title: {task}\n" + "\n".join(
    f"{i}. {q}?"
    for i, q in enumerate(
        [
            "What is your total budget",
            "Which dates are fixed",
            "Who is coming along",
            "What pace do you prefer",
            "Which constraints are hard",
            "What would make this a success",
            "What have you already ruled out",
        ],
        1,
    )
)


# --- a mocked Claude: candidate and judge ------------------------------------------------------


def _digest(body: dict) -> int:
    text = json.dumps([m["content"] for m in body["messages"]], sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def _answer(body: dict) -> str:
    """Judge answers from the request content (deterministic); candidates get a fixed plan."""
    schema = body.get("output_config", {}).get("format", {}).get("schema", {})
    props = schema.get("properties", {})
    h = _digest(body)
    if "scores" in props:
        dims = list(props["scores"]["properties"])
        scores = {d: 2 + (h >> (3 * i)) % 4 for i, d in enumerate(dims)}
        return json.dumps({"scores": scores, "rationale": "mock"})
    if "winner" in props:
        return json.dumps({"winner": ["A", "B", "tie", "B"][h % 4], "rationale": "mock"})
    task = body["messages"][-1]["content"].splitlines()[-1][:60]
    return PLAN.format(task=task)


class Claude:
    """One MockTransport for every mocked Claude model; counts requests per model."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.requests.append(body["model"])
        return text_response(_answer(body), body["model"], input_tokens=100, output_tokens=20)

    def install(self, patch) -> None:
        """Put mocked `anthropic:` models where `get_model` finds them."""
        for spec in (JUDGE, CLOUD):
            registry.use_model(spec, mock_model(self, spec.split(":", 1)[1], max_retries=0))


@pytest.fixture
def claude(monkeypatch) -> Claude:
    mock = Claude()
    mock.install(monkeypatch)
    return mock


# --- workspaces made by the loop ---------------------------------------------------------------


def _loop_workspace(path: Path, ruler_name: str, judge: str) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ANTHROPIC_API_KEY", raising=False)
        if judge.startswith("anthropic:"):
            Claude().install(patch)
            patch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")  # the run's preflight asks for it
        Workspace.init(
            path, model="fake:planner", judge=judge, researcher="heuristic", ruler=ruler_name
        )
        run_loop(path, experiments=2)
    registry.forget_models()
    return path


@pytest.fixture(scope="module")
def fake_judged(tmp_path_factory, ruler_name: str) -> Path:
    return _loop_workspace(tmp_path_factory.mktemp("fake") / "ws", ruler_name, "fake:judge")


@pytest.fixture(scope="module")
def claude_judged(tmp_path_factory, ruler_name: str) -> Path:
    return _loop_workspace(tmp_path_factory.mktemp("claude") / "ws", ruler_name, JUDGE)


def _copy(src: Path, tmp_path: Path) -> Workspace:
    shutil.copytree(src, tmp_path / "ws", symlinks=True)
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def ws(fake_judged: Path, tmp_path: Path) -> Workspace:
    return _copy(fake_judged, tmp_path)


@pytest.fixture
def cws(claude_judged: Path, tmp_path: Path, claude: Claude) -> Workspace:
    return _copy(claude_judged, tmp_path)


@pytest.fixture(scope="module")
def cli():
    return load_commands()


def run(cli, *args: str) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def kept_line(ws: Workspace) -> list[str]:
    return git(ws, "log", "--first-parent", "--format=%H", "main").split()


def snapshot(ws: Workspace) -> tuple[list[str], str, str]:
    """Main's kept line, results.tsv and the user's staged changes."""
    return kept_line(ws), ws.results_path.read_text(), git(ws, "diff", "--cached", "--name-only")


# --- the cloud ceiling -------------------------------------------------------------------------


def test_ceiling_cli_keeps_main_and_results_and_prints_the_tables(cli, ws: Workspace) -> None:
    before = snapshot(ws)
    out = run(cli, "ceiling", "--candidate", "fake:echo", "-C", str(ws.root))
    assert "ref001: fake:echo as candidate on full-30" in out
    assert "Cloud ceiling: only the model changes" in out and "scored as candidate" in out
    assert "fake:planner (exp001, best)" in out and "on-device" in out
    assert snapshot(ws) == before
    main = kept_line(ws)[0]
    commit = git(ws, "rev-parse", "ref/001^{commit}").strip()
    assert git(ws, "rev-parse", f"{commit}^").strip() == main  # hangs off the best, like a discard
    tree = git(ws, "ls-tree", "-r", "--name-only", commit).split()
    assert {"runlog/reference/ref001.json", "runlog/reference/ref001.jsonl"} <= set(tree)
    assert "Reference: ref001" in git(ws, "log", "-1", "--format=%B", commit)
    assert "ref001" not in ws.results_path.read_text()
    record = reference.load_reference(ws, "1")
    assert record.kind == "ceiling" and record.source_experiment == "001"
    assert (
        record.model_ids["candidate"] == "fake:echo" and record.model_ids["agent"] == "fake:planner"
    )
    rows = [
        json.loads(line) for line in (ws.reference_dir / "ref001.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 30 and record.result.gate == "full-30"


def test_ceiling_table_flag_and_command(cli, ws: Workspace, tmp_path: Path) -> None:
    empty = Workspace.init(tmp_path / "empty", model="fake:planner", judge="fake:judge")
    assert "no experiments or ceiling records yet" in run(
        cli, "ceiling-table", "-C", str(empty.root)
    )
    before = run(cli, "ceiling-table", "-C", str(ws.root))
    assert "fake:planner (exp001, best)" in before and "fake:echo" not in before
    reference.run_ceiling(ws, "fake:echo")
    for args in (("ceiling-table",), ("ceiling", "--table")):
        out = run(cli, *args, "-C", str(ws.root))
        assert "fake:echo" in out and "Rubric means, scored as candidate" in out
    assert reference.next_reference_id(ws) == "ref002"


def test_ceiling_with_a_mocked_claude_candidate_and_judge(cws: Workspace, claude: Claude) -> None:
    before = snapshot(cws)
    record = reference.run_ceiling(cws, CLOUD, gate="dev-10")
    assert "claude-haiku-4-5" in claude.requests and "claude-sonnet-4-6" in claude.requests
    judge_id = f"llm:{JUDGE}/c1"
    assert record.model_ids["judge"] == judge_id and record.result.judge_id == judge_id
    assert record.result.comparison is not None  # paired against the best on the same gate
    rows = reference.ceiling_table(cws)
    assert [(r["id"], r["where"]) for r in rows] == [("exp001", "on-device"), ("ref001", "cloud")]
    assert rows[0]["gate"] == rows[1]["gate"] == "dev-10"  # the best's result on the same gate
    assert rows[1]["wins"] + rows[1]["ties"] + rows[1]["losses"] == 10
    scored = reference.scored_as_candidate(cws)
    assert set(scored[1]["dimensions"]) == {
        "atomicity",
        "specificity",
        "coverage",
        "naturalness",
        "non_redundancy",
    }
    assert snapshot(cws) == before


def test_ceiling_of_a_given_agent_and_errors(ws: Workspace) -> None:
    record = reference.run_ceiling(ws, "fake:echo", gate="dev-10", agent_ref="exp002")
    assert record.source_experiment == "002" and "exp002" in record.description
    assert "failed" not in record.description
    with pytest.raises(WorkspaceError, match="no commit"):
        reference.run_ceiling(ws, "fake:echo", agent_ref="exp/099")
    with pytest.raises(Exception, match="dev-11"):
        reference.run_ceiling(ws, "fake:echo", gate="dev-11")
    with pytest.raises(Exception, match="backend:name"):
        reference.run_ceiling(ws, "echo")


def test_swap_model_disables_adapter_levers_only_for_another_model() -> None:
    config = AgentConfig(
        model="local:smollm2-135m",
        levers=[LeverSpec(name="prompt"), LeverSpec(name="adapter", params={"adapter": "ab12"})],
    )
    same, dropped = reference.swap_model(config, "local:smollm2-135m")
    assert same == config and dropped == []
    swapped, dropped = reference.swap_model(config, CLOUD)
    assert dropped == ["adapter"] and swapped.model == CLOUD
    assert [s.name for s in swapped.enabled_levers()] == ["prompt"]
    assert swapped.decoding == config.decoding


def test_where() -> None:
    assert reference.where(CLOUD) == "cloud"
    assert reference.where("local:gemma3-270m") == reference.where("apple:system") == "on-device"


# --- re-judging stored outputs -----------------------------------------------------------------


def test_rejudge_cli_coverage_blind_prints_the_table(cli, ws: Workspace) -> None:
    before = snapshot(ws)
    out = run(cli, "rejudge", "exp001", "2", "--mode", "coverage-blind", "-C", str(ws.root))
    assert "quality, 5-dim" in out and "quality, coverage-blind" in out
    assert "loses to gold, 5-dim → coverage-blind" in out and "yes (exact)" in out
    assert snapshot(ws) == before
    record = reference.load_reference(ws, "ref001")
    assert record.kind == "rejudge" and reference.sources(record) == ["001", "002"]
    assert [g.mode for g in record.gates] == ["standard", "coverage-blind"] * 2
    assert "coverage" not in record.gates[1].dimension_means
    assert git(ws, "tag", "--list", "ref/*").split() == ["ref/001"]


def test_standard_rejudge_reproduces_the_logged_quality_exactly(cws: Workspace) -> None:
    logged = {r.id: r.result for r in cws.records()}
    record = reference.rejudge(cws, ["001", "002"], "standard")
    rows = reference.rejudge_table(cws, record)
    assert [r["id"] for r in rows] == ["001", "002"]
    for row, gate in zip(rows, record.gates, strict=True):
        assert row["reproduced"] and row["quality_after"] == logged[row["id"]].quality
        assert gate.dimension_means == logged[row["id"]].dimension_means
        assert gate.judge_calls == 0  # every verdict came from the cache: free
    # without the cache the (deterministic) judge gives the same verdicts again
    (cws.cache_dir / "verdicts.sqlite").unlink()
    fresh = reference.rejudge(cws, ["001"], "standard")
    assert fresh.gates[0].judge_calls > 0
    assert fresh.gates[0].quality == logged["001"].quality
    assert reference.rejudge_table(cws, fresh)[0]["delta"] == 0.0


def test_coverage_blind_rejudge_with_a_mocked_claude_judge(cws: Workspace, claude: Claude) -> None:
    record = reference.rejudge(cws, ["exp001"], "coverage-blind")
    assert record.model_ids == {"judge": f"llm:{JUDGE}/c1", "exp001": "fake:planner"}
    [row] = reference.rejudge_table(cws, record)
    standard, blind = record.gates
    assert row["reproduced"] and row["quality_before"] == standard.quality
    assert row["quality_after"] == blind.quality and blind.judge_calls > 0
    assert row["delta"] == pytest.approx(blind.quality - standard.quality)
    assert (row["losses_before"], row["losses_after"]) == (standard.losses, blind.losses)
    assert set(claude.requests) == {"claude-sonnet-4-6"}  # judged only, nothing regenerated


def test_rejudge_errors(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="no experiment 009"):
        reference.rejudge(ws, ["9"], "coverage-blind")
    with pytest.raises(WorkspaceError, match="not an experiment id"):
        reference.rejudge(ws, ["best"], "coverage-blind")
    with pytest.raises(WorkspaceError, match="at least one"):
        reference.rejudge(ws, [], "coverage-blind")
    ws.outputs_path("002").unlink()
    with pytest.raises(WorkspaceError, match="no stored outputs"):
        reference.rejudge(ws, ["002"], "standard")
    assert ws.references() == []


# --- the run log around reference records ------------------------------------------------------


def test_next_experiment_commit_carries_the_reference_and_ids_stay_apart(ws: Workspace) -> None:
    reference.run_ceiling(ws, "fake:echo", gate="dev-10")
    assert ws.next_experiment_id() == "003"
    set_agent(ws, "another prompt", extra='[levers.params]\ninstructions = "x"\n')
    ws.commit_experiment(make_record("003", "another prompt", "kept", 0.6))
    tree = git(ws, "ls-tree", "-r", "--name-only", "main").split()
    assert "runlog/reference/ref001.json" in tree
    assert [line.split("\t")[0] for line in ws.results_path.read_text().splitlines()[1:]] == [
        "001",
        "002",
        "003",
    ]
    assert reference.ceiling_table(ws)[0]["id"] == "exp003"  # the new best heads the table


def test_commit_reference_is_idempotent(ws: Workspace) -> None:
    record = ReferenceRecord(id="ref001", kind="other", title="a note")
    first = reference.commit_reference(ws, record)
    assert reference.commit_reference(ws, record) == first
    assert reference.reference_commits(ws) == {"ref001": first}


def test_reference_ids() -> None:
    assert [reference.reference_id(v) for v in (3, "3", "003", "ref003", "ref/003")] == [
        "ref003"
    ] * 5
    assert reference.reference_tag("ref003") == "ref/003"
    with pytest.raises(WorkspaceError):
        reference.reference_id("exp003")


def test_reference_view_and_dashboard(ws: Workspace) -> None:
    ceiling = reference.run_ceiling(ws, "fake:echo", gate="dev-10")
    blind = reference.rejudge(ws, ["1"], "coverage-blind")
    view = reference.reference_view(ws, ceiling.id)
    assert view["kind"] == "ceiling" and view["tag"] == "ref/001" and view["commit"]
    assert [r["id"] for r in view["ceiling_table"]] == ["exp001", "ref001"]
    assert view["scored_as_candidate"][1]["dimensions"]["coverage"] is not None
    assert view["diagram"] and view["rejudge_table"] == []
    view = reference.reference_view(ws, blind.id)
    assert view["rejudge_labels"] == ("5-dim", "coverage-blind")
    assert view["rejudge_table"][0]["name"] == "exp001"
    assert [r["id"] for r in reference.references_view(ws)] == ["ref001", "ref002"]
    html = render_dashboard(ws)
    assert 'id="ceiling-table"' in html and 'class="rejudge-table"' in html
    assert "quality, coverage-blind" in html and "Scored as candidate" in html
    with pytest.raises(WorkspaceError, match="no reference record ref009"):
        reference.reference_view(ws, "9")


def test_hand_written_records_show_without_a_tag(ws: Workspace) -> None:
    ws.write_reference(
        ReferenceRecord(
            id="ceiling-sonnet",
            kind="ceiling",
            title="Sonnet by hand",
            source_experiment="exp001",
            gates=ws.record("001").gates,
            model_ids={"candidate": JUDGE},
        )
    )
    ws.write_reference(
        ReferenceRecord(
            id="old-rejudge",
            kind="rejudge",
            title="x",
            source_experiment="042",
            gates=ws.record("001").gates[-1:],
        )
    )
    view = reference.reference_view(ws, "ceiling-sonnet")
    assert view["tag"] is None and view["commit"] is None and view["sources"] == ["001"]
    assert [r["where"] for r in view["ceiling_table"]] == ["on-device", "cloud"]
    assert (
        reference.rejudge_table(ws, reference.load_reference(ws, "old-rejudge"))[0]["name"]
        == "exp042"
    )
    assert "Sonnet by hand" in render_dashboard(ws)
    assert reference.next_reference_id(ws) == "ref001"
    with pytest.raises(WorkspaceError, match="use refNNN"):
        reference.commit_reference(ws, reference.load_reference(ws, "old-rejudge"))


def test_ceiling_records_cases_the_cloud_model_cannot_run(cws: Workspace) -> None:
    cws.agent_path.write_text(
        'model = "fake:planner"\n\n[decoding]\nmax_tokens = 200\nrepetition_penalty = 1.1\n\n'
        '[[levers]]\nname = "prompt"\n'
    )
    cws.commit_experiment(make_record("003", "repetition penalty", "kept", 0.9))
    record = reference.run_ceiling(cws, CLOUD, gate="dev-10")
    assert record.source_experiment == "003"
    assert "10 of 10 cases failed" in record.description
    assert "repetition_penalty" in record.description and record.result.losses == 10
