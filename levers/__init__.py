"""Lever plugins and the on-device pipeline runner with its trace.

A lever author needs `Lever` (the base class) and `hookimpl` (the marker for
`register_levers` and the stage methods); see `levers.hookspecs` for the plugin API.
"""

from levers.hookspecs import hookimpl
from levers.lever import LEVER_CLASSES, Lever

__all__ = ["LEVER_CLASSES", "Lever", "hookimpl"]
