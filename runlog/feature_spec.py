"""The bridge from the ruler's feature to what lever code may know of it (`FeatureSpec`).

`runlog` may import both `ruler` and `levers`; `levers` never imports the ruler. So the
feature's instruction, output contract and rubric (names and questions, no anchors, no cases,
no gold) are copied here into a `levers.feature.FeatureSpec`, with the path of the training
pool, and that spec is what reaches the sandboxed pipeline process and every lever. Coming
back, a run's answer is re-read here the way the judge reads it (`judged_reading`), so what the
run log records of an answer agrees with its verdict whatever the lever process claimed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from levers.feature import PLANNER, PLANNER_NAME, FeatureSpec
from levers.runner import CandidateRun
from ruler.contract import parse_json_answer
from ruler.loader import TRAINING_POOL, Ruler


def feature_spec(ruler: Any) -> FeatureSpec:
    """The spec of a loaded ruler's feature; the planner's (as levers have always known it)
    for the planner or a ruler that carries no feature."""
    feature = getattr(ruler, "feature", None)
    if feature is None or getattr(feature, "name", PLANNER_NAME) == PLANNER_NAME:
        return PLANNER
    pool = Path(ruler.path) / TRAINING_POOL
    return FeatureSpec(
        name=feature.name,
        description=getattr(feature, "description", "") or "",
        instruction=feature.instruction,
        input_label=getattr(feature, "input_label", None) or "input",
        output_schema=dict(feature.output_schema),
        rubric=tuple((dim.name, dim.description) for dim in feature.rubric),
        pool=str(pool) if pool.is_file() else "",
    )


def workspace_feature(root: str | Path) -> FeatureSpec:
    """The feature of the workspace at `root` (its pinned ruler's); the planner's outside a
    workspace. The ruler is loaded, not verified: this only says what levers fit."""
    import tomllib

    from ruler.loader import load_ruler

    settings = Path(root) / "autoresearch.toml"
    if not settings.is_file():
        return PLANNER
    name = tomllib.loads(settings.read_text(encoding="utf-8")).get("ruler", {}).get("name")
    return feature_spec(load_ruler(name)) if name else PLANNER


def answer_of(run: CandidateRun) -> dict[str, Any]:
    """A run's parsed answer for its output row: the planner's plan, or another feature's JSON
    object (a bare JSON value under `value`; no JSON in the text: empty)."""
    if run.feature == PLANNER.name:
        return run.parsed.plan.model_dump()
    if run.answer is None:
        return {}
    return run.answer if isinstance(run.answer, dict) else {"value": run.answer}


def judged_reading(run: CandidateRun, ruler: Ruler) -> CandidateRun:
    """The run with its answer as the judge reads it (`ruler.contract`), not as the lever
    process said: another feature's recorded answer and problems match its verdict."""
    feature = ruler.feature
    if feature.is_planner:
        return run
    value, why = parse_json_answer(run.text, feature.output_schema, feature.name)
    return run.model_copy(update={"feature": feature.name, "answer": None if why else value})


def problems_of(run: CandidateRun) -> list[str]:
    """What went wrong parsing a run: the planner parser's problems, or, for another feature,
    `unparseable` when its text held no JSON."""
    if run.feature == PLANNER.name:
        return list(run.parsed.problems)
    return [] if run.answer is not None else ["unparseable"]
