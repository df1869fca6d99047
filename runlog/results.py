"""`runlog/results.tsv`: one row per experiment, regenerated from the records and the tags.

An experiment's own commit hash cannot be inside that commit, so a row's `commit` is `-` in the
commit that records it and is filled in by the next write (`read_results` always resolves it).
The dimension columns are the ruler's: the planner's five, or another feature's rubric names as
its results carry them.
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


def columns_for(records: list[ExperimentRecord]) -> tuple[str, ...]:
    """The columns, with the dimensions of the first result recorded (the planner's before)."""
    dims = next((tuple(r.result.dimension_means) for r in records if r.result), DIMENSIONS)
    if set(dims) <= set(DIMENSIONS):  # the planner's (coverage-blind leaves one out)
        return COLUMNS
    return (*COLUMNS[:4], *dims, *COLUMNS[4 + len(DIMENSIONS) :])


def result_row(
    record: ExperimentRecord, commit: str | None, columns: tuple[str, ...] = COLUMNS
) -> dict[str, str]:
    """The results.tsv row of one record (empty cells where an experiment has no result)."""
    result = record.result
    row = dict.fromkeys(columns, "")
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
    columns = columns_for(records)
    lines = ["\t".join(columns)]
    for record in records:
        row = result_row(record, commits.get(record.id), columns)
        lines.append("\t".join(row.get(c, "") for c in columns))
    return "\n".join(lines) + "\n"


def write_results(ws: WorkspaceFolder) -> None:
    """Rewrite results.tsv atomically from every record and the exp/NNN tags known now."""
    atomic_write_text(ws.results_path, render_results(ws.records(), experiment_commits(ws)))


def read_results(ws: WorkspaceFolder) -> list[dict[str, str]]:
    """The rows as dicts, with every committed experiment's hash resolved from its tag."""
    commits, records = experiment_commits(ws), ws.records()
    columns = columns_for(records)
    return [result_row(r, commits.get(r.id), columns) for r in records]
