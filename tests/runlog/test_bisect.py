"""A planted break on the kept line is found by `autoresearch bisect` and by plain git bisect."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import load_commands
from runlog import evaluate
from runlog.bisect import bisect
from runlog.workspace import Workspace, WorkspaceError
from tests.runlog.conftest import ParseJudge, git, make_record, set_agent

CHECK = "quality > 0.05"  # an unparseable answer is the worst verdict: quality 0
JUDGE = "fake:judge"  # an LLMJudge on a fake model: parseable plans tie at 3s, fast


def plant(ws: Workspace) -> None:
    """Kept 001, 002; kept 003 breaks the check; discarded 004; kept 005 and 006 stay broken."""
    for exp, hypothesis, status, broken in [
        ("001", "baseline", "kept", False),
        ("002", "shorter prompt", "kept", False),
        ("003", "one-token answers", "kept", True),
        ("004", "try json", "discarded", True),
        ("005", "reword title", "kept", True),
        ("006", "reword again", "kept", True),
    ]:
        set_agent(ws, hypothesis, max_tokens=1 if broken else 300)
        ws.commit_experiment(make_record(exp, hypothesis, status, 0.4))


@pytest.mark.slow  # evaluates several commits
def test_eval_check_exit_codes(ws: Workspace, monkeypatch) -> None:
    monkeypatch.setattr(evaluate, "resolve_judge", lambda spec, ruler=None: ParseJudge())
    cli = load_commands()

    def code(*args: str) -> int:
        return (
            CliRunner()
            .invoke(cli, ["eval", "-C", str(ws.root), "--gate", "dev-10", *args])
            .exit_code
        )

    assert code("--check", CHECK) == 0
    assert code("--check", "quality > 0.99") == 1
    assert code("--check", "quality >") == 128  # a typo stops git bisect run
    set_agent(ws, "broken", max_tokens=1)
    assert code("--check", CHECK) == 1
    ws.agent_path.write_text("model = [")
    assert code("--check", CHECK) == 125  # cannot evaluate: skip this commit


@pytest.mark.slow  # a whole bisect, each step evaluated
def test_autoresearch_bisect_names_the_planted_experiment(ws: Workspace) -> None:
    plant(ws)
    head = git(ws, "rev-parse", "HEAD")
    result = bisect(ws, good="exp/001", bad="exp/006", check=CHECK, gate="dev-10", judge=JUDGE)
    assert result.experiment == "003", result.log
    assert result.hypothesis == "one-token answers"
    assert result.trailers["Status"] == "kept" and result.trailers["Parent"] == "exp002"
    assert git(ws, "rev-parse", "HEAD") == head and git(ws, "status", "--porcelain") == ""
    assert git(ws, "worktree", "list").count("\n") == 1  # the temporary worktree is gone
    out = CliRunner().invoke(
        load_commands(),
        [
            "bisect",
            "-C",
            str(ws.root),
            "--good",
            "exp/001",
            "--bad",
            "exp/006",
            "--check",
            CHECK,
            "--gate",
            "dev-10",
            "--judge",
            JUDGE,
        ],
    )
    assert out.exit_code == 0, out.output
    assert "first bad: exp003" in out.output and "one-token answers" in out.output


@pytest.mark.slow  # git bisect run, the CLI in a subprocess per step
def test_plain_git_bisect_run_with_eval_check(ws: Workspace) -> None:
    plant(ws)
    script = Path(sys.executable).parent / "autoresearch"
    command = [str(script)] if script.exists() else [shutil.which("autoresearch") or "autoresearch"]
    git(ws, "bisect", "start", "--first-parent", "exp/006", "exp/001")
    try:
        run = subprocess.run(
            [
                "git",
                "bisect",
                "run",
                *command,
                "eval",
                "--check",
                CHECK,
                "--gate",
                "dev-10",
                "--judge",
                JUDGE,
            ],
            cwd=ws.root,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        git(ws, "bisect", "reset")
    first_bad = git(ws, "rev-parse", "exp/003").strip()
    assert f"{first_bad} is the first bad commit" in run.stdout, run.stdout + run.stderr


@pytest.mark.slow  # a whole bisect, each step evaluated
def test_bisect_reports_each_step_as_it_starts(ws: Workspace) -> None:
    plant(ws)
    calls: list[tuple[int, int, str, float]] = []

    def progress(step: int, total: int, commit: str) -> None:
        calls.append((step, total, commit, time.monotonic()))

    result = bisect(
        ws,
        good="exp/001",
        bad="exp/006",
        check=CHECK,
        gate="dev-10",
        judge=JUDGE,
        progress=progress,
    )
    assert result.experiment == "003", result.log
    line = git(ws, "rev-list", "--first-parent", "exp/001..exp/006").split()
    steps = [step for step, _, _, _ in calls]
    assert steps == list(range(1, result.log.count("\nrunning ") + 1)) and len(steps) >= 2
    assert all(step <= total for step, total, _, _ in calls)
    tested = [commit for _, _, commit, _ in calls]
    assert len(set(tested)) == len(tested) and set(tested) <= set(line)
    assert git(ws, "rev-parse", "exp/003").strip() in tested  # the first bad was tested
    gaps = [b[3] - a[3] for a, b in zip(calls, calls[1:], strict=False)]
    assert min(gaps) > 0.2  # each call came as its step started, not all at the end


@pytest.mark.slow  # runs gates again and again
def test_bisect_refuses_endpoints_that_do_not_hold_and_fail(ws: Workspace) -> None:
    plant(ws)
    head = git(ws, "rev-parse", "HEAD")
    try:
        bisect(
            ws, good="exp/001", bad="exp/006", check="quality > 0.99", gate="dev-10", judge=JUDGE
        )
    except WorkspaceError as exc:
        message = str(exc)
    else:
        raise AssertionError("a good ref that fails the check was bisected")
    assert message.startswith("--good exp/001") and "fails 'quality > 0.99'" in message
    assert re.search(r"measured quality 0\.\d{3}", message) and "W/T/L" in message
    with pytest.raises(WorkspaceError, match=r"--bad exp/002 .* holds 'quality > 0.05': measured"):
        bisect(ws, good="exp/001", bad="exp/002", check=CHECK, gate="dev-10", judge=JUDGE)
    assert git(ws, "rev-parse", "HEAD") == head and "tree" not in git(ws, "worktree", "list")
