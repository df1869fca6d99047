"""Reference analyses kept out of the experiment line: the store (`ref/NNN` commits), the
analyses (cloud ceiling, re-judge) and their tables."""

from runlog.reference.analyses import judge_spec_for, rejudge, run_ceiling, swap_model
from runlog.reference.store import (
    REFERENCE_PATH,
    TAG_PREFIX,
    commit_reference,
    load_reference,
    next_reference_id,
    reference_commits,
    reference_id,
    reference_message,
    reference_tag,
    sources,
)
from runlog.reference.tables import (
    ceiling_table,
    ceilings,
    reference_tables,
    reference_view,
    references_view,
    rejudge_labels,
    rejudge_mode,
    rejudge_table,
    scored_as_candidate,
    where,
)

__all__ = [
    "REFERENCE_PATH",
    "TAG_PREFIX",
    "ceiling_table",
    "ceilings",
    "commit_reference",
    "judge_spec_for",
    "load_reference",
    "next_reference_id",
    "reference_commits",
    "reference_id",
    "reference_message",
    "reference_tables",
    "reference_tag",
    "reference_view",
    "references_view",
    "rejudge",
    "rejudge_labels",
    "rejudge_mode",
    "rejudge_table",
    "run_ceiling",
    "scored_as_candidate",
    "sources",
    "swap_model",
    "where",
]
