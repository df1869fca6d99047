"""A feature: what the tool optimises a small model for, read from a feature folder.

A feature folder (docs/features.md) holds `feature.toml` (name, description, the stock
instruction with `{input}`, the `[output]` JSON Schema and `[[rubric]]` dimensions), `cases.jsonl`
(`{"id", "input", "gold"}`), and optionally the training pool (`train.jsonl` as a user writes it,
`pool/train.jsonl` once stored), `splits.json` and `degraded.jsonl` (the sanity suite). Every
problem is reported with the file, the line and the JSON pointer of what failed, and how to fix it.

The discovery planner is a feature too, but its contract is code (ruler/plan.py, enforced by
ruler/judges/base.py) and its rubric is `rubric.toml`: `planner_feature` builds it from those, so
the planner's folder and ruler hash stay as they were.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.base import AutoresearchError
from ruler.contract import field_paths, first_error, pointer, schema_at, schema_problem

FEATURE_FILE = "feature.toml"
CASES_FILE = "cases.jsonl"
SPLITS_FILE = "splits.json"
DEGRADED_FILE = "degraded.jsonl"
IMPORT_POOL = "train.jsonl"  # the pool as a user writes it; stored as pool/train.jsonl
STORED_POOL = "pool/train.jsonl"
INPUT_MARK = "{input}"
SIGNALS = ("agreement", "grounding", "redundancy", "contract")
NAME = re.compile(r"^[a-z0-9_]+$")
DIMENSION_NAME = re.compile(r"^[a-z_]+$")
RUBRIC_SIZE = (3, 6)
REQUIRED_KEYS = ("name", "description", "instruction", "output", "rubric")
OPTIONAL_KEYS = ("input_label",)
CASE_KEYS = {"id", "input", "gold", "notes"}


class FeatureError(AutoresearchError):
    """A feature folder that does not load: names the file, the line and how to fix it."""


class RubricDimension(BaseModel):
    """One rubric dimension, scored 1-5; `signal`/`field` say how the offline judge measures it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    score_1: str = ""
    score_3: str = ""
    score_5: str = ""
    signal: str = ""  # one of SIGNALS; '' = the default for its name (default_signal)
    field: str = ""  # dotted path into the answer ("points[].detail"); '' = the whole answer

    @property
    def measured_by(self) -> str:
        return self.signal or default_signal(self.name)


