"""Load a ruler directory (cases, splits, rubric, prompts, lock) by name or path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from models.base import AutoresearchError
from ruler.feature import (
    FEATURE_FILE,
    Feature,
    FeatureError,
    FeatureFolder,
    planner_feature,
    read_feature_folder,
)
from ruler.lock import LOCK_NAME, RulerLockError, read_lock, verify_lock
from ruler.plan import Plan
from ruler.records import Case
from ruler.rubric import Dimension, Rubric, load_rubric

DATA_DIR = Path(__file__).resolve().parent / "data"
GENERIC_PROMPTS = Path(__file__).resolve().parent / "judges" / "prompts"  # see ruler.store
DEFAULT_RULER = "planner"
POOL_DIR = "pool"  # apart from the cases: the one folder of a ruler lever code may read
TRAINING_POOL = f"{POOL_DIR}/train.jsonl"


class RulerError(AutoresearchError):
    """A ruler directory that cannot be loaded, or an unknown gate."""


def ruler_dir(name_or_path: str | Path) -> Path:
    """A ruler by path (any directory holding cases.jsonl), by shipped name (`planner`), or by
    the name it was imported under (`autoresearch ruler import`; see ruler.store)."""
    from ruler.store import find_imported, stores

    candidate = Path(name_or_path)
    if (candidate / "cases.jsonl").is_file():
        return candidate.resolve()
    shipped = DATA_DIR / str(name_or_path)
    if (shipped / "cases.jsonl").is_file():
        return shipped
    if imported := find_imported(str(name_or_path)):
        return imported
    known = ", ".join(sorted(p.name for p in DATA_DIR.iterdir() if (p / "cases.jsonl").is_file()))
    where = ", ".join(str(s) for s in stores())
    raise RulerError(
        f"no ruler {str(name_or_path)!r}: not a directory with cases.jsonl, nor a shipped ruler"
        f" ({known}), nor imported in {where}; import a feature folder with"
        " `autoresearch ruler import DIR`"
    )


def read_cases(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValidationError as exc:
            first = str(exc).splitlines()[0]
            raise RulerError(f"{path}:{number}: not a valid case ({first})") from None
    return cases


@dataclass
class Ruler:
    name: str
    path: Path
    cases: dict[str, Case]
    splits: dict[str, list[str]]
    rubric: Rubric
    feature: Feature
    degraded: list[dict] = field(default_factory=list, repr=False)  # the feature's sanity suite
    _lock_hash: str | None = field(default=None, repr=False)

    @property
    def is_planner(self) -> bool:
        """A ruler of the discovery planner (its own contract and judge), not a feature folder."""
        return self.feature.is_planner

    @property
    def lock_hash(self) -> str:
        """The frozen ruler hash recorded in ruler.lock (not re-verified; see verify())."""
        if self._lock_hash is None:
            self._lock_hash = read_lock(self.path)["hash"]
        return self._lock_hash

    def verify(self) -> str:
        """Raise RulerLockError naming the first changed file; returns the ruler hash."""
        self._lock_hash = verify_lock(self.path)
        return self._lock_hash

    def prompt(self, name: str) -> str:
        """A judge prompt template: the ruler's own (prompts/NAME), else, for a feature folder,
        the generic one shipped with the LLM judge (ruler/judges/prompts/NAME)."""
        path = self.path / "prompts" / name
        if not path.is_file() and not self.is_planner:
            path = GENERIC_PROMPTS / name
        if not path.is_file():
            raise RulerError(f"{path}: missing judge prompt template")
        return path.read_text(encoding="utf-8")

    def default_gates(self) -> tuple[str, str]:
        """(keep gate, confirm gate) for a new workspace: the smallest split screens, the
        largest confirms ('' when the ruler has one split). The planner's: dev-10, full-30."""
        by_size = sorted(self.splits, key=lambda gate: len(self.splits[gate]))
        screen, confirm = by_size[0], by_size[-1]
        return screen, confirm if confirm != screen else ""

    def splits_of(self, case_id: str) -> list[str]:
        """The gates (splits) a case belongs to, in the order splits.json lists them."""
        return [gate for gate, ids in self.splits.items() if case_id in ids]

    def gate_cases(self, gate: str) -> list[Case]:
        if gate not in self.splits:
            raise RulerError(
                f"unknown gate {gate!r} for ruler {self.name}; known: {', '.join(self.splits)}"
            )
        return [self.cases[cid] for cid in self.splits[gate]]

    def training_pool(self) -> list[Case]:
        """The training pool (pool/train.jsonl): for retrieval and adapters, never part of the
        ruler."""
        return read_training_pool(self.path)


