"""GenericJudge: the offline judge for any feature other than the planner (MiniLM + the schema).

An answer that is not JSON or fails the feature's `[output]` schema breaks the contract: a
failed case, 1 on every dimension and a loss, the breach named (ruler.judges.base). Otherwise
each rubric dimension is measured by its `signal` on its `field` (feature.toml; a default by
name otherwise, ruler.feature.default_signal), as a continuous 1-5 whose floor is the score:

- agreement: semantic match with the gold at `field`. Text is compared by MiniLM cosine, mapped
  from [AGREE_LOW, AGREE_HIGH] onto [0, 1]; enums, numbers and booleans match exactly. Arrays
  are aligned one to one (greedy on similarity, items as their text) and scored as the matched
  similarity over the mean of the two lengths (a missed or an extra item costs alike). A field
  under items ("points[].sentiment") compares that key across the aligned items.
- grounding: each text value at `field` is compared with the input's sentences: the largest of
  its best MiniLM cosine (mapped from [GROUND_LOW, GROUND_HIGH]), the share of its content
  words found in the input, and its cosine with the gold's values there (mapped from
  [GOLD_LOW, GOLD_HIGH]: the gold is faithful by definition, so restating it is grounded). A
  value grounded below INVENTED_AT adds 1 to a load (0 above UNGROUNDED_AT, linear between);
  scores 5 / 4 / 3 / 2 need a load of at most 0.3 / 0.6 / 1.0 / 2.0, so one invented value
  lands at 3, as the anchors of a faithfulness rubric say.
- redundancy: pairs of items at `field` (an array) add an overlap weight rising from 0 at a
  cosine of REDUNDANT_LOW to 1 at REDUNDANT_HIGH (texts of their non-enum strings); scores
  5 / 4 / 3 / 2 need a load of at most 0.25 / 0.6 / 1.2 / 2.2, as the planner's non-redundancy.
- contract: 5 (a breach never gets this far).

A feature plugin (ruler/hookspecs.py) may register a check for a dimension: it then scores that
dimension instead of its signal, for the candidate and the gold alike, and its parser reads
free text the model wrote instead of JSON (the result still has to conform to the schema).

Pairwise: candidate and gold are measured alike (the mean of the mode's dimensions); a
difference within TIE_MARGIN is a tie. Deterministic and offline; thresholds measured on the
review_digest feature (docs/features.md, "How a dimension is measured offline").
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np

from ruler.contract import breach, field_paths, schema_at, select, split_at_items
from ruler.embeddings import MODEL_NAME, embed
from ruler.feature import Feature, RubricDimension
from ruler.judges.base import CONTRACT_VERSION, worst_verdict
from ruler.judges.embedding import integer_score, to_scale
from ruler.plugins import hooks_for, run_check
from ruler.records import Case, JudgeMode, Verdict, dimensions_for

GENERIC_VERSION = "g1"
TIE_MARGIN = 0.35
AGREE_LOW, AGREE_HIGH = 0.35, 0.85
GROUND_LOW, GROUND_HIGH = 0.45, 0.85  # cosine of a value with its best input sentence
GOLD_LOW, GOLD_HIGH = 0.80, 0.95  # cosine with the gold's value at the same field
UNGROUNDED_AT, INVENTED_AT = 0.75, 0.40  # a value's grounding: load 0 above, 1 below
GROUNDING_SCALE = (-2.0, -1.0, -0.6, -0.3)
REDUNDANT_LOW, REDUNDANT_HIGH = 0.50, 0.70
GOLD_MARGIN = 0.02  # a pair counts when closer than the gold's closest pair by this much
REDUNDANCY_SCALE = (-2.2, -1.2, -0.6, -0.25)
_WORD = re.compile(r"[a-z0-9$%']+")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
_STOP = (
    "a an the and or but if of to in on at by for with from as is are was were be been it its "
    "this that these those i me my we our you your he she they them their his her not no so "
    "very too just than then there here about after before into over only also all any some "
    "one two can could would will should do does did has have had get got"
)
STOPWORDS = frozenset(_STOP.split())  # noqa: SIM905


def unit(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def strings(value: Any) -> list[str]:
    """Every string leaf of a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def content_words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


