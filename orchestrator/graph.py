"""The researcher as a LangGraph state machine.

read_log → propose → [confirm] → write_lever → validate → run_gate → record → decide, with
decide looping back to read_log, ending on budget or a stop, and propose routing to
request_training (an `interrupt()` for the supervisor) and on approval to train.

Nodes are plain functions over `LoopState`; everything they touch (workspace, researcher,
models, judge) comes through a `Services` object passed in by closure, so tests build the graph
with fakes and an `InMemorySaver`. Every side effect is idempotent or lives after the
interrupt in its node, because a node resumed after a crash runs again from its top.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from orchestrator.researchers.base import LogView, Proposal, Researcher


class LoopState(TypedDict, total=False):
    control_offset: int
    notes: list[str]
    stop_requested: bool
    exp_id: str
    proposal: dict[str, Any] | None
    proposal_error: str
    notes_seen: list[str]
    lever_path: str | None
    validation: dict[str, Any] | None
    outcome: dict[str, Any] | None
    approved: bool | None
    decision_note: str
    adapter: str | None
    commit: str
    stop_reason: str


class Services(Protocol):
    """What the graph needs from the world (implemented over runlog + levers in loop.py)."""

    researcher: Researcher
    supervised: bool

    def poll(self, state: LoopState, node: str) -> dict[str, Any]: ...
    def stop_reason(self, state: LoopState) -> str: ...
    def log_view(self) -> LogView: ...
    def next_experiment_id(self) -> str: ...
    def write_lever(self, exp_id: str, proposal: Proposal) -> str | None: ...
    def validate_lever(self, path: str) -> dict[str, Any]: ...
    def run_gate(self, exp_id: str, proposal: Proposal) -> dict[str, Any]: ...
    def record(self, state: LoopState) -> str: ...
    def record_event(self, kind: str, /, **payload: Any) -> None: ...
    def train(self, request: dict[str, Any], exp_id: str) -> str: ...
    def training_estimate(self, request: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class Budget:
    """A run's budget: experiments, wall-clock minutes, USD (None: no limit).

    It belongs to one invocation of the loop: `autoresearch run --experiments 5` runs five
    experiments now, counting one that a resumed run finishes.
    """

    experiments: int | None = None
    minutes: float | None = None
    usd: float | None = None
    started_at: float = field(default_factory=time.time)
    done: int = 0
    cost_usd: float = 0.0

    def spent(self) -> str:
        """Why the run should stop now, or '' to go on."""
        if self.experiments is not None and self.done >= self.experiments:
            return f"ran {self.done} experiments (budget {self.experiments})"
        if self.minutes is not None and (time.time() - self.started_at) / 60 >= self.minutes:
            return f"wall-clock budget of {self.minutes:g} minutes spent"
        if self.usd is not None and self.cost_usd >= self.usd:
            return f"cost budget of ${self.usd:.2f} spent"
        return ""

    def count(self, outcome: dict[str, Any]) -> None:
        self.done += 1
        self.cost_usd += float(outcome.get("cost_usd", 0.0))


def decision_kind(decision: dict[str, Any]) -> str:
    """The event a supervisor's answer is logged as: a stop while waiting is a stop."""
    if decision.get("stop"):
        return "stop"
    return "approved" if decision.get("approved") else "denied"


