"""examples/lever-plugin installs exactly as its README says, offline: the README's shell lines
run as written, in a venv that sees the project's venv (so the shared `.venv` is not changed),
with no package index reachable."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.docs.test_levers_doc import EXAMPLE_README, blocks

ROOT = EXAMPLE_README.parents[2]
CLI = "from orchestrator.cli import main; main()"


def documented_lines() -> list[str]:
    """The README's `.venv/bin/...` lines, in order."""
    lines = [
        line.split("#")[0].strip()
        for _, code in blocks("sh", EXAMPLE_README)
        for line in code.splitlines()
    ]
    return [line for line in lines if line.startswith(".venv/bin/")]


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh venv whose site-packages also holds the project venv's (via `site.addsitedir`):
    pip and setuptools are the project venv's, the installs land in the fresh one."""
    target = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, timeout=300
    )
    site = next((target / "lib").glob("python*/site-packages"))
    here = sysconfig.get_paths()["purelib"]
    (site / "zz_project_venv.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    return target


@pytest.mark.slow  # a pip install
def test_the_example_package_installs_as_documented(venv: Path) -> None:
    lines = documented_lines()
    assert lines[0] == ".venv/bin/pip install --no-build-isolation -e examples/lever-plugin"
    env = os.environ | {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PIP_INDEX_URL", None)
    env.pop("PIP_FIND_LINKS", None)
    outputs = []
    for line in lines:
        words = shlex.split(line)
        python = str(venv / "bin" / "python")
        if words[0] == ".venv/bin/autoresearch":
            words = [python, "-c", CLI, *words[1:]]
        else:
            assert words[0] == ".venv/bin/pip", line
            words = [python, "-m", "pip", *words[1:]]
        done = subprocess.run(words, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    assert re.search(r"tidy_questions +other +entry", outputs[1]), outputs[1]
    assert "ok (tidy_questions)" in outputs[2], outputs[2]  # validated in its sandbox
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", CLI, "levers", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    levers = {row["name"]: row for row in json.loads(listed.stdout)}
    assert levers["tidy_questions"]["plugin"] == "tidy_questions"
    project = subprocess.run(  # the project's venv itself is untouched
        [sys.executable, "-m", "pip", "show", "autoresearch-lever-tidy"], capture_output=True
    )
    assert project.returncode != 0
