"""Arithmetic on values only known at run time: bash can run code hidden in them.

`x='a[$(rm -rf ~)]'; echo $((x))` runs `rm`: in an arithmetic context bash evaluates a variable's
value as an expression, and an array subscript in it expands `$(...)`. The same holds for
`(( ))`, `$[ ]`, `let`, `for (( ))`, `[[ a -eq b ]]`, `declare -i`, array subscripts, substring
offsets `${x:n}`, indirect `${!x}`, `test -v NAME` and `printf -v NAME`. So a line that has such a
context is unanalysable unless every value that could reach it is known: each name it uses is
assigned in the line, every assignment in the line is a literal with no `$` or backquote (a safe
value may name another variable), and no command substitution or positional parameter feeds it.
`for i in 1 2 3; do echo $((i * 2)); done` passes; `for i in $(seq 3); ...` does not.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z_#])[A-Za-z_][A-Za-z0-9_]*")
_RUNS = re.compile(r"\$\((?!\()|`|\$[0-9@*]|\$\{[0-9@*]")
"""A command substitution or a positional parameter: values nobody can know in advance."""
_SELF_ASSIGNED = re.compile(
    r"([A-Za-z_]\w*)\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)|([A-Za-z_]\w*)\s*(?:\+\+|--)|(?:\+\+|--)\s*([A-Za-z_]\w*)"
)
_SPECIAL = frozenset(
    "RANDOM SRANDOM SECONDS LINENO BASHPID PPID UID EUID EPOCHSECONDS EPOCHREALTIME OPTIND HISTCMD "
    "COLUMNS LINES".split()
)
_ARITHMETIC_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})


class ArithmeticWatch:
    """Collects arithmetic contexts and assignments over one command line (all nesting levels)."""

    def __init__(self) -> None:
        self.contexts: list[str] = []
        self.assigned: dict[str, bool] = {}
        """Variable name -> whether every value assigned to it in the line is safe."""

    def assign(self, name: str, value: str | None) -> None:
        """`name` gets `value` (None: a value only known when it runs)."""
        safe = value is not None and "$" not in value and "`" not in value
        self.assigned[name] = self.assigned.get(name, True) and safe

    def evaluate(self, text: str) -> None:
        """`text` is evaluated as arithmetic (or as a variable name, which may hold a subscript)."""
        self.contexts.append(text)
        for name in _assigned_inside(text):
            self.assigned.setdefault(name, True)

    def doubt(self) -> str:
        """Why the line's arithmetic may run hidden code; empty when it cannot."""
        if not self.contexts:
            return ""
        for text in self.contexts:
            if _RUNS.search(text):
                return f"arithmetic on a value only known when it runs ({text.strip()[:40]!r})"
        unsafe = sorted(name for name, safe in self.assigned.items() if not safe)
        if unsafe:
            return f"arithmetic in a line where ${unsafe[0]} holds a value only known when it runs"
        for text in self.contexts:
            for name in _IDENTIFIER.findall(text):
                if name not in self.assigned and name not in _SPECIAL:
                    return f"arithmetic on ${name}, whose value is only known when it runs"
        return ""


def _assigned_inside(text: str) -> list[str]:
    """Names an arithmetic expression assigns itself (`i=0`, `i++`, `n += 2`): numbers, so safe."""
    return [a or b or c for a, b, c in _SELF_ASSIGNED.findall(text)]


def is_arithmetic_test(operators: list[str]) -> bool:
    """Whether a `[[ ]]` test compares numbers (its operands are then evaluated as arithmetic)."""
    return any(op in _ARITHMETIC_TESTS for op in operators)
