"""The reference store: records `runlog/reference/refNNN.json` committed off main as `ref/NNN`.

A reference record (outputs beside it as `refNNN.jsonl`) is committed like a discarded
experiment: one commit whose parent is `main` (the best at the time), holding main's tree plus
`runlog/reference/`, reachable by the tag `ref/NNN`. `main` never moves to it and results.tsv
never lists it, so main's kept line and `git bisect` on it are untouched; the files stay in the
work tree, so the next experiment commit on main carries them too.
"""

from __future__ import annotations

import contextlib

from models.files import atomic_write_text
from runlog.folder import WorkspaceFolder
from runlog.gitstore import MAIN, commit_lock, commit_object, format_message, snapshot_tree
from runlog.records import OutputRow, ReferenceRecord, experiment_id
from runlog.settings import WorkspaceError
from runlog.tags import tagged_commits

TAG_PREFIX = "ref/"
REFERENCE_PATH = "runlog/reference"


def reference_id(value: int | str) -> str:
    """Normalize 3, "3", "003", "ref003" or "ref/003" to the record id "ref003"."""
    text = str(value).strip()
    for prefix in (TAG_PREFIX, "ref"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not text.isdigit():
        raise WorkspaceError(f"not a reference id: {value!r} (use refNNN or NNN)")
    return f"ref{int(text):03d}"


def reference_tag(ref_id: str) -> str | None:
    """`ref/NNN` for `refNNN`; None for a record not made here (no numbered id)."""
    try:
        return TAG_PREFIX + reference_id(ref_id)[3:]
    except WorkspaceError:
        return None


def reference_commits(ws: WorkspaceFolder) -> dict[str, str]:
    """Reference id -> commit sha, from the `ref/NNN` tags."""
    with ws.repo() as repo:
        tags = tagged_commits(repo, TAG_PREFIX)
    return {reference_id(number): sha for number, sha in tags.items()}


def next_reference_id(ws: WorkspaceFolder) -> str:
    """One more than the highest id among the reference files and the `ref/` tags."""
    files = (
        [p.stem for p in ws.reference_dir.glob("ref*.json")] if ws.reference_dir.is_dir() else []
    )
    known = [int(reference_id(i)[3:]) for i in (*files, *reference_commits(ws))]
    return reference_id(max(known, default=0) + 1)


def load_reference(ws: WorkspaceFolder, ref_id: str) -> ReferenceRecord:
    """A stored reference record by its id (`ref003`, `3`, `ref/003`, or any file's id)."""
    records = {r.id: r for r in ws.references()}
    if ref_id in records:
        return records[ref_id]
    with contextlib.suppress(WorkspaceError):
        ref_id = reference_id(ref_id)
    if ref_id in records:
        return records[ref_id]
    raise WorkspaceError(f"no reference record {ref_id} ({ws.reference_dir / ref_id}.json missing)")


def sources(record: ReferenceRecord) -> list[str]:
    """The experiment ids a reference record came from (a re-judge lists several)."""
    ids = []
    for text in (record.source_experiment or "").replace(",", " ").split():
        with contextlib.suppress(ValueError):
            ids.append(experiment_id(text))
    return ids


def reference_message(record: ReferenceRecord) -> str:
    """`refNNN: <title>`, the description as body, then trailers (never `Experiment:`)."""
    result = record.result
    trailers = {
        "Reference": record.id,
        "Kind": record.kind,
        "Gate": result.gate if result else "-",
        "Mode": result.mode if result else "-",
        "Quality": f"{result.quality:.4f}" if result else "-",
        "Source": ", ".join(f"exp{s}" for s in sources(record)) or "none",
    }
    return format_message(record.id, record.title, [record.description], trailers)


def commit_reference(
    ws: WorkspaceFolder, record: ReferenceRecord, outputs: list[OutputRow] | None = None
) -> str:
    """Write the record (and its outputs) and commit it off main under the tag `ref/NNN`.

    `main`, the user's index and results.tsv are left as they are; a record already tagged is
    not committed twice.
    """
    tag = reference_tag(record.id)
    if tag is None:
        raise WorkspaceError(f"reference id {record.id!r}: use refNNN (see next_reference_id)")
    with commit_lock(ws):
        if outputs is not None:
            text = "".join(row.model_dump_json() + "\n" for row in outputs)
            atomic_write_text(ws.reference_dir / f"{record.id}.jsonl", text)
        ws.write_reference(record)
        known = reference_commits(ws)
        if record.id in known:
            return known[record.id]
        with ws.repo() as repo:
            main = repo.git.rev_parse(f"refs/heads/{MAIN}")
            tree = snapshot_tree(repo, main, (REFERENCE_PATH,))
            sha = commit_object(repo, tree, [main], reference_message(record))
            repo.git.tag(tag, sha)
    return sha
