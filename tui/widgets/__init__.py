"""The TUI's widgets, one a file; each renders view records from `tui.views`."""
