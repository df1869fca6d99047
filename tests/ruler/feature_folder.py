"""A small feature folder written by tests: a support email -> a subject and 3 action items.

Nobody in the project wrote it as a ruler: it is the "minimal form" of docs/features.md, with
five cases and a two-record training pool.
"""

from __future__ import annotations

import json
from pathlib import Path

FEATURE_TOML = '''name = "support_triage"
description = "Reads a customer support email and writes a one-line subject and three action items."
instruction = """Read the support email and answer with JSON: {"subject": "...", \
"actions": ["...", "...", "..."]}.

Email:
{input}"""
input_label = "email"

[output]
type = "object"
required = ["subject", "actions"]
additionalProperties = false

[output.properties.subject]
type = "string"
minLength = 5

[output.properties.actions]
type = "array"
minItems = 3
maxItems = 3
items = { type = "string", minLength = 3 }

[[rubric]]
name = "accuracy"
description = "Does the subject say what the email is about?"
signal = "agreement"
field = "subject"

[[rubric]]
name = "grounded"
description = "Is every action about something the email says?"
score_1 = "Most actions are about things the email never mentions."
score_5 = "Every action follows from the email."
signal = "grounding"
field = "actions"

[[rubric]]
name = "distinct"
description = "Are the three actions different from each other?"
signal = "redundancy"
field = "actions"
'''

CASES = [
    (
        "e1",
        "Hi, I was charged twice for my March invoice. Please refund the duplicate charge of $40 "
        "to my credit card and confirm by email.",
        "Duplicate charge on the March invoice",
        [
            "Refund the duplicate $40 charge to the credit card",
            "Check why the March invoice was charged twice",
            "Confirm the refund to the customer by email",
        ],
    ),
    (
        "e2",
        "My password reset link expired before I could use it, and now the login page says my "
        "account is locked. I need access before my presentation tomorrow morning.",
        "Account locked after an expired password reset",
        [
            "Unlock the customer's account",
            "Send a fresh password reset link",
            "Reply before tomorrow morning's presentation",
        ],
    ),
    (
        "e3",
        "The blender I ordered arrived with a cracked jar. The box looked fine. Can you send a "
        "replacement jar? I don't want to return the whole blender.",
        "Blender delivered with a cracked jar",
        [
            "Ship a replacement blender jar",
            "Tell the customer they need not return the blender",
            "Log the cracked jar as shipping damage",
        ],
    ),
    (
        "e4",
        "I'd like to move my subscription from the monthly plan to the yearly plan, keep my "
        "current discount code, and get an invoice in my company's name.",
        "Switch to the yearly plan with the current discount",
        [
            "Move the subscription to the yearly plan",
            "Carry over the customer's discount code",
            "Issue the invoice in the company's name",
        ],
    ),
    (
        "e5",
        "Your app crashes every time I open the camera tab on my Android phone since the last "
        "update. I've reinstalled twice. Please fix it or tell me how to roll back.",
        "App crashes on the camera tab after the update",
        [
            "Reproduce the camera tab crash on Android",
            "Explain how to roll back to the previous version",
            "Pass the crash report to the mobile team",
        ],
    ),
]
POOL = [
    (
        "t1",
        "The shipping address on my order is wrong; please change it to my office before it ships.",
        "Wrong shipping address on an order",
        [
            "Change the shipping address to the office",
            "Hold the order until it is updated",
            "Confirm the new address to the customer",
        ],
    ),
    (
        "t2",
        "I can't find the receipt for my last purchase. Could you resend it to this address?",
        "Customer needs a receipt resent",
        [
            "Find the last purchase",
            "Resend the receipt to the customer's address",
            "Tell the customer where receipts are kept",
        ],
    ),
]


def record(row: tuple) -> dict:
    rid, text, subject, actions = row
    return {"id": rid, "input": text, "gold": {"subject": subject, "actions": actions}}


def write_folder(path: Path, *, cases: list[dict] | None = None, toml: str = FEATURE_TOML) -> Path:
    """The folder in its import form: feature.toml, cases.jsonl and train.jsonl."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "feature.toml").write_text(toml, encoding="utf-8")
    rows = cases if cases is not None else [record(r) for r in CASES]
    lines = [json.dumps(r) for r in rows]
    (path / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pool = "\n".join(json.dumps(record(r)) for r in POOL) + "\n"
    (path / "train.jsonl").write_text(pool, encoding="utf-8")
    return path
