"""Rule resolution with opencode's wildcard semantics, and the baseline rules every run starts from.

Matching (the same for the permission name and the pattern, exactly as opencode does it):
- `*` matches any run of characters, including none, spaces and `/`; `?` matches one character;
  every other character matches itself (there is no escaping and no `[...]` class).
- A pattern ending in ` *` (space, star) also matches without that tail: `ls *` matches `ls`.
- The whole string must match. Backslashes are read as `/` on both sides, and a leading `./` of
  the matched string is dropped, so paths compare in one form.
- Paths are matched as the tool reports them: relative to the workspace when inside it.
- Bash commands are matched one simple command at a time, in the normalized form
  `agent.permissions.bash_parse` produces (name and arguments, quotes removed, one space apart).

Resolution: of all rules whose permission and pattern both match, the LAST one wins, except
that a deny holds across sources: every source (`PermissionRule.source`, a file) is first
resolved on its own, last match wins, and a source whose own answer is `deny` decides. So a
workspace's `rm *: deny` holds against a persona's later `bash: allow`, while one file may still
carve an exception out of its own deny. No match is `None` (the gate treats that as `ask`).

A bash command with parts only known when it runs (`git $sub`, `git pu?h`) is also compared as a
template (`agent.permissions._words`): `could_match` says whether some value of those parts makes
a pattern match, which is how a deny rule fails closed on them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from agent.permissions._words import ANY, ONE
from agent.permissions.models import Decision, PermissionRule


def _normalize(text: str) -> str:
    text = text.replace("\\", "/")
    return text[2:] if text.startswith("./") and len(text) > 2 else text


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in _normalize(pattern))
    if body.endswith(r"\ .*"):
        body = body[: -len(r"\ .*")] + r"(\ .*)?"
    return re.compile(f"^{body}$", re.DOTALL)


def matches(pattern: str, text: str) -> bool:
    """Whether `text` matches the opencode-style wildcard `pattern` (see the module docstring)."""
    return _compile(pattern).match(_normalize(text)) is not None


def evaluate(rules: Sequence[PermissionRule], permission: str, pattern: str) -> PermissionRule | None:
    """The rule that decides: the last one matching, unless some source denies.

    Each source (a file, `default`, `session`) decides on its own by its last matching rule, so
    a file's `"*": deny` then `"git status": allow` keeps its exception; when any source's own
    decision is `deny`, that deny rule decides whatever later sources say. None when nothing
    matches.
    """
    permission, pattern = _normalize(permission), _normalize(pattern)
    winner: PermissionRule | None = None
    decided: set[str] = set()
    for rule in reversed(rules):
        if rule.source in decided:
            continue
        if _compile(rule.permission).match(permission) and _compile(rule.pattern).match(pattern):
            if rule.decision == "deny":
                return rule
            decided.add(rule.source)
            winner = winner or rule
    return winner


def could_match(pattern: str, template: str) -> bool:
    """Whether some value of `template`'s wildcards (ANY, ONE) makes `pattern` match it.

    Both sides are small automata (a literal character, one character, any run); the answer is
    whether their product reaches the end of both. Example: `could_match("git push*", "git pu" +
    ONE + "h")` is True, `could_match("rm *", "ls " + ANY)` is False.
    """
    normalized = _normalize(pattern)
    variants = [normalized]
    if normalized.endswith(" *"):
        variants.append(normalized[:-2])
    wanted = list(_normalize(template))  # a `*` written in the command is a literal character
    return any(_meet([{"*": ANY, "?": ONE}.get(ch, ch) for ch in v], wanted) for v in variants)


def _meet(left: list[str], right: list[str]) -> bool:
    """Whether two token lists (a character, ONE or ANY each) accept a common string.

    The caller maps a rule's `*` and `?` to ANY and ONE; a template already holds ANY and ONE
    where the command has run-time parts, and any `*` or `?` left in it is a literal character.
    """
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i] == ANY:
            todo.append((i + 1, j))
        if j < len(right) and right[j] == ANY:
            todo.append((i, j + 1))
        for next_i, mine in _steps(left, i):
            for next_j, theirs in _steps(right, j):
                if mine is None or theirs is None or mine == theirs:
                    todo.append((next_i, next_j))
    return False


def _steps(tokens: list[str], at: int) -> list[tuple[int, str | None]]:
    """Where reading one character from position `at` leads, and which character (None: any)."""
    if at >= len(tokens):
        return []
    token = tokens[at]
    if token == ANY:
        return [(at, None)]
    return [(at + 1, None if token == ONE else token)]


def decide(rules: Sequence[PermissionRule], permission: str, pattern: str) -> Decision:
    """The decision of the winning rule; no matching rule means `ask`."""
    rule = evaluate(rules, permission, pattern)
    return rule.decision if rule is not None else "ask"


_READ_ONLY_ALLOW = (
    "ls *", "cat *", "head *", "tail *", "wc *", "pwd", "echo *", "printf *", "which *", "type *",
    "file *", "stat *", "du *", "df *", "tree *", "realpath *", "readlink *", "basename *",
    "dirname *", "date", "uname *", "whoami", "id *", "true", "false", "test *", "[ *",
    "diff *", "cmp *", "grep *", "egrep *", "fgrep *", "rg *", "find *", "sort *", "cut *",
    "tr *", "nl *", "jq *", "od *", "xxd *", "md5sum *", "sha1sum *", "sha256sum *",
    "git status *", "git diff *", "git log *", "git show *", "git branch", "git rev-parse *",
    "git ls-files *", "git blame *",
)  # fmt: skip
"""Commands that only read. Each is allowed with any arguments, except the exceptions below."""

_READ_ONLY_EXCEPTIONS = (
    "find * -exec *", "find * -execdir *", "find * -ok *", "find * -okdir *", "find * -delete*",
    "find * -fprint*", "find * -fls *", "rg * --pre*", "rg --pre*", "sort * -o*", "sort -o*",
    "sort *--output*", "git * --output*", "git * --ext-diff*", "tree * -o *", "tree -o*", "xxd * *",
    "date * -s*", "date -s*", "date --set*",
)  # fmt: skip
"""Arguments that make an allowlisted command write, delete or run another program: `ask`."""

READ_ONLY_BASH_RULES: tuple[PermissionRule, ...] = (
    *(
        PermissionRule(permission="bash", pattern=p, decision="allow", source="default:read-only")
        for p in _READ_ONLY_ALLOW
    ),
    *(
        PermissionRule(permission="bash", pattern=p, decision="ask", source="default:read-only")
        for p in _READ_ONLY_EXCEPTIONS
    ),
)
"""The read-only allowlist as rules; `plan` mode and the defaults both use it."""


def is_read_only_command(command: str) -> bool:
    """Whether one normalized simple command only reads, by the read-only allowlist."""
    return decide(READ_ONLY_BASH_RULES, "bash", command) == "allow"


def _rule(permission: str, decision: Decision, pattern: str = "*") -> PermissionRule:
    return PermissionRule(permission=permission, pattern=pattern, decision=decision, source="default")


DEFAULT_RULES: tuple[PermissionRule, ...] = (
    _rule("*", "ask"),
    _rule("read", "allow"),
    _rule("grep", "allow"),
    _rule("glob", "allow"),
    _rule("edit", "ask"),
    _rule("bash", "ask"),
    *READ_ONLY_BASH_RULES,
    _rule("task", "allow"),
    _rule("external_directory", "ask"),
)
"""The baseline before agents.yaml, persona and workspace rules (which come after and so win)."""
