"""Commands that run other commands, and how to find what they run.

Each wrapper's options are skipped (the ones that take a value skip that value too); what
remains is the command it runs. `sudo` and `doas` are also kept themselves, so a rule can name
them; the other wrappers are replaced by what they run. Shells with `-c` hand back their script
for a recursive parse; a shell with neither `-c` nor a script file reads commands from stdin,
which cannot be analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")

_STEERING = re.compile(
    r"^(?:export\s+|declare\s+\S*\s*|local\s+|readonly\s+|typeset\s+)*"
    r"(PATH|IFS|ENV|BASH_ENV|PROMPT_COMMAND|PS4|SHELLOPTS|BASHOPTS|PAGER|EDITOR|VISUAL|LESSOPEN"
    r"|LD_\w*|GIT_\w*|PYTHON\w*|NODE_OPTIONS|PERL5\w*|RUBYOPT)\+?=",
)

_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox-sh"}
_UNANALYSABLE = {
    "eval": "`eval` runs a string built at run time",
    "source": "`source` runs a file",
    ".": "`.` runs a file",
    "trap": "`trap` runs a string later",
    "alias": "`alias` changes what later commands run",
    "coproc": "`coproc` bodies are not analysed",
}


class _Options(NamedTuple):
    """A wrapper's options: those that take a value, and plain flags (short ones may combine)."""

    valued: frozenset[str]
    flags: frozenset[str]


def _opts(valued: str, flags: str = "") -> _Options:
    return _Options(frozenset(valued.split()), frozenset(flags.split()))


_OPTIONS: dict[str, _Options] = {
    "env": _opts("-u --unset -C --chdir -S --split-string", "-i --ignore-environment -0 --null -v --debug"),
    "sudo": _opts(
        "-u -g -C -D -h -p -r -t -U -T --user --group --chdir --chroot --prompt --role --type --host",
        "-A -b -E -H -i -k -K -n -P -S -s -B -N --preserve-env --login --shell --non-interactive --stdin",
    ),
    "doas": _opts("-u -C", "-n -s -L"),
    "xargs": _opts(
        "-n -L -P -s -d -E -I -a --max-args --max-lines --max-procs --max-chars --delimiter --eof "
        "--replace --arg-file --process-slot-var",
        "-0 --null -r --no-run-if-empty -t --verbose -p --interactive -x --exit -o --open-tty -i -e -l",
    ),
    "timeout": _opts("-s -k --signal --kill-after", "--preserve-status --foreground -v --verbose"),
    "nice": _opts("-n --adjustment"),
    "exec": _opts("-a", "-c -l"),
    "stdbuf": _opts("-i -o -e --input --output --error"),
    "nohup": _opts(""),
    "time": _opts("-o -f --output --format", "-p -a -v -q --append --verbose --quiet --portability"),
    "command": _opts("", "-p"),
    "builtin": _opts(""),
    "setsid": _opts("", "-c -f -w --ctty --fork --wait"),
    "ionice": _opts("-c -n --class --classdata", "-t --ignore"),
    "watch": _opts("-n -q --interval --equexit", "-d -t -b -e -g -c -x -p -w -r -C --differences"),
}
_JOINED_SCRIPT = {"watch"}
"""Wrappers that join their arguments into a script for `sh -c`."""
_KEEP_SELF = {"sudo", "doas"}
_FIND_EXEC = {"-exec", "-execdir", "-ok", "-okdir"}

Words = list[tuple[str, bool]]


@dataclass
class UnwrapStep:
    """What one command contributes: itself, commands it runs, scripts to parse, or doubt."""

    keep_self: bool = True
    inner: list[Words] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    reason: str = ""


def is_steering(assignment: str) -> bool:
    """Whether an assignment changes which program runs or what it loads (PATH, LD_*, GIT_*...)."""
    return _STEERING.match(assignment.strip()) is not None