def build_graph(services: Services, checkpointer: Any) -> Any:
    """Compile the researcher graph over `services` with `checkpointer` (SQLite or in-memory)."""

    def guarded(name: str, fn: Callable[[LoopState], dict[str, Any]]):
        def node(state: LoopState) -> dict[str, Any]:
            control = services.poll(state, name)  # pause blocks here; notes/stop come back
            update = fn({**state, **control})
            return {**control, **update}

        return node

    def read_log(state: LoopState) -> dict[str, Any]:
        return {"stop_reason": services.stop_reason(state)}

    def propose(state: LoopState) -> dict[str, Any]:
        notes = list(state.get("notes") or [])
        error = ""
        try:
            proposal = services.researcher.propose(services.log_view(), notes)
        except Exception as exc:  # a researcher's failure is a failed experiment, not a crash
            error = f"the researcher could not propose: {type(exc).__name__}: {exc}"
            proposal = Proposal(hypothesis="(no proposal: researcher error)", lever_class="other")
        return {
            "proposal_error": error,
            "exp_id": services.next_experiment_id(),
            "proposal": proposal.model_dump(),
            "notes_seen": notes,
            "notes": [],
            "lever_path": None,
            "validation": None,
            "outcome": None,
        }

    def confirm(state: LoopState) -> dict[str, Any]:
        proposal = state["proposal"] or {}
        decision = interrupt(
            {
                "type": "experiment",
                "id": state["exp_id"],
                "hypothesis": proposal.get("hypothesis", ""),
            }
        )
        approved = bool(decision.get("approved"))
        if not approved:
            services.record_event(
                decision_kind(decision),
                request=state["exp_id"],
                note=decision.get("note", ""),
                command=decision.get("command", ""),
            )
        return {
            "approved": approved,
            "stop_requested": bool(decision.get("stop") or state.get("stop_requested")),
            "control_offset": max(decision.get("offset", 0), state.get("control_offset", 0)),
        }

    def write_lever(state: LoopState) -> dict[str, Any]:
        proposal = Proposal.model_validate(state["proposal"])
        return {"lever_path": services.write_lever(state["exp_id"], proposal)}

    def validate(state: LoopState) -> dict[str, Any]:
        path = state.get("lever_path")
        if not path:
            return {"validation": {"ok": True, "stage": "none", "message": "no lever code"}}
        report = services.validate_lever(path)
        proposal = Proposal.model_validate(state["proposal"])
        if not report["ok"] and proposal.lever_code:
            repaired = services.researcher.repair(proposal, report["message"])
            if repaired is not None and repaired.lever_code:
                repaired = repaired.model_copy(update={"lever_filename": proposal.lever_filename})
                path = services.write_lever(state["exp_id"], repaired)
                report = {**services.validate_lever(path or ""), "repaired": True}
                return {"validation": report, "lever_path": path, "proposal": repaired.model_dump()}
        return {"validation": report}

    def run_gate(state: LoopState) -> dict[str, Any]:
        if state.get("proposal_error"):
            return {
                "outcome": {"status": "failed", "failure": state["proposal_error"], "gates": []}
            }
        validation = state.get("validation") or {}
        if not validation.get("ok", True):
            outcome = {
                "status": "failed",
                "failure": f"lever validation failed at "
                f"{validation.get('stage')}: {validation.get('message')}",
                "gates": [],
            }
            return {"outcome": outcome}
        proposal = Proposal.model_validate(state["proposal"])
        return {"outcome": services.run_gate(state["exp_id"], proposal)}

    def record(state: LoopState) -> dict[str, Any]:
        return {"commit": services.record(state)}

    def decide(state: LoopState) -> dict[str, Any]:
        return {"stop_reason": services.stop_reason(state)}

    def request_training(state: LoopState) -> dict[str, Any]:
        proposal = state["proposal"] or {}
        request = dict(proposal.get("training_request") or {})
        payload = {
            **request,
            "type": "training",
            "id": state["exp_id"],
            **services.training_estimate(request),
        }
        decision = interrupt(payload)
        approved = bool(decision.get("approved"))
        services.record_event(
            decision_kind(decision),
            request=state["exp_id"],
            note=decision.get("note", ""),
            training=request,
            command=decision.get("command", ""),
        )
        return {
            "approved": approved,
            "decision_note": decision.get("note", ""),
            "stop_requested": bool(decision.get("stop") or state.get("stop_requested")),
            "control_offset": max(decision.get("offset", 0), state.get("control_offset", 0)),
        }

    def train(state: LoopState) -> dict[str, Any]:
        request = (state["proposal"] or {}).get("training_request") or {}
        return {"adapter": services.train(request, state["exp_id"])}

    def after_read_log(state: LoopState) -> str:
        return "end" if state.get("stop_reason") else "propose"

    def after_propose(state: LoopState) -> str:
        if (state.get("proposal") or {}).get("training_request"):
            return "request_training"
        return "confirm" if services.supervised else "write_lever"

    def after_confirm(state: LoopState) -> str:
        return "write_lever" if state.get("approved") else "read_log"

    def after_decide(state: LoopState) -> str:
        return "end" if state.get("stop_reason") else "read_log"

    def after_request(state: LoopState) -> str:
        return "train" if state.get("approved") else "read_log"

    graph = StateGraph(LoopState)
    for name, fn in [
        ("read_log", read_log),
        ("propose", propose),
        ("confirm", confirm),
        ("write_lever", write_lever),
        ("validate", validate),
        ("run_gate", run_gate),
        ("record", record),
        ("decide", decide),
        ("request_training", request_training),
        ("train", train),
    ]:
        graph.add_node(name, guarded(name, fn))
    graph.add_edge(START, "read_log")
    graph.add_conditional_edges("read_log", after_read_log, {"end": END, "propose": "propose"})
    graph.add_conditional_edges(
        "propose", after_propose, ["request_training", "confirm", "write_lever"]
    )
    graph.add_conditional_edges("confirm", after_confirm, ["write_lever", "read_log"])
    graph.add_edge("write_lever", "validate")
    graph.add_edge("validate", "run_gate")
    graph.add_edge("run_gate", "record")
    graph.add_edge("record", "decide")
    graph.add_conditional_edges("decide", after_decide, {"end": END, "read_log": "read_log"})
    graph.add_conditional_edges("request_training", after_request, ["train", "read_log"])
    graph.add_edge("train", "read_log")
    return graph.compile(checkpointer=checkpointer)
