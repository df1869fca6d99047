"""The plugin API of autoresearch: one pluggy project, hook specs added by each layer.

This module holds the markers and the model hook; `levers.hookspecs` adds the pipeline hooks
and `orchestrator.hookspecs` adds `register_commands`, all on the one plugin manager in
`models.plugins`.
"""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("autoresearch")
hookimpl = HookimplMarker("autoresearch")


@hookspec
def register_models(register):
    """Register model backends: register(backend_name, factory, list_known).

    `factory(name) -> ChatModel` builds a model from the part of the spec after `backend:`;
    `list_known() -> list[ModelInfo]` names the models this backend offers and whether each
    is available here.
    """
