"""The researcher as a LangGraph state machine.

check_stop → propose → check_proposal → [confirm_experiment] → write_lever → validate_lever →
run_gate → record → check_stop, ending on budget, a stop, or a researcher whose search space is
exhausted; check_proposal sends a repeat of an agent already run, or a training request for a
model that cannot train here, back to propose with the reason (at most MAX_RETRIES times, then
a failed experiment), and routes a training request to request_training (an `interrupt()` for
the supervisor) and, on approval, to train.

Nodes are module-level functions over `LoopState`; everything they touch (workspace,
researcher, models, judge) comes from the `Services` in the run's context
(`graph.stream(..., context=LoopContext(services))`), so tests run the graph with fakes and an
`InMemorySaver`. Every side effect is idempotent or lives after the interrupt in its node,
because a node resumed after a crash runs again from its top.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict

from levers.validate import ValidationReport
from orchestrator.lever_check import validate_and_repair
from orchestrator.researchers.base import (
    LogView,
    Proposal,
    ProposalFailed,
    Researcher,
    ResearchKit,
    SearchExhausted,
    UsesWorkspace,
    propose_one,
)
from orchestrator.state import STATE_MODELS, LoopState, Outcome


class Services(Protocol):
    """What the graph needs from the world (implemented over runlog + levers in services.py)."""

    researcher: Researcher
    supervised: bool

    def poll(self, state: LoopState, node: str) -> dict[str, Any]: ...
    def stop_reason(self, state: LoopState) -> str: ...
    def log_view(self, feedback: list[str] | None = None) -> LogView: ...
    def research_kit(self, log: LogView) -> ResearchKit: ...
    def repeat_of(self, proposal: Proposal) -> str | None: ...
    def trainable(self) -> tuple[bool, str]: ...
    def next_experiment_id(self) -> str: ...
    def write_lever(
        self, exp_id: str, proposal: Proposal, agent_dir: Path | None = None
    ) -> str | None: ...
    def validate_lever(
        self,
        path: str,
        agent_patch: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
    ) -> ValidationReport: ...
    def run_gate(self, exp_id: str, proposal: Proposal, lever_path: str | None) -> Outcome: ...
    def record(self, state: LoopState) -> str: ...
    def record_event(self, kind: str, /, **payload: Any) -> None: ...
    def train(self, request: dict[str, Any], exp_id: str) -> str: ...
    def training_estimate(self, request: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LoopContext:
    """The run's context: the services every node reaches through `runtime.context`."""

    services: Services


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

    def count(self, outcome: Outcome) -> None:
        self.done += 1
        self.cost_usd += outcome.cost_usd


class Answer(BaseModel):
    """The supervisor's answer to an interrupt, as the loop resumes the graph with it."""

    model_config = ConfigDict(extra="forbid")

    approved: bool = False
    note: str = ""
    stop: bool = False
    offset: int | None = None
    command: str = ""  # the id of the control command that gave this answer


def decision_kind(answer: Answer) -> str:
    """The event a supervisor's answer is logged as: a stop while waiting is a stop."""
    if answer.stop:
        return "stop"
    return "approved" if answer.approved else "denied"


Node = Callable[[LoopState, Runtime[LoopContext]], dict[str, Any]]


def ask_supervisor(payload: dict[str, Any], state: LoopState) -> tuple[Answer, dict[str, Any]]:
    """Interrupt for the supervisor; their answer and the state update it makes."""
    answer = Answer.model_validate(interrupt(payload))
    return answer, {
        "approved": answer.approved,
        "stop_requested": answer.stop or bool(state.get("stop_requested")),
        # the control poll at the top of a resumed node already read past the answer and any
        # notes sent during the wait: never move the offset back (that would repeat the notes)
        "control_offset": max(answer.offset or 0, state.get("control_offset", 0)),
    }


