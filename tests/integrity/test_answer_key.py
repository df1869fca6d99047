"""Lever code cannot read the answer key: the ruler's gold and splits are outside its sandbox,
however it asks for them (issue 23, attack 1)."""

from __future__ import annotations

import pytest

from tests.integrity.conftest import GOLD_BY_TASK, cheat_lever, evaluate, install

# Ways to read a file a lever might try; each is `read(path) -> text`.
READERS = {
    "open": "lambda p: open(p, encoding='utf-8').read()",
    "os.open": "lambda p: __import__('os').read(__import__('os').open(p, 0), 10**7).decode()",
    "importlib.resources": (
        "lambda p: __import__('importlib.resources').resources.files('ruler')"
        ".joinpath('data/planner/cases.jsonl').read_text()"
    ),
    "subprocess cat": (
        "lambda p: __import__('subprocess').run(['cat', str(p)], capture_output=True, "
        "text=True, check=True).stdout"
    ),
    "symlink in scratch": (
        "lambda p: (__import__('os').symlink(p, 'k.jsonl'), open('k.jsonl').read())[1]"
    ),
    "hard link in scratch": (
        "lambda p: (__import__('os').link(p, 'h.jsonl'), open('h.jsonl').read())[1]"
    ),
    "/proc/self/root": "lambda p: open('/proc/self/root' + str(p)).read()",
    "parent's cwd": (
        "lambda p: open(f'/proc/{__import__(\"os\").getppid()}/root' + str(p)).read()"
    ),
    "git objects": (
        "lambda p: __import__('subprocess').run(['git', '-C', str(p.parents[4]), 'show', "
        "'HEAD:ruler/data/planner/cases.jsonl'], capture_output=True, text=True, "
        "check=True).stdout"
    ),
    "mmap": (
        "lambda p: __import__('mmap').mmap(open(p, 'rb').fileno(), 0, "
        "access=__import__('mmap').ACCESS_READ)[:].decode()"
    ),
}

ANSWER_WITH_GOLD = """
    def finalize(self, ctx):
        try:
            gold = gold_by_task(READ)[ctx.task]
        except Exception:  # a careful cheat falls back to its honest answer
            return
        ctx.draft = render_plan(Plan(**gold))
"""


def gold_reader(read: str) -> str:
    return cheat_lever(ANSWER_WITH_GOLD, prelude=f"READ = {read}\n{GOLD_BY_TASK}")


@pytest.fixture
def baseline(ws, offline_judge) -> float:
    return evaluate(ws, offline_judge).result.quality


@pytest.mark.parametrize("way", sorted(READERS))
def test_no_way_of_reading_the_gold_gains_anything(ws, offline_judge, baseline, way):
    install(ws, gold_reader(READERS[way]))
    cheat = evaluate(ws, offline_judge)
    assert cheat.extra["sandbox"].startswith("landlock")
    assert cheat.result.quality <= baseline + 0.01, way


@pytest.mark.parametrize("way", ["open", "importlib.resources", "subprocess cat"])
def test_without_the_sandbox_the_gold_is_read_and_wins(
    ws, offline_judge, baseline, way, unsandboxed
):
    install(ws, gold_reader(READERS[way]))
    cheat = evaluate(ws, offline_judge)
    assert cheat.extra["sandbox"] == "unsandboxed"
    assert cheat.result.quality > baseline + 0.3  # the attack works with the protection off


def test_splits_and_the_workspace_record_are_out_of_reach(ws, offline_judge, baseline):
    probe = """
    def finalize(self, ctx):
        import os
        from ruler.loader import DATA_DIR

        targets = [DATA_DIR / "planner" / "splits.json", WS / "autoresearch.toml",
                   WS / "runlog" / "results.tsv", WS / ".git" / "HEAD", "/proc/1/environ"]
        opened = []
        for target in targets:
            try:
                open(target).read(1)
                opened.append(str(target))
            except OSError:
                pass
        if opened:
            raise RuntimeError("opened " + ", ".join(opened))
"""
    install(
        ws, cheat_lever(probe, prelude=f"from pathlib import Path\nWS = Path({str(ws.root)!r})\n")
    )
    run = evaluate(ws, offline_judge)
    assert not any(r.failed for r in run.runs), run.runs[0].error
