"""`autoresearch` commands for the levers part (filled in by its issue)."""

from orchestrator.cli import cli  # noqa: F401
