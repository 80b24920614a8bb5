"""Turn one bash command line into the simple commands it would run, so each can be checked.

String rules on the raw line are bypassed by `ls && rm -rf x`, `sh -c "rm x"` or `env rm x`; so
the line is parsed with tree-sitter-bash and every simple command is found wherever it sits:
lists, pipelines, subshells, `$(...)` and backticks, `<(...)`, if/for/while/case bodies,
function bodies, unquoted heredoc bodies and redirection targets. Words are read as bash reads
them (`_words`: quotes, escapes, `$'...'`; run-time parts become wildcards of the command's
template). A command given by path is matched by its name (`/bin/rm` is `rm`, `git-push` is
`git push`); assignments before it are looked through, and those that steer what runs (`PATH=`,
`LD_PRELOAD=`, `BASH_ENV=`, ...: `_steering`) are doubts. Wrappers are looked through
(`_wrappers`), git's command-line and environment config is read (`_git`), and global options
before a subcommand are left out of the matched text (`_globals`). What cannot be known before
it runs marks the analysis `unanalysable` with a reason: a command name that is an expansion,
`eval`, `source`, a shell reading stdin, a function defined and called, arithmetic on unknown
values (`_arith`), an unknown wrapper option, a parse error.
"""

import itertools
import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, ConfigDict

from agent.permissions import _git
from agent.permissions._arith import ArithmeticWatch
from agent.permissions._globals import GLOBAL_TOOLS, strip_globals
from agent.permissions._observe import observe, text_of
from agent.permissions._shells import SHELLS
from agent.permissions._steering import ASSIGNMENT, is_git_config, names_set_by, split_assignment, steers
from agent.permissions._words import ANY, Word, literal, word_of
from agent.permissions._wrappers import Inner, UnwrapStep, runs_commands, unwrap

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

_MAX_DEPTH = 5
_WRITE_OPS = {">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"}
_NOT_FILES = re.compile(r"^(/dev/(null|stdout|stderr|tty|fd/\d+)|-|\d+)$")


class SimpleCommand(BaseModel):
    """One command bash would run, normalized for rule matching."""

    model_config = ConfigDict(frozen=True)

    argv: tuple[str, ...]
    """Name and arguments with quotes and escapes removed; expansions kept as written."""
    writes_to: tuple[str, ...] = ()
    """Files its redirections write (`> f`, `>> f`, `&> f`); /dev/null and fd dups excluded."""
    template: str = ""
    """`text` with the parts only known when it runs as wildcards (`_words.ANY`/`ONE`); a deny
    rule that `rules.could_match` it denies the command. Empty means the same as `text`."""

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


Env = tuple[tuple[str, Word], ...]


class _Context(NamedTuple):
    """What a command inherits from where it sits: redirections, nesting, environment, git config."""

    writes: tuple[str, ...] = ()
    depth: int = 0
    env: Env = ()
    appended: bool = False
    git_config: tuple[tuple[str, Word | None], ...] = ()


@lru_cache(maxsize=1)
def _parser() -> "Parser":
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


