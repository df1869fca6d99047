"""`autoresearch` commands for the ruler part (filled in by its issue)."""

from orchestrator.cli import cli  # noqa: F401
