"""Adds `autoresearch tui` through the `register_commands` hook (filled in by the TUI issue)."""
