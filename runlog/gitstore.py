"""Experiments as git commits: one commit and one tag `exp/NNN` each; `main` moves on kept only.

How a commit is made without checking anything out or touching the user's index: a temporary
index (GIT_INDEX_FILE) is seeded with main's tree (`git read-tree main`), the work tree's
`agent/` and `runlog/` are added to it, `git write-tree` gives the tree and
`git commit-tree -p main` the commit. A kept experiment then moves `main` by compare-and-swap
(`git update-ref`); the work tree already holds its content and only the index entries under
`agent/` and `runlog/` are refreshed. A discarded or failed one gets only its tag (its parent is
main, the best at the time) and the work tree's `agent/` is restored to main's. Its records
stay in `runlog/`, so the next commit on main carries every record so far (append-only log).

Crash safety: the journal `.autoresearch/commit.json` names the experiment being committed and
the tag is the commit point. `repair(ws)` (run by `Workspace.open`) commits any record that has
no tag yet and finishes the steps after a tag (index refresh, restoring `agent/`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from git import Repo

from models.files import atomic_write_text
from ruler.records import GateResult
from runlog.folder import WorkspaceFolder
from runlog.records import ExperimentRecord, LeverFile, OutputRow, experiment_id
from runlog.results import write_results
from runlog.settings import WorkspaceError
from runlog.tags import experiment_commits

log = logging.getLogger(__name__)
MAIN = "main"
SNAPSHOT_PATHS = ("agent", "runlog")
EVENTS = "runlog/events.jsonl"
RECORD_PATHS = ("runlog/experiments", "runlog/outputs", EVENTS)
JOURNAL = "commit.json"
IDENTITY = {
    "GIT_AUTHOR_NAME": "autoresearch",
    "GIT_AUTHOR_EMAIL": "autoresearch@localhost",
    "GIT_COMMITTER_NAME": "autoresearch",
    "GIT_COMMITTER_EMAIL": "autoresearch@localhost",
}


@dataclass(frozen=True)
class CommitInfo:
    """What `commit_experiment` did: the experiment's commit and whether main moved to it."""

    id: str
    commit: str
    tag: str
    status: str
    on_main: bool
    created: bool


@dataclass(frozen=True)
class Best:
    """The current best: the newest kept experiment on main's first-parent line."""

    id: str
    commit: str
    record: ExperimentRecord

    @property
    def result(self) -> GateResult | None:
        return self.record.result


# --- reading git ------------------------------------------------------------------------------


def parse_trailers(message: str) -> dict[str, str]:
    """`Key: value` lines of a commit message's last paragraph."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return {}
    trailers = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            trailers[key] = value.strip()
    return trailers


def next_experiment_id(ws: WorkspaceFolder) -> str:
    """One more than the highest id among the records and the tags ("001" for the first)."""
    known = [int(i) for i in (*ws.record_ids(), *experiment_commits(ws))]
    return f"{max(known, default=0) + 1:03d}"


def current_best(ws: WorkspaceFolder) -> Best | None:
    """The newest kept experiment on main's first-parent line, or None before the first."""
    with ws.repo() as repo:
        for commit in repo.iter_commits(MAIN, first_parent=True):
            trailers = parse_trailers(commit.message)
            name = trailers.get("Experiment", "")
            if name and trailers.get("Status") == "kept":
                exp = experiment_id(name)
                return Best(id=exp, commit=commit.hexsha, record=_record_at(ws, repo, commit, exp))
    return None


def _record_at(ws: WorkspaceFolder, repo: Repo, commit, exp: str) -> ExperimentRecord:
    """The record as committed (never the work tree's file, which anything could edit)."""
    text = repo.git.show(f"{commit.hexsha}:runlog/experiments/{exp}.json")
    return ExperimentRecord.model_validate_json(text)


