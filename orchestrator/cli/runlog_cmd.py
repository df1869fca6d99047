"""`autoresearch` commands for the runlog part (filled in by its issue)."""

from orchestrator.cli import cli  # noqa: F401
