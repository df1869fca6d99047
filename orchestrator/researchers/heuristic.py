"""`HeuristicResearcher`: the offline default — coordinate search from the current best, then
stacks of what worked.

Each proposal changes one built-in lever parameter of the best agent (or enables one lever), the
move of best expected gain per second first (`cost`: priors measured on SmolLM2 — retrieval
leads, then one worked example, then information-gain selection, which gains as much as
retrieval at two to three times its cost — updated by the gains and the seconds per case the log
measured), skipping every configuration already tried; each proposal pre-registers its expected
Δ and seconds. A single move that beat the best it was tried on without being kept (its gain was
real but not sure) is a *winner*; at a plateau, and when the single moves run out, winners are
stacked onto the best, two or three at a time, the largest summed gain first, since gains do not
simply add up and the stack has to be measured. Prompt phrasings are written as real lever
modules under `agent/levers/` (subclasses of the built-in prompt lever), so "write the lever" is
a real step. Supervisor notes `focus <lever class>` and `avoid <lever class>` reorder and filter
the moves. When `plateau_after` experiments pass without a kept one, or the moves run out, it
asks for the training track once per plateau (when the candidate can train here), or at once for
a `focus adapter` note; a trained adapter not yet tried becomes the next experiment. With no
single move, stack or training left to try it raises `SearchExhausted` and the run stops.

The moves are written for the workspace's feature (`LogView.feature`): the planner's below, any
other feature's from its name, contract and rubric (`feature_moves`); a move that would enable
a lever not made for the feature is never proposed.
"""

from __future__ import annotations

import copy
import json
import re

from levers.feature import FeatureSpec
from orchestrator.researchers.base import (
    LogView,
    Proposal,
    SearchExhausted,
    TrainingRequest,
    stock_agent,
)
from orchestrator.researchers.cost import estimates
from orchestrator.researchers.moves import (
    Move,
    canonical,
    enable,
    serves,
    set_prompt,
    use_phrasing,
)
from orchestrator.researchers.stacking import untried_stacks

PROMPT_PHRASINGS: dict[str, tuple[str, str]] = {
    "interviewer": (
        "frame the model as an interviewer who must learn about the person first",
        "I need help to {task}. Interview me first: write a short title for my goal, then ask "
        "me seven questions, one per line, numbered 1 to 7.",
    ),
    "constraints": (
        "ask explicitly for the facts and constraints that would change the plan",
        "Goal: {task}. Write a title for this goal. Then list seven numbered questions about my "
        "situation, constraints and preferences that would change how you plan it.",
    ),
    "short-questions": (
        "ask for short, single-topic questions",
        "I want to {task}. Give a title, then seven short questions (one topic each), "
        "numbered 1 to 7, that you need answered before planning.",
    ),
}

PHRASING_TEMPLATE = '''"""Prompt variant {slug!r}, written by the heuristic researcher: {why}."""

from levers.builtin.prompt import PromptLever, task_phrase
from levers.hookspecs import hookimpl

TEMPLATE = {template!r}


class {cls}(PromptLever):
    """The built-in prompt lever with the user message phrased as: {slug}."""

    name = {name!r}

    def user_text(self, task: str) -> str:
        return TEMPLATE.format(task=task_phrase(task))


@hookimpl
def register_levers(register):
    register({cls})
'''


def phrasing_move(slug: str) -> Move:
    why, template = PROMPT_PHRASINGS[slug]
    name = "prompt_" + slug.replace("-", "_")
    cls = "".join(part.title() for part in re.split(r"[-_]", slug)) + "Prompt"
    code = PHRASING_TEMPLATE.format(slug=slug, why=why, template=template, cls=cls, name=name)
    return Move(
        "prompt",
        f"Phrasing the request to {why} improves the questions",
        use_phrasing(name),
        code,
        f"{name}.py",
    )


def moves_for(feature: FeatureSpec) -> list[Move]:
    """Every single-step change for `feature`, most promising first."""
    if feature.planner:
        return moves()
    from orchestrator.researchers.feature_moves import feature_moves

    return feature_moves(feature)


