"""`autoresearch` commands for the reference part (filled in by its issue)."""

from orchestrator.cli import cli  # noqa: F401