def committed_outputs(ws: WorkspaceFolder, exp: str) -> list[OutputRow]:
    """An experiment's per-case outputs as its tag's commit holds them (none when it has no
    tag or no outputs)."""
    sha = experiment_commits(ws).get(exp)
    if sha is None:
        return []
    with ws.repo() as repo:
        try:
            text = repo.git.show(f"{sha}:runlog/outputs/{exp}.jsonl")
        except Exception:  # noqa: BLE001 (GitCommandError: an experiment that failed early)
            return []
    return [OutputRow.model_validate_json(line) for line in text.splitlines() if line.strip()]


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 (git's id)


def edited_records(ws: WorkspaceFolder) -> tuple[str, list[str]]:
    """The newest experiment commit, and the run-log files the work tree holds otherwise than
    it committed them: a committed record or outputs file changed or removed, or an events log
    that no longer begins with what was committed. Nothing but the loop writes them."""
    commits = experiment_commits(ws)
    if not commits:
        return "", []
    newest = commits[max(commits, key=int)]
    with ws.repo() as repo:
        listing = repo.git.ls_tree("-r", newest, "--", *RECORD_PATHS)
        edited = []
        for line in listing.splitlines():
            meta, path = line.split("\t", 1)
            blob = meta.split()[2]
            file = ws.root / path
            if path == EVENTS:
                committed = repo.git.cat_file("blob", blob, stdout_as_string=False)
                if not file.is_file() or not file.read_bytes().startswith(committed):
                    edited.append(path)
            elif not file.is_file() or _blob_sha(file.read_bytes()) != blob:
                edited.append(path)
    return newest, edited


def restore_edited(ws: WorkspaceFolder, commit: str, paths: list[str]) -> None:
    """Put the committed content of `paths` back; the edited files are moved aside under
    `.autoresearch/edited/` (nothing is lost, nothing edited is committed)."""
    aside = ws.state_dir / "edited" / time.strftime("%Y%m%d-%H%M%S")
    with ws.repo() as repo:
        for path in paths:
            file = ws.root / path
            if file.is_file():
                (aside / path).parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, aside / path)
            data = repo.git.cat_file("blob", f"{commit}:{path}", stdout_as_string=False)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)


def _on_main(repo: Repo) -> bool:
    return not repo.head.is_detached and repo.active_branch.name == MAIN


def _require_main(repo: Repo, root: Path) -> None:
    if not _on_main(repo):
        raise WorkspaceError(
            f"{root}: HEAD is not on branch {MAIN}; run `git checkout {MAIN}` there first "
            "(experiments are recorded on main)"
        )


# --- writing git ------------------------------------------------------------------------------