def moves() -> list[Move]:
    """Every single-step change for the planner, each with its prior gain (the single-move
    gains measured on SmolLM2, `benchmarks/README.md`, where noted: on the stock agent under the
    answer contract where there is such a figure) and cost factor; the researcher tries them by
    expected gain per second (`cost.estimates`), this order breaking ties."""
    return [
        Move(
            "prompt",
            "Spelling out the rubric (one ask each, specific, no overlap) helps",
            set_prompt(instructions="rubric"),
            gain=0.0,  # 0.156 against 0.160 (2026-11-29)
        ),
        Move(
            "rag",
            "The two nearest training cases by embedding are better examples than none",
            enable("rag", k=2, method="embedding"),
            gain=0.059,  # 0.207 against 0.148 (2026-12-04)
            cost=2.0,  # two worked examples in the prompt: x1.4-2.2 measured
        ),
        Move(
            "multi_call",
            "Over-generating questions and keeping the seven that split the solution space "
            "most (information gain) improves coverage and non-redundancy",
            enable("info_gain"),
            gain=0.062,  # 0.210 against 0.148 (2026-12-04)
            cost=5.0,  # branches, twelve questions, top-ups: x3.4-6.2 measured
        ),
        Move(
            "decoding",
            "A repetition penalty of 1.2 stops repeated questions",
            enable("decoding", repetition_penalty=1.2),
            # dev-10 0.052 against 0.172 (2026-12-04): SmolLM2 then writes six or eight
            # questions, which breaks the contract; on rag, before the contract, +0.071
            gain=-0.12,
        ),
        Move(
            "multi_call",
            "Four sampled plans voted into one by clustering keep the questions most agree on",
            enable("ensemble", k=4),
            cost=5.0,
        ),
        Move(
            "decoding",
            "Decoding constrained to the answer's JSON Schema keeps the contract",
            enable("schema"),
            cost=1.5,
        ),
        Move(
            "prompt",
            "One worked example from the training pool shows the format and bar",
            set_prompt(few_shot=1),
            gain=0.037,  # 0.197 against 0.160 (2026-11-29)
            cost=1.5,
        ),
        Move(
            "self_critique",
            "Checking each question by explicit rules and replacing the ones that fail helps",
            enable("verify"),
            cost=3.0,
        ),
        Move(
            "multi_call",
            "Simulating the user's answers and keeping the questions whose answers would "
            "change the plan improves coverage",
            enable("answer_simulation"),
            cost=4.0,
        ),
        Move(
            "prompt",
            "Asking for the most important question first improves coverage",
            set_prompt(instructions="critical-first"),
        ),
        *[phrasing_move(slug) for slug in PROMPT_PHRASINGS],
        Move("prompt", "Three worked examples beat one", set_prompt(few_shot=3), cost=2.5),
        Move(
            "rag",
            "BM25 retrieval finds examples with the task's own words",
            enable("rag", k=3, method="bm25"),
            cost=2.5,
        ),
        Move(
            "rag",
            "Hybrid retrieval of four examples gives broader coverage",
            enable("rag", k=4, method="hybrid"),
            cost=3.0,
        ),
        Move(
            "prompt",
            "A planner persona in the system prompt makes questions more natural",
            set_prompt(system="planner"),
        ),
        Move(
            "multi_call",
            "Listing the unknowns first, then one question each, improves coverage",
            enable("multi_call", mode="decompose"),
            cost=3.0,
        ),
        Move(
            "multi_call",
            "Over-generating twelve questions and pruning to seven by redundancy "
            "and specificity improves non-redundancy",
            enable("multi_call", mode="overgenerate", n=12),
            cost=1.5,
        ),
        Move(
            "self_critique",
            "One round of critique against the rubric, then revision, helps",
            enable("self_critique", rounds=1),
            cost=3.0,
        ),
        Move(
            "decoding",
            "Light sampling (temperature 0.3) escapes a repetitive greedy answer",
            enable("decoding", temperature=0.3, seed=0),
        ),
        Move(
            "prompt",
            "JSON output keeps the title and questions apart",
            set_prompt(output_format="json"),
        ),
    ]


