"""Lever plugins and the on-device pipeline runner with its trace.

What a lever author imports, all from here (see docs/levers.md):

    from levers import Lever, hookimpl                       # the base class and the marker
    from levers import Message, Completion, GenerationOptions  # what ctx.call takes and returns
    from levers import Plan, parse_plan, render_plan          # the planner's output and helpers
    from levers import Context, Example                       # `ctx`'s type, a worked example
    from levers import FeatureSpec, json_answer               # `ctx.feature`; JSON from text
    from levers import LeverError                             # a one-line error from check()
"""

from levers.context import Context
from levers.feature import FeatureSpec, json_answer
from levers.hookspecs import hookimpl
from levers.lever import LEVER_CLASSES, Lever
from levers.pool import Example
from levers.registry import LeverError
from models.base import Completion, GenerationOptions, Message
from ruler.plan import QUESTION_COUNT, ParsedPlan, Plan, check_plan, parse_plan, render_plan

__all__ = [
    "LEVER_CLASSES",
    "QUESTION_COUNT",
    "Completion",
    "Context",
    "Example",
    "FeatureSpec",
    "GenerationOptions",
    "Lever",
    "LeverError",
    "Message",
    "ParsedPlan",
    "Plan",
    "check_plan",
    "hookimpl",
    "json_answer",
    "parse_plan",
    "render_plan",
]
