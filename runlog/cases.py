"""Per-case views of an evaluation: each case's plan, its problems, scores and the judge's words.

`experiment_cases(ws, exp)` reads an experiment's `runlog/outputs/NNN.jsonl`;
`eval_cases(result)` reads a fresh `EvalResult`. Both return `CaseView`s, the one view model the
command line (`show NNN --cases`, `eval --cases`) and the TUI's detail pane render.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ruler.plan import Plan, check_plan
from ruler.quality import per_case_quality
from ruler.records import Verdict
from runlog.records import OutputRow, experiment_id
from runlog.workspace import Workspace

PARSED_FROM = {"from_code_fence": "JSON in a code fence", "from_numbered_list": "numbered list"}


class CaseView(BaseModel):
    """One case of one evaluation, as a person reads it."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    task: str = ""
    splits: list[str] = Field(default_factory=list)
    title: str = ""
    questions: list[str] = Field(default_factory=list)
    parsed_from: str = "JSON"
    problems: list[str] = Field(default_factory=list)
    failed: bool = False
    error: str = ""
    judge_id: str = ""
    mode: str = ""
    scores: dict[str, int] = Field(default_factory=dict)
    outcome: str = ""
    quality: float | None = None
    rationale: list[str] = Field(default_factory=list)
    text: str = ""


def _parsed_from(problems: list[str]) -> str:
    if "unparseable" in problems:
        return "nothing (unparseable)"
    return next((PARSED_FROM[p] for p in problems if p in PARSED_FROM), "JSON")


def case_view(
    row: OutputRow, task: str = "", splits: list[str] | None = None, gate_judge: str = ""
) -> CaseView:
    """One output row as a view; `gate_judge` picks the verdict of that judge when there are
    several (the last one otherwise)."""
    plan = Plan.model_validate(row.plan) if row.plan else Plan(title="", questions=[])
    recorded = [p for p in row.problems if p not in PARSED_FROM]
    problems = list(dict.fromkeys(recorded or (check_plan(plan) if row.plan else [])))
    verdict = _pick(row.verdicts, gate_judge)
    view = CaseView(
        case_id=row.case_id,
        task=task,
        splits=list(splits or []),
        title=plan.title,
        questions=list(plan.questions),
        parsed_from=_parsed_from(row.problems),
        problems=problems,
        failed=row.failed,
        error=row.error,
        text=row.text,
    )
    if verdict is not None:
        view.judge_id, view.mode = verdict.judge_id, verdict.mode
        view.scores, view.outcome = dict(verdict.scores), verdict.outcome
        view.quality = round(per_case_quality(verdict), 4)
        view.rationale = [part.strip() for part in verdict.rationale.split(";") if part.strip()]
    return view


def _pick(verdicts: list[Verdict], judge_id: str) -> Verdict | None:
    matching = [v for v in verdicts if not judge_id or v.judge_id == judge_id]
    return (matching or verdicts or [None])[-1]


def _ruler_index(ruler_name: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Task and splits of every case of a ruler (empty when the ruler cannot be loaded)."""
    from ruler.loader import RulerError, load_ruler

    try:
        ruler = load_ruler(ruler_name)
    except RulerError:
        return {}, {}
    tasks = {cid: case.task for cid, case in ruler.cases.items()}
    return tasks, {cid: ruler.splits_of(cid) for cid in ruler.cases}


def case_views(rows: list[OutputRow], ruler_name: str, judge_id: str = "") -> list[CaseView]:
    """Views of output rows, with each case's task and splits from the ruler."""
    tasks, splits = _ruler_index(ruler_name)
    return [
        case_view(row, tasks.get(row.case_id, ""), splits.get(row.case_id), judge_id)
        for row in rows
    ]


def experiment_cases(ws: Workspace, exp: str) -> list[CaseView]:
    """The per-case views of experiment `exp` (its deciding gate's outputs)."""
    record = ws.record(experiment_id(exp))
    judge = record.result.judge_id if record.result else ""
    return case_views(ws.outputs(record.id), ws.config.ruler.name, judge)


def eval_cases(result, ruler_name: str = "planner") -> list[CaseView]:
    """The per-case views of a `runlog.evaluate.EvalResult`."""
    return case_views(result.outputs(), ruler_name, result.result.judge_id)