def preferences(notes: list[str]) -> tuple[set[str], set[str]]:
    """`focus <class>` / `avoid <class>` notes; a later note about a class overrides an earlier.
    `training` names the adapter class."""
    focus: set[str] = set()
    avoid: set[str] = set()
    for note in notes:
        for verb, cls in re.findall(r"\b(focus|avoid)\s+(?:on\s+)?([a-z_-]+)", note.lower()):
            cls = "adapter" if cls == "training" else cls.replace("-", "_")
            (focus if verb == "focus" else avoid).add(cls)
            (avoid if verb == "focus" else focus).discard(cls)
    return focus, avoid


class HeuristicResearcher:
    name = "heuristic"

    def __init__(
        self, plateau_after: int = 4, training_kind: str = "sft", training_steps: int = 60
    ) -> None:
        self.plateau_after = plateau_after
        self.training_kind = training_kind
        self.training_steps = training_steps

    def propose(self, log: LogView, notes: list[str]) -> Proposal:
        return self.propose_batch(log, notes, 1)[0]

    def propose_batch(self, log: LogView, notes: list[str], k: int) -> list[Proposal]:
        """The next `k` untried moves from the best, each a different configuration (one
        proposal alone for the baseline, an untried adapter, or a training request)."""
        if not log.experiments:
            return [stock_agent()]
        if proposal := self.untried_adapter(log):
            return [proposal]
        if log.trainings_granted and self.may_request(log):  # the track as a search: next recipe
            return [self.request_training(log)]
        if self.training_wanted(log, notes) and self.may_request(log):  # `focus adapter`
            return [self.request_training(log, asked=True)]
        if log.since_last_kept >= self.plateau_after:
            if stacks := self._untried_stacks(log, notes, max(k, 1)):
                return stacks
            if self.may_request(log):
                return [self.request_training(log)]
        proposals = self._untried_moves(log, notes, max(k, 1))
        if len(proposals) < max(k, 1):
            proposals += self._untried_stacks(log, notes, max(k, 1) - len(proposals), proposals)
        return proposals or [self.request_training(log)]

    def _untried_moves(self, log: LogView, notes: list[str], k: int) -> list[Proposal]:
        focus, avoid = preferences([*log.notes_history, *notes])
        tried = {canonical(e.agent) for e in log.experiments if e.agent}
        every = moves_for(log.feature)
        expected = estimates(log, every, log.keep_gate_cases)
        candidates = [m for m in every if m.lever_class not in avoid]
        # focus first, then the best expected gain per second (ties: the list's order)
        candidates.sort(key=lambda m: (m.lever_class not in focus, -expected[m.hypothesis].value))
        proposals: list[Proposal] = []
        for move in candidates:
            agent = move.apply(copy.deepcopy(log.best_agent))
            if canonical(agent) in tried or not serves(agent, log.feature):
                continue
            tried.add(canonical(agent))
            guess = expected[move.hypothesis]
            cost = f" in about {guess.seconds:.0f} s" if guess.seconds else ""
            proposals.append(
                Proposal(
                    hypothesis=move.hypothesis,
                    method=f"One {move.lever_class} step from the best ({log.best_id}), "
                    f"expected Δ {guess.gain:+.3f}{cost}; run dev-10, then full-30 if promising.",
                    lever_class=move.lever_class,
                    agent_patch={"levers": agent["levers"]},
                    lever_code=move.lever_code,
                    lever_filename=move.lever_filename,
                    predicted_delta=round(guess.gain, 4),
                    predicted_seconds=round(guess.seconds, 1) if guess.seconds else None,
                )
            )
            if len(proposals) == k:
                break
        return proposals

    def _untried_stacks(
        self, log: LogView, notes: list[str], k: int, taken: list[Proposal] | None = None
    ) -> list[Proposal]:
        _, avoid = preferences([*log.notes_history, *notes])
        return untried_stacks(log, moves_for(log.feature), avoid, k, taken or [])

    def training_wanted(self, log: LogView, notes: list[str]) -> bool:
        """The supervisor's `focus adapter` (or `focus training`) note: ask for training now,
        without waiting for a plateau."""
        focus, _ = preferences([*log.notes_history, *notes])
        return any(c.startswith("adapter") for c in focus)

    def may_request(self, log: LogView) -> bool:
        """One request per plateau, or as many as the supervisor's grant leaves."""
        asked = log.training_requests == 0 or log.trainings_granted > 0
        return asked and log.trainable_here is not False

    def recipe(self, log: LogView) -> tuple[str, TrainingRequest]:
        """The next recipe to train, after those the workspace's adapters already tried: the
        seed's SFT first (this researcher's kind and steps), then longer, wider, ORPO on style
        pairs and on the agent's own drafts, a higher learning rate, half the data."""
        first = TrainingRequest(
            kind=self.training_kind,  # type: ignore[arg-type]
            pairs="on-policy" if self.training_kind == "orpo" else None,
            rationale="",
            steps=self.training_steps,
        )
        recipes = [
            ("the seed's recipe", first),
            ("twice the steps", first.model_copy(update={"steps": self.training_steps * 2})),
            ("LoRA rank 16", first.model_copy(update={"rank": 16})),
            ("ORPO on style pairs", first.model_copy(update={"kind": "orpo", "pairs": "style"})),
            (
                "ORPO on the agent's own drafts",
                first.model_copy(update={"kind": "orpo", "pairs": "on-policy"}),
            ),
            ("a higher learning rate", first.model_copy(update={"learning_rate": 5e-4})),
            ("half the training pool", first.model_copy(update={"pool_size": 60})),
        ]
        return recipes[len(log.adapters) % len(recipes)]

    def request_training(self, log: LogView, asked: bool = False) -> Proposal:
        """The next recipe as a training request: at a plateau, within a grant, or `asked` by
        the supervisor's `focus adapter` note."""
        recent = [e.id for e in log.experiments[-max(self.plateau_after, 1) :]]
        if asked:
            why = "Asked for: the supervisor's note focuses on the training track"
        elif log.since_last_kept:
            why = f"Plateau: {log.since_last_kept} experiments since the last kept one"
        else:
            why = "Plateau: the prompt-level moves are exhausted"
        if not self.may_request(log):
            raise SearchExhausted(
                "every single-step move from the best has been run, and training was "
                "already requested or cannot run here"
            )
        name, recipe = self.recipe(log)
        if log.adapters:
            why = f"{len(log.adapters)} adapter(s) trained so far; the next recipe: {name}"
        return Proposal(
            hypothesis=f"Weights, not prompts, are the answer: train a LoRA adapter ({name})",
            method=f"Training next ({why}); imitation of the training pool's gold "
            f"{'plans' if log.feature.planner else 'answers'} is the next lever. Recipe: "
            f"{recipe.kind}{f' ({recipe.pairs} pairs)' if recipe.pairs else ''}, "
            f"{recipe.steps} steps, rank {recipe.rank}, lr {recipe.learning_rate:g}, "
            f"{recipe.pool_size or 'all'} pool cases.",
            lever_class=recipe.experiment_class,
            training_request=recipe.model_copy(
                update={
                    "rationale": f"{why} (best {log.best_id}, quality "
                    f"{log.best_quality}). In the seed report only an SFT adapter broke past "
                    "the prompting ceiling.",
                    "experiments": recent,
                }
            ),
        )

    def untried_adapter(self, log: LogView) -> Proposal | None:
        used = {json.dumps(e.agent, sort_keys=True) for e in log.experiments}
        for adapter in log.adapters:
            digest = adapter.get("hash", "")
            if not digest or any(digest in u for u in used):
                continue
            agent = enable("adapter", adapter=digest)(copy.deepcopy(log.best_agent))
            kind = adapter.get("kind", "sft")
            return Proposal(
                hypothesis=f"The new {kind.upper()} adapter {digest[:12]} beats prompting alone",
                method="Attach the freshly trained LoRA adapter to the best agent; run dev-10, "
                "then full-30 if promising.",
                lever_class=adapter.get("lever_class", f"adapter-{kind}"),
                agent_patch={"levers": agent["levers"]},
            )
        return None

    def repair(self, proposal: Proposal, report: str) -> Proposal | None:
        return None  # its lever files come from fixed templates: nothing to repair
