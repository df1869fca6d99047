"""A feature's output contract: its JSON Schema, an answer parsed from model text, the first
breach named with its JSON pointer, and dotted field paths ("points[].detail").

A feature's answer is one JSON value; the contract is the feature's `[output]` schema (JSON
Schema draft 2020-12). An answer that is not JSON or fails the schema breaks the contract and is
a failed case (see ruler.judges.base). Paths: "summary" is that key; "points" is the array;
"points[].detail" is that key of every item; "" is the whole answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


def schema_problem(schema: dict) -> str:
    """Why `schema` is not a well-formed JSON Schema (draft 2020-12), or ''."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = pointer(exc.absolute_path)
        return f"at {where or '/'}: {exc.message}"
    return ""


def pointer(path) -> str:
    """A JSON pointer ('/points/1/sentiment') for a jsonschema path deque."""
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in path)


def first_error(schema: dict, value: Any) -> ValidationError | None:
    """The most relevant schema violation of `value`, or None when it conforms."""
    return best_match(Draft202012Validator(schema).iter_errors(value))


def describe(error: ValidationError) -> str:
    """'at /points/1/sentiment: 'neutral' is not one of ['pro', 'con']' (the root is '/')."""
    return f"at {pointer(error.absolute_path) or '/'}: {error.message}"


def parse_json_answer(text: str, schema: dict, feature: str = "") -> tuple[Any, str]:
    """(the JSON value, '') recovered from model text, or (None, why): a fenced block first,
    then the text itself, then its outermost object (or array, when the schema wants one), then
    the parser a plugin registered for `feature` (ruler.plugins), if any."""
    raw = (text or "").strip()
    candidates = [m.group(1) for m in _FENCE.finditer(raw)] + [raw]
    opening, closing = ("[", "]") if schema.get("type") == "array" else ("{", "}")
    start, end = raw.find(opening), raw.rfind(closing)
    if start != -1 and end > start:
        candidates.append(raw[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate), ""
        except (json.JSONDecodeError, ValueError):
            continue
    if raw and feature:
        from ruler.plugins import plugin_parse  # the plugin manager only when JSON failed

        value, failed = plugin_parse(feature, raw)
        if value is not None:
            return value, ""
        if failed:
            return None, f"not JSON; {failed}"
    return None, "not JSON" if raw else "empty answer"


def breach(text: str, schema: dict, feature: str = "") -> tuple[Any, str]:
    """(the parsed answer, how it breaks the contract or ''); `feature` names whose plugin
    parser may read free text (its answer is checked against the schema all the same)."""
    value, why = parse_json_answer(text, schema, feature)
    if why:
        return None, why
    error = first_error(schema, value)
    return value, describe(error) if error is not None else ""


def split_path(path: str) -> list[str]:
    """'points[].detail' -> ['points', '[]', 'detail']; '' -> []."""
    steps: list[str] = []
    for part in (p for p in path.split(".") if p):
        name = part.removesuffix("[]")
        if name:
            steps.append(name)
        if part.endswith("[]"):
            steps.append("[]")
    return steps


def split_at_items(path: str) -> tuple[list[str], list[str]]:
    """Where a path enters its last array: 'points[].detail' -> (['points'], ['detail']),
    'points' -> ([], ['points']) (no '[]': no array parent)."""
    steps = split_path(path)
    if "[]" not in steps:
        return [], steps
    cut = len(steps) - steps[::-1].index("[]")
    return steps[: cut - 1], steps[cut:]


def select(value: Any, path: str) -> list[Any]:
    """Every value at `path` in an answer (missing keys give nothing): a key of each item for
    '[]' steps, the array itself otherwise."""
    found = [value]
    for step in split_path(path):
        nxt: list[Any] = []
        for item in found:
            if step == "[]":
                nxt.extend(item if isinstance(item, list) else [])
            elif isinstance(item, dict) and step in item:
                nxt.append(item[step])
        found = nxt
    return found


def schema_at(schema: dict, path: str) -> dict | None:
    """The sub-schema a path points at, or None when the schema has no such field."""
    node: dict | None = schema
    for step in split_path(path):
        if node is None:
            return None
        node = node.get("items") if step == "[]" else node.get("properties", {}).get(step)
        if node is not None and not isinstance(node, dict):
            return None
    return node


def field_paths(schema: dict, prefix: str = "") -> list[str]:
    """Every dotted path a schema declares (for error messages naming the known fields)."""
    paths = []
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        here = f"{prefix}.{key}" if prefix else key
        paths.append(here)
        items = sub.get("items")
        if isinstance(items, dict):
            paths += field_paths(items, f"{here}[]")
        paths += field_paths(sub, here)
    return paths


def text_of(value: Any) -> str:
    """A value as plain text for embeddings: strings as is, objects as 'key: value' lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "; ".join(f"{k}: {text_of(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(text_of(v) for v in value)
    return "" if value is None else json.dumps(value)
