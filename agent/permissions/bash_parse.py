"""Turn one bash command line into the simple commands it would run, so each can be checked.

String rules on the raw line are bypassed by `ls && rm -rf x`, `sh -c "rm x"` or `env rm x`; so
the line is parsed with tree-sitter-bash and every simple command is found wherever it sits:
lists, pipelines, subshells, `$(...)` and backticks, `<(...)`, if/for/while/case bodies,
function bodies, unquoted heredoc bodies and redirection targets. Wrappers are looked through
(`env`, `xargs`, `sh -c`/`bash -c` recursively, `sudo`, `nohup`, `timeout`, `nice`, `time`,
`command`, `exec`, `stdbuf`) and `find -exec` contributes the command it runs. Global options
before a subcommand (`git -C . push`, `kubectl -n x delete`) are left out of the matched text,
and a git option that can run another program (`-c alias.x=!sh`) is a doubt. What cannot be
known before it runs (a command name that is an expansion, `eval`, `source`/`.`, a shell reading
commands from stdin, a parse error) marks the analysis `unanalysable` with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, ConfigDict

from agent.permissions import _globals, _wrappers

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

_MAX_DEPTH = 5
_WRITE_OPS = {">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"}
_NOT_FILES = re.compile(r"^(/dev/(null|stdout|stderr|tty|fd/\d+)|-|\d+)$")
_DYNAMIC = {
    "simple_expansion",
    "expansion",
    "command_substitution",
    "process_substitution",
    "arithmetic_expansion",
    "brace_expression",
}


class SimpleCommand(BaseModel):
    """One command bash would run, normalized for rule matching."""

    model_config = ConfigDict(frozen=True)

    argv: tuple[str, ...]
    """Name and arguments with quotes and escapes removed; expansions kept as written."""
    writes_to: tuple[str, ...] = ()
    """Files its redirections write (`> f`, `>> f`, `&> f`); /dev/null and fd dups excluded."""

    @property
    def text(self) -> str:
        """The form rules match: the words joined by single spaces."""
        return " ".join(self.argv)


class BashAnalysis(BaseModel):
    """Everything a command line would run, or why that cannot be known in advance."""

    commands: list[SimpleCommand] = []
    unanalysable: bool = False
    reason: str = ""
    """Why the analysis is incomplete (empty when `unanalysable` is False)."""


class _Word(NamedTuple):
    text: str
    dynamic: bool
    """True when the word holds an expansion, so its value is only known at run time."""


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _word(node: Node) -> _Word:
    """The value of one shell word as bash would see it, as far as it is known statically."""
    kind = node.type
    if kind == "word":
        return _Word(re.sub(r"\\(.)", r"\1", _text(node), flags=re.DOTALL), False)
    if kind == "raw_string":
        return _Word(_text(node)[1:-1], False)
    if kind == "ansi_c_string":
        return _Word(_text(node)[2:-1], False)
    if kind == "number":
        return _Word(_text(node), False)
    if kind in ("string", "concatenation"):
        parts = [_word(c) for c in node.children if c.type not in ('"', "`")]
        return _Word("".join(p.text for p in parts), any(p.dynamic for p in parts))
    if kind == "string_content":
        return _Word(_text(node), False)
    return _Word(_text(node), True)


class _Collector:
    """Walks syntax trees and gathers simple commands and reasons for doubt."""

    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.reasons: list[str] = []

    def parse(self, source: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            self.reasons.append(f"shell commands nested more than {_MAX_DEPTH} levels deep")
            return
        root = _parser().parse(source.encode()).root_node
        if root.has_error:
            self.reasons.append(f"bash could not parse {source.strip()[:80]!r}")
        self._walk(root, (), depth)

    def _walk(self, node: Node, writes: tuple[str, ...], depth: int) -> None:
        kind = node.type
        if kind == "command":
            self._command(node, writes, depth)
        elif kind == "redirected_statement":
            self._redirected(node, writes, depth)
        elif kind in ("variable_assignment", "declaration_command"):
            self._assignment(node, depth)
        else:
            for child in node.children:
                self._walk(child, writes, depth)

    def _redirected(self, node: Node, writes: tuple[str, ...], depth: int) -> None:
        targets = list(writes)
        extra: list[_Word] = []  # `echo >f hi`: the grammar files `hi` under the redirect
        body = node.child_by_field_name("body")
        redirects = [c for c in node.children if c.type == "file_redirect"]
        for heredoc in (c for c in node.children if c.type == "heredoc_redirect"):
            redirects.extend(c for c in heredoc.children if c.type == "file_redirect")  # `<<EOF > f`
        for child in redirects:
            targets.extend(_write_target(child))
            extra.extend(_word(d) for d in child.children_by_field_name("destination")[1:])
        for child in node.children:
            if child != body:
                self._walk(child, (), depth)
            elif child.type == "command":
                self._command(child, tuple(targets), depth, extra)
            else:
                self._walk(child, tuple(targets), depth)

    def _assignment(self, node: Node, depth: int) -> None:
        for child in node.children:
            for part in child.children if child.type == "variable_assignment" else [child]:
                self._walk(part, (), depth)
        if _wrappers.is_steering(_text(node)):
            self.commands.append(SimpleCommand(argv=(_text(node),)))

    def _command(self, node: Node, writes: tuple[str, ...], depth: int, extra: Sequence[_Word] = ()) -> None:
        words: list[_Word] = []
        targets = list(writes)
        for child in node.children:
            for part in child.children if child.type == "variable_assignment" else [child]:
                self._walk(part, (), depth)  # substitutions inside words and assignments
            if child.type == "variable_assignment":
                words.append(_Word(_text(child), False))
            elif child.type == "command_name":
                words.append(_word(child.children[0]) if child.children else _Word("", False))
            elif child.type == "file_redirect":
                targets.extend(_write_target(child))
            elif child.type not in ("herestring_redirect", "heredoc_redirect", "comment"):
                words.append(_word(child))
        self.add([*words, *extra], tuple(targets), depth)

    def add(self, words: list[_Word], writes: tuple[str, ...], depth: int) -> None:
        """Record one command, looking through wrappers to what they run."""
        prefix: list[str] = []
        while words and _wrappers.ASSIGNMENT.match(words[0].text):
            if _wrappers.is_steering(words[0].text):
                prefix.append(words[0].text)
            words = words[1:]
        if not words or (not words[0].text and not words[0].dynamic):
            if prefix:
                self.commands.append(SimpleCommand(argv=tuple(prefix), writes_to=writes))
            return
        name = words[0]
        if name.dynamic:
            self.reasons.append(f"the command name {name.text!r} is only known when it runs")
            return
        base = name.text.rsplit("/", 1)[-1] if name.text.startswith("/") else name.text
        args, dynamic, doubt = _globals.strip_globals(
            base, [w.text for w in words[1:]], [w.dynamic for w in words[1:]]
        )
        step = _wrappers.unwrap(base, args, dynamic)
        argv = (*prefix, base, *args)
        for reason in (doubt, step.reason):
            if reason:
                self.reasons.append(reason)
        if step.keep_self:
            self.commands.append(SimpleCommand(argv=argv, writes_to=writes))
        for script in step.scripts:
            self.parse(script, depth + 1)
        for inner in step.inner:
            self.add([_Word(t, d) for t, d in inner], writes, depth)


def _write_target(redirect: Node) -> list[str]:
    """The file a redirection writes, if it writes one."""
    ops = [c for c in redirect.children if _text(c) in _WRITE_OPS and c.child_count == 0]
    dest = redirect.child_by_field_name("destination")
    if not ops or dest is None:
        return []
    target = _word(dest).text
    return [] if _NOT_FILES.match(target) else [target]


def analyse_bash(command: str) -> BashAnalysis:
    """Every simple command `command` would run, or why that cannot be fully known.

    Example: `analyse_bash("ls && sh -c 'rm x'")` gives commands `ls` and `rm x`.
    """
    collector = _Collector()
    collector.parse(command, 0)
    reasons = list(dict.fromkeys(collector.reasons))
    return BashAnalysis(
        commands=list(dict.fromkeys(collector.commands)),
        unanalysable=bool(reasons),
        reason="; ".join(reasons),
    )
