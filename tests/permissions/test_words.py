"""Shell words as bash reads them, and templates compared with rule patterns."""

from __future__ import annotations

import itertools
import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.permissions._words import ANY, ONE, decode_ansi_c
from agent.permissions.bash_parse import analyse_bash
from agent.permissions.rules import could_match, matches

_FRAGMENTS = [
    "r", "m", " ", "\\x72", "\\x6", "\\x", "\\162", "\\1", "\\0", "\\u006d", "\\u00e9", "\\U0000006d",
    "\\u", "\\c", "\\cA", "\\c?", "\\e", "\\n", "\\t", "\\'", '\\"', "\\?", "\\q", "\\\\", "\\a", "\\400",
    "a", "9", "x", "7",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join), min_size=1, max_size=40))
def test_ansi_c_strings_decode_as_bash_decodes_them(bodies: list[str]) -> None:
    script = "".join(f"printf '%s\\0' $'{body}'\n" for body in bodies)
    run = subprocess.run(["bash", "-c", script], capture_output=True, check=True, env={"LANG": "C.UTF-8"})
    for body, printed in zip(bodies, run.stdout.split(b"\0"), strict=False):
        mine = decode_ansi_c(body)
        if mine is not None:  # None: not sure, so the word is treated as unknown
            assert mine.encode() == printed, body


@pytest.mark.parametrize(
    ("line", "template"),
    [
        ("git pu?h origin", f"git pu{ONE}h origin"),
        ("git pu{s,}h origin", f"git pu{ANY}h origin"),
        ("rm -rf ~/src", f"rm -rf {ANY}/src"),
        ("git $sub origin", f"git {ANY} origin"),
        ('git commit -m "fix $n"', f"git commit -m fix {ANY}"),
        ("find . -name '*.py'", "find . -name *.py"),  # a quoted star is a literal character
        ("echo {}", "echo {}"),  # not a brace expansion
        ("ls *.py", f"ls {ANY}.py"),
        ("cat 'a b' c\\ d", "cat a b c d"),
    ],
)
def test_templates_mark_what_is_only_known_when_it_runs(line: str, template: str) -> None:
    assert [c.template for c in analyse_bash(line).commands][-1] == template


@pytest.mark.parametrize(
    ("pattern", "template", "expected"),
    [
        ("git push*", f"git pu{ONE}h origin", True),
        ("git push*", f"git {ANY} origin", True),
        ("rm *", f"ls {ANY}", False),
        ("rm *", ANY, True),
        ("ls *", "ls", True),  # `ls *` also matches `ls`
        ("rm -rf /*", f"rm -rf {ANY}", True),
        ("rm x", "rm *", False),  # a literal star in the command is no wildcard
        ("git push*", f"git commit -m {ANY}", False),
        ("a?c", f"a{ONE}c", True),
        ("a?c", f"a{ONE}{ONE}c", False),
    ],
)
def test_could_match(pattern: str, template: str, expected: bool) -> None:
    assert could_match(pattern, template) is expected


_ALPHABET = "ab"


def _brute_force(pattern: str, template: str) -> bool:
    """Whether some filling of the template's wildcards (strings over `ab*`) matches the pattern."""
    holes = [c for c in template if c in (ANY, ONE)]
    longest = max(1, len(pattern))  # a filling longer than the pattern's fixed part is never needed
    choices = [["", *_strings(longest)] if h == ANY else list(_ALPHABET + "*") for h in holes]
    for filling in itertools.product(*choices):
        fill = iter(filling)
        text = "".join(next(fill) if c in (ANY, ONE) else c for c in template)
        if matches(pattern, text):
            return True
    return False


def _strings(limit: int) -> list[str]:
    return ["".join(p) for n in range(1, limit + 1) for p in itertools.product(_ALPHABET + "*", repeat=n)]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab*?", max_size=4).filter(lambda p: not re.search(r"\*\*", p)),
    st.text(alphabet=f"ab*{ANY}{ONE}", max_size=4).filter(lambda t: t.count(ANY) + t.count(ONE) <= 2),
)
def test_could_match_agrees_with_trying_every_filling(pattern: str, template: str) -> None:
    assert could_match(pattern, template) == _brute_force(pattern, template)
