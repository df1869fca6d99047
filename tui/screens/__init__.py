"""The TUI's screens, one a file."""
