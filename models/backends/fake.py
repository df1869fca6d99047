"""Deterministic fake models for tests: a scripted queue, an echo, a rule-based planner.

`fake:echo` answers with the last user message; `fake:planner` writes a title and seven
questions built from the task's own words (varying with the whole prompt, so different
pipelines give different, reproducible answers); any other name is a queue you fill with
`model.enqueue("answer", ...)`, falling back to the planner when the queue is empty.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import deque

from models.base import Completion, GenerationOptions, Message, ModelError, ModelInfo, apply_stop
from models.hookspecs import hookimpl

# fmt: off
_STOPWORDS = {
    "a", "an", "the", "to", "for", "my", "our", "of", "in", "on", "and", "with", "from", "at",
    "i", "me", "we", "your", "into", "about", "plan", "how", "want", "need",
}
# fmt: on

_TEMPLATES = (
    "What is your total budget for {topic}?",
    "When do you want {topic} to be finished?",
    "Who else is involved in {topic}?",
    "What does success look like for {topic}?",
    "What have you already tried for {topic}?",
    "Which constraints could block {topic}?",
    "How much time per week can you give {topic}?",
    "What is the single most important outcome of {topic}?",
    "Which part of {topic} worries you most?",
    "Where will {topic} take place?",
)


def count_tokens(text: str) -> int:
    return max(1, len(text.split())) if text else 0


def task_of(messages: list[Message]) -> str:
    """The task a planner prompt is about: the first sentence of its 'Task:' line, else of the
    last user message ("I want to plan a trip to Paris. Before you ..." -> its first sentence)."""
    last = next((m.content for m in reversed(messages) if m.role == "user"), "")
    match = re.search(r"Task:\s*(.+)", last)
    text = (match.group(1) if match else last).strip()
    first = re.split(r"(?<=[.?!])\s|\n", text, maxsplit=1)[0]
    return first.strip().rstrip(".?!")


def planner_answer(messages: list[Message]) -> str:
    task = task_of(messages)
    words = [w for w in re.findall(r"[A-Za-z0-9$']+", task) if w.lower() not in _STOPWORDS]
    topic = " ".join(words[:4]) or "this task"
    digest = hashlib.sha256("".join(m.content for m in messages).encode()).digest()
    start = digest[0] % len(_TEMPLATES)
    questions = [_TEMPLATES[(start + i) % len(_TEMPLATES)].format(topic=topic) for i in range(7)]
    plan = {"title": f"Planning: {topic.title()}", "questions": questions}
    prompt = " ".join(m.content for m in messages).lower()
    if "json" in prompt:
        return json.dumps(plan)
    lines = [f"Title: {plan['title']}"] + [f"{i}. {q}" for i, q in enumerate(questions, 1)]
    return "\n".join(lines)


class FakeModel:
    def __init__(self, name: str) -> None:
        # `planner@0.2`: the planner answering after 0.2 s a call (latency-bound benchmarks)
        base, _, latency = name.partition("@")
        try:
            self.latency = float(latency) if latency else 0.0
        except ValueError:
            raise ModelError(
                f"fake:{name}: the latency after @ is seconds, e.g. fake:planner@0.2"
            ) from None
        self.name = base
        self.model_id = f"fake:{name}"
        self.queue: deque[str] = deque()
        self.calls: list[list[Message]] = []

    def enqueue(self, *answers: str) -> None:
        self.queue.extend(answers)

    def _answer(self, messages: list[Message]) -> str:
        if self.queue:
            return self.queue.popleft()
        if self.name == "echo":
            return next((m.content for m in reversed(messages) if m.role == "user"), "")
        return planner_answer(messages)

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        started = time.perf_counter()
        if self.latency:
            time.sleep(self.latency)
        self.calls.append(list(messages))
        text = apply_stop(self._answer(messages), options.stop)
        words = text.split()
        if len(words) > options.max_tokens:
            text = " ".join(words[: options.max_tokens])
        return Completion(
            text=text,
            input_tokens=sum(count_tokens(m.content) for m in messages),
            output_tokens=count_tokens(text),
            seconds=time.perf_counter() - started,
            model_id=self.model_id,
            cost_usd=0.0,
        )

    def generate_batch(
        self, batch: list[list[Message]], options: GenerationOptions
    ) -> list[Completion]:
        return [self.generate(messages, options) for messages in batch]


@hookimpl
def register_models(register):
    def known() -> list[ModelInfo]:
        return [
            ModelInfo(
                spec="fake:planner",
                backend="fake",
                available=True,
                description="rule-based planner answers, deterministic (tests)",
            ),
            ModelInfo(
                spec="fake:echo",
                backend="fake",
                available=True,
                description="echoes the last user message (tests)",
            ),
        ]

    register("fake", FakeModel, known)