class Feature(BaseModel):
    """What the stock agent is asked, the contract of its answer, and the rubric judging it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    instruction: str  # the stock prompt; "{input}" marks the case input (replaced as plain text)
    input_label: str = "input"
    output_schema: dict[str, Any] = Field(default_factory=dict)
    rubric: list[RubricDimension]

    @property
    def is_planner(self) -> bool:
        return self.name == "planner"

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.rubric)

    def dimension(self, name: str) -> RubricDimension:
        for dim in self.rubric:
            if dim.name == name:
                return dim
        raise FeatureError(f"feature {self.name} has no rubric dimension {name!r}")

    def prompt_for(self, text: str) -> str:
        """The stock instruction with the case input in place of every {input} (a plain text
        replacement: other braces, such as a JSON example's, are left as written)."""
        return self.instruction.replace(INPUT_MARK, text)

    def render_rubric(self, names: tuple[str, ...] | None = None) -> str:
        """The rubric as judge-prompt text (as ruler.rubric.Rubric.render writes it)."""
        blocks = []
        for dim in self.rubric:
            if names is not None and dim.name not in names:
                continue
            lines = [f"- {dim.name}: {dim.description}"]
            lines += [
                f"  {score} = {text}"
                for score, text in (("1", dim.score_1), ("3", dim.score_3), ("5", dim.score_5))
                if text
            ]
            blocks.append("\n".join(lines))
        return "\n".join(blocks)

    def spec(self) -> dict[str, Any]:
        """A plain dict of the feature (what runlog hands to levers, which never import ruler)."""
        return self.model_dump()


def default_signal(name: str) -> str:
    """The signal a dimension is measured by when feature.toml does not say."""
    if re.search(r"redundan|distinct|duplicat|repeat|overlap", name):
        return "redundancy"
    if re.search(r"faithful|ground|hallucin|accura|invent|support", name):
        return "grounding"
    if re.search(r"contract|format|valid|schema|structure", name):
        return "contract"
    return "agreement"


def default_splits(ids: list[str]) -> dict[str, list[str]]:
    """dev-<k> over the first ceil(n/3) cases and full-<n> over all of them."""
    k = math.ceil(len(ids) / 3)
    return {f"dev-{k}": ids[:k], f"full-{len(ids)}": list(ids)}


@dataclass
class FeatureFolder:
    """A validated feature folder: the feature and its records as plain dicts."""

    path: Path
    feature: Feature
    cases: list[dict] = field(default_factory=list)
    pool: list[dict] = field(default_factory=list)
    pool_file: Path | None = None
    splits: dict[str, list[str]] = field(default_factory=dict)
    splits_given: bool = False
    degraded: list[dict] = field(default_factory=list)


def is_feature_folder(path: Path) -> bool:
    return (Path(path) / FEATURE_FILE).is_file()


def load_feature(path: str | Path) -> Feature:
    """The feature of a folder, after checking the whole folder (cases, pool, splits, sanity)."""
    return read_feature_folder(path).feature


def read_feature_folder(path: str | Path) -> FeatureFolder:
    folder = Path(path)
    feature = parse_feature_toml(folder / FEATURE_FILE)
    cases = read_records(folder / CASES_FILE, feature, required=True)
    pool_file = next(
        (folder / p for p in (STORED_POOL, IMPORT_POOL) if (folder / p).is_file()), None
    )
    pool = read_records(pool_file, feature, required=False) if pool_file else []
    check_pool(cases, pool, pool_file)
    splits_path = folder / SPLITS_FILE
    ids = [c["id"] for c in cases]
    splits = read_splits(splits_path, set(ids)) if splits_path.is_file() else default_splits(ids)
    degraded = read_degraded(folder / DEGRADED_FILE, feature, set(ids))
    return FeatureFolder(
        folder, feature, cases, pool, pool_file, splits, splits_path.is_file(), degraded
    )


def parse_feature_toml(path: Path) -> Feature:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FeatureError(f"{path}: missing; a feature folder needs {FEATURE_FILE}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FeatureError(f"{path}: not valid TOML ({exc})") from None
    for key in REQUIRED_KEYS:
        if key not in data:
            what = "[output]" if key == "output" else "[[rubric]]" if key == "rubric" else key
            raise FeatureError(f"{path}: missing {what}; see docs/features.md for the format")
    unknown = sorted(set(data) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise FeatureError(
            f"{path}: unknown key {unknown[0]!r}; known: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}"
        )
    for key in ("name", "description", "instruction", "input_label"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise FeatureError(f"{path}: {key} must be a non-empty string")
    if not NAME.match(data["name"]):
        raise FeatureError(f"{path}: name {data['name']!r} must match [a-z0-9_]+")
    check_instruction(path, data["instruction"])
    schema = data["output"]
    if not isinstance(schema, dict) or (problem := schema_problem(schema)):
        problem = "must be a table" if not isinstance(schema, dict) else problem
        raise FeatureError(f"{path}: [output] is not a valid JSON Schema ({problem})")
    rubric = [
        check_dimension(path, i, d, schema) for i, d in enumerate(_rubric_list(path, data), 1)
    ]
    names = [d.name for d in rubric]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise FeatureError(f"{path}: rubric dimension {dup!r} appears twice; names must be unique")
    return Feature(
        name=data["name"],
        description=data["description"].strip(),
        instruction=data["instruction"],
        input_label=data.get("input_label", "input"),
        output_schema=schema,
        rubric=rubric,
    )


def check_instruction(path: Path, instruction: str) -> None:
    if INPUT_MARK not in instruction:
        raise FeatureError(f"{path}: instruction lacks {INPUT_MARK} (where the case input goes)")


def _rubric_list(path: Path, data: dict) -> list[dict]:
    rubric = data["rubric"]
    if not isinstance(rubric, list) or not all(isinstance(d, dict) for d in rubric):
        raise FeatureError(f"{path}: rubric must be [[rubric]] tables")
    low, high = RUBRIC_SIZE
    if not low <= len(rubric) <= high:
        raise FeatureError(f"{path}: {len(rubric)} rubric dimensions; write {low} to {high}")
    return rubric


def check_dimension(path: Path, index: int, data: dict, schema: dict) -> RubricDimension:
    where = f"{path}: [[rubric]] #{index}"
    known = set(RubricDimension.model_fields)
    if unknown := sorted(set(data) - known):
        raise FeatureError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(known)}")
    for key in ("name", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise FeatureError(f"{where}: {key} must be a non-empty string")
    if not DIMENSION_NAME.match(data["name"]):
        raise FeatureError(f"{where}: name {data['name']!r} must match [a-z_]+")
    for key in known - {"name", "description"}:
        if not isinstance(data.get(key, ""), str):
            raise FeatureError(f"{where} ({data['name']}): {key} must be a string")
    if data.get("signal") and data["signal"] not in SIGNALS:
        raise FeatureError(
            f"{where} ({data['name']}): unknown signal {data['signal']!r}; one of "
            f"{', '.join(SIGNALS)}"
        )
    if data.get("field") and schema_at(schema, data["field"]) is None:
        raise FeatureError(
            f"{where} ({data['name']}): field {data['field']!r} is not in [output]; known: "
            f"{', '.join(field_paths(schema)) or '(none: leave field out)'}"
        )
    return RubricDimension(**data)


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; errors name file:line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FeatureError(
                f"{path}:{number}: not JSON ({exc.msg}); one object a line"
            ) from None
        if not isinstance(row, dict):
            raise FeatureError(f"{path}:{number}: not a JSON object; one object a line")
        rows.append((number, row))
    return rows


def read_records(path: Path, feature: Feature, *, required: bool) -> list[dict]:
    """Cases or pool records: `{"id", "input", "gold"}`, ids unique, gold within the schema."""
    if not path.is_file():
        if required:
            raise FeatureError(f'{path}: missing; one {{"id", "input", "gold"}} a line')
        return []
    records, seen = [], {}
    for number, row in read_jsonl(path):
        where = f"{path}:{number}"
        if unknown := sorted(set(row) - CASE_KEYS):
            raise FeatureError(f"{where}: unknown key {unknown[0]!r}; a record has id, input, gold")
        for key, kind in (("id", str), ("input", str)):
            if not isinstance(row.get(key), kind) or not row[key].strip():
                raise FeatureError(f"{where}: {key!r} must be a non-empty string")
        if "gold" not in row:
            raise FeatureError(
                f"{where}: no 'gold'; add the expected answer, conforming to [output]"
            )
        if row["id"] in seen:
            raise FeatureError(
                f"{where}: id {row['id']!r} already used at line {seen[row['id']]}; ids are unique"
            )
        seen[row["id"]] = number
        if (error := first_error(feature.output_schema, row["gold"])) is not None:
            raise FeatureError(
                f"{where}: at /gold{pointer(error.absolute_path)}: {error.message}; fix this gold "
                f"answer so it conforms to [output] in {FEATURE_FILE}"
            )
        records.append(row)
    if required and not records:
        raise FeatureError(f'{path}: no cases; one {{"id", "input", "gold"}} a line')
    return records


def check_pool(cases: list[dict], pool: list[dict], pool_file: Path | None) -> None:
    """The pool must not share an id or an input with the cases (it would leak the ruler)."""
    ids = {c["id"] for c in cases}
    inputs = {" ".join(c["input"].lower().split()) for c in cases}
    for number, row in enumerate(pool, 1):
        if row["id"] in ids:
            raise FeatureError(
                f"{pool_file}: record {number} id {row['id']!r} is also a case id; rename it"
            )
        if " ".join(row["input"].lower().split()) in inputs:
            raise FeatureError(
                f"{pool_file}: record {number} ({row['id']}) repeats a case's input; drop it"
            )


def read_splits(path: Path, ids: set[str]) -> dict[str, list[str]]:
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FeatureError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(splits, dict) or not splits:
        raise FeatureError(f'{path}: must map gate names to case ids, e.g. {{"dev-3": [...]}}')
    for gate, members in splits.items():
        if not isinstance(members, list) or not members:
            raise FeatureError(f"{path}: gate {gate!r} must be a non-empty list of case ids")
        if unknown := [m for m in members if m not in ids]:
            raise FeatureError(
                f"{path}: gate {gate!r} names unknown case {unknown[0]!r}; see {CASES_FILE}"
            )
        if len(set(members)) != len(members):
            raise FeatureError(f"{path}: gate {gate!r} lists a case twice")
    return splits


def read_degraded(path: Path, feature: Feature, ids: set[str]) -> list[dict]:
    """The sanity suite: hand-made answers worse than gold on one dimension."""
    if not path.is_file():
        return []
    rows = []
    for number, row in read_jsonl(path):
        where = f"{path}:{number}"
        missing = [k for k in ("case", "variant", "dimension", "answer") if k not in row]
        if missing:
            raise FeatureError(
                f"{where}: missing {missing[0]!r}; a row has case, variant, dimension, answer"
            )
        if row["case"] not in ids:
            raise FeatureError(f"{where}: unknown case {row['case']!r}; use an id of {CASES_FILE}")
        if row["dimension"] not in feature.dimension_names:
            raise FeatureError(
                f"{where}: unknown dimension {row['dimension']!r}; one of "
                f"{', '.join(feature.dimension_names)}"
            )
        contract = feature.dimension(row["dimension"]).measured_by == "contract"
        error = None if contract else first_error(feature.output_schema, row["answer"])
        if error is not None:
            raise FeatureError(
                f"{where}: at /answer{pointer(error.absolute_path)}: {error.message}; a "
                "degraded answer must conform to [output] unless its dimension is the contract"
            )
        rows.append(row)
    return rows


PLANNER_INSTRUCTION = (
    "I want to {input}. Before you make a plan, what seven questions would you ask me? "
    "Start with a one-line title, then list the questions numbered 1 to 7."
)
PLANNER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "questions"],
    "properties": {
        "title": {"type": "string", "description": "A short title for the plan (may be empty)."},
        "questions": {
            "type": "array",
            "minItems": 7,
            "maxItems": 7,
            "items": {"type": "string", "minLength": 1, "pattern": "\\S"},
            "description": "Exactly seven clarifying questions, most important first.",
        },
    },
}
PLANNER_SIGNALS = {
    "atomicity": ("agreement", "questions"),
    "specificity": ("grounding", "questions"),
    "coverage": ("agreement", "questions"),
    "naturalness": ("agreement", "questions"),
    "non_redundancy": ("redundancy", "questions"),
}


def planner_feature(rubric) -> Feature:
    """The discovery planner as a Feature: its stock prompt, its contract (code, see
    ruler/plan.py) and the dimensions of its `rubric.toml` (a ruler.rubric.Rubric)."""
    dims = []
    for name, dim in rubric.dimensions.items():
        signal, path = PLANNER_SIGNALS.get(name, (default_signal(name), "questions"))
        dims.append(
            RubricDimension(
                name=name,
                description=dim.question,
                score_1=dim.score_1,
                score_3=dim.score_3,
                score_5=dim.score_5,
                signal=signal,
                field=path,
            )
        )
    return Feature(
        name="planner",
        description=(
            "A discovery planner: given a one-line task, it returns a short title and exactly "
            "seven clarifying questions, the ones a skilled human planner would ask first."
        ),
        instruction=PLANNER_INSTRUCTION,
        input_label="task",
        output_schema=PLANNER_SCHEMA,
        rubric=dims,
    )
