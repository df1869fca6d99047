"""`ruler build --feature`: gold answers for any feature, from your own outputs or a cloud model.

The inputs file is JSONL, one `{"id"?, "input", "gold"?, "notes"?}` a line (or plain text, one
input a line). A line that carries its own `gold` keeps it as is (checked against the feature's
`[output]` schema, never sent to a model); every other line is asked of the gold model with the
feature's instruction, its JSON Schema as structured output (`GenerationOptions.json_schema`,
which the anthropic backend sends as `output_config.format`) and the schema in the system text
too. Every answer is validated against the full schema: a bad one is asked again once, then
reported with its input's line number; the build goes on with the other inputs. A case whose
gold a model wrote says so in its `notes` (unless the line had notes of its own).

The result is a feature folder in its import form (feature.toml copied, cases.jsonl, the
feature's own judge prompts if it has any) that `autoresearch ruler import` accepts. Problems in
the inputs file itself (not JSON, no input, a duplicate id, a gold that breaks the schema) stop
the build before the first model call, naming file:line.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.base import AutoresearchError, ChatModel, GenerationOptions, Message
from models.files import atomic_write_text
from ruler.contract import breach, describe, first_error
from ruler.feature import CASES_FILE, FEATURE_FILE, Feature, parse_feature_toml
from ruler.lock import PROMPTS_DIR

INPUT_KEYS = {"id", "input", "gold", "notes"}
TRIES = 2  # a bad answer is asked again once
GOLD_MAX_TOKENS = 2000


class FeatureBuildError(AutoresearchError):
    """An inputs file or feature that cannot become a ruler (nothing was asked of a model)."""


@dataclass
class Input:
    """One line of the inputs file."""

    line: int
    id: str
    input: str
    gold: Any = None
    has_gold: bool = False
    notes: str = ""


@dataclass
class BuildReport:
    """What `build_feature_ruler` wrote, and the inputs it could not get a valid answer for."""

    out: Path
    written: int = 0
    own_gold: int = 0
    asked: int = 0
    failures: list[str] = field(default_factory=list)


def feature_source(name_or_path: str | Path) -> tuple[Feature, Path]:
    """The feature to build for and the folder holding its feature.toml: a folder (cases are
    not needed yet) or a ruler by name (shipped or imported). The planner has no feature.toml
    (its gold is built by ruler.build, without --feature)."""
    folder = Path(name_or_path)
    if not (folder / FEATURE_FILE).is_file():
        from ruler.loader import ruler_dir

        folder = ruler_dir(name_or_path)
        if not (folder / FEATURE_FILE).is_file():
            raise FeatureBuildError(
                f"{folder}: no {FEATURE_FILE}; give a feature folder or an imported feature's name "
                "(the planner builds without --feature)"
            )
    return parse_feature_toml(folder / FEATURE_FILE), folder


def read_inputs(path: Path, feature: Feature) -> list[Input]:
    """Every input of the file, checked before any model call (see the module docstring)."""
    inputs: list[Input] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        item = _parse_line(path, number, line)
        where = f"{path}:{number}"
        given = item.get("id")
        if given is not None and (not isinstance(given, str) or not given.strip()):
            raise FeatureBuildError(f"{where}: 'id' must be a non-empty string")
        case_id = given or _fresh_id(len(inputs) + 1, seen)
        if case_id in seen:
            raise FeatureBuildError(
                f"{where}: id {case_id!r} already used at line {seen[case_id]}; ids are unique"
            )
        seen[case_id] = number
        entry = Input(number, case_id, item["input"], notes=str(item.get("notes", "")))
        if "gold" in item:
            if (error := first_error(feature.output_schema, item["gold"])) is not None:
                raise FeatureBuildError(
                    f"{where}: your gold breaks [output] of {feature.name} ({describe(error)}); "
                    "fix it, or remove 'gold' to have the gold model answer this input"
                )
            entry.gold, entry.has_gold = item["gold"], True
        inputs.append(entry)
    if not inputs:
        raise FeatureBuildError(f'{path}: no inputs (JSONL with "input", or one input a line)')
    return inputs


def _parse_line(path: Path, number: int, line: str) -> dict:
    where = f"{path}:{number}"
    if not line.startswith("{"):
        return {"input": line}
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FeatureBuildError(f"{where}: not JSON ({exc.msg}); one object a line") from None
    if not isinstance(item, dict):
        raise FeatureBuildError(f"{where}: not a JSON object")
    if unknown := sorted(set(item) - INPUT_KEYS):
        raise FeatureBuildError(
            f"{where}: unknown key {unknown[0]!r}; a line has input and optionally id, gold, notes"
        )
    if not isinstance(item.get("input"), str) or not item["input"].strip():
        raise FeatureBuildError(f"{where}: 'input' must be a non-empty string")
    return item


def _fresh_id(n: int, seen: dict[str, int]) -> str:
    while f"c{n:02d}" in seen:
        n += 1
    return f"c{n:02d}"


def gold_messages(feature: Feature, text: str) -> list[Message]:
    """The feature's own instruction as the user turn; the contract in the system text."""
    schema = json.dumps(feature.output_schema, ensure_ascii=False)
    system = (
        f"You produce reference answers for the feature {feature.name!r}: "
        f"{feature.description} Answer with one JSON value that conforms to this JSON Schema, "
        f"and nothing else:\n{schema}"
    )
    return [
        Message(role="system", content=system),
        Message(role="user", content=feature.prompt_for(text)),
    ]


