"""LLMJudge: reference-guided rubric scoring and two-order pairwise comparison on any ChatModel.

Per candidate three calls at temperature 0 with JSON output (`options.json_schema`): one rubric
call (candidate vs the gold as reference) and two pairwise calls (candidate as set A, then as
set B); if the two orders disagree the outcome is a tie and the verdict is marked
`position_consistent=False`. A malformed answer is retried once, then replaced by a neutral
answer (3 on every dimension, or a tie) flagged in the rationale: the judge never crashes.
Prompt templates live in the ruler's `prompts/` folder (hash-locked with the ruler); a feature
folder without its own uses the generic ones in ruler/judges/prompts/, which name the feature,
its contract and its rubric's text (`ruler import` copies them into the ruler, so they are
locked with it). A feature's answer that breaks its JSON-Schema contract is a failed case.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from string import Template

from models.base import ChatModel, GenerationOptions, Message
from ruler.contract import breach
from ruler.judges.base import CONTRACT_VERSION, breach_verdict, parse_candidate, worst_verdict
from ruler.plan import Plan, json_object
from ruler.records import Case, JudgeMode, Verdict, dimensions_for

USER_MARK = "---- user ----"
NEUTRAL_SCORE = 3


def rubric_schema(mode: JudgeMode, names: tuple[str, ...] | None = None) -> dict:
    """The rubric answer's schema: a 1-5 score for every dimension of the mode (of `names`,
    the ruler's rubric; default: the planner's)."""
    dims = list(dimensions_for(mode, *((names,) if names else ())))
    score = {"type": "integer", "minimum": 1, "maximum": 5}
    return {
        "type": "object",
        "properties": {
            "scores": {
                "type": "object",
                "properties": {d: score for d in dims},
                "required": dims,
                "additionalProperties": False,
            },
            "rationale": {"type": "string"},
        },
        "required": ["scores", "rationale"],
        "additionalProperties": False,
    }


PAIRWISE_SCHEMA = {
    "type": "object",
    "properties": {
        "winner": {"type": "string", "enum": ["A", "B", "tie"]},
        "rationale": {"type": "string"},
    },
    "required": ["winner", "rationale"],
    "additionalProperties": False,
}


def plan_text(plan: Plan) -> str:
    lines = [f"Title: {plan.title or '(none)'}"]
    return "\n".join(lines + [f"{i}. {q}" for i, q in enumerate(plan.questions, 1)])


def read_scores(
    text: str, mode: JudgeMode, names: tuple[str, ...] | None = None
) -> tuple[dict[str, int], str] | None:
    data = json_object(text)
    scores = data.get("scores") if data else None
    if not isinstance(scores, dict):
        return None
    out = {}
    for dim in dimensions_for(mode, *((names,) if names else ())):
        value = scores.get(dim)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 5:
            return None
        out[dim] = int(round(value))
    return out, str(data.get("rationale", ""))


def read_winner(text: str) -> tuple[str, str] | None:
    data = json_object(text)
    winner = str(data.get("winner", "")).strip() if data else ""
    normalized = {"a": "A", "b": "B", "tie": "tie"}.get(winner.lower())
    return (normalized, str(data.get("rationale", ""))) if normalized else None


class LLMJudge:
    """A judge on any ChatModel; templates come from the ruler's prompts folder."""

    def __init__(
        self,
        model: ChatModel,
        prompts: dict[str, str],
        rubric_text: dict[str, str],
        concurrency: int = 1,
        feature=None,
    ) -> None:
        """`feature` (a ruler.feature.Feature other than the planner): judge its JSON answers
        on its rubric, against its schema; None judges the planner's plans."""
        self.model = model
        self.feature = None if feature is None or feature.is_planner else feature
        self.names = self.feature.dimension_names if self.feature else None
        self.judge_id = f"llm:{model.model_id}/c{CONTRACT_VERSION}"  # the contract it enforces
        self.prompts = prompts  # "rubric.standard" -> template text, ...
        self.rubric_text = rubric_text  # mode -> rendered rubric
        self.concurrency = max(1, concurrency)
        self.calls = 0
        self._lock = threading.Lock()

    def _messages(self, kind: str, mode: JudgeMode, **values: str) -> list[Message]:
        template = self.prompts[f"{kind}.{mode}"]
        system, _, user = template.partition(USER_MARK)
        keys = ", ".join(f'"{d}": <1-5>' for d in self.dims(mode))
        fill = {"rubric": self.rubric_text[mode], "score_keys": keys, **self.about(), **values}
        return [
            Message(role="system", content=Template(system).substitute(fill).strip()),
            Message(role="user", content=Template(user).substitute(fill).strip()),
        ]

    def _ask(self, messages: list[Message], schema: dict, read) -> tuple[object | None, float, int]:
        """Call the model, retrying once on malformed output; (parsed or None, cost, calls)."""
        options = GenerationOptions(temperature=0.0, max_tokens=600, json_schema=schema)
        cost = 0.0
        for attempt in (1, 2):
            with self._lock:
                self.calls += 1
            completion = self.model.generate(messages, options)
            cost += completion.cost_usd or 0.0
            parsed = read(completion.text)
            if parsed is not None:
                return parsed, cost, attempt
        return None, cost, 2

    def dims(self, mode: JudgeMode) -> tuple[str, ...]:
        return dimensions_for(mode, *((self.names,) if self.names else ()))

    def about(self) -> dict[str, str]:
        """What a feature's generic templates name: the feature, its contract, its input."""
        if self.feature is None:
            return {}
        return {
            "feature_name": self.feature.name,
            "feature_description": self.feature.description,
            "contract": json.dumps(self.feature.output_schema, ensure_ascii=False),
            "input_label": self.feature.input_label,
        }

    def texts(self, case: Case, candidate_text: str, mode: JudgeMode) -> tuple[str, str] | Verdict:
        """(candidate, gold) as the judge reads them, or the failed-case verdict of a breach."""
        if self.feature is not None:
            answer, broken = breach(candidate_text, self.feature.output_schema, self.feature.name)
            if broken:
                why = f"contract broken ({broken}): failed case"
                return worst_verdict(case, self.judge_id, mode, why, self.dims(mode))
            dump = lambda value: json.dumps(value, ensure_ascii=False, indent=1)  # noqa: E731
            return dump(answer), dump(case.gold_data)
        parsed = parse_candidate(candidate_text)
        if parsed is None:
            return breach_verdict(case, candidate_text, self.judge_id, mode)
        return plan_text(parsed.plan), plan_text(case.gold)

    def judge(self, case: Case, candidate_text: str, mode: JudgeMode = "standard") -> Verdict:
        started = time.perf_counter()
        read = self.texts(case, candidate_text, mode)
        if isinstance(read, Verdict):
            return read
        cand, gold = read
        rubric_msgs = self._messages("rubric", mode, task=case.task, gold=gold, candidate=cand)
        rubric, cost_r, _ = self._ask(
            rubric_msgs,
            rubric_schema(mode, self.names),
            lambda t: read_scores(t, mode, self.names),
        )
        first, cost_1, _ = self._ask(
            self._messages("pairwise", mode, task=case.task, set_a=cand, set_b=gold),
            PAIRWISE_SCHEMA,
            read_winner,
        )
        second, cost_2, _ = self._ask(
            self._messages("pairwise", mode, task=case.task, set_a=gold, set_b=cand),
            PAIRWISE_SCHEMA,
            read_winner,
        )
        notes = []
        if rubric is None:
            scores, why = {d: NEUTRAL_SCORE for d in self.dims(mode)}, ""
            notes.append("rubric answer malformed twice: neutral scores")
        else:
            scores, why = rubric
        outcome, consistent, pair_note = self._outcome(first, second)
        notes.append(pair_note)
        return Verdict(
            case_id=case.id,
            judge_id=self.judge_id,
            mode=mode,
            scores=scores,
            outcome=outcome,
            rationale=" | ".join(n for n in [why, *notes] if n),
            position_consistent=consistent,
            cost_usd=cost_r + cost_1 + cost_2,
            seconds=time.perf_counter() - started,
        )

    @staticmethod
    def _outcome(first, second) -> tuple[str, bool, str]:
        """Candidate's W/T/L from (candidate as A) and (candidate as B) answers."""
        if first is None or second is None:
            return "T", False, "pairwise answer malformed twice: neutral tie"
        as_a = {"A": "W", "B": "L", "tie": "T"}[first[0]]
        as_b = {"B": "W", "A": "L", "tie": "T"}[second[0]]
        if as_a != as_b:
            return "T", False, f"pairwise orders disagree ({as_a} as A, {as_b} as B): tie"
        return as_a, True, f"pairwise {as_a} in both orders: {first[1]}"

    def judge_many(
        self, pairs: list[tuple[Case, str]], mode: JudgeMode = "standard"
    ) -> list[Verdict]:
        if self.concurrency == 1 or len(pairs) < 2:
            return [self.judge(case, text, mode) for case, text in pairs]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda pair: self.judge(pair[0], pair[1], mode), pairs))