def read_training_pool(name_or_path: str | Path = DEFAULT_RULER) -> list[Case]:
    """A ruler's training pool, read without opening its cases or splits (lever processes may
    read the pool folder only)."""
    path = ruler_dir(name_or_path) / TRAINING_POOL
    if not path.is_file():
        raise RulerError(f"{path}: this ruler has no training pool")
    return read_cases(path)


def load_ruler(name_or_path: str | Path = DEFAULT_RULER) -> Ruler:
    """Load a ruler; a file that no longer parses is reported as a lock breach when locked."""
    path = ruler_dir(name_or_path)
    try:
        return _load(path)
    except AutoresearchError:
        if (path / LOCK_NAME).is_file():
            verify_lock(path)  # raises RulerLockError naming the changed file
        raise


def _load(path: Path) -> Ruler:
    if (path / FEATURE_FILE).is_file():
        return _load_feature(path)
    cases = read_cases(path / "cases.jsonl")
    if bad := next((c for c in cases if not isinstance(c.gold, Plan)), None):
        raise RulerError(
            f"{path / 'cases.jsonl'}: case {bad.id!r}: gold is not a plan (title, questions);"
            f" a ruler of another feature needs a {FEATURE_FILE}"
        )
    by_id = {c.id: c for c in cases}
    if len(by_id) != len(cases):
        raise RulerError(f"{path / 'cases.jsonl'}: duplicate case ids")
    try:
        splits = json.loads((path / "splits.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RulerError(f"{path / 'splits.json'}: cannot read splits ({exc})") from None
    for gate, ids in splits.items():
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise RulerError(
                f"{path / 'splits.json'}: gate {gate!r} names unknown case {unknown[0]!r}"
            )
    rubric = load_rubric(path / "rubric.toml")
    return Ruler(
        name=path.name,
        path=path,
        cases=by_id,
        splits=splits,
        rubric=rubric,
        feature=planner_feature(rubric),
    )


def _load_feature(path: Path) -> Ruler:
    """A feature folder's ruler (validated by ruler.feature: errors name file:line)."""
    try:
        folder = read_feature_folder(path)
    except FeatureError as exc:
        raise RulerError(str(exc)) from None
    cases = {row["id"]: feature_case(row) for row in folder.cases}
    return Ruler(
        name=path.name,
        path=path,
        cases=cases,
        splits=folder.splits,
        rubric=feature_rubric(folder),
        feature=folder.feature,
        degraded=folder.degraded,
    )


def feature_case(row: dict) -> Case:
    return Case(id=row["id"], task=row["input"], gold=row["gold"], notes=row.get("notes", ""))


def feature_rubric(folder: FeatureFolder) -> Rubric:
    """The feature's rubric in the shape the planner's rubric.toml loads into."""
    return Rubric(
        dimensions={
            d.name: Dimension(
                title=d.name.replace("_", " ").capitalize(),
                question=d.description,
                score_1=d.score_1,
                score_3=d.score_3,
                score_5=d.score_5,
            )
            for d in folder.feature.rubric
        }
    )


__all__ = [
    "Ruler",
    "RulerError",
    "RulerLockError",
    "load_ruler",
    "read_cases",
    "read_training_pool",
    "ruler_dir",
]