class GenericJudge:
    """Scores any feature's JSON answers on the feature's rubric (see the module docstring)."""

    def __init__(self, feature: Feature) -> None:
        self.feature = feature
        self.schema = feature.output_schema
        self.hooks = hooks_for(feature)  # a plugin's checks replace their dimensions' signals
        self.judge_id = f"generic-{GENERIC_VERSION}:{MODEL_NAME}/c{CONTRACT_VERSION}"
        if self.hooks is not None and (self.hooks.checks or self.hooks.parse):
            self.judge_id += f"+{self.hooks.tag}"  # a changed plugin is a different judge
        self.calls = 0

    def judge(self, case: Case, candidate_text: str, mode: JudgeMode = "standard") -> Verdict:
        return self.judge_many([(case, candidate_text)], mode)[0]

    def judge_many(
        self, pairs: list[tuple[Case, str]], mode: JudgeMode = "standard"
    ) -> list[Verdict]:
        texts: list[str] = []
        for case, text in pairs:
            answer, broken = breach(text, self.schema, self.feature.name)
            if not broken:
                texts += self.texts_to_embed(case, answer)
        embed(list(dict.fromkeys(texts)))  # one batched call; measuring reads the cache
        return [self._verdict(case, text, mode) for case, text in pairs]

    def texts_to_embed(self, case: Case, answer: Any) -> list[str]:
        """The texts measuring `answer` will embed (most of them): its and the gold's strings,
        the items of each array a dimension reads, the input and its sentences."""
        texts = [case.task, *(s for s in _SENTENCE.split(case.task) if s.strip())]
        for value in (answer, case.gold_data):
            texts += [t for t in self.texts([value], "") if t]
            texts += strings(value)
            for dim in self.feature.rubric:
                parent, key = split_at_items(dim.field)
                path = ".".join(parent or key)
                for found in select(value, path):
                    if isinstance(found, list):
                        texts += [self.item_text(x, path + "[]") for x in found]
        return texts

    def dimensions(self, mode: JudgeMode) -> tuple[str, ...]:
        return dimensions_for(mode, self.feature.dimension_names)

    def _verdict(self, case: Case, candidate_text: str, mode: JudgeMode) -> Verdict:
        started = time.perf_counter()
        self.calls += 1
        dims = self.dimensions(mode)
        answer, broken = breach(candidate_text, self.schema, self.feature.name)
        if broken:
            why = f"contract broken ({broken}): failed case"
            return worst_verdict(case, self.judge_id, mode, why, dims)
        cand = self.measure(case, answer)
        gold = self.measure(case, case.gold_data)
        c_all = sum(cand[d][0] for d in dims) / len(dims)
        g_all = sum(gold[d][0] for d in dims) / len(dims)
        diff = c_all - g_all
        outcome = "T" if abs(diff) <= TIE_MARGIN else ("W" if diff > 0 else "L")
        scores = {d: integer_score(cand[d][0]) for d in dims}
        lines = [f"{d} {scores[d]}: {cand[d][1]}" for d in dims]
        lines.append(
            f"pairwise {outcome}: candidate {c_all:.2f} vs gold {g_all:.2f} (tie within "
            f"{TIE_MARGIN})"
        )
        return Verdict(
            case_id=case.id,
            judge_id=self.judge_id,
            mode=mode,
            scores=scores,
            outcome=outcome,
            rationale="; ".join(lines),
            seconds=time.perf_counter() - started,
        )

    def measure(self, case: Case, answer: Any) -> dict[str, tuple[float, str]]:
        """Continuous 1-5 and a note for every rubric dimension of one (conforming) answer."""
        return {dim.name: self.measure_dimension(dim, case, answer) for dim in self.feature.rubric}

    def measure_dimension(self, dim: RubricDimension, case: Case, answer: Any) -> tuple[float, str]:
        if self.hooks is not None and dim.name in self.hooks.checks:
            score, reason = run_check(self.hooks, dim.name, answer, case)
            return score, f"{reason} ({self.hooks.plugin})"
        signal = dim.measured_by
        if signal == "contract":
            return 5.0, "conforms to the output contract"
        if signal == "grounding":
            return self.grounding(case.task, answer, dim.field, case.gold_data)
        if signal == "redundancy":
            path = dim.field or self.first_array()
            if path is None:
                return 5.0, "the answer has no array"
            return self.redundancy(answer, path, case.gold_data)
        return self.agreement(answer, case.gold_data, dim.field)

    # --- agreement -------------------------------------------------------------------------

    def agreement(self, answer: Any, gold: Any, path: str) -> tuple[float, str]:
        parent, key = split_at_items(path)
        if parent:
            return self.item_agreement(answer, gold, ".".join(parent), ".".join(key))
        mine, theirs = select(answer, path), select(gold, path)
        value = self.value_agreement(mine[0] if mine else None, theirs[0] if theirs else None, path)
        return 1.0 + 4.0 * value, f"agreement with gold {value:.2f}"

    def value_agreement(self, mine: Any, theirs: Any, path: str) -> float:
        """0-1 agreement of two values at `path` (arrays aligned one to one)."""
        if theirs is None:
            return 1.0 if mine is None else 0.5
        if mine is None:
            return 0.0
        if isinstance(theirs, list):
            items = self.align(mine if isinstance(mine, list) else [mine], theirs, path + "[]")
            matched = sum(score for _, _, score in items)
            return matched / max((len(mine) + len(theirs)) / 2, 1)
        if isinstance(theirs, dict):
            if not isinstance(mine, dict) or not theirs:
                return 0.0 if theirs else 1.0
            parts = [
                self.value_agreement(mine.get(k), v, f"{path}.{k}" if path else k)
                for k, v in theirs.items()
            ]
            return sum(parts) / len(parts)
        if isinstance(theirs, str) and not self.exact(path):
            return unit(float(self.cosine(str(mine), theirs)), AGREE_LOW, AGREE_HIGH)
        return 1.0 if mine == theirs else 0.0

    def item_agreement(self, answer: Any, gold: Any, parent: str, key: str) -> tuple[float, str]:
        mine, theirs = select(answer, parent), select(gold, parent)
        mine = mine[0] if mine and isinstance(mine[0], list) else []
        theirs = theirs[0] if theirs and isinstance(theirs[0], list) else []
        if not theirs:
            return 5.0, "gold has no items"
        pairs = self.align(mine, theirs, parent + "[]")
        sub = f"{parent}[].{key}" if key else f"{parent}[]"
        scores = [
            self.value_agreement(
                (select(mine[i], key) or [None])[0], (select(theirs[j], key) or [None])[0], sub
            )
            for i, j, _ in pairs
        ]
        value = sum(scores) / max(len(pairs), 1)
        note = f"{key or 'items'} agree on {sum(scores):.1f} of {len(pairs)} aligned items"
        return 1.0 + 4.0 * value, note

    def align(self, mine: list, theirs: list, path: str) -> list[tuple[int, int, float]]:
        """Greedy one-to-one alignment of candidate to gold items: (i, j, 0-1 agreement)."""
        if not mine or not theirs:
            return []
        a = embed([self.item_text(x, path) for x in mine])
        b = embed([self.item_text(x, path) for x in theirs])
        sims = a @ b.T
        pairs, used_i, used_j = [], set(), set()
        for flat in np.argsort(-sims, axis=None):
            i, j = divmod(int(flat), len(theirs))
            if i in used_i or j in used_j:
                continue
            used_i.add(i)
            used_j.add(j)
            pairs.append((i, j, unit(float(sims[i, j]), AGREE_LOW, AGREE_HIGH)))
        return pairs

    # --- grounding -------------------------------------------------------------------------

    def grounding(self, source: str, answer: Any, path: str, gold: Any = None) -> tuple[float, str]:
        values = [t for t in self.leaf_texts(answer, path) if t.strip()]
        if not values:
            return 5.0, "nothing to ground"
        sentences = [s for s in _SENTENCE.split(source) if s.strip()] or [source]
        sims = embed(values) @ embed([*sentences, source]).T
        golds = [t for t in self.leaf_texts(gold, path) if t.strip()] if gold else []
        restated = (embed(values) @ embed(golds).T).max(axis=1) if golds else np.zeros(len(values))
        words = content_words(source)
        grounded = []
        for k, text in enumerate(values):
            own = content_words(text)
            lexical = len(own & words) / len(own) if own else 1.0
            in_input = max(unit(float(sims[k].max()), GROUND_LOW, GROUND_HIGH), lexical)
            # the gold is faithful by definition: restating one of its values is grounded too
            grounded.append(max(in_input, unit(float(restated[k]), GOLD_LOW, GOLD_HIGH)))
        # one invented value is one unit of load, however many grounded ones surround it
        load = sum(unit(UNGROUNDED_AT - g, 0.0, UNGROUNDED_AT - INVENTED_AT) for g in grounded)
        worst = int(np.argmin(grounded))
        note = (
            f"ungrounded load {load:.2f}; least grounded: {values[worst][:60]!r} "
            f"({grounded[worst]:.2f})"
        )
        return to_scale(-load, GROUNDING_SCALE), note

    # --- redundancy ------------------------------------------------------------------------

    def redundancy(self, answer: Any, path: str, gold: Any = None) -> tuple[float, str]:
        texts = self.items_at(answer, path)
        if len(texts) < 2:
            return 5.0, "fewer than two items"
        # two distinct items of this input may sit as close as the gold's closest pair: only
        # closer pairs count (the gold holds no overlap by definition)
        low = max(REDUNDANT_LOW, self.closest_pair(self.items_at(gold, path))[0] + GOLD_MARGIN)
        high = max(REDUNDANT_HIGH, low + 0.15)
        sims = embed(texts) @ embed(texts).T
        load = 0.0
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                s = 1.0 if texts[i].lower() == texts[j].lower() else float(sims[i, j])
                load += unit(s, low, high)
        s, i, j = self.closest_pair(texts)
        note = f"overlap load {load:.2f}; closest #{i + 1}/#{j + 1} {s:.2f} (counts from {low:.2f})"
        return to_scale(-load, REDUNDANCY_SCALE), note

    def items_at(self, answer: Any, path: str) -> list[str]:
        if answer is None:
            return []
        found = select(answer, path)
        items = found[0] if len(found) == 1 and isinstance(found[0], list) else found
        return [self.item_text(x, path + "[]") for x in items]

    @staticmethod
    def closest_pair(texts: list[str]) -> tuple[float, int, int]:
        """(cosine, i, j) of the two most similar texts; (0, 0, 0) for fewer than two."""
        if len(texts) < 2:
            return 0.0, 0, 0
        vectors = embed(texts)
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, -1.0)
        for a in range(len(texts)):
            for b in range(a + 1, len(texts)):
                if texts[a].lower() == texts[b].lower():
                    sims[a, b] = sims[b, a] = 1.0
        i, j = divmod(int(np.argmax(sims)), len(texts))
        return float(sims[i, j]), min(i, j), max(i, j)

    # --- helpers ---------------------------------------------------------------------------

    def exact(self, path: str) -> bool:
        """Whether values at `path` match exactly (enums, numbers, booleans) or as text."""
        sub = schema_at(self.schema, path) or {}
        return "enum" in sub or "const" in sub or sub.get("type") not in (None, "string")

    def item_text(self, item: Any, path: str) -> str:
        """An item as text for embeddings: its free-text strings (enum values left out)."""
        if isinstance(item, dict):
            parts = [
                self.item_text(value, f"{path}.{key}")
                for key, value in item.items()
                if not self.exact(f"{path}.{key}") or isinstance(value, dict | list)
            ]
            return ". ".join(p for p in parts if p)
        if isinstance(item, list):
            return ". ".join(self.item_text(x, f"{path}[]") for x in item)
        return "" if item is None else str(item)

    def first_array(self) -> str | None:
        """The first array the schema declares (where redundancy looks without a field)."""
        for path in field_paths(self.schema):
            if (schema_at(self.schema, path) or {}).get("type") == "array":
                return path
        return None

    def leaf_texts(self, answer: Any, path: str) -> list[str]:
        """The texts grounding checks: the values at `path`, or every free-text string of the
        answer when the dimension names no field."""
        if path:
            return self.texts(select(answer, path), path)
        return self.free_strings(answer, "")

    def free_strings(self, value: Any, path: str) -> list[str]:
        """Every string of a value that is free text (enum values and the like left out)."""
        if isinstance(value, dict):
            return [
                t for k, v in value.items() for t in self.free_strings(v, f"{path}.{k}".lstrip("."))
            ]
        if isinstance(value, list):
            return [t for v in value for t in self.free_strings(v, f"{path}[]")]
        return [value] if isinstance(value, str) and value and not self.exact(path) else []

    def texts(self, values: list[Any], path: str) -> list[str]:
        out: list[str] = []
        for value in values:
            if isinstance(value, list):
                out += self.texts(value, path + "[]")
            else:
                out.append(self.item_text(value, path))
        return out

    @staticmethod
    def cosine(a: str, b: str) -> float:
        vectors = embed([a, b])
        return float(vectors[0] @ vectors[1])
