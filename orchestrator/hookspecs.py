"""The command-line hook: plugins (the TUI among them) add commands to `autoresearch`."""

from models.hookspecs import hookspec


@hookspec
def register_commands(cli):
    """Add commands to the `autoresearch` click group: `@cli.command()` inside this hook."""
