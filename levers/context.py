"""The per-case pipeline context: the task, the prompt being built, the draft, and `ctx.call`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from levers.adapters import adapter_kind
from levers.batching import CallBatcher, CallRequest
from levers.feature import PLANNER, FeatureSpec
from levers.pool import Example
from levers.trace import TraceNode
from models.base import Completion, GenerationOptions, Message

if TYPE_CHECKING:
    from levers.config import AgentConfig


@dataclass
class Context:
    """Everything a lever sees for one case; every model call goes through `call`."""

    case_id: str
    task: str
    config: AgentConfig
    options: GenerationOptions
    batcher: CallBatcher
    index: int = 0
    workspace: Path | None = None
    feature: FeatureSpec = PLANNER
    examples: list[Example] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    draft: str = ""
    stage: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    trace: list[TraceNode] = field(default_factory=list)
    _calls: int = 0

    @property
    def model(self) -> str:
        """The agent's model spec."""
        return self.config.model

    def context_messages(self) -> list[Message]:
        """What earlier levers set before the request: system text, few-shot and RAG turns."""
        messages = list(self.messages)
        if messages and messages[-1].role == "user":
            messages.pop()
        return messages

    def with_instruction(self, instruction: str) -> list[Message]:
        """The context earlier levers built, then this lever's own instruction as the user turn.

        Multi-call and refining levers call this instead of building a prompt from scratch, so
        a system prompt, few-shot examples and retrieved examples reach every one of their
        calls; before `build_messages` has run, the examples are rendered by the prompt lever.
        """
        base = self.context_messages() if self.messages else self.example_messages()
        return [*base, Message(role="user", content=instruction)]

    def example_messages(self) -> list[Message]:
        """The examples as earlier turns (the default prompt lever's rendering)."""
        from levers.builtin.prompt import PromptLever

        return PromptLever().messages_for(self)[:-1]

    def enabled(self, name: str) -> bool:
        """Whether the lever `name` is enabled in this agent."""
        return any(spec.name == name and spec.enabled for spec in self.config.levers)

    def call(
        self,
        model: str | None,
        messages: list[Message],
        options: GenerationOptions | None = None,
        *,
        label: str = "call",
    ) -> Completion:
        """Call a model (None: the agent's) once; batched with the other cases; traced."""
        return self.call_many(model, [messages], options, label=label)[0]

    def call_many(
        self,
        model: str | None,
        batch: list[list[Message]],
        options: GenerationOptions | None = None,
        *,
        label: str = "call",
    ) -> list[Completion]:
        """Several independent calls of this case at once (one trace layer, one batch)."""
        spec = model or self.config.model
        opts = options or self.options
        requests = []
        for messages in batch:
            requests.append(CallRequest((self.index, self._calls), spec, list(messages), opts))
            self._calls += 1
        completions = self.batcher.call_many(requests)
        for completion in completions:
            self.trace.append(self._node(completion, opts, label))
        return completions

    def _node(self, completion: Completion, options: GenerationOptions, label: str) -> TraceNode:
        adapter = options.adapter
        return TraceNode(
            kind="adapter_inference" if adapter else "inference",
            label=label,
            stage=self.stage,
            model_id=completion.model_id,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            seconds=round(completion.seconds, 4),
            cost_usd=completion.cost_usd or 0.0,
            adapter_kind=adapter_kind(Path(adapter)) if adapter else None,
        )

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Record a pure-Python stage (retrieval, pruning) as a trace node."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.trace.append(
                TraceNode(
                    kind="python_step",
                    label=label,
                    stage=self.stage,
                    seconds=round(time.perf_counter() - started, 4),
                )
            )