def snapshot_tree(repo: Repo, parent: str, paths: tuple[str, ...] = SNAPSHOT_PATHS) -> str:
    """The tree of `parent` with the work tree's `paths` laid over it (the user's index and
    work tree untouched)."""
    with tempfile.TemporaryDirectory(prefix="autoresearch-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        repo.git.read_tree(parent, env=env)
        repo.git.add("-A", "--", *paths, env=env)
        return repo.git.write_tree(env=env)


def commit_object(repo: Repo, tree: str, parents: list[str], message: str) -> str:
    """A commit of `tree` with `parents` and `message` (no ref moves; the caller tags it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".msg", delete=False, encoding="utf-8") as fh:
        fh.write(message)
    try:
        args = [tree, *(a for p in parents for a in ("-p", p)), "--no-gpg-sign", "-F", fh.name]
        return repo.git.commit_tree(*args, env=IDENTITY)
    finally:
        Path(fh.name).unlink(missing_ok=True)


def format_message(name: str, title: str, body: list[str], trailers: dict[str, str]) -> str:
    """`<name>: <title>`, each body paragraph, then the `Key: value` trailers (`parse_trailers`
    reads them back)."""
    subject = " ".join(title.split())
    paragraphs = [f"{p.strip()}\n" for p in body if p.strip()]
    lines = [f"{name}: {subject}", "", *paragraphs, *(f"{k}: {v}" for k, v in trailers.items())]
    return "\n".join(lines) + "\n"


def commit_message(record: ExperimentRecord) -> str:
    """`expNNN: <hypothesis>`, the method as body, then the trailers."""
    body = [record.method]
    if record.failure:
        body.append(f"Failure: {' '.join(record.failure.split())[:500]}")
    result = record.result
    trailers = {
        "Experiment": record.name,
        "Lever-Class": record.lever_class,
        "Gate": result.gate if result else "-",
        "Quality": f"{result.quality:.4f}" if result else "-",
        "Status": record.status,
        "Parent": f"exp{record.parent}" if record.parent else "none",
    }
    if record.adapter_hash:
        trailers["Adapter"] = record.adapter_hash
    title = " ".join(record.hypothesis.split()) or "(no hypothesis)"
    return format_message(record.name, title, body, trailers)


def lever_files(agent_dir: Path) -> list[LeverFile]:
    """Every file of the agent (agent.toml, levers/*.py, ...) with its sha256."""
    files = []
    for path in sorted(agent_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files.append(LeverFile(name=path.relative_to(agent_dir).as_posix(), sha256=digest))
    return files


@contextmanager
def commit_lock(ws: WorkspaceFolder) -> Iterator[None]:
    """Serialize every writer of the workspace's commits and tags (an exclusive flock)."""
    with open(ws.state_dir / "commit.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _journal_path(ws: WorkspaceFolder) -> Path:
    return ws.state_dir / JOURNAL


def _complete(ws: WorkspaceFolder, record: ExperimentRecord, outputs: list[OutputRow] | None):
    """Fill in what the store knows: parent (the current best), outputs pointer, agent files."""
    update: dict = {}
    if record.parent is None:
        best = current_best(ws)
        update["parent"] = best.id if best else None
    if not record.outputs and (outputs is not None or ws.outputs_path(record.id).is_file()):
        update["outputs"] = f"runlog/outputs/{record.id}.jsonl"
    if not record.lever_files and ws.agent_dir.is_dir():
        update["lever_files"] = lever_files(ws.agent_dir)
    return record.model_copy(update=update)


def write_record(
    ws: WorkspaceFolder, record: ExperimentRecord, outputs: list[OutputRow] | None = None
) -> None:
    """Write the record, its outputs and results.tsv (each atomically); no commit."""
    if outputs is not None:
        text = "".join(row.model_dump_json() + "\n" for row in outputs)
        atomic_write_text(ws.outputs_path(record.id), text)
    atomic_write_text(ws.record_path(record.id), record.model_dump_json(indent=2) + "\n")
    write_results(ws)


def _commit_and_tag(ws: WorkspaceFolder, record: ExperimentRecord) -> str:
    with ws.repo() as repo:
        main = repo.git.rev_parse(f"refs/heads/{MAIN}")
        head_trailers = parse_trailers(repo.commit(main).message)
        if record.status == "kept" and head_trailers.get("Experiment") == record.name:
            sha = main  # a crash came after main moved and before the tag
        else:
            tree = snapshot_tree(repo, main)
            sha = commit_object(repo, tree, [main], commit_message(record))
            if record.status == "kept":
                repo.git.update_ref(f"refs/heads/{MAIN}", sha, main)
        repo.git.tag(record.tag, sha)
    return sha


def _finish(ws: WorkspaceFolder) -> None:
    """The steps after the tag: sync the index (kept) or restore agent/ to main (otherwise)."""
    journal = _journal_path(ws)
    if not journal.is_file():
        return
    try:
        exp = experiment_id(json.loads(journal.read_text())["id"])
    except (ValueError, KeyError, TypeError):
        raise WorkspaceError(
            f"{journal}: unreadable commit journal; `autoresearch run --reset-state` moves it "
            "aside (nothing recorded is lost)"
        ) from None
    if exp in experiment_commits(ws):
        with ws.repo() as repo:
            if ws.record(exp).status == "kept":
                repo.git.reset("-q", "HEAD", "--", *SNAPSHOT_PATHS)
            else:
                repo.git.checkout(MAIN, "--", "agent")
                repo.git.clean("-fdq", "--", "agent")
    journal.unlink(missing_ok=True)


def commit_experiment(
    ws: WorkspaceFolder, record: ExperimentRecord, outputs: list[OutputRow] | None = None
) -> CommitInfo:
    """Record one experiment and commit it; calling it again for the same id changes nothing.

    The agent committed is the work tree's `agent/`; `outputs` (per-case rows) go to
    `runlog/outputs/NNN.jsonl`. Kept: main advances to the commit. Discarded or failed: the
    commit hangs off main, reachable by its tag, and `agent/` is restored to main's.
    """
    with commit_lock(ws):
        known = experiment_commits(ws)
        if record.id in known:
            _finish(ws)
            return _info(ws, record.id, known[record.id], created=False)
        with ws.repo() as repo:
            _require_main(repo, ws.root)
        record = _refuse_edited_log(ws, record)
        record = _complete(ws, record, outputs)
        atomic_write_text(_journal_path(ws), json.dumps({"id": record.id}))
        write_record(ws, record, outputs)
        sha = _commit_and_tag(ws, record)
        _finish(ws)
        return _info(ws, record.id, sha, created=True)


def _refuse_edited_log(ws: WorkspaceFolder, record: ExperimentRecord) -> ExperimentRecord:
    """`record`, failed naming the file when the committed run log was edited while it ran
    (the files are restored from git first, so the edit is never committed)."""
    commit, edited = edited_records(ws)
    if not edited:
        return record
    restore_edited(ws, commit, edited)
    why = (
        f"the run log was edited outside the loop while this experiment ran: {edited[0]} "
        f"differs from its commit {commit[:8]}"
        + (f" (and {len(edited) - 1} more)" if len(edited) > 1 else "")
        + "; restored from git, and the experiment is not trusted"
    )
    log.warning("%s", why)
    return record.model_copy(update={"status": "failed", "failure": why, "decision": ""})


def _info(ws: WorkspaceFolder, exp: str, sha: str, *, created: bool) -> CommitInfo:
    status = ws.record(exp).status if ws.record_path(exp).is_file() else "kept"
    with ws.repo() as repo:
        on_main = repo.is_ancestor(sha, MAIN)
    return CommitInfo(exp, sha, f"exp/{exp}", status, on_main, created)


def pending_records(ws: WorkspaceFolder) -> list[str]:
    """Records written to runlog/experiments/ whose experiment was never committed."""
    known = experiment_commits(ws)
    return [i for i in ws.record_ids() if i not in known]


def restore_records(ws: WorkspaceFolder) -> list[str]:
    """Rewrite a committed record whose file is missing or unreadable from its tag's commit."""
    restored = []
    for exp, sha in experiment_commits(ws).items():
        try:
            ws.record(exp)
            continue
        except WorkspaceError:
            pass
        with ws.repo() as repo:
            text = repo.git.show(f"{sha}:runlog/experiments/{exp}.json")
        atomic_write_text(ws.record_path(exp), text.rstrip("\n") + "\n")
        log.warning("%s: missing or unreadable; restored from exp/%s", ws.record_path(exp), exp)
        restored.append(exp)
    return restored


def repair(ws: WorkspaceFolder) -> list[str]:
    """Commit what a crash left uncommitted; returns the ids repaired (usually none)."""
    with ws.repo() as repo:
        if not _on_main(repo):
            return []
    restore_records(ws)
    pending = pending_records(ws)
    for exp in pending:
        commit_experiment(ws, ws.record(exp))
    if _journal_path(ws).is_file():
        with commit_lock(ws):
            _finish(ws)
    return pending
