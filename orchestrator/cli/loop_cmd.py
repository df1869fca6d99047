"""`autoresearch` commands for the loop part (filled in by its issue)."""

from orchestrator.cli import cli  # noqa: F401
