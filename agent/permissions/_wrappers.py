"""Commands that run other commands, and how to find what they run.

`unwrap` says what one command amounts to: itself (matched by the rules), the commands it runs
(`Inner`, checked in turn, each with the environment the wrapper gives it), shell scripts it runs
(parsed in turn), and reasons it cannot be fully known. The table in `_wrapper_table` covers the
wrappers whose arguments follow one plan; `_wrapper_forms` the ones with their own (env, xargs,
find, parallel, watch, flock, su, sg, busybox); `_shells` the shells. A wrapper option that is
not in its table fails closed: the line cannot be checked. Programs that run a command after
options not modelled here (`uv run`, `npx`, `firejail`, ...) have every later word that could
start a command checked as one.
"""

from __future__ import annotations

from agent.permissions import _wrapper_forms as forms
from agent.permissions._options import parse_options
from agent.permissions._shells import RISKY_SHOPT, SHELLS, shell_call
from agent.permissions._steering import split_assignment
from agent.permissions._words import Word
from agent.permissions._wrapper_forms import Inner, UnwrapStep
from agent.permissions._wrapper_table import EXEC_LIKE, RUNNERS, WRAPPERS, Wrapper

__all__ = ["Inner", "UnwrapStep", "runs_commands", "unwrap"]

_UNANALYSABLE = {
    "eval": "`eval` runs a string built at run time",
    "source": "`source` runs a file",
    ".": "`.` runs a file",
    "trap": "`trap` runs a string later",
    "alias": "`alias` changes what later commands run",
    "enable": "`enable` loads or switches builtins",
    "fc": "`fc` runs commands from the history",
    "coproc": "`coproc` runs its command in the background",
}


def _builtin_doubt(name: str, words: list[Word]) -> str:
    """Why a builtin makes later commands unknown (`hash -p`, `mapfile -C`, `shopt -s extglob`)."""
    texts = [w.text for w in words]
    if name == "hash" and any(t.startswith("-") and "p" in t for t in texts):
        return "`hash -p` makes a command name run another program"
    if name in ("mapfile", "readarray") and any(t.startswith("-") and "C" in t for t in texts):
        return f"`{name} -C` runs a callback string"
    if name == "shopt" and RISKY_SHOPT.intersection(texts) and "-u" not in texts:
        return "`shopt` changes how the rest of the line is read"
    return ""


def _generic(name: str, table: Wrapper, words: list[Word]) -> UnwrapStep:
    parsed = parse_options(table.spec, words, permute=table.permute, numeric=table.numeric)
    if parsed.reason:
        return UnwrapStep(reasons=[f"{name}: {parsed.reason}: cannot tell which command it runs"])
    step = UnwrapStep(keep_self=table.keep_self or not parsed.rest)
    step.reasons += [f"`{name} {opt}` loads or runs a program that cannot be checked"
                     for opt in parsed.found if opt in table.hidden]  # fmt: skip
    step.reasons += forms.option_doubts(name, parsed.found)
    if any(opt in table.no_command for opt in parsed.found):
        step.keep_self = True
        return step
    env = []
    for option in table.env:
        for value in parsed.found.get(option, []):
            env.append(split_assignment(value, env_style=True) or (value.text, Word("", "")))
    scripts = [v for opt in table.script for v in parsed.found.get(opt, [])]
    scripts += forms.output_scripts(name, parsed.found)
    rest = parsed.rest
    if any(w.splits for w in rest[: table.positional]):
        step.reasons.append(f"{name}: an argument only known when it runs: cannot tell which command it runs")
        return step
    step.reasons += forms.positional_doubts(name, rest[: table.positional])
    rest = rest[table.positional :]
    forms.add_scripts(step, scripts, tuple(env))
    if rest:
        step.inner.append(Inner(rest, tuple(env)))
    elif not scripts and (table.bare == "shell" or table.shell.intersection(parsed.found)):
        step.reasons.append(f"`{name}` without a command runs a shell reading commands from stdin")
    return step


def _runner(name: str, words: list[Word]) -> UnwrapStep:
    """Every word after the runner's subcommand that could start a command is checked as one."""
    sub = RUNNERS[name]
    if [w.text for w in words[: len(sub)]] != list(sub):
        return UnwrapStep()
    rest = words[len(sub) :]
    step = UnwrapStep()
    if name == "firejail" and not any(not w.text.startswith("-") for w in rest):
        step.reasons.append("`firejail` without a command runs a shell reading commands from stdin")
    for index, word in enumerate(rest):
        if not word.text.startswith("-") or word.dynamic:
            step.inner.append(Inner(rest[index:]))
    return step


def _shell(name: str, words: list[Word]) -> UnwrapStep:
    call = shell_call(name, words)
    step = UnwrapStep(keep_self=call.reads_file or call.script is None, reasons=call.reasons)
    if call.script is not None:
        step.scripts.append(call.script)
    return step


def runs_commands(name: str) -> bool:
    """Whether `name` runs a command or script given in its arguments."""
    return (name in _UNANALYSABLE or name in SHELLS or name in forms.FORMS or name in WRAPPERS
            or name in EXEC_LIKE or name in RUNNERS)  # fmt: skip


def unwrap(name: str, words: list[Word]) -> UnwrapStep:
    """What running `name words...` amounts to, for permission checks."""
    if name in _UNANALYSABLE:
        step = UnwrapStep(keep_self=False, reasons=[_UNANALYSABLE[name]])
        if name == "coproc" and words:
            step.inner.append(Inner(words))
        return step
    doubt = _builtin_doubt(name, words)
    if doubt:
        return UnwrapStep(reasons=[doubt])
    if name in SHELLS:
        return _shell(name, words)
    if name in forms.FORMS:
        return forms.FORMS[name](name, words)
    table = WRAPPERS.get(name) or EXEC_LIKE.get(name)
    if table is not None:
        return _generic(name, table, words)
    if name in RUNNERS:
        return _runner(name, words)
    return UnwrapStep()
