"""validate_lever: parse, import, register and smoke failures are reports, each under 30 s."""

from __future__ import annotations

import pytest

from levers.validate import validate_lever

GOOD = '''
from pydantic import BaseModel, ConfigDict

from levers import Lever, hookimpl


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suffix: str = "?"


class EndWithQuestionMark(Lever):
    """Make sure the draft ends with a question mark."""

    name = "qmark"
    lever_class = "other"
    Params = Params

    def finalize(self, ctx):
        ctx.draft = ctx.draft.rstrip() + ("" if ctx.draft.rstrip().endswith("?") else "?")


@hookimpl
def register_levers(register):
    register(EndWithQuestionMark)
'''

CASES = {
    "parse": ("def broken(:\n    pass\n", "line 1"),
    "import": ("import not_a_module_anywhere\n", "ModuleNotFoundError"),
    "register": ("x = 1\n", "registers no lever"),
    "smoke": (
        GOOD.replace("ctx.draft = ctx.draft.rstrip()", 'raise RuntimeError("boom"); x = 1'),
        "RuntimeError: boom",
    ),
}


@pytest.mark.parametrize("stage", list(CASES))
def test_failures_are_reports_naming_the_stage(tmp_path, stage):
    source, fragment = CASES[stage]
    path = tmp_path / f"{stage}_lever.py"
    path.write_text(source)
    report = validate_lever(path)
    assert not report.ok
    assert report.stage == stage
    assert fragment in report.message
    assert report.seconds < 30
    assert "failed at" in report.line()


def test_good_lever_passes_and_expect_is_checked(tmp_path):
    path = tmp_path / "qmark.py"
    path.write_text(GOOD)
    report = validate_lever(path)
    assert report.ok and report.stage == "smoke" and report.levers == ["qmark"], report
    wrong = validate_lever(path, expect=["other_name"])
    assert (wrong.ok, wrong.stage) == (False, "register")


@pytest.mark.slow  # waits out its 4 s timeout
def test_a_hanging_lever_times_out(tmp_path):
    path = tmp_path / "slow.py"
    path.write_text("import time\ntime.sleep(60)\n")
    report = validate_lever(path, timeout=4)
    assert (report.ok, report.stage) == (False, "import")
    assert "timed out" in report.message and report.seconds < 30


def test_bad_lever_class_is_a_register_failure(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(GOOD.replace('lever_class = "other"', 'lever_class = "magic"'))
    report = validate_lever(path)
    assert (report.ok, report.stage) == (False, "register")
    assert "magic" in report.message


def test_a_stage_method_with_wrong_arguments_fails_registration(tmp_path):
    path = tmp_path / "args.py"
    path.write_text(GOOD.replace("def finalize(self, ctx):", "def finalize(self, context):"))
    report = validate_lever(path)
    assert (report.ok, report.stage) == (False, "register")
    assert "context" in report.message


def test_the_example_in_the_plugin_api_docs_validates(tmp_path):
    import levers.hookspecs

    doc = levers.hookspecs.__doc__
    code = "\n".join(line[4:] for line in doc[doc.index("    from pydantic") :].splitlines())
    path = tmp_path / "end_with_question.py"
    path.write_text(code)
    report = validate_lever(path, expect=["end_with_question"])
    assert report.ok, report.line()


def _installed_package(site, lever_name: str) -> None:
    """A tiny installed distribution whose `autoresearch` entry point registers `lever_name`."""
    site.mkdir()
    (site / "clash_pkg.py").write_text(GOOD.replace('name = "qmark"', f'name = "{lever_name}"'))
    info = site / "clash_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clash-pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[autoresearch]\nclash_pkg = clash_pkg\n")


def test_a_name_clash_with_an_installed_entry_point_fails_validation(tmp_path, monkeypatch):
    import os

    _installed_package(tmp_path / "site", "qmark")
    monkeypatch.setenv(
        "PYTHONPATH", f"{tmp_path / 'site'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    )
    monkeypatch.delenv("AUTORESEARCH_LOAD_PLUGINS", raising=False)
    path = tmp_path / "qmark.py"
    path.write_text(GOOD)
    report = validate_lever(path)
    assert (report.ok, report.stage) == (False, "register"), report
    assert "name clash with an installed lever" in report.message
    assert "'clash_pkg'" in report.message and "rename" in report.message
    assert validate_lever(tmp_path / "site" / "clash_pkg.py").ok  # the installed file itself


def test_a_name_clash_with_a_sibling_workspace_file_fails_validation(tmp_path):
    levers = tmp_path / "agent" / "levers"
    levers.mkdir(parents=True)
    (tmp_path / "agent" / "agent.toml").write_text('model = "fake:planner"\n')
    (levers / "first.py").write_text(GOOD)
    (levers / "second.py").write_text(GOOD)
    report = validate_lever(levers / "second.py")
    assert (report.ok, report.stage) == (False, "register"), report
    assert "workspace:first.py" in report.message
