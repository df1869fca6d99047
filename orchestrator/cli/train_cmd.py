"""`autoresearch` commands for the train part (filled in by its issue)."""

from orchestrator.cli import cli  # noqa: F401
