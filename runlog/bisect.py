"""Find the first kept experiment that broke a check, with real `git bisect run`.

The bisection runs in a temporary `git worktree` (the user's tree and HEAD are untouched) on the
first-parent line from GOOD to BAD, i.e. main's line of kept experiments. Each step runs
`autoresearch eval --check EXPR`, whose exit code is what bisect wants (0 good, 1 bad,
125 skip); the worktree shares `.autoresearch/`, so the output and verdict caches serve it.

The same by hand, in a clean checkout or your own worktree:

    git bisect start --first-parent exp/009 exp/001
    git bisect run autoresearch eval --check "coverage>=3" --gate dev-10
    git bisect reset
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from runlog.check import parse_check
from runlog.evaluate import resolve_ref
from runlog.gitstore import parse_trailers
from runlog.records import ExperimentRecord, experiment_id
from runlog.workspace import Workspace, WorkspaceError


@dataclass
class BisectResult:
    """The first bad commit and the experiment it records (None when bisect could not tell)."""

    good: str
    bad: str
    check: str
    first_bad: str | None
    experiment: str | None = None
    subject: str = ""
    trailers: dict[str, str] = field(default_factory=dict)
    record: ExperimentRecord | None = None
    log: str = ""

    @property
    def hypothesis(self) -> str:
        return self.record.hypothesis if self.record else self.subject


def eval_command(check: str, gate: str | None, judge: str | None, model: str | None) -> list[str]:
    """The `autoresearch eval --check` command line a bisect step runs (same interpreter)."""
    cmd = [
        sys.executable,
        "-c",
        "from orchestrator.cli import main; main()",
        "eval",
        "--check",
        check,
    ]
    for flag, value in (("--gate", gate), ("--judge", judge), ("--model", model)):
        if value:
            cmd += [flag, value]
    return cmd


def bisect(
    ws: Workspace,
    *,
    good: str,
    bad: str,
    check: str,
    gate: str | None = None,
    judge: str | None = None,
    model: str | None = None,
) -> BisectResult:
    """Run `git bisect run` between two refs in a temporary worktree; name the first bad one."""
    parse_check(check)
    good_sha, bad_sha = resolve_ref(ws, good), resolve_ref(ws, bad)
    if good_sha == bad_sha:
        raise WorkspaceError(
            f"--good {good} and --bad {bad} are the same commit ({good_sha[:10]}); "
            "give a good ref older than the bad one"
        )
    with ws.repo() as repo:
        if not repo.is_ancestor(good_sha, bad_sha):
            raise WorkspaceError(f"{good} is not an ancestor of {bad}; give an older good ref")
    tmp = Path(tempfile.mkdtemp(prefix="autoresearch-bisect-"))
    worktree = tmp / "tree"
    try:
        with ws.repo() as repo:
            repo.git.worktree("add", "--detach", str(worktree), bad_sha)
        log = _run_bisect(worktree, good_sha, bad_sha, eval_command(check, gate, judge, model))
        first_bad = _first_bad(log)
    finally:
        with ws.repo() as repo:
            repo.git.worktree("remove", "--force", str(worktree))
            repo.git.worktree("prune")
        shutil.rmtree(tmp, ignore_errors=True)
    return _describe(ws, BisectResult(good, bad, check, first_bad, log=log))


def _run_bisect(worktree: Path, good: str, bad: str, cmd: list[str]) -> str:
    from git import Repo

    with Repo(worktree) as tree:
        tree.git.bisect("start", "--first-parent", bad, good)
        try:
            status, out, err = tree.git.bisect(
                "run", *cmd, with_extended_output=True, with_exceptions=False
            )
            return f"$ git bisect run autoresearch {shlex.join(cmd[3:])}\n{out}\n{err}".strip()
        finally:
            tree.git.bisect("reset")


def _first_bad(log: str) -> str | None:
    match = re.search(r"^([0-9a-f]{40}) is the first bad commit", log, re.M)
    return match.group(1) if match else None


def _describe(ws: Workspace, result: BisectResult) -> BisectResult:
    if result.first_bad is None:
        return result
    with ws.repo() as repo:
        commit = repo.commit(result.first_bad)
        result.subject = commit.summary if isinstance(commit.summary, str) else ""
        result.trailers = parse_trailers(commit.message)
    name = result.trailers.get("Experiment")
    if name:
        result.experiment = experiment_id(name)
        if ws.record_path(result.experiment).is_file():
            result.record = ws.record(result.experiment)
    return result
