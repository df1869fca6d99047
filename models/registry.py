"""Model specs (`backend:name`) resolved through the `register_models` hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.base import ChatModel, ModelError, ModelInfo
from models.plugins import ensure_plugins


@dataclass(frozen=True)
class Backend:
    name: str
    factory: Callable[[str], ChatModel]
    list_known: Callable[[], list[ModelInfo]]


def backends() -> dict[str, Backend]:
    found: dict[str, Backend] = {}

    def register(name: str, factory, list_known) -> None:
        found[name] = Backend(name, factory, list_known)

    ensure_plugins().hook.register_models(register=register)
    return found


def parse_spec(spec: str) -> tuple[str, str]:
    backend, sep, name = spec.partition(":")
    if not sep or not backend or not name:
        raise ModelError(
            f"model spec {spec!r} is not 'backend:name'; e.g. local:smollm2-135m, "
            "anthropic:claude-sonnet-4-6, apple:system, fake:echo"
        )
    return backend, name


def available_models() -> list[ModelInfo]:
    return [info for backend in backends().values() for info in backend.list_known()]


_loaded: dict[str, ChatModel] = {}
_injected: set[str] = set()


def get_model(spec: str) -> ChatModel:
    """The model for a spec; one instance per spec per process (local weights load once)."""
    if spec in _loaded:
        return _loaded[spec]
    backend_name, name = parse_spec(spec)
    found = backends()
    if backend_name not in found:
        known = ", ".join(i.spec for i in available_models())
        raise ModelError(f"unknown model backend {backend_name!r} in {spec!r}; known: {known}")
    model = found[backend_name].factory(name)
    _loaded[spec] = model
    return model


def use_model(spec: str, model: ChatModel) -> None:
    """Make `get_model(spec)` return `model` (an instance built elsewhere, e.g. on a mocked
    transport in tests) until `forget_models`."""
    parse_spec(spec)
    _loaded[spec] = model
    _injected.add(spec)


def keep_loaded(spec: str, model: ChatModel) -> None:
    """Hold `model`, loaded elsewhere in this process (the fork server), as the one instance of
    `spec`: `get_model(spec)` returns it, as if it had loaded it (it is not `injected`)."""
    parse_spec(spec)
    _loaded[spec] = model


def injected_models() -> frozenset[str]:
    """Specs whose model was placed here with `use_model` (reachable in this process only)."""
    return frozenset(_injected)


def forget_models() -> None:
    """Drop loaded models (tests use it to start from fresh fakes)."""
    _loaded.clear()
    _injected.clear()