def _option_width(options: _Options, text: str) -> int | None:
    """How many words option `text` takes (1 or 2), or None when it is not a known option."""
    if text.startswith("--"):
        key, has_value, _ = text.partition("=")
        if key in options.flags or (key in options.valued and has_value):
            return 1
        return 2 if key in options.valued else None
    if re.fullmatch(r"-\d+", text):
        return 1  # `nice -5`
    if text[:2] in options.valued:
        return 1 if len(text) > 2 else 2  # `-n1` or `-n 1`
    if all(f"-{c}" in options.flags for c in text[1:]):
        return 1  # `-0r`, `-HE`
    if text[:2] in options.flags and text[2:3] and text[:2] in ("-i", "-e", "-l"):
        return 1  # xargs' optional attached values: -i{} -eEOF -l1
    return None


def _skip_options(name: str, words: Words) -> tuple[Words, str]:
    """The words after `name`'s own options (and env/sudo VAR=value settings), or why not known."""
    options = _OPTIONS[name]
    i = 0
    while i < len(words):
        text = words[i][0]
        if text == "--":
            return words[i + 1 :], ""
        if name in ("env", "sudo") and ASSIGNMENT.match(text):
            i += 1
            continue
        if not text.startswith("-") or (text == "-" and name != "env"):
            break
        width = 1 if text == "-" else _option_width(options, text)
        if width is None:
            return [], f"unknown option {text!r} of {name}: cannot tell which command it runs"
        i += width
    return words[i:], ""


def _shell(words: Words) -> UnwrapStep:
    for i, (text, _) in enumerate(words):
        if text.startswith("-") and not text.startswith("--") and "c" in text[1:]:
            rest = [w for w in words[i + 1 :] if not w[0].startswith("-")]
            if not rest:
                return UnwrapStep(keep_self=False, reason="`-c` without a script")
            script, dynamic = rest[0]
            if dynamic:
                return UnwrapStep(keep_self=False, reason=f"shell script built at run time: {script!r}")
            return UnwrapStep(keep_self=False, scripts=[script])
    if any(not text.startswith("-") for text, _ in words):
        return UnwrapStep()  # a script file: the rules decide on `sh file`
    return UnwrapStep(reason="a shell reading commands from stdin")


def _find(words: Words) -> UnwrapStep:
    step = UnwrapStep()
    current: Words | None = None
    for word in words:
        if current is None and word[0] in _FIND_EXEC:
            current = []
        elif current is not None and word[0] in (";", "+"):
            step.inner.append(current)
            current = None
        elif current is not None:
            current.append(word)
    if current:
        step.inner.append(current)
    return step


def unwrap(name: str, args: list[str], dynamic: list[bool]) -> UnwrapStep:
    """What running `name args...` amounts to, for permission checks."""
    words: Words = list(zip(args, dynamic, strict=True))
    if name in _UNANALYSABLE:
        return UnwrapStep(keep_self=False, reason=_UNANALYSABLE[name])
    if name in _SHELLS:
        return _shell(words)
    if name == "find":
        return _find(words)
    if name == "command" and any(t in ("-v", "-V") for t, _ in words[:1]):
        return UnwrapStep()  # `command -v x` only looks x up
    if name not in _OPTIONS:
        return UnwrapStep()
    if name == "env":
        script = _split_string(words)
        if script is not None:
            return UnwrapStep(keep_self=False, scripts=[script])
    rest, reason = _skip_options(name, words)
    if reason:
        return UnwrapStep(reason=reason)
    if name in _JOINED_SCRIPT and rest:
        return UnwrapStep(keep_self=False, scripts=[" ".join(t for t, _ in rest)])
    if name == "timeout" and rest:
        rest = rest[1:]  # the duration
    if not rest:
        return UnwrapStep()  # `env` prints, `exec 3>f` redirects: the command itself is checked
    return UnwrapStep(keep_self=name in _KEEP_SELF, inner=[rest])


def _split_string(words: Words) -> str | None:
    """The script of `env -S 'cmd args'` (also `-Scmd` and `--split-string=cmd`), if any."""
    for i, (text, _) in enumerate(words):
        if text in ("-S", "--split-string"):
            return words[i + 1][0] if i + 1 < len(words) else ""
        if text.startswith("--split-string="):
            return text.partition("=")[2]
        if text.startswith("-S"):
            return text[2:]
        if not text.startswith("-"):
            return None
    return None
