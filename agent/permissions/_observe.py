"""What a syntax node says about variables, arithmetic and functions, apart from the commands in it.

The collector asks this of every node it walks: which text bash evaluates as arithmetic (`$(( ))`,
`(( ))`, `for (( ))`, array subscripts, `[[ a -eq b ]]`, `[[ -v NAME ]]`, `${x:n}`, `${!x}`),
which variables it sets and to what (`for NAME in ...`, `${NAME:=value}`), and which function it
defines. `_arith` and `_steering` judge what that means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.permissions._arith import is_arithmetic_test
from agent.permissions._words import Word, literal, word_of

if TYPE_CHECKING:
    from tree_sitter import Node

_SUBSTRING = re.compile(r"^\$\{[#!]?[A-Za-z_0-9@*]+(\[[^]]*\])?:(?![-=+?])(.*)\}$", re.S)
_DEFAULTING = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*):?=(.*)\}$", re.S)
_INDIRECT = re.compile(r"^\$\{!([A-Za-z_][A-Za-z0-9_]*)(\[[^]@*]*\])?\}$")


@dataclass(eq=False, repr=False)
class Observation:
    """What one node (not its descendants) tells."""

    evaluates: list[str] = field(default_factory=list)
    """Texts bash evaluates as arithmetic (or as a variable name with a subscript)."""
    sets: list[tuple[Word, str | None]] = field(default_factory=list)
    """Variables set, with their value (None: only known when it runs)."""
    defines: str | None = None
    """The name of a function it defines."""


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def descendants(node: Node) -> list[Node]:
    out = [node]
    for child in node.children:
        out.extend(descendants(child))
    return out


def observe(node: Node) -> Observation:
    """What `node` itself evaluates, sets or defines."""
    kind, text = node.type, text_of(node)
    seen = Observation()
    if kind == "arithmetic_expansion" or (kind == "compound_statement" and text.startswith("((")):
        seen.evaluates.append(text.strip("$()[]"))
    elif kind == "c_style_for_statement":
        seen.evaluates.append(text[text.find("((") + 2 : text.find("))")])
    elif kind == "subscript":
        index = node.child_by_field_name("index")
        seen.evaluates.append(text_of(index) if index is not None else text)
    elif kind == "test_command":
        seen.evaluates += _tested(node)
    elif kind == "function_definition":
        name = node.child_by_field_name("name")
        seen.defines = text_of(name) if name is not None else ""
    elif kind == "for_statement":
        variable = node.child_by_field_name("variable")
        values = [word_of(v) for v in node.children_by_field_name("value")]
        known = bool(values) and not any(v.dynamic for v in values)  # `for x; do` takes "$@"
        if variable is not None:
            seen.sets.append((literal(text_of(variable)), "" if known else None))
    elif kind == "expansion":
        _expansion(text, seen)
    return seen


def _tested(node: Node) -> list[str]:
    """`[[ a -eq b ]]` evaluates both sides as arithmetic; `[[ -v NAME ]]` reads NAME's subscript."""
    out: list[str] = []
    for part in descendants(node):
        operators = [text_of(c) for c in part.children if c.type == "test_operator"]
        if operators and (is_arithmetic_test(operators) or operators == ["-v"]):
            out += [text_of(c) for c in part.children if c.type != "test_operator"]
    return out


def _expansion(text: str, seen: Observation) -> None:
    if match := _SUBSTRING.match(text):
        seen.evaluates.append(match.group(2))
    elif match := _INDIRECT.match(text):
        seen.evaluates.append(match.group(1))
    elif match := _DEFAULTING.match(text):
        seen.sets.append((literal(match.group(1)), match.group(2)))