class _Collector:
    """Walks syntax trees and gathers simple commands and reasons for doubt."""

    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.reasons: list[str] = []
        self.arithmetic = ArithmeticWatch()
        self.functions: set[str] = set()
        self.called: set[str] = set()

    def parse(self, source: str, ctx: _Context) -> None:
        if ctx.depth > _MAX_DEPTH:
            self.reasons.append(f"shell commands nested more than {_MAX_DEPTH} levels deep")
            return
        root = _parser().parse(source.encode()).root_node
        if root.has_error:
            self.reasons.append(f"bash could not parse {source.strip()[:80]!r}")
        self._walk(root, ctx)

    def finish(self) -> None:
        """Doubts that need the whole line: functions called after being defined, arithmetic."""
        for name in sorted(self.functions & self.called):
            self.reasons.append(f"the function {name!r} is defined and called: its body runs under that name")
        if "command_not_found_handle" in self.functions:
            self.reasons.append("`command_not_found_handle` runs for every unknown command")
        if doubt := self.arithmetic.doubt():
            self.reasons.append(doubt)

    # --- the syntax tree ------------------------------------------------------------------
    def _walk(self, node: "Node", ctx: _Context) -> None:
        kind = node.type
        if kind == "command":
            self._command(node, ctx)
        elif kind == "redirected_statement":
            self._redirected(node, ctx)
        elif kind == "variable_assignment":
            self._statement_assignment(node, ctx)
        elif kind == "declaration_command":
            self._declaration(node, ctx)
        else:
            self._note(node)
            for child in node.children:
                self._walk(child, ctx)

    def _note(self, node: "Node") -> None:
        """Arithmetic contexts, loop variables, function definitions, `${NAME:=...}`."""
        seen = observe(node)
        for text in seen.evaluates:
            self.arithmetic.evaluate(text)
        for name, value in seen.sets:
            self._sets(name, value)
        if seen.defines is not None:
            self.functions.add(seen.defines)

    def _sets(self, name: Word, value: str | None) -> None:
        """The line sets variable `name` to `value` (None: only known when it runs)."""
        if name.dynamic:
            self.reasons.append(f"sets a variable whose name is only known when it runs ({name.text!r})")
            return
        bare = name.text.split("[", 1)[0]
        if "[" in name.text:
            self.arithmetic.evaluate(name.text[len(bare) :])
        if steers(bare):
            self.reasons.append(f"`{bare}=` changes which program later commands run, or what they run")
        self.arithmetic.assign(bare, value)

    def _redirected(self, node: "Node", ctx: _Context) -> None:
        targets = list(ctx.writes)
        extra: list[Word] = []  # `echo >f hi`: the grammar files `hi` under the redirect
        body = node.child_by_field_name("body")
        redirects = [c for c in node.children if c.type == "file_redirect"]
        for heredoc in (c for c in node.children if c.type == "heredoc_redirect"):
            redirects.extend(c for c in heredoc.children if c.type == "file_redirect")  # `<<EOF > f`
        for child in redirects:
            targets.extend(_write_target(child))
            extra.extend(word_of(d) for d in child.children_by_field_name("destination")[1:])
        inner = ctx._replace(writes=tuple(targets))
        for child in node.children:
            if child != body:
                self._walk(child, ctx._replace(writes=()))
            elif child.type == "command":
                self._command(child, inner, extra)
            else:
                self._walk(child, inner)

    def _declaration(self, node: "Node", ctx: _Context) -> None:
        words = [c for c in node.children if c.type not in ("variable_assignment", "declare", "export",
                                                              "local", "readonly", "typeset")]  # fmt: skip
        flags = "".join(text_of(w) for w in words if text_of(w).startswith("-"))
        if "n" in flags:
            self.reasons.append("`declare -n` makes a name refer to another variable")
        for child in node.children:
            if child.type == "variable_assignment":
                self._statement_assignment(child, ctx)
                value = child.child_by_field_name("value")
                if "i" in flags and value is not None:  # an integer variable: its values are arithmetic
                    self.arithmetic.evaluate(text_of(value))
            else:
                self._walk(child, ctx._replace(writes=()))
        for word in words:
            named = word_of(word)
            if named.dynamic or "=" in named.text:  # `declare "$x"` may set any variable
                name, _, assigned = named.text.partition("=")
                self._sets(named if named.dynamic else literal(name), None if named.dynamic else assigned)

    def _statement_assignment(self, node: "Node", ctx: _Context) -> None:
        for part in node.children:
            self._walk(part, ctx._replace(writes=()))
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        word = word_of(value) if value is not None else literal("")
        self._sets(literal(text_of(name) if name is not None else ""), None if word.dynamic else word.text)

    def _command(self, node: "Node", ctx: _Context, extra: list[Word] | None = None) -> None:
        words: list[Word] = []
        prefix: list[tuple[str, Word]] = []
        targets = list(ctx.writes)
        for child in node.children:
            for part in child.children if child.type == "variable_assignment" else [child]:
                self._walk(part, ctx._replace(writes=()))  # substitutions inside words and assignments
            if child.type == "variable_assignment":
                split = split_assignment(word_of_assignment(child))
                if split is not None:
                    prefix.append(split)
                    self.arithmetic.assign(split[0], None if split[1].dynamic else split[1].text)
            elif child.type == "command_name":
                words.append(word_of(child.children[0]) if child.children else literal(""))
            elif child.type == "file_redirect":
                targets.extend(_write_target(child))
            elif child.type not in ("herestring_redirect", "heredoc_redirect", "comment"):
                words.append(word_of(child))
        context = ctx._replace(writes=tuple(targets), env=ctx.env + tuple(prefix))
        self.add([*words, *(extra or [])], context)

    # --- one command ----------------------------------------------------------------------
    def add(self, words: list[Word], ctx: _Context) -> None:
        """Record one command, looking through assignments and wrappers to what it runs."""
        env = list(ctx.env)
        while words and ASSIGNMENT.match(words[0].text):
            env.append(split_assignment(words[0]) or ("?", words[0]))
            words = words[1:]
        if not words or (not words[0].text and not words[0].dynamic):
            self._env_doubts(env, "", passes_on=False)
            return
        if words[0].dynamic:
            self.reasons.append(f"the command name {words[0].text!r} is only known when it runs")
            return
        name, args = _command_name(words[0].text), words[1:]
        if (dashed := _git.DASHED.match(name)) is not None:
            name, args = "git", [literal(dashed.group(1)), *args]
        self.called.add(name)
        ctx = ctx._replace(env=tuple(env))
        args, stripped, doubt = strip_globals(name, args)
        self.reasons += [doubt] if doubt else []
        if name == "git":
            self._git(args, stripped, ctx)
        self._builtin_effects(name, args)
        step = unwrap(name, args)
        self.reasons += step.reasons
        self._env_doubts(env, name, passes_on=bool(step.inner or step.scripts))
        if ctx.appended and _appended_matter(name, args, step):
            self.reasons.append(f"`{name}` gets words appended that are only known when it runs")
        if step.keep_self:
            self._record(name, args, ctx)
        for script in step.scripts:
            nested = ctx._replace(depth=ctx.depth + 1, env=ctx.env + step.script_env, appended=False)
            self.parse(script, nested)
        for inner in step.inner:
            self._inner(inner, ctx)

    def _inner(self, inner: Inner, ctx: _Context) -> None:
        appended = ctx.appended or inner.appended
        self.add(list(inner.words), ctx._replace(env=ctx.env + inner.env, appended=appended))

    def _record(self, name: str, args: list[Word], ctx: _Context) -> None:
        template = " ".join([name, *(w.template for w in args)]) + (f" {ANY}" if ctx.appended else "")
        argv = (name, *(w.text for w in args))
        self.commands.append(SimpleCommand(argv=argv, writes_to=ctx.writes, template=template))

    def _git(self, args: list[Word], stripped: list[tuple[str, Word]], ctx: _Context) -> None:
        config, reasons = _git.read_config(stripped, ctx.env)
        call = _git.git_call(args, [*ctx.git_config, *config])
        self.reasons += reasons + call.reasons
        inherited = ctx._replace(depth=ctx.depth + 1, git_config=(*ctx.git_config, *config))
        if inherited.depth > _MAX_DEPTH and (call.expansions or call.scripts):
            self.reasons.append(f"git aliases nested more than {_MAX_DEPTH} levels deep")
            return
        for expansion in call.expansions:
            self.add(expansion, inherited)
        for script in call.scripts:
            self.parse(script, inherited._replace(appended=False))

    def _builtin_effects(self, name: str, args: list[Word]) -> None:
        """Variables set by builtins (`read PATH`, `printf -v NAME`); `let` and `test -v` evaluate."""
        for named in names_set_by(name, args):
            self._sets(named, None)
        if name == "let":
            self.arithmetic.evaluate(" ".join(w.text for w in args))
        elif name in ("test", "["):
            for option, operand in itertools.pairwise(args):
                if option.text == "-v":
                    self.arithmetic.evaluate(operand.text)

    def _env_doubts(self, env: list[tuple[str, Word]], name: str, *, passes_on: bool) -> None:
        for variable, _ in env:
            if is_git_config(variable):
                if name != "git" and not passes_on:
                    self.reasons.append(f"`{variable}=` configures git for a command that is not git")
            elif variable == "?" or steers(variable):
                self.reasons.append(f"`{variable}=` changes which program runs, or what it runs")


