"""Find the first kept experiment that broke a check, with real `git bisect run`.

The bisection runs in a temporary `git worktree` (the user's tree and HEAD are untouched) on the
first-parent line from GOOD to BAD, i.e. main's line of kept experiments. Each step runs
`autoresearch eval --check EXPR`, whose exit code is what bisect wants (0 good, 1 bad,
125 skip); the worktree shares `.autoresearch/`, so the output and verdict caches serve it.
`git bisect run`'s output is read as it comes, so a `progress` callback hears of each step.
Before bisecting, both endpoints are evaluated: the check must hold at GOOD and fail at BAD,
else the search would name a wrong commit silently; the refusal gives the measured values.

The same by hand, in a clean checkout or your own worktree:

    git bisect start --first-parent exp/009 exp/001
    git bisect run autoresearch eval --check "coverage>=3" --gate dev-10
    git bisect reset
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runlog.check import parse_check
from runlog.evaluate import resolve_ref
from runlog.gitstore import parse_trailers
from runlog.records import ExperimentRecord, experiment_id
from runlog.workspace import Workspace, WorkspaceError

BisectProgress = Callable[[int, int, str], None]
"""`progress(step, estimated_steps, commit)`, called as bisect starts testing `commit`."""

_STEPS_LEFT = re.compile(
    r"^Bisecting: \d+ revisions? left to test after this \(roughly (\d+) steps?\)"
)
_CHECKED_OUT = re.compile(r"^\[([0-9a-f]{40})\] ")


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
    progress: BisectProgress | None = None,
) -> BisectResult:
    """Run `git bisect run` between two refs in a temporary worktree; name the first bad one.

    `progress(step, estimated_steps, commit)` is called before each step's check runs; the
    estimate is the steps so far plus git's "roughly N steps" left, so it may grow by one."""
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
        cmd = eval_command(check, gate, judge, model)
        verify_endpoints(worktree, cmd, check, good=(good, good_sha), bad=(bad, bad_sha))
        log = _run_bisect(worktree, good_sha, bad_sha, cmd, progress)
        first_bad = _first_bad(log)
    finally:
        with ws.repo() as repo:
            repo.git.worktree("remove", "--force", str(worktree))
            repo.git.worktree("prune")
        shutil.rmtree(tmp, ignore_errors=True)
    return _describe(ws, BisectResult(good, bad, check, first_bad, log=log))


def measure(worktree: Path, sha: str, cmd: list[str]) -> tuple[int, dict, str]:
    """`eval --check --json` on the agent at `sha`: (exit code, its JSON or {}, last stderr)."""
    subprocess.run(
        ["git", "checkout", "--quiet", "--detach", sha], cwd=worktree, check=True, timeout=60
    )
    done = subprocess.run([*cmd, "--json"], cwd=worktree, capture_output=True, text=True)
    try:
        data = json.loads(done.stdout)
    except ValueError:
        data = {}
    tail = (done.stderr.strip().splitlines() or [""])[-1]
    return done.returncode, data if isinstance(data, dict) else {}, tail


def measured_text(data: dict, check: str) -> str:
    """The figures the check names (quality and any rubric dimension), as measured."""
    values = {"quality": data.get("quality"), **(data.get("dimensions") or {})}
    shown = [
        f"{name} {value:.3f}"
        for name, value in values.items()
        if value is not None and (name == "quality" or name in check)
    ]
    wtl = f"W/T/L {data['wins']}/{data['ties']}/{data['losses']}" if "wins" in data else ""
    return ", ".join([*shown, wtl] if wtl else shown) or "nothing measured"


def verify_endpoints(
    worktree: Path, cmd: list[str], check: str, *, good: tuple[str, str], bad: tuple[str, str]
) -> None:
    """Refuse, with the measured values, when the check fails at GOOD or holds at BAD."""
    for (ref, sha), wanted in ((good, 0), (bad, 1)):
        code, data, err = measure(worktree, sha, cmd)
        role = "--good" if wanted == 0 else "--bad"
        if code not in (0, 1):
            raise WorkspaceError(f"{role} {ref} ({sha[:10]}): cannot evaluate {check!r}: {err}")
        if code != wanted:
            does = "fails" if wanted == 0 else "holds"
            fix = "an older ref where it holds" if wanted == 0 else "a later ref where it fails"
            raise WorkspaceError(
                f"{role} {ref} ({sha[:10]}) {does} {check!r}: measured "
                f"{measured_text(data, check)}; give {role} {fix}"
            )


def _run_bisect(
    worktree: Path, good: str, bad: str, cmd: list[str], progress: BisectProgress | None
) -> str:
    from git import Repo

    with Repo(worktree) as tree:
        started = tree.git.bisect("start", "--first-parent", bad, good)
        try:
            steps = _Steps(progress, program=cmd[0])
            steps.read(started)
            out = _stream_bisect_run(worktree, cmd, steps)
            return f"$ git bisect run autoresearch {shlex.join(cmd[3:])}\n{out}".strip()
        finally:
            tree.git.bisect("reset")


def _stream_bisect_run(worktree: Path, cmd: list[str], steps: _Steps) -> str:
    """`git bisect run CMD` in the worktree, its output read line by line as it comes."""
    env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "C"}  # git's messages are parsed
    with subprocess.Popen(
        ["git", "bisect", "run", *cmd],
        cwd=worktree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as run:
        assert run.stdout is not None
        lines = []
        for line in run.stdout:
            lines.append(line)
            steps.read(line)
    return "".join(lines)


class _Steps:
    """Follows `git bisect` output: each "running PROGRAM …" line starts a step on the commit
    last checked out; "roughly N steps" says how many are left after it."""

    def __init__(self, progress: BisectProgress | None, program: str) -> None:
        self.progress = progress
        self.program = program
        self.step = 0
        self.left = 0
        self.commit = ""

    def read(self, output: str) -> None:
        for line in output.splitlines():
            if match := _STEPS_LEFT.match(line):
                self.left = int(match.group(1))
            elif match := _CHECKED_OUT.match(line):
                self.commit = match.group(1)
            elif line.startswith("running ") and self.program in line:
                self.step += 1
                if self.progress is not None:
                    self.progress(self.step, self.step + self.left, self.commit)


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