def ask_gold(model: ChatModel, feature: Feature, entry: Input) -> tuple[Any, str]:
    """(answer, '') from the gold model, or (None, why) after TRIES answers that break the
    schema or calls that fail."""
    options = GenerationOptions(
        temperature=0.0, max_tokens=GOLD_MAX_TOKENS, json_schema=feature.output_schema
    )
    messages = gold_messages(feature, entry.input)
    why = ""
    for _ in range(TRIES):
        try:
            text = model.generate(messages, options).text
        except AutoresearchError as exc:  # a failed call is reported like a bad answer
            why = f"the call failed: {exc}"
            continue
        answer, broken = breach(text, feature.output_schema)
        if not broken:
            return answer, ""
        why = f"the answer breaks [output] ({broken})"
    return None, why


def build_feature_ruler(
    feature_ref: str | Path,
    inputs_file: Path,
    model: ChatModel | None,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Write `out` as a feature folder (see the module docstring). `model` may be None when
    every input carries its own gold."""
    if (out / CASES_FILE).exists():
        raise FeatureBuildError(f"{out}: already holds {CASES_FILE}; choose a new --out directory")
    feature, source = feature_source(feature_ref)
    inputs = read_inputs(inputs_file, feature)
    missing = [e for e in inputs if not e.has_gold]
    if missing and model is None:
        raise FeatureBuildError(
            f"{inputs_file}:{missing[0].line}: no gold, and no gold model to ask ({len(missing)} "
            "such lines); pass --gold-model anthropic:<model>, or add 'gold' to every line"
        )
    report = BuildReport(out=out)
    rows = []
    for done, entry in enumerate(inputs, 1):
        if entry.has_gold:
            report.own_gold += 1
            rows.append(_case_row(entry))
        else:
            assert model is not None  # checked above: a line without gold has a model to ask
            report.asked += 1
            entry.gold, why = ask_gold(model, feature, entry)
            if why:
                report.failures.append(f"{inputs_file}:{entry.line} ({entry.id}): {why}")
            else:
                entry.notes = entry.notes or f"gold by {model.model_id}; review it"
                rows.append(_case_row(entry))
        if progress:
            progress(done, len(inputs))
    _write_folder(source, out, rows)
    report.written = len(rows)
    return report


def _case_row(entry: Input) -> dict:
    row = {"id": entry.id, "input": entry.input, "gold": entry.gold}
    if entry.notes:
        row["notes"] = entry.notes
    return row


def _write_folder(source: Path, out: Path, rows: list[dict]) -> None:
    """feature.toml as written (comments kept), the cases, and the feature's own judge prompts
    (import adds the generic ones when there are none)."""
    out.mkdir(parents=True, exist_ok=True)
    if (source / FEATURE_FILE).resolve() != (out / FEATURE_FILE).resolve():
        shutil.copyfile(source / FEATURE_FILE, out / FEATURE_FILE)
    if (source / PROMPTS_DIR).is_dir() and not (out / PROMPTS_DIR).exists():
        shutil.copytree(source / PROMPTS_DIR, out / PROMPTS_DIR)
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    atomic_write_text(out / CASES_FILE, "\n".join(lines) + ("\n" if lines else ""))


__all__ = ["BuildReport", "FeatureBuildError", "build_feature_ruler", "read_inputs"]
