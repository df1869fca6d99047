"""The driver: one LangGraph state machine runs every experiment, whatever the number of workers.

check_stop → plan → [confirm_experiment] → run_pool → record_ready → check_stop, and
plan → request_training → [train] → check_stop for a training request.

- **plan** fills the free worker slots: it asks the researcher for that many proposals, seeing
  the experiments not yet recorded as running ones, and screens them (`pool.plan`: a repeat of
  an agent already run or in flight, training that cannot run here; a batch refused whole goes
  back with the reasons). The first experiment of a workspace is always the stock agent.
- **confirm_experiment** (supervised mode) asks the supervisor to approve each planned
  experiment before it starts (an `interrupt()`); a denied one is dropped.
- **run_pool** starts what is planned, each in a driver thread that borrows a worker
  (the in-process pool of one slot by default, K slots with `--parallel K`, Ray actors with
  `--ray`), and waits for the first to finish.
- **record_ready** commits every finished experiment below the lowest one still in flight, in id
  order, deciding keep or discard against the best at that moment, so the outcome does not
  depend on which worker finished first (`ruler.keep_policy` decides, through
  `orchestrator.gates`).
- A training request waits until nothing is in flight, then asks the supervisor
  (request_training) and, on approval, trains.

Nodes are module-level functions over `LoopState`; what they do to the world comes from the
services in the run's context (`graph.stream(..., context=LoopContext(services))`). The
experiments in flight and the finished ones waiting for their turn are checkpointed, so a driver
killed at any point re-runs only those in flight, and record_ready skips what is already
recorded. Every side effect is idempotent or lives after the interrupt in its node, because a
node resumed after a crash runs again from its top.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict

from orchestrator.control import TrainingGrant
from orchestrator.pool.plan import PlanServices, plan_batch
from orchestrator.state import STATE_MODELS, ExperimentRun, LoopState, Planned, TrainingBudget


class Services(PlanServices, Protocol):
    """What the graph needs from the world (`orchestrator.services.WorkspaceServices`)."""

    supervised: bool

    def poll(self, state: LoopState, node: str) -> dict[str, Any]: ...
    def stop_reason(self, state: LoopState) -> str: ...
    def free_slots(self, planned: int, running: int) -> int: ...
    def start_and_await_first(self, flying: list[Planned]) -> dict[str, ExperimentRun]: ...
    def record_planned(self, planned: Planned, run: ExperimentRun) -> str: ...
    def train(self, request: dict[str, Any], exp_id: str) -> str: ...
    def training_estimate(self, request: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LoopContext:
    """The run's context: the services every node reaches through `runtime.context`."""

    services: Services


class Answer(BaseModel):
    """The supervisor's answer to an interrupt, as the loop resumes the graph with it."""

    model_config = ConfigDict(extra="forbid")

    approved: bool = False
    note: str = ""
    stop: bool = False
    offset: int | None = None
    command: str = ""  # the id of the control command that gave this answer
    grant: TrainingGrant | None = None  # a training budget that comes with an approval


def budget_of(answer: Answer) -> TrainingBudget | None:
    """What an approval's grant leaves for later training requests: up to `trainings - 1`
    more, within `minutes` when given (None: nothing left, or no grant)."""
    grant = answer.grant
    if not answer.approved or grant is None:
        return None
    more = None if grant.trainings is None else grant.trainings - 1
    if more == 0 or (more is None and grant.minutes is None):
        return None
    return TrainingBudget(
        trainings_left=more,
        until=time.time() + grant.minutes * 60 if grant.minutes else None,
        granted_by=answer.command,
    )


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


# -- what the state says --------------------------------------------------------------------
def waiting_training(state: LoopState) -> bool:
    """A training request is proposed and waits for the experiments in flight to finish."""
    proposal = state.get("proposal")
    return proposal is not None and proposal.training_request is not None


def in_flight(state: LoopState) -> list[Planned]:
    """The experiments planned and not finished, in id order."""
    finished = state.get("finished") or {}
    return [p for exp, p in sorted((state.get("planned") or {}).items()) if exp not in finished]


def unapproved(state: LoopState, supervised: bool) -> list[Planned]:
    """The planned experiments the supervisor has yet to approve (supervised mode only; an
    experiment that already failed at its proposal is recorded without asking)."""
    if not supervised:
        return []
    return [p for p in in_flight(state) if not p.approved and not p.proposal_error]


