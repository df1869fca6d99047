"""Training data from the training pool (never the ruler), in the agent's own chat format.

Three builders: SFT rows (task -> gold plan), ORPO style pairs (gold vs a seeded, style-degraded
rewrite of it) and ORPO on-policy pairs (gold vs the current agent's own drafts). Every dataset
carries a recipe (how it was built) and a sha256 of its rows, and is written next to the adapter.
Another feature's pool (`FeatureSpec.pool`) gives rows the same way, its gold rendered as the
feature's JSON and degraded generically (`levers.training.answers`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from levers.adapters import dump_json
from levers.feature import FeatureSpec
from levers.training.answers import degrade_answer, render_answer
from levers.training.degrade import degrade_plan
from models.base import AutoresearchError, GenerationOptions, Message
from models.files import atomic_write_text
from ruler.plan import Plan
from ruler.records import Case

RULER_DIR = Path(__file__).resolve().parents[2] / "ruler" / "data" / "planner"
POOL_FILES: tuple[str, ...] = ("train.jsonl", "train_a.jsonl", "train_b.jsonl")
DATA_FILE = "data.jsonl"
RECIPE_FILE = "data_recipe.json"

Builder = Literal["sft", "orpo-style", "orpo-on-policy"]
OutputFormat = Literal["json", "lines"]

BASELINE_SYSTEM = (
    "You are a discovery planner. Given a one-line task, restate it as a short title and ask "
    "exactly seven clarifying questions the planner must know first. Answer in this format:\n"
    "Title: <title>\n1. <question>\n2. <question>\n...\n7. <question>"
)


class TrainingDataError(AutoresearchError):
    """Training data that cannot be built (no pool, overlap with the ruler, no usable drafts)."""


class Prompt(BaseModel):
    """What the agent's prompt stage sends for one task: the messages and decoding options."""

    model_config = ConfigDict(extra="forbid")

    messages: list[Message]
    options: GenerationOptions = Field(default_factory=GenerationOptions)
    output_format: OutputFormat | None = None


PromptFor = Callable[[Case], Prompt]


class DataRecipe(BaseModel):
    """How a dataset was built; stored beside it and in the adapter's meta.json."""

    model_config = ConfigDict(extra="forbid")

    builder: Builder
    pool: str
    pool_hash: str
    case_ids: list[str]
    prompt_source: str
    output_format: OutputFormat
    json_schema: dict[str, Any] | None = None
    seed: int = 0
    details: dict[str, Any] = Field(default_factory=dict)


