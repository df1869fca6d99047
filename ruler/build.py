"""Make a new ruler for any feature: gold plans from a (cloud) model, default splits, copied
rubric and judge prompts. `freeze` (ruler.lock.write_lock) then hash-locks the directory."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from models.base import AutoresearchError, ChatModel, GenerationOptions, Message
from models.files import atomic_write_text
from ruler.loader import ruler_dir
from ruler.plan import QUESTION_COUNT, parse_plan
from ruler.records import Case

GOLD_SYSTEM = (
    "You are an expert discovery planner. Given a one-line task, restate it as a short title and "
    f"ask exactly {QUESTION_COUNT} clarifying questions a skilled human planner must know before "
    "drafting a plan: each asks one thing, is specific to this task, reads naturally in the "
    "second person, and none overlap; together they cover the most decision-critical unknowns. "
    "Also name the single most decision-critical unknown and the index (0-based) of the "
    "question that asks it. Answer with JSON only: "
    '{"title": "...", "questions": ["...", ...], "critical": "...", "critical_question": 0}'
)
GOLD_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "questions": {"type": "array", "items": {"type": "string"}},
        "critical": {"type": "string"},
        "critical_question": {"type": "integer"},
    },
    "required": ["title", "questions", "critical", "critical_question"],
    "additionalProperties": False,
}


class RulerBuildError(AutoresearchError):
    """A task file or gold answer that cannot become a ruler case."""


def read_tasks(path: Path) -> list[tuple[str, str]]:
    """(id, task) pairs from a text file (one task a line) or JSONL with `task` (and `id`)."""
    tasks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                item = json.loads(line)
                tasks.append((str(item.get("id") or f"c{len(tasks) + 1:02d}"), str(item["task"])))
            except (json.JSONDecodeError, KeyError):
                raise RulerBuildError(
                    f"{path}:{number}: a JSON line needs a 'task' field (for another feature's "
                    "inputs, pass --feature DIR)"
                ) from None
            if "gold" in item:  # never drop a user's gold silently
                raise RulerBuildError(
                    f"{path}:{number}: the planner build asks the gold model and would ignore "
                    "this 'gold'; to keep your own gold, write a feature folder and use "
                    "--feature DIR (docs/features.md)"
                )
        else:
            tasks.append((f"c{len(tasks) + 1:02d}", line))
    if not tasks:
        raise RulerBuildError(f"{path}: no tasks (one task a line, or JSONL with 'task')")
    return tasks


def gold_case(model: ChatModel, case_id: str, task: str) -> Case:
    """Ask the gold model for a plan; retry once when it is not a clean seven-question plan."""
    messages = [
        Message(role="system", content=GOLD_SYSTEM),
        Message(role="user", content=f"Task: {task}"),
    ]
    options = GenerationOptions(temperature=0.0, max_tokens=800, json_schema=GOLD_SCHEMA)
    problems: list[str] = []
    for _ in range(2):
        text = model.generate(messages, options).text
        parsed = parse_plan(text)
        problems = [
            p for p in parsed.problems if p not in ("from_code_fence", "from_numbered_list")
        ]
        if not problems:
            critical, index = _critical(text)
            return Case(
                id=case_id, task=task, gold=parsed.plan, critical=critical, critical_question=index
            )
    raise RulerBuildError(
        f"gold model {model.model_id} gave no clean plan for {case_id} {task!r}: "
        + ", ".join(problems)
    )


def _critical(text: str) -> tuple[str, int | None]:
    match = re.search(r"\{.*\}", text, re.S)
    try:
        data = json.loads(match.group(0)) if match else {}
    except json.JSONDecodeError:
        data = {}
    index = data.get("critical_question")
    valid = isinstance(index, int) and 0 <= index < QUESTION_COUNT
    return str(data.get("critical", "")), index if valid else None


def default_splits(ids: list[str]) -> dict[str, list[str]]:
    """`dev-K` (K = min(10, n) ids spread evenly) inside `full-N` (all ids)."""
    k = min(10, len(ids))
    dev = [ids[round(i * len(ids) / k)] for i in range(k)]
    return {f"dev-{k}": dev, f"full-{len(ids)}": list(ids)}


def build_ruler(
    tasks_file: Path,
    model: ChatModel,
    out: Path,
    template: str | Path = "planner",
    progress: Callable[[int, int], None] | None = None,
) -> list[Case]:
    """Write cases.jsonl, splits.json, rubric.toml and prompts/ into `out` (not yet frozen)."""
    if (out / "cases.jsonl").exists():
        raise RulerBuildError(f"{out}: already holds a ruler; choose a new --out directory")
    tasks = read_tasks(tasks_file)
    cases = []
    for done, (case_id, task) in enumerate(tasks, 1):
        cases.append(gold_case(model, case_id, task))
        if progress:
            progress(done, len(tasks))
    source = ruler_dir(template)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "rubric.toml", out / "rubric.toml")
    shutil.copytree(source / "prompts", out / "prompts", dirs_exist_ok=True)
    atomic_write_text(
        out / "splits.json", json.dumps(default_splits([c.id for c in cases]), indent=2) + "\n"
    )
    lines = [c.model_dump_json(exclude_defaults=False) for c in cases]
    atomic_write_text(out / "cases.jsonl", "\n".join(lines) + "\n")
    return cases


__all__ = ["build_ruler", "default_splits", "gold_case", "read_tasks"]
