"""The planner's output and a parser that never raises on model text."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

QUESTION_COUNT = 7

Problem = Literal[
    "unparseable",
    "not_seven",
    "empty_question",
    "missing_title",
    "duplicate_question",
    "not_a_question",
    "from_code_fence",
    "from_numbered_list",
]


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    questions: list[str]


class ParsedPlan(BaseModel):
    """The plan recovered from model text, with what was wrong with that text."""

    model_config = ConfigDict(extra="forbid")

    plan: Plan
    problems: list[Problem] = Field(default_factory=list)
    raw: str = ""

    @property
    def usable(self) -> bool:
        return "unparseable" not in self.problems and bool(self.plan.questions)


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_NUMBERED = re.compile(r"^\s*(?:\d{1,2}[.)\]:]|[-*•]|Q\d{1,2}[.:)])\s+(.+?)\s*$")
_TITLE = re.compile(r"^\s*(?:\*\*)?(?:#+\s*)?title(?:\*\*)?\s*[:\-]\s*(.+?)\s*(?:\*\*)?$", re.I)


def json_object(text: str) -> dict | None:
    """The outermost {...} in model text as a dict, or None (never raises)."""
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _from_json(text: str) -> Plan | None:
    data = json_object(text)
    if data is None:
        return None
    questions = data.get("questions", data.get("clarifying_questions", []))
    if not isinstance(questions, list):
        return None
    title = data.get("title", "")
    return Plan(
        title=str(title).strip() if title is not None else "",
        questions=[
            str(q.get("question", q) if isinstance(q, dict) else q).strip() for q in questions
        ],
    )


def _from_lines(text: str) -> Plan | None:
    title, questions = "", []
    for line in text.splitlines():
        if not title and (m := _TITLE.match(line)):
            title = m.group(1).strip().strip("*").strip()
            continue
        if m := _NUMBERED.match(line):
            questions.append(m.group(1).strip().strip("*").strip())
    if not questions:
        questions = [s.strip() for s in re.findall(r"[^?\n]{8,}\?", text)]
    if not title:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        if first and not _NUMBERED.match(first) and not first.endswith("?") and len(first) < 120:
            title = first.strip("#* ").rstrip(":")
    return Plan(title=title, questions=questions) if questions else None


def parse_plan(text: str) -> ParsedPlan:
    """Recover a plan from JSON, fenced JSON, 'Title:' + a numbered list, or report garbage."""
    raw = text or ""
    problems: list[Problem] = []
    fence = _FENCE.search(raw)
    plan = _from_json(fence.group(1)) if fence else None
    if plan is not None:
        problems.append("from_code_fence")
    plan = plan or _from_json(raw)
    if plan is None:
        plan = _from_lines(raw)
        if plan is not None:
            problems.append("from_numbered_list")
    if plan is None:
        return ParsedPlan(plan=Plan(title="", questions=[]), problems=["unparseable"], raw=raw)
    return ParsedPlan(plan=plan, problems=problems + check_plan(plan), raw=raw)


def check_plan(plan: Plan) -> list[Problem]:
    problems: list[Problem] = []
    if not plan.title.strip():
        problems.append("missing_title")
    if len(plan.questions) != QUESTION_COUNT:
        problems.append("not_seven")
    if any(not q.strip() for q in plan.questions):
        problems.append("empty_question")
    normalized = [q.strip().lower() for q in plan.questions if q.strip()]
    if len(set(normalized)) != len(normalized):
        problems.append("duplicate_question")
    if any(q.strip() and not q.strip().endswith("?") for q in plan.questions):
        problems.append("not_a_question")
    return problems


def render_plan(plan: Plan) -> str:
    """The canonical text of a plan (what caches hash and judges read)."""
    return json.dumps(plan.model_dump(), ensure_ascii=False, sort_keys=True)
