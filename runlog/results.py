"""`runlog/results.tsv`: one row per experiment, regenerated from the records and the tags.

An experiment's own commit hash cannot be inside that commit, so a row's `commit` is `-` in the
commit that records it and is filled in by the next write (`read_results` always resolves it).
"""

from __future__ import annotations

from models.files import atomic_write_text
from ruler.records import DIMENSIONS
from runlog.folder import WorkspaceFolder
from runlog.records import ExperimentRecord
from runlog.rows import ResultRow
from runlog.tags import experiment_commits

COLUMNS: tuple[str, ...] = (
    "id",
    "commit",
    "gate",
    "quality",
    *DIMENSIONS,
    "wins",
    "ties",
    "losses",
    "status",
    "lever_class",
    "description",
)


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def result_row(record: ExperimentRecord, commit: str | None) -> dict[str, str]:
    """The results.tsv row of one record (empty cells where an experiment has no result)."""
    result = record.result
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        id=record.id,
        commit=(commit or "-")[:7],
        status=record.status,
        lever_class=record.lever_class,
        description=_clean(record.hypothesis),
    )
    if result is not None:
        row.update(ResultRow.from_gate(result).tsv_cells())
    return row


def render_results(records: list[ExperimentRecord], commits: dict[str, str]) -> str:
    lines = ["\t".join(COLUMNS)]
    for record in records:
        row = result_row(record, commits.get(record.id))
        lines.append("\t".join(row[c] for c in COLUMNS))
    return "\n".join(lines) + "\n"


def write_results(ws: WorkspaceFolder) -> None:
    """Rewrite results.tsv atomically from every record and the exp/NNN tags known now."""
    atomic_write_text(ws.results_path, render_results(ws.records(), experiment_commits(ws)))


def read_results(ws: WorkspaceFolder) -> list[dict[str, str]]:
    """The rows as dicts, with every committed experiment's hash resolved from its tag."""
    commits = experiment_commits(ws)
    return [result_row(r, commits.get(r.id)) for r in ws.records()]