class TrainingData(BaseModel):
    """Rows in chat form: {case_id, messages, completion} (SFT) or {.., chosen, rejected}."""

    model_config = ConfigDict(extra="forbid")

    recipe: DataRecipe
    rows: list[dict[str, Any]]

    @property
    def kind(self) -> Literal["sft", "orpo"]:
        return "sft" if self.recipe.builder == "sft" else "orpo"

    @property
    def hash(self) -> str:
        return rows_hash(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def canonical_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def rows_hash(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256("\n".join(canonical_line(r) for r in rows).encode()).hexdigest()


# ---- the training pool ------------------------------------------------------------------


def _read_cases(path: Path) -> list[Case]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Case.model_validate_json(line) for line in lines if line.strip()]


def _pool_from_files(folder: Path) -> list[Case]:
    folder = folder / "pool"
    if (folder / "train.jsonl").is_file():
        return _read_cases(folder / "train.jsonl")
    parts = [folder / name for name in POOL_FILES[1:] if (folder / name).is_file()]
    if not parts:
        raise TrainingDataError(f"no training pool in {folder}: expected train.jsonl")
    return [case for part in parts for case in _read_cases(part)]


def _ruler_tasks(folder: Path) -> tuple[set[str], set[str]]:
    """Ids and normalized tasks of the held-out ruler cases (only to keep them out)."""
    try:
        from ruler.loader import load_ruler  # type: ignore[import-not-found]

        cases = list(load_ruler().cases.values())
    except ImportError:
        cases = _read_cases(folder / "cases.jsonl") if (folder / "cases.jsonl").is_file() else []
    return {c.id for c in cases}, {normalize_task(c.task) for c in cases}


def normalize_task(task: str) -> str:
    return " ".join(task.lower().split())


def load_training_pool(limit: int | None = None, feature: FeatureSpec | None = None) -> list[Case]:
    """The feature's training pool (default: the planner's train.jsonl), checked to share no
    case with its ruler."""
    if feature is not None and feature.pool:
        from ruler.loader import load_ruler, read_cases

        folder = Path(feature.pool).parent.parent  # <ruler>/pool/train.jsonl
        pool, ruler = read_cases(Path(feature.pool)), list(load_ruler(folder).cases.values())
        ids, tasks = {c.id for c in ruler}, {normalize_task(c.task) for c in ruler}
    else:
        pool, (ids, tasks) = _planner_pool(), _ruler_tasks(RULER_DIR)
    leaked = [c.id for c in pool if c.id in ids or normalize_task(c.task) in tasks]
    if leaked:
        raise TrainingDataError(
            f"training pool cases {leaked[:5]} are ruler cases; fix train.jsonl"
        )
    pool = sorted(pool, key=lambda c: c.id)
    return pool[:limit] if limit else pool


def _planner_pool() -> list[Case]:
    try:
        from ruler.loader import load_ruler  # type: ignore[import-not-found]

        return list(load_ruler().training_pool())
    except ImportError:
        return _pool_from_files(RULER_DIR)


def pool_hash(pool: list[Case]) -> str:
    return rows_hash([c.model_dump() for c in pool])


# ---- prompts and the agent's output format ------------------------------------------------


def baseline_prompt(case: Case) -> Prompt:
    """The built-in baseline prompt (used when no agent prompt stage is given)."""
    return Prompt(
        messages=[
            Message(role="system", content=BASELINE_SYSTEM),
            Message(role="user", content=f"Task: {case.task}"),
        ]
    )


def output_format(prompt: Prompt) -> OutputFormat:
    """The agent's output format: its prompt lever's setting, else JSON when it asks for JSON."""
    if prompt.output_format is not None:
        return prompt.output_format
    if prompt.options.json_schema is not None:
        return "json"
    return "json" if any("json" in m.content.lower() for m in prompt.messages) else "lines"


def render_output(plan: Plan | Any, fmt: OutputFormat) -> str:
    """A gold answer as the agent is asked to write it (another feature's: its JSON)."""
    if not isinstance(plan, Plan):
        return render_answer(plan)
    if fmt == "json":
        return json.dumps({"title": plan.title, "questions": plan.questions}, ensure_ascii=False)
    lines = [f"Title: {plan.title}"] + [f"{i}. {q}" for i, q in enumerate(plan.questions, 1)]
    return "\n".join(lines)


def agent_prompter(
    config: Any, workspace: Path | None = None, feature: FeatureSpec | None = None
) -> PromptFor:
    """The agent's own prompt for a case: its levers' prepare + build_messages stages.

    Training-pool examples equal to the case itself (a RAG lever retrieving the case from the
    pool it is trained on) are dropped, so no row shows its own gold in the prompt.
    """
    from levers.batching import CallBatcher
    from levers.config import validate_agent
    from levers.context import Context
    from levers.feature import PLANNER
    from levers.runner import default_messages, instantiate, stage_manager

    feature = feature or PLANNER
    config = validate_agent(config)
    manager = stage_manager(instantiate(config, workspace, feature))
    fmt = _lever_format(config) if feature.planner else "json"

    def prompt_for(case: Case) -> Prompt:
        ctx = Context(
            case_id=case.id,
            task=case.task,
            config=config,
            workspace=workspace,
            feature=feature,
            options=config.decoding.options(),
            batcher=CallBatcher(active=1),
        )
        ctx.stage = "prepare"
        manager.hook.prepare(ctx=ctx)
        own = normalize_task(case.task)
        ctx.examples = [e for e in ctx.examples if normalize_task(e.task) != own]
        ctx.stage = "build_messages"
        manager.hook.build_messages(ctx=ctx)
        messages = ctx.messages or default_messages(ctx)
        options = ctx.options.model_copy(update={"adapter": None})
        return Prompt(messages=messages, options=options, output_format=fmt)

    return prompt_for


def _lever_format(config: Any) -> OutputFormat | None:
    for spec in config.enabled_levers():
        if spec.name == "prompt":
            return "json" if spec.params.get("output_format") == "json" else "lines"
    return None


def generate_drafts(
    config: Any,
    pool: list[Case],
    *,
    workspace: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """The on-policy draft generator: the agent's own final text for each pool case."""
    from levers.runner import run_agent

    runs = run_agent(config, pool, workspace=workspace, progress=progress)
    return {run.case_id: run.text for run in runs if not run.failed}


# ---- builders ---------------------------------------------------------------------------


def _prompts(pool: list[Case], prompt_for: PromptFor | None) -> list[Prompt]:
    return [(prompt_for or baseline_prompt)(case) for case in pool]


def _recipe(
    builder: Builder,
    pool: list[Case],
    prompts: list[Prompt],
    prompt_source: str,
    seed: int,
    details: dict[str, Any],
) -> DataRecipe:
    first = prompts[0] if prompts else baseline_prompt(pool[0])
    return DataRecipe(
        builder=builder,
        pool=pool_label(pool),
        pool_hash=pool_hash(pool),
        case_ids=[c.id for c in pool],
        prompt_source=prompt_source,
        output_format=output_format(first),
        json_schema=first.options.json_schema,
        seed=seed,
        details=details,
    )


def pool_label(pool: list[Case]) -> str:
    if all(isinstance(c.gold, Plan) for c in pool):
        return "planner training pool (train.jsonl)"
    return "feature training pool (pool/train.jsonl)"


def _messages(prompt: Prompt) -> list[dict[str, str]]:
    return [m.model_dump() for m in prompt.messages]


def build_sft(
    pool: list[Case], prompt_for: PromptFor | None = None, *, prompt_source: str = "baseline"
) -> TrainingData:
    """SFT rows: the agent's prompt for each pool task -> the gold plan in its output format."""
    _require(pool)
    prompts = _prompts(pool, prompt_for)
    rows = [
        {
            "case_id": c.id,
            "messages": _messages(p),
            "completion": render_output(c.gold, output_format(p)),
        }
        for c, p in zip(pool, prompts, strict=True)
    ]
    return TrainingData(recipe=_recipe("sft", pool, prompts, prompt_source, 0, {}), rows=rows)


def build_style_pairs(
    pool: list[Case],
    prompt_for: PromptFor | None = None,
    *,
    seed: int = 0,
    prompt_source: str = "baseline",
) -> TrainingData:
    """ORPO pairs: gold (chosen) vs a seeded style-degraded rewrite of it (rejected)."""
    _require(pool)
    prompts = _prompts(pool, prompt_for)
    rows, applied = [], {}
    for case, prompt in zip(pool, prompts, strict=True):
        fmt = output_format(prompt)
        degrade = degrade_plan if isinstance(case.gold, Plan) else degrade_answer
        degraded, ops = degrade(case.gold, random.Random(f"{seed}:{case.id}"))
        applied[case.id] = ops
        rows.append(
            {
                "case_id": case.id,
                "messages": _messages(prompt),
                "chosen": render_output(case.gold, fmt),
                "rejected": render_output(degraded, fmt),
            }
        )
    details = {"degradations": applied}
    recipe = _recipe("orpo-style", pool, prompts, prompt_source, seed, details)
    return TrainingData(recipe=recipe, rows=rows)


def build_on_policy_pairs(
    pool: list[Case],
    drafts: dict[str, str],
    prompt_for: PromptFor | None = None,
    *,
    prompt_source: str = "baseline",
    drafts_from: str = "",
) -> TrainingData:
    """ORPO pairs: gold (chosen) vs the agent's own draft for the same task (rejected).

    Cases without a usable draft (missing, empty, or identical to the gold) are skipped and
    named in the recipe.
    """
    _require(pool)
    prompts = _prompts(pool, prompt_for)
    rows, skipped = [], []
    for case, prompt in zip(pool, prompts, strict=True):
        chosen = render_output(case.gold, output_format(prompt))
        draft = (drafts.get(case.id) or "").strip()
        if not draft or draft == chosen:
            skipped.append(case.id)
            continue
        rows.append(
            {"case_id": case.id, "messages": _messages(prompt), "chosen": chosen, "rejected": draft}
        )
    if not rows:
        raise TrainingDataError("no usable drafts for on-policy pairs: every draft was empty")
    details = {
        "drafts_from": drafts_from,
        "skipped": skipped,
        "drafts_hash": rows_hash([{"id": k, "text": drafts[k]} for k in sorted(drafts)]),
    }
    recipe = _recipe("orpo-on-policy", pool, prompts, prompt_source, 0, details)
    return TrainingData(recipe=recipe, rows=rows)


def _require(pool: list[Case]) -> None:
    if not pool:
        raise TrainingDataError("the training pool is empty; nothing to train on")


# ---- writing and reading ----------------------------------------------------------------


def write_dataset(data: TrainingData, folder: Path) -> str:
    """Write data.jsonl and data_recipe.json (recipe + sha256) into FOLDER; return the hash."""
    folder = Path(folder)
    text = "".join(canonical_line(r) + "\n" for r in data.rows)
    atomic_write_text(folder / DATA_FILE, text)
    recipe = {**data.recipe.model_dump(), "data_hash": data.hash, "rows": len(data.rows)}
    atomic_write_text(folder / RECIPE_FILE, dump_json(recipe))
    return data.hash


def read_dataset(folder: Path) -> TrainingData:
    folder = Path(folder)
    recipe = json.loads((folder / RECIPE_FILE).read_text(encoding="utf-8"))
    recipe.pop("data_hash", None)
    recipe.pop("rows", None)
    lines = (folder / DATA_FILE).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return TrainingData(recipe=DataRecipe.model_validate(recipe), rows=rows)
