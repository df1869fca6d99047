"""The TUI's numbers: the run log's one number format (`runlog.rows.format_number`, one dash
for no value), and whole counts.
"""

from __future__ import annotations

from runlog.rows import MISSING
from runlog.rows import format_number as number

__all__ = ["MISSING", "count", "number"]


def count(value: int | None) -> str:
    """A whole number, or "—" when there is none."""
    return MISSING if value is None else str(value)
