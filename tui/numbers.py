"""The TUI's one number format: fixed digits, an optional sign, an em dash for no value.

Every widget and table of the TUI formats its numbers here (one dash, one rounding rule).
"""

from __future__ import annotations

MISSING = "—"


def number(value: float | None, digits: int = 3, signed: bool = False) -> str:
    """`0.371` → "0.371"; with `signed`, "+0.012"; None → "—"."""
    if value is None:
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def count(value: int | None) -> str:
    """A whole number, or "—" when there is none."""
    return MISSING if value is None else str(value)
