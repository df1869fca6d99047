"""`autoresearch run --parallel K`: up to K experiments in flight at once, on Ray workers (or
the pool in this process, `ParallelOptions(local=True)`).

check_stop → propose_more → collect → record_ready → check_stop. propose_more fills the free
worker slots: it asks the researcher for that many proposals, seeing the experiments in flight
as running ones, and screens them with check_proposal's `refusal` (a repeat of an agent already
run or in flight, training that cannot run here; a batch refused whole goes back with the
reasons). collect starts what is planned (each experiment in a driver thread that borrows a Ray
worker, see `orchestrator.ray_workers`) and waits for the first to finish; record_ready commits
every finished experiment below the lowest one still in flight, in id order, deciding keep or
discard against the best at that moment, so the outcome does not depend on which worker
finished first. A worker is never idle waiting for a slow neighbour: the next proposal starts
as soon as one finishes (a straggler, such as one promoted to its full-30 gate, holds only the
recording of the ids above it). The baseline and a training request run alone: a training
request waits until nothing is in flight, then goes to graph.py's request_training → train.

The driver alone touches git: an experiment's agent folder is prepared under
`.autoresearch/parallel/<id>/agent`. The experiments in flight and the finished ones waiting
for their turn are checkpointed with the graph's state, so a driver killed at any point
re-runs only those in flight; record_ready skips what is already recorded. A worker that dies
fails its experiment, with the reason, never the loop.

The nodes and the graph are here; `orchestrator.pool` holds the checkpointed state, the batch
planning, the services and the local pool. An experiment is validated, compared with the best
and decided by the same functions as the sequential loop's (`orchestrator.lever_check`,
`orchestrator.gates`, `ruler.keep_policy`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from orchestrator.graph import (
    NODES,
    LoopContext,
    after_request,
    polled,
)
from orchestrator.pool.local import LocalPool
from orchestrator.pool.plan import plan_batch
from orchestrator.pool.services import ParallelServices
from orchestrator.pool.state import (
    PARALLEL_MODELS,
    Finished,
    ParallelOptions,
    ParallelState,
    Planned,
)
from orchestrator.ray_workers import (
    WorkerPool,
    connect,
    require_ray,
)

__all__ = [
    "THREAD",
    "Finished",
    "ParallelOptions",
    "ParallelServices",
    "Planned",
    "build_parallel_graph",
    "parallel_serializer",
    "plan_batch",
    "workers",
]

THREAD = "parallel"  # the checkpoint thread of parallel runs (the default loop's is "loop")


# -- nodes ----------------------------------------------------------------------------------
def _services(runtime: Runtime[LoopContext]) -> ParallelServices:
    return runtime.context.services  # type: ignore[return-value]


def waiting_training(state: ParallelState) -> bool:
    """A training request is proposed and waits for the experiments in flight to finish."""
    proposal = state.get("proposal")
    return proposal is not None and proposal.training_request is not None


def in_flight(state: ParallelState) -> list[Planned]:
    """The experiments planned and not finished, in id order."""
    finished = state.get("finished") or {}
    return [p for exp, p in sorted((state.get("planned") or {}).items()) if exp not in finished]


def propose_more(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Proposals until every free slot has one, with consecutive ids after every id taken. A
    training request waits until nothing is in flight (it is kept aside when it comes first,
    else asked for again later); a researcher with nothing left to try ends the run once the
    experiments in flight are recorded."""
    services = _services(runtime)
    if waiting_training(state):
        return {}
    planned = dict(state.get("planned") or {})
    finished = state.get("finished") or {}
    notes = list(state.get("notes") or [])
    update: dict[str, Any] = {"notes": [], "notes_seen": notes, "outcome": None}
    added = False
    while slots := services.free_slots(len(planned), len(planned.keys() - finished.keys())):
        plan = plan_batch(services, notes, slots, planned)
        if plan.stop:
            return {**update, "planned": planned} if added else {**update, "stop_reason": plan.stop}
        new = [
            Planned(
                exp_id=f"{plan.first + i:03d}",
                proposal=p,
                proposal_error=plan.error,
                notes_seen=notes,
            )
            for i, p in enumerate(plan.proposals)
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
        if plan.error:  # one failed experiment; the researcher is asked again later
            break
    return {**update, "planned": planned}


def collect(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Start the planned experiments; wait for the first to finish."""
    flying = in_flight(state)
    if not flying:
        return {}
    done = _services(runtime).first_finished(flying)
    return {"finished": {**(state.get("finished") or {}), **done}}


def record_ready(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """Commit, in id order, every finished experiment below the lowest one still in flight."""
    services = _services(runtime)
    planned = dict(state.get("planned") or {})
    finished = dict(state.get("finished") or {})
    lowest = next((p.exp_id for p in in_flight(state)), None)
    commit = ""
    for exp in sorted(finished):
        if lowest is not None and exp > lowest:
            break
        commit = services.record_planned(planned.pop(exp), finished.pop(exp)) or commit
    return {"planned": planned, "finished": finished, "commit": commit}


def request_training(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    """graph.py's request_training; a denied request is settled (the researcher goes on)."""
    update = NODES["request_training"](state, runtime)
    return update if update.get("approved") else {**update, "proposal": None}


def train(state: ParallelState, runtime: Runtime[LoopContext]) -> dict[str, Any]:
    return {**NODES["train"](state, runtime), "proposal": None}


# -- routers --------------------------------------------------------------------------------
Next = Literal["propose_more", "collect", "request_training", "__end__"]


def after_check_stop(state: ParallelState) -> Next:
    """On, or (stopping) first the experiments not yet recorded, then the end."""
    if state.get("stop_reason"):
        return "collect" if state.get("planned") else END
    return "propose_more"


def after_propose(state: ParallelState) -> Next:
    """To the experiments; to a training request once nothing else is in flight."""
    if state.get("stop_reason"):
        return after_check_stop(state)
    if waiting_training(state) and not state.get("planned"):
        return "request_training"
    return "collect"


def parallel_serializer() -> JsonPlusSerializer:
    """The checkpointer's serializer, allowed to load back exactly the state's model classes
    (and `Planned`/`Finished` under this module's name, where a run of an earlier layout left
    them: this module re-exports both)."""
    allowed = [(cls.__module__, cls.__name__) for cls in PARALLEL_MODELS]
    legacy = [(__name__, cls.__name__) for cls in (Planned, Finished)]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed + legacy)


def build_parallel_graph(checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    graph = StateGraph(ParallelState, context_schema=LoopContext)
    nodes = {
        "check_stop": polled("check_stop", NODES["check_stop"]),
        "propose_more": polled("propose_more", propose_more),
        "collect": polled("collect", collect),
        "record_ready": polled("record_ready", record_ready),
        "request_training": polled("request_training", request_training),
        "train": polled("train", train),
    }
    for name, fn in nodes.items():  # the whole state in (polled's signature names LoopState)
        graph.add_node(name, fn, input_schema=ParallelState)
    graph.add_edge(START, "check_stop")
    graph.add_conditional_edges("check_stop", after_check_stop)
    graph.add_conditional_edges("propose_more", after_propose)
    graph.add_edge("collect", "record_ready")
    graph.add_edge("record_ready", "check_stop")
    graph.add_conditional_edges("request_training", after_request)
    graph.add_edge("train", "check_stop")
    return graph.compile(checkpointer=checkpointer)


@contextmanager
def workers(
    services: ParallelServices, options: ParallelOptions
) -> Iterator[WorkerPool | LocalPool]:
    """The pool for one run: in this process (`options.local`), or Ray's (local, or the
    cluster at `options.address`)."""
    ray, started = None, False
    if options.local:
        services.pool = LocalPool(options.workers)
    else:
        ray = require_ray()
        cpus = math.ceil(options.workers * options.cpus_per_worker)
        started = connect(ray, options.address, cpus)
    try:
        if ray is not None:
            services.pool = WorkerPool(ray, options.workers, options.cpus_per_worker)
        services.threads = ThreadPoolExecutor(options.workers, thread_name_prefix="experiment")
        yield services.pool
    finally:  # a driver stopped by an error leaves the experiments in flight to the resume
        if services.threads is not None:
            services.threads.shutdown(wait=False, cancel_futures=True)
        services.pool = None
        services.threads = None
        services.running.clear()
        if started and ray is not None:
            ray.shutdown()