def word_of_assignment(node: "Node") -> Word:
    """A prefix assignment `NAME=value` as one word (its value read as bash reads it)."""
    name = node.child_by_field_name("name")
    value = node.child_by_field_name("value")
    head = text_of(name) if name is not None else ""
    operator = "+=" if "+=" in text_of(node)[: len(head) + 2] else "="
    tail = word_of(value) if value is not None else literal("")
    return Word(f"{head}{operator}{tail.text}", f"{head}{operator}{tail.template}", tail.splits)


def _appended_matter(name: str, args: list[Word], step: UnwrapStep) -> bool:
    """Whether words xargs appends could change which command runs (`xargs env`, `xargs git`)."""
    if name == "find" or (name in GLOBAL_TOOLS and not args):
        return True
    return runs_commands(name) and not step.inner and not (name in SHELLS and step.scripts)


def _command_name(text: str) -> str:
    """A program given by path is matched by its name: `/bin/rm` and `../../bin/rm` are `rm`."""
    return text.rstrip("/").rsplit("/", 1)[-1] if "/" in text.rstrip("/") else text


def _write_target(redirect: "Node") -> list[str]:
    """The file a redirection writes, if it writes one."""
    ops = [c for c in redirect.children if text_of(c) in _WRITE_OPS and c.child_count == 0]
    dest = redirect.child_by_field_name("destination")
    if not ops or dest is None:
        return []
    target = word_of(dest).text
    return [] if _NOT_FILES.match(target) else [target]


def analyse_bash(command: str) -> BashAnalysis:
    """Every simple command `command` would run, or why that cannot be fully known.

    Example: `analyse_bash("ls && sh -c 'rm x'")` gives commands `ls` and `rm x`.
    """
    collector = _Collector()
    collector.parse(command, _Context())
    collector.finish()
    reasons = list(dict.fromkeys(collector.reasons))
    return BashAnalysis(
        commands=list(dict.fromkeys(collector.commands)),
        unanalysable=bool(reasons),
        reason="; ".join(reasons),
    )
