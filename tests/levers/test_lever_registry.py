"""Lever registration: built-ins, in-process plugins, workspace files, the allow-list."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from levers import Lever
from levers.allowlist import AllowListError
from levers.config import load_agent
from levers.registry import LEVER_PLUGINS, LeverError, lever_classes, load_lever_files
from models.plugins import pm

BUILTINS = {
    "prompt": "prompt",
    "decoding": "decoding",
    "rag": "rag",
    "multi_call": "multi_call",
    "self_critique": "self_critique",
    "adapter": "adapter",
    "schema": "decoding",
    "info_gain": "multi_call",
    "answer_simulation": "multi_call",
    "verify": "self_critique",
    "ensemble": "multi_call",
}

LEVER_FILE = '''
from levers import Lever, hookimpl


class Shout(Lever):
    """Upper-case the draft."""

    name = "shout"
    lever_class = "other"

    def finalize(self, ctx):
        ctx.draft = ctx.draft.upper()


@hookimpl
def register_levers(register):
    register(Shout)
'''


def test_builtins_with_classes_and_source():
    infos = lever_classes()
    assert {n: i.lever_class for n, i in infos.items() if i.source == "builtin"} == BUILTINS
    assert len(LEVER_PLUGINS) == len(BUILTINS)
    assert all(issubclass(i.Params, BaseModel) for i in infos.values())


def test_in_process_plugin_registers_and_unregisters(register_levers):
    class MineParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        level: int = 1

    class Mine(Lever):
        name = "mine"
        Params = MineParams

    register_levers(Mine, name="mine-plugin")
    info = lever_classes()["mine"]
    assert (info.lever_class, info.source, info.plugin) == ("other", "entry point", "mine-plugin")
    pm.unregister(name="mine-plugin")
    assert "mine" not in lever_classes()


def test_bad_lever_class_and_duplicate_names_are_errors(register_levers):
    class Odd(Lever):
        name = "odd"
        lever_class = "magic"

    register_levers(Odd, name="odd-plugin")
    with pytest.raises(LeverError, match="lever_class 'magic'"):
        lever_classes()
    pm.unregister(name="odd-plugin")

    class Twin(Lever):
        name = "prompt"

    register_levers(Twin, name="twin-plugin")
    with pytest.raises(LeverError, match="registered twice"):
        lever_classes()


def test_workspace_lever_files_load_by_path(tmp_path):
    folder = tmp_path / "agent" / "levers"
    folder.mkdir(parents=True)
    (folder / "shout.py").write_text(LEVER_FILE)
    assert load_lever_files(folder) == ["workspace:shout.py"]
    info = lever_classes()["shout"]
    assert (info.source, info.plugin) == ("workspace file", "workspace:shout.py")
    agent = tmp_path / "agent" / "agent.toml"
    agent.write_text('model = "fake:planner"\n[[levers]]\nname = "shout"\n')
    assert load_agent(agent).levers[0].name == "shout"


def test_allow_list_limits_workspace_files(tmp_path, monkeypatch):
    (tmp_path / "shout.py").write_text(LEVER_FILE)
    (tmp_path / "other.py").write_text(LEVER_FILE.replace("shout", "other"))
    monkeypatch.setenv("AUTORESEARCH_LOAD_PLUGINS", "workspace:other.py")
    assert load_lever_files(tmp_path) == ["workspace:other.py"]
    monkeypatch.setenv("AUTORESEARCH_LOAD_PLUGINS", "workspace:shout.py")
    assert load_lever_files(tmp_path) == ["workspace:shout.py"]
    monkeypatch.setenv("AUTORESEARCH_LOAD_PLUGINS", "")
    assert load_lever_files(tmp_path) == []


@pytest.mark.parametrize("name", ["shout.py", "shout", "workspace:shuot.py"])
def test_allow_list_names_an_entry_that_matches_nothing(tmp_path, monkeypatch, name):
    (tmp_path / "shout.py").write_text(LEVER_FILE)
    monkeypatch.setenv("AUTORESEARCH_LOAD_PLUGINS", f"workspace:shout.py,{name}")
    with pytest.raises(AllowListError) as err:
        load_lever_files(tmp_path)
    message = str(err.value)
    assert f"{name!r} matches no installed entry point and no lever file" in message
    if name != "workspace:shuot.py":
        assert "did you mean workspace:shout.py?" in message
