"""Cross-case batching of model calls: case threads wait, one `generate_batch` answers them all.

Every case of a run runs the pipeline in its own thread. A call waits until every live case
thread is waiting too (or has finished); then the calls are grouped by (model, options) and each
group becomes one `generate_batch`. A single-call pipeline over N cases is thus exactly one
batched call, and a multi-call lever is batched per stage without knowing it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from models.base import ChatModel, Completion, GenerationOptions, Message
from models.registry import get_model


@dataclass
class CallRequest:
    order: tuple[int, int]
    model_spec: str
    messages: list[Message]
    options: GenerationOptions
    result: Completion | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class CallBatcher:
    """Collects calls from `active` case threads; flushes when all of them wait."""

    active: int
    max_batch: int = 32
    batches: int = 0
    _pending: list[CallRequest] = field(default_factory=list)
    _waiting: int = 0  # threads whose calls are pending
    _cv: threading.Condition = field(default_factory=threading.Condition)

    def call_many(self, requests: list[CallRequest]) -> list[Completion]:
        """Submit one thread's calls; block until they are answered; raise the first error."""
        with self._cv:
            self._pending.extend(requests)
            self._waiting += 1
            self._maybe_flush()
            while not all(r.done for r in requests):
                self._cv.wait()
        for r in requests:
            if r.error is not None:
                raise r.error
        return [r.result for r in requests]  # type: ignore[misc]

    def leave(self) -> None:
        """A case thread finished: the others may no longer need to wait for it."""
        with self._cv:
            self.active -= 1
            self._maybe_flush()

    def _maybe_flush(self) -> None:
        if not self._pending or self._waiting < self.active:
            return
        pending, self._pending = sorted(self._pending, key=lambda r: r.order), []
        self._waiting = 0  # every waiting thread's calls are in this flush
        groups: dict[tuple[str, str], list[CallRequest]] = {}
        for r in pending:
            groups.setdefault((r.model_spec, r.options.model_dump_json()), []).append(r)
        for group in groups.values():
            for start in range(0, len(group), self.max_batch):
                self._run(group[start : start + self.max_batch])
        self._cv.notify_all()

    def _run(self, group: list[CallRequest]) -> None:
        self.batches += 1
        try:
            model: ChatModel = get_model(group[0].model_spec)
            completions = model.generate_batch([r.messages for r in group], group[0].options)
            if len(completions) != len(group):
                raise RuntimeError(f"{model.model_id} answered {len(completions)} of {len(group)}")
            for r, c in zip(group, completions, strict=True):
                r.result = c
        except Exception as exc:  # each waiting case sees the error and fails alone
            for r in group:
                r.error = exc
        for r in group:
            r.done = True
