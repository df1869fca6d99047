r"""The lever plugin API: `register_levers` plus the five pipeline stage hooks.

How stage hooks reach only the enabled levers
----------------------------------------------
A lever is a class (subclass of `levers.lever.Lever`) with a `name`, a `lever_class` and a
pydantic `Params` model; a plugin module registers it with the `register_levers` hook, on the
one plugin manager `models.plugins.pm` (built-ins, the `autoresearch` entry-point group and a
workspace's `agent/levers/*.py` alike). The lever's stage methods (`prepare`, `build_messages`,
`generate`, `refine`, `finalize`) are hook implementations: at the start of every run the runner
makes a fresh per-run plugin manager with these stage specs, instantiates each lever ENABLED in
`agent.toml` with its validated params, and registers the instances so that pluggy calls them in
`agent.toml` order. A lever that is installed but not enabled is never called; two enabled
levers never see each other's state except through the shared per-case `ctx`.

`generate` is `firstresult`: the first enabled lever (in `agent.toml` order) that returns a
`Completion` (or a plain string) replaces the runner's default single call.

Each stage hook receives `ctx`, a `levers.context.Context` for ONE case. Cases run side by side
(one thread each) and every model call goes through `ctx.call(...)`, which the runner batches
across cases: calls that all cases make at the same stage become one `generate_batch`. Keep
per-case state on `ctx` (`ctx.state`, `ctx.examples`, `ctx.draft`), never on the lever object,
which all cases share. A stage that raises fails only its own case (judged as the worst answer).

What `ctx` offers:
    ctx.task, ctx.case_id      the case input (the planner's one-line task)
    ctx.feature                the feature served (`levers.feature.FeatureSpec`: name,
                               instruction with {input}, output_schema, rubric, `planner`)
    ctx.options                GenerationOptions for this case; replace it with
                               `ctx.options = ctx.options.model_copy(update={...})`
    ctx.examples               list of `levers.pool.Example(task, plan)` the prompt shows
                               (from the training pool, `levers.pool.training_pool()`)
    ctx.messages               the prompt, a list of `models.Message(role, content)`
    ctx.draft                  the answer text so far (set after `generate`)
    ctx.state                  a dict for per-case scratch state
    ctx.call(model, messages, options=None, *, label)        -> Completion (model None: agent's)
    ctx.call_many(model, [messages, ...], options=None, *, label) -> list[Completion]
    ctx.with_instruction(text) the context earlier levers built (system text, few-shot and
                               retrieved examples) + `text` as the user turn: a lever that makes
                               its own calls (decompose, critique, check) builds them with this
                               so that it composes with the levers before it
    with ctx.step(label): ...  record a pure-Python step in the trace
    ctx.enabled(name)          whether a lever is enabled in this agent

A complete lever file (e.g. `agent/levers/end_with_question.py`):

    from pydantic import BaseModel, ConfigDict
    from levers import Lever, hookimpl

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        suffix: str = "?"                      # every field needs a default

    class EndWithQuestion(Lever):
        "Make every question line end with a question mark."
        name = "end_with_question"
        lever_class = "other"
        Params = Params

        @hookimpl
        def finalize(self, ctx):
            with ctx.step("add question marks"):
                lines = [ln.rstrip() for ln in ctx.draft.splitlines()]
                ctx.draft = "\n".join(
                    ln if not ln[:1].isdigit() or ln.endswith("?") else ln + self.params.suffix
                    for ln in lines
                )

    @hookimpl
    def register_levers(register):
        register(EndWithQuestion)
"""

from __future__ import annotations

from models.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]


@hookspec
def register_levers(register):
    """Register lever classes: `register(MyLever)`.

    `MyLever` subclasses `levers.Lever` and sets `name` (unique, the `name` used in
    agent.toml), `lever_class` (prompt | rag | multi_call | self_critique | decoding | adapter |
    other) and `Params` (a pydantic model, `extra="forbid"`, every field with a default).
    """


@hookspec
def prepare(ctx):
    """Before messages are built: set decoding options, retrieve examples (`ctx.examples`)."""


@hookspec
def build_messages(ctx):
    """Set `ctx.messages` (the prompt) from `ctx.task` and `ctx.examples`."""


@hookspec(firstresult=True)
def generate(ctx):
    """Return a `Completion` or text to replace the default single call on `ctx.messages`.

    Return None to leave generation to the next enabled lever or to the runner's default.
    """


@hookspec
def refine(ctx):
    """Improve `ctx.draft` (the text generated so far): self-critique, pruning, repair."""


@hookspec
def finalize(ctx):
    """Last look at `ctx.draft` before it becomes the candidate (formatting, cleanup)."""
