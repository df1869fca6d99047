"""The supervisor's Textual app; adds `autoresearch tui` through the register_commands hook."""
