"""Lever plugins and the on-device pipeline runner with its trace."""