# -- nodes ----------------------------------------------------------------------------------
def check_stop(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Why the run ends here (a stop or a spent budget), or '' to go on; a run that ends drops
    the experiments the supervisor has not approved (they never started)."""
    services = runtime.context.services
    reason = services.stop_reason(state)
    asked = {p.exp_id for p in unapproved(state, services.supervised)}
    if not reason or not asked:
        return {"stop_reason": reason}
    planned = {e: p for e, p in (state.get("planned") or {}).items() if e not in asked}
    return {"stop_reason": reason, "planned": planned}


def plan(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Proposals until every free slot has one, with consecutive ids after every id taken. A
    training request waits until nothing is in flight (it is kept aside when it comes first,
    else asked for again later); a researcher with nothing left to try ends the run once the
    experiments in flight are recorded."""
    services = runtime.context.services
    if waiting_training(state):
        return {}
    planned = dict(state.get("planned") or {})
    finished = state.get("finished") or {}
    notes = list(state.get("notes") or [])
    update: dict[str, Any] = {"notes": []}
    added = False
    while slots := services.free_slots(len(planned), len(planned.keys() - finished.keys())):
        batch = plan_batch(services, notes, slots, planned)
        if batch.stop:
            return (
                {**update, "planned": planned} if added else {**update, "stop_reason": batch.stop}
            )
        new = [
            Planned(
                exp_id=f"{batch.first + i:03d}",
                proposal=p,
                proposal_error=batch.error,
                notes_seen=notes,
            )
            for i, p in enumerate(batch.proposals)
        ]
        training = next(
            (p for p in new if p.proposal.training_request and not p.proposal_error), None
        )
        if training is not None:
            if added:
                break
            return {**update, "exp_id": training.exp_id, "proposal": training.proposal}
        planned.update((p.exp_id, p) for p in new)
        added = True
        if batch.error:  # one failed experiment; the researcher is asked again later
            break
    return {**update, "planned": planned}


def confirm_experiment(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Supervised mode: the supervisor approves or denies the next planned experiment; a denied
    one is dropped (its id is free again)."""
    services = runtime.context.services
    waiting = unapproved(state, services.supervised)
    if not waiting:
        return {}
    asked = waiting[0]
    payload = {"type": "experiment", "id": asked.exp_id, "hypothesis": asked.proposal.hypothesis}
    answer, update = ask_supervisor(payload, state)
    planned = dict(state.get("planned") or {})
    if answer.approved:
        planned[asked.exp_id] = asked.model_copy(update={"approved": True})
    else:
        del planned[asked.exp_id]
        services.record_event(
            decision_kind(answer), request=asked.exp_id, note=answer.note, command=answer.command
        )
    return {**update, "planned": planned}


def run_pool(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Start the planned experiments; wait for the first to finish."""
    flying = in_flight(state)
    if not flying:
        return {}
    done = runtime.context.services.start_and_await_first(flying)
    return {"finished": {**(state.get("finished") or {}), **done}}


def record_ready(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Commit, in id order, every finished experiment below the lowest one still in flight."""
    services = runtime.context.services
    planned = dict(state.get("planned") or {})
    finished = dict(state.get("finished") or {})
    lowest = next((p.exp_id for p in in_flight(state)), None)
    commit = ""
    for exp in sorted(finished):
        if lowest is not None and exp > lowest:
            break
        commit = services.record_planned(planned.pop(exp), finished.pop(exp)) or commit
    return {"planned": planned, "finished": finished, "commit": commit}


def request_training(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Ask the supervisor to approve the researcher's training request (with an estimate),
    unless a grant covers it; a denied request is settled (the researcher goes on)."""
    services = runtime.context.services
    request = _training_request(state)
    budget = state.get("training_budget")
    if budget is not None and budget.covers(time.time()):
        left = budget.spend()
        services.record_event(
            "approved",
            request=state["exp_id"],
            note=f"within the training budget granted by {budget.granted_by} ({_left(left)})",
            training=request,
            command=f"{budget.granted_by}/{state['exp_id']}",  # logged once, however resumed
        )
        return {"approved": True, "training_budget": left, "decision_note": "within the budget"}
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
        **({"grant": answer.grant.model_dump()} if answer.approved and answer.grant else {}),
    )
    settled = {} if answer.approved else {"proposal": None}
    granted = budget_of(answer)
    return {**update, **settled, "decision_note": answer.note, "training_budget": granted}


def _left(budget: TrainingBudget) -> str:
    parts = []
    if budget.trainings_left is not None:
        parts.append(f"{budget.trainings_left} more training(s)")
    if budget.until is not None:
        parts.append(f"until {time.strftime('%H:%M', time.localtime(budget.until))}")
    return " or ".join(parts) + " left"


def train(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    adapter = runtime.context.services.train(_training_request(state), state["exp_id"])
    return {"adapter": adapter, "proposal": None}


def _training_request(state: LoopState) -> dict[str, Any]:
    proposal = state.get("proposal")
    if proposal is None or proposal.training_request is None:
        raise RuntimeError(f"experiment {state.get('exp_id', '?')}: no training request")
    return proposal.training_request.model_dump()


# -- routers --------------------------------------------------------------------------------
Next = Literal["plan", "confirm_experiment", "run_pool", "request_training", "__end__"]


def after_check_stop(state: LoopState) -> Next:
    """On, or (stopping) first the experiments not yet recorded, then the end."""
    if state.get("stop_reason"):
        return "run_pool" if state.get("planned") else END
    return "plan"


def after_plan(state: LoopState, runtime: Runtime[LoopContext]) -> Next:
    """To the experiments (each approved first in supervised mode); to a training request once
    nothing else is in flight."""
    if state.get("stop_reason"):
        return after_check_stop(state)
    if waiting_training(state) and not state.get("planned"):
        return "request_training"
    if unapproved(state, runtime.context.services.supervised):
        return "confirm_experiment"
    return "run_pool"


def after_confirm(
    state: LoopState, runtime: Runtime[LoopContext]
) -> Literal["confirm_experiment", "run_pool", "check_stop"]:
    if state.get("stop_requested"):
        return "check_stop"
    if unapproved(state, runtime.context.services.supervised):
        return "confirm_experiment"
    return "run_pool" if in_flight(state) else "check_stop"


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
        plan,
        confirm_experiment,
        run_pool,
        record_ready,
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
    """Compile the driver graph with `checkpointer`; run it with `context=LoopContext(...)`."""
    graph = StateGraph(LoopState, context_schema=LoopContext)
    for name, fn in NODES.items():
        graph.add_node(name, polled(name, fn))
    graph.add_edge(START, "check_stop")
    graph.add_conditional_edges("check_stop", after_check_stop)
    graph.add_conditional_edges("plan", after_plan)
    graph.add_conditional_edges("confirm_experiment", after_confirm)
    graph.add_edge("run_pool", "record_ready")
    graph.add_edge("record_ready", "check_stop")
    graph.add_conditional_edges("request_training", after_request)
    graph.add_edge("train", "check_stop")
    return graph.compile(checkpointer=checkpointer)