# -- nodes ----------------------------------------------------------------------------------
def check_stop(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Why the run ends here (a stop or a spent budget), or '' to go on."""
    return {"stop_reason": runtime.context.services.stop_reason(state)}


EXHAUSTED = "search space exhausted"  # the stop reason of a researcher with nothing left


def bound_log(services: Services, feedback: list[str] | None = None) -> LogView:
    """The log view for a research turn; a researcher using the workspace is bound to its
    research kit over that view first."""
    log = services.log_view(feedback)
    if isinstance(services.researcher, UsesWorkspace):
        services.researcher.bind(services.research_kit(log))
    return log


def researcher_error(exc: Exception) -> tuple[str, Proposal]:
    """A researcher's failure to propose: the experiment's failure, and its stand-in proposal
    (carrying what the failed research turn cost)."""
    cost = exc.cost_usd if isinstance(exc, ProposalFailed) else 0.0
    stand_in = Proposal(
        hypothesis="(no proposal: researcher error)", lever_class="other", research_cost_usd=cost
    )
    return f"the researcher could not propose: {type(exc).__name__}: {exc}", stand_in


def propose(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    services = runtime.context.services
    notes = list(state.get("notes") or [])
    feedback = list(state.get("feedback") or [])
    error, stop = "", ""
    try:
        proposal = propose_one(services.researcher, bound_log(services, feedback), notes)
    except SearchExhausted:
        stop = EXHAUSTED
        proposal = Proposal(hypothesis=f"(no proposal: {EXHAUSTED})", lever_class="other")
    except Exception as exc:  # a researcher's failure is a failed experiment, not a crash
        error, proposal = researcher_error(exc)
    return {
        "stop_reason": stop,
        "feedback": [],
        "proposal_error": error,
        "exp_id": services.next_experiment_id(),
        "proposal": proposal,
        # a proposal sent back keeps the notes its first try saw
        "notes_seen": [*(state.get("notes_seen") or []), *notes] if feedback else notes,
        "notes": [],
        "lever_path": None,
        "validation": None,
        "outcome": None,
    }


MAX_RETRIES = 2  # proposals check_proposal sends back before the experiment is a failure


def refusal(services: Services, proposal: Proposal, exp_id: str) -> str:
    """Why `proposal` may not run as experiment `exp_id` (a repeat of an agent already run, or
    training a model that cannot train here; the latter is logged), or '' when it may."""
    if proposal.training_request:
        ok, why = services.trainable()
        if ok:
            return ""
        services.record_event("refused", request=exp_id, note=why)
        return f"training request refused: {why}"
    if earlier := services.repeat_of(proposal):
        return f"refused: this agent is the one experiment {earlier} already ran; change it"
    return ""


def refused_too_often(times: int, reason: str) -> str:
    return f"proposal refused {times} times; {reason}"


def check_proposal(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Refuse a repeat of an agent already run, or training a model that cannot train here:
    back to the researcher with the reason, or, after MAX_RETRIES, a failed experiment."""
    if state.get("proposal_error"):
        return {"retries": 0}
    reason = refusal(runtime.context.services, _proposal(state), state["exp_id"])
    if not reason:
        return {"retries": 0}
    retries = state.get("retries", 0) + 1
    if retries > MAX_RETRIES:
        return {"retries": 0, "proposal_error": refused_too_often(retries, reason)}
    return {"retries": retries, "feedback": [reason]}


def confirm_experiment(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Supervised mode: the supervisor approves or denies the proposed experiment."""
    payload = {
        "type": "experiment",
        "id": state["exp_id"],
        "hypothesis": _proposal(state).hypothesis,
    }
    answer, update = ask_supervisor(payload, state)
    if not answer.approved:
        runtime.context.services.record_event(
            decision_kind(answer), request=state["exp_id"], note=answer.note, command=answer.command
        )
    return update


def write_lever(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    proposal = _proposal(state)
    return {"lever_path": runtime.context.services.write_lever(state["exp_id"], proposal)}


def validate_lever(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Validate the written lever module inside the proposed agent; a failure gets the
    researcher's one repair (`lever_check.validate_and_repair`, as the parallel pool's)."""
    path = state.get("lever_path")
    if not path:
        return {"validation": None}
    checked = validate_and_repair(runtime.context.services, state["exp_id"], _proposal(state), path)
    if checked.repaired is None:
        return {"validation": checked.report}
    return {"validation": checked.report, "lever_path": checked.path, "proposal": checked.repaired}


def run_gate(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Evaluate the proposed agent on the gates, unless the proposal or its lever failed."""
    if state.get("proposal_error"):
        return {"outcome": Outcome.failed(state["proposal_error"])}
    validation = state.get("validation")
    if validation is not None and not validation.ok:
        why = f"lever validation failed at {validation.stage}: {validation.message}"
        return {"outcome": Outcome.failed(why)}
    services = runtime.context.services
    outcome = services.run_gate(state["exp_id"], _proposal(state), state.get("lever_path"))
    return {"outcome": outcome}


def record(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    return {"commit": runtime.context.services.record(state)}


def request_training(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Ask the supervisor to approve the researcher's training request (with an estimate)."""
    services = runtime.context.services
    request = _training_request(state)
    payload = {
        **request,
        "type": "training",
        "id": state["exp_id"],
        **services.training_estimate(request),
    }
    answer, update = ask_supervisor(payload, state)
    services.record_event(
        decision_kind(answer),
        request=state["exp_id"],
        note=answer.note,
        training=request,
        command=answer.command,
    )
    return {**update, "decision_note": answer.note}


def train(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    return {"adapter": runtime.context.services.train(_training_request(state), state["exp_id"])}


def _proposal(state: LoopState) -> Proposal:
    """The experiment's proposal (propose always leaves one before the nodes that read it)."""
    proposal = state.get("proposal")
    if proposal is None:
        raise RuntimeError(f"experiment {state.get('exp_id', '?')}: no proposal in the state")
    return proposal


def _training_request(state: LoopState) -> dict[str, Any]:
    request = _proposal(state).training_request
    return request.model_dump() if request else {}


# -- routers --------------------------------------------------------------------------------
def after_check_stop(state: LoopState) -> Literal["propose", "__end__"]:
    return END if state.get("stop_reason") else "propose"


def after_propose(state: LoopState) -> Literal["check_proposal", "__end__"]:
    return END if state.get("stop_reason") else "check_proposal"


def after_check(
    state: LoopState, runtime: Runtime[LoopContext]
) -> Literal["propose", "run_gate", "request_training", "confirm_experiment", "write_lever"]:
    if state.get("feedback"):
        return "propose"
    if state.get("proposal_error"):
        return "run_gate"
    if _proposal(state).training_request:
        return "request_training"
    return "confirm_experiment" if runtime.context.services.supervised else "write_lever"


def after_confirm(state: LoopState) -> Literal["write_lever", "check_stop"]:
    return "write_lever" if state.get("approved") else "check_stop"


def after_request(state: LoopState) -> Literal["train", "check_stop"]:
    return "train" if state.get("approved") else "check_stop"


def polled(name: str, fn: Node) -> Node:
    """`fn` run after the control channel is polled (a pause blocks; notes and stop come in)."""

    def node(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
        control = runtime.context.services.poll(state, name)
        update = fn({**state, **control}, runtime)  # type: ignore[typeddict-item]
        return {**control, **update}

    node.__name__ = name
    return node


NODES: dict[str, Node] = {
    fn.__name__: fn
    for fn in (
        check_stop,
        propose,
        check_proposal,
        confirm_experiment,
        write_lever,
        validate_lever,
        run_gate,
        record,
        request_training,
        train,
    )
}


def checkpoint_serializer() -> JsonPlusSerializer:
    """The checkpointer's serializer, allowed to load back exactly the state's model classes."""
    return JsonPlusSerializer(
        allowed_msgpack_modules=[(cls.__module__, cls.__name__) for cls in STATE_MODELS]
    )


def build_graph(checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    """Compile the researcher graph with `checkpointer`; run it with `context=LoopContext(...)`."""
    graph = StateGraph(LoopState, context_schema=LoopContext)
    for name, fn in NODES.items():
        graph.add_node(name, polled(name, fn))
    graph.add_edge(START, "check_stop")
    graph.add_conditional_edges("check_stop", after_check_stop)
    graph.add_conditional_edges("propose", after_propose)
    graph.add_conditional_edges("check_proposal", after_check)
    graph.add_conditional_edges("confirm_experiment", after_confirm)
    graph.add_edge("write_lever", "validate_lever")
    graph.add_edge("validate_lever", "run_gate")
    graph.add_edge("run_gate", "record")
    graph.add_edge("record", "check_stop")
    graph.add_conditional_edges("request_training", after_request)
    graph.add_edge("train", "check_stop")
    return graph.compile(checkpointer=checkpointer)
