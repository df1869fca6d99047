"""`--check` expressions such as `coverage>=3 and quality>0.4`, parsed safely (no eval).

Grammar: `or` / `and` / `not`, comparisons (`< <= > >= == !=`), `+ - * /`, parentheses,
numbers and names. Names: quality, the five dimension means (atomicity, specificity, coverage,
naturalness, non_redundancy), wins, ties, losses, cases, low and high (the quality interval),
and delta (quality minus the baseline, when the result carries a comparison).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from models.base import AutoresearchError
from ruler.records import DIMENSIONS, GateResult

# `eval --check` exit codes, as `git bisect run` reads them: holds, fails, cannot evaluate (skip);
# a malformed check is 128, which makes `git bisect run` stop
CHECK_HOLDS, CHECK_FAILS, CANNOT_EVALUATE, BAD_CHECK = 0, 1, 125, 128

NAMES: tuple[str, ...] = (
    "quality",
    *DIMENSIONS,
    "wins",
    "ties",
    "losses",
    "cases",
    "low",
    "high",
    "delta",
)
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<name>non-redundancy|[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)))"
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


class CheckError(AutoresearchError):
    """A `--check` expression that does not parse, or names something unknown."""


@dataclass(frozen=True)
class Node:
    op: str  # "num", "name", "not", "and", "or", a comparison or an arithmetic operator
    args: tuple = ()
    value: float | str = 0.0


def _tokenize(expr: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if not match:
            raise CheckError(
                f"check {expr!r}: cannot read {expr[pos:].strip()!r} (column {pos + 1})"
            )
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "name" and text in ("and", "or", "not"):
            kind = "op"
        tokens.append((kind, text.replace("-", "_") if kind == "name" else text, match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        if self.i >= len(self.tokens):
            raise CheckError(f"check {self.expr!r}: ends too early")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Node:
        node = self.or_()
        if self.i < len(self.tokens):
            _, text, col = self.tokens[self.i]
            raise CheckError(f"check {self.expr!r}: unexpected {text!r} (column {col + 1})")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek() == "or":
            self.take()
            node = Node("or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.peek() == "and":
            self.take()
            node = Node("and", (node, self.not_()))
        return node

    def not_(self) -> Node:
        if self.peek() == "not":
            self.take()
            return Node("not", (self.not_(),))
        return self.compare()

    def compare(self) -> Node:
        node = self.sum_()
        if self.peek() in _COMPARE:
            op = self.take()[1]
            node = Node(op, (node, self.sum_()))
            if self.peek() in _COMPARE:
                raise CheckError(f"check {self.expr!r}: chain comparisons with `and`")
        return node

    def sum_(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            node = Node(self.take()[1], (node, self.product()))
        return node

    def product(self) -> Node:
        node = self.atom()
        while self.peek() in ("*", "/"):
            node = Node(self.take()[1], (node, self.atom()))
        return node

    def atom(self) -> Node:
        kind, text, col = self.take()
        if kind == "num":
            return Node("num", value=float(text))
        if kind == "name":
            if text not in NAMES:
                raise CheckError(
                    f"check {self.expr!r}: unknown name {text!r}; known: {', '.join(NAMES)}"
                )
            return Node("name", value=text)
        if text == "-":
            return Node("-", (Node("num", value=0.0), self.atom()))
        if text == "(":
            node = self.or_()
            if self.take()[1] != ")":
                raise CheckError(f"check {self.expr!r}: missing ')'")
            return node
        raise CheckError(f"check {self.expr!r}: unexpected {text!r} (column {col + 1})")


def parse_check(expr: str) -> Node:
    """Parse and validate; the top level must be a condition, not a bare number."""
    node = _Parser(expr).parse()
    if node.op not in ("and", "or", "not", *_COMPARE):
        raise CheckError(f"check {expr!r}: not a condition; compare, e.g. `quality>0.4`")
    return node


def check_values(result: GateResult) -> dict[str, float]:
    """The numbers a check can name, taken from one gate result."""
    values: dict[str, float] = {
        "quality": result.quality,
        "wins": result.wins,
        "ties": result.ties,
        "losses": result.losses,
        "cases": result.wins + result.ties + result.losses,
        "low": result.interval.low,
        "high": result.interval.high,
    }
    values.update(result.dimension_means)
    if result.comparison is not None:
        values["delta"] = result.comparison.delta
    return values


def _evaluate(node: Node, values: dict[str, float], expr: str) -> float | bool:
    if node.op == "num":
        return float(node.value)
    if node.op == "name":
        if node.value not in values:
            raise CheckError(f"check {expr!r}: this result has no {node.value!r}")
        return values[str(node.value)]
    args = [_evaluate(a, values, expr) for a in node.args]
    if node.op == "not":
        return not args[0]
    if node.op == "and":
        return bool(args[0]) and bool(args[1])
    if node.op == "or":
        return bool(args[0]) or bool(args[1])
    if node.op in _COMPARE:
        return _COMPARE[node.op](float(args[0]), float(args[1]))
    if node.op == "/" and float(args[1]) == 0:
        raise CheckError(f"check {expr!r}: division by zero")
    return _ARITH[node.op](float(args[0]), float(args[1]))


def check_expression(expr: str, result: GateResult | dict[str, float]) -> bool:
    """Whether `expr` holds for a gate result (or a dict of the values it names)."""
    values = result if isinstance(result, dict) else check_values(result)
    return bool(_evaluate(parse_check(expr), values, expr))
