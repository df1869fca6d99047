"""Which levers exist: built-ins, the `autoresearch` entry points, a workspace's lever files.

Built-in levers are plugin modules listed in `LEVER_PLUGINS`, registered on the one plugin
manager (`models.plugins.pm`) exactly like third-party plugins. A workspace's (or an agent
folder's) `levers/*.py` files are imported by path and registered as `workspace:<file>`;
`AUTORESEARCH_LOAD_PLUGINS` (a comma-separated allow-list) limits entry points and these files;
see `levers.allowlist` for its one syntax.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from levers import hookspecs
from levers.allowlist import check_allow_list, file_allowed
from levers.feature import FeatureSpec, fits, lever_features
from levers.lever import LEVER_CLASSES, Lever
from levers.trace import STAGES
from models.base import AutoresearchError
from models.plugins import ensure_plugins, plugin_source, pm, register_modules

pm.add_hookspecs(hookspecs)

LEVER_PLUGINS: tuple[str, ...] = (
    "levers.builtin.prompt",
    "levers.builtin.decoding",
    "levers.builtin.rag",
    "levers.builtin.multi_call",
    "levers.builtin.self_critique",
    "levers.builtin.adapter",
    "levers.builtin.schema",
    "levers.builtin.info_gain",
    "levers.builtin.answer_simulation",
    "levers.builtin.verify",
    "levers.builtin.ensemble",
)
WORKSPACE_PREFIX = "workspace:"


class LeverError(AutoresearchError):
    """A lever that cannot be registered, loaded or run."""


@dataclass(frozen=True)
class LeverInfo:
    name: str
    lever_class: str
    cls: type[Lever]
    Params: type[BaseModel]
    source: str
    plugin: str

    def schema(self) -> dict:
        return self.Params.model_json_schema()

    @property
    def features(self) -> tuple[str, ...]:
        """The features the lever serves (empty: any)."""
        return lever_features(self.cls)


def levers_for(feature: FeatureSpec | str, infos: dict[str, LeverInfo]) -> dict[str, LeverInfo]:
    """The levers of `infos` that serve `feature`, in their order."""
    return {name: info for name, info in infos.items() if fits(info.features, feature)}


def check_fits(names: list[str], feature: FeatureSpec | str, source: str = "agent") -> None:
    """Refuse an agent that enables a lever made for other features, with a one-line error."""
    known = lever_classes()
    name = feature if isinstance(feature, str) else feature.name
    for lever in names:
        info = known.get(lever)
        if info is not None and not fits(info.features, name):
            raise LeverError(
                f"{source}: lever {lever!r} serves only the {', '.join(info.features)} feature(s), "
                f"not {name!r}; remove it from the agent (see: autoresearch levers)"
            )


def ensure_levers() -> None:
    """Register the built-in levers and the entry-point plugins (idempotent)."""
    register_modules(LEVER_PLUGINS)
    ensure_plugins()


def check_lever_class(cls: object, plugin: str) -> type[Lever]:
    """The lever a plugin registered, or a one-line error saying what is wrong with it."""
    where = f"plugin {plugin!r}"
    if not (inspect.isclass(cls) and issubclass(cls, Lever)):
        raise LeverError(f"{where} registered {cls!r}, which is not a levers.Lever subclass")
    if not cls.name or not cls.name.replace("_", "").replace("-", "").isalnum():
        raise LeverError(f"{where}: lever {cls.__name__} needs a name of letters, digits, _ or -")
    if cls.lever_class not in LEVER_CLASSES:
        raise LeverError(
            f"{where}: lever {cls.name!r} has lever_class {cls.lever_class!r}; "
            f"use one of {', '.join(LEVER_CLASSES)}"
        )
    if not (inspect.isclass(cls.Params) and issubclass(cls.Params, BaseModel)):
        raise LeverError(f"{where}: lever {cls.name!r} Params is not a pydantic model")
    for stage in STAGES:  # pluggy would refuse these later, in its own words
        method = getattr(cls, stage, None)
        if callable(method) and list(inspect.signature(method).parameters)[1:] != ["ctx"]:
            raise LeverError(
                f"{where}: lever {cls.name!r} stage {stage}{inspect.signature(method)} must take "
                f"one argument named ctx: def {stage}(self, ctx)"
            )
    return cls


def levers_of_plugin(plugin_name: str) -> list[type[Lever]]:
    """The lever classes one registered plugin's `register_levers` hook registers."""
    found: list[type[Lever]] = []
    for impl in pm.hook.register_levers.get_hookimpls():
        if impl.plugin_name == plugin_name:
            impl.function(register=lambda cls: found.append(check_lever_class(cls, plugin_name)))
    return found


def lever_classes(workspace_levers: Path | None = None) -> dict[str, LeverInfo]:
    """Every registered lever by name (built-ins first); a name registered twice is an error."""
    ensure_levers()
    if workspace_levers is not None:
        load_lever_files(workspace_levers)
    else:
        check_allow_list(None)
    infos: dict[str, LeverInfo] = {}
    for impl in pm.hook.register_levers.get_hookimpls():
        source = plugin_source(impl.plugin)
        found: list[type[Lever]] = []
        impl.function(
            register=lambda cls, found=found, p=impl.plugin_name: found.append(
                check_lever_class(cls, p)
            )
        )
        for cls in found:
            if cls.name in infos:
                raise LeverError(
                    f"lever {cls.name!r} is registered twice: by {infos[cls.name].plugin!r} "
                    f"and by {impl.plugin_name!r}; rename one"
                )
            infos[cls.name] = LeverInfo(
                cls.name, cls.lever_class, cls, cls.Params, source, impl.plugin_name
            )
    return infos


def import_lever_file(path: Path) -> object:
    """Import one lever file by path as a fresh module (re-reading it every time)."""
    module_name = f"autoresearch_levers_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise LeverError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise LeverError(f"{path}: import failed: {type(exc).__name__}: {exc}") from exc
    return module


def unload_lever_files() -> None:
    """Unregister every `workspace:` plugin."""
    for name, _ in list(pm.list_name_plugin()):
        if name.startswith(WORKSPACE_PREFIX):
            pm.unregister(name=name)


def register_lever_file(path: Path) -> str:
    """Import and register one lever file as `workspace:<file name>`; return that name."""
    name = WORKSPACE_PREFIX + path.name
    module = import_lever_file(path)
    if pm.get_plugin(name) is not None:
        pm.unregister(name=name)
    pm.register(module, name=name)
    return name


def load_lever_files(folder: Path) -> list[str]:
    """Register a workspace's lever files (replacing those of any other workspace)."""
    check_allow_list(folder)
    unload_lever_files()
    names = []
    for path in sorted(Path(folder).glob("*.py")):
        if path.name.startswith("_"):
            continue
        if file_allowed(path):
            names.append(register_lever_file(path))
    return names
