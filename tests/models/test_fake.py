"""The fake backend: scripted queue, echo, deterministic planner, stop and token counts."""

from __future__ import annotations

import json

from models import GenerationOptions, Message, get_model
from models.backends.fake import FakeModel, task_of
from ruler.plan import QUESTION_COUNT, parse_plan

OPTIONS = GenerationOptions()


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def test_queue_answers_in_order_then_falls_back_to_the_planner():
    model = get_model("fake:scripted")
    model.enqueue("first", "second")
    assert model.generate(user("a"), OPTIONS).text == "first"
    assert model.generate(user("b"), OPTIONS).text == "second"
    fallback = model.generate(user("Task: plan a trip to Paris"), OPTIONS).text
    assert fallback.startswith("Title: ")
    assert [m[0].content for m in model.calls] == ["a", "b", "Task: plan a trip to Paris"]


def test_queue_is_per_spec_and_forgotten_between_tests():
    model = get_model("fake:scripted")
    assert model.calls == [] and not model.queue
    assert get_model("fake:other") is not model


def test_echo_returns_the_last_user_message():
    messages = [*user("one"), Message(role="assistant", content="x"), *user("two")]
    assert get_model("fake:echo").generate(messages, OPTIONS).text == "two"


def test_planner_is_deterministic_and_parses_to_seven_questions():
    planner = FakeModel("planner")
    messages = [Message(role="system", content="plan"), *user("Task: plan a trip to Paris")]
    first = planner.generate(messages, OPTIONS).text
    assert planner.generate(messages, OPTIONS).text == first
    assert FakeModel("planner").generate(messages, OPTIONS).text == first
    parsed = parse_plan(first)
    assert len(parsed.plan.questions) == QUESTION_COUNT
    assert "Paris" in parsed.plan.title
    assert len(set(parsed.plan.questions)) == QUESTION_COUNT


def test_planner_varies_with_the_whole_prompt():
    planner = FakeModel("planner")
    answers = {
        planner.generate(
            [Message(role="system", content=f"variant {i}"), *user("Task: plan a trip to Paris")],
            OPTIONS,
        ).text
        for i in range(6)
    }
    assert len(answers) > 1


def test_planner_answers_json_when_the_prompt_asks_for_it():
    text = FakeModel("planner").generate(
        user("Task: plan a trip to Paris. Answer in JSON"), OPTIONS
    )
    data = json.loads(text.text)
    assert set(data) == {"title", "questions"} and len(data["questions"]) == QUESTION_COUNT
    assert "Json" not in data["title"]


def test_task_of_reads_the_task_line_or_first_sentence():
    assert task_of(user("Task: plan a trip to Paris. Answer in JSON")) == "plan a trip to Paris"
    assert task_of(user("I want to move to Berlin. Before you plan, ask.")) == (
        "I want to move to Berlin"
    )
    assert task_of(user("   ")) == "" and task_of([]) == ""


def test_stop_sequences_and_max_tokens_cut_the_text():
    model = get_model("fake:cut")
    model.enqueue("alpha beta\n8. gamma", "one two three four five")
    assert model.generate(user("x"), GenerationOptions(stop=["\n8."])).text == "alpha beta"
    assert model.generate(user("x"), GenerationOptions(max_tokens=3)).text == "one two three"


def test_token_counts_are_word_counts():
    model = get_model("fake:count")
    model.enqueue("four words right here")
    messages = [Message(role="system", content="two words"), *user("three more words")]
    completion = model.generate(messages, OPTIONS)
    assert (completion.input_tokens, completion.output_tokens) == (5, 4)
    assert completion.model_id == "fake:count" and completion.cost_usd == 0.0


def test_batch_answers_each_in_order():
    model = get_model("fake:batch")
    model.enqueue("a", "b", "c")
    completions = model.generate_batch([user("1"), user("2"), user("3")], OPTIONS)
    assert [c.text for c in completions] == ["a", "b", "c"]
    assert model.generate_batch([], OPTIONS) == []
