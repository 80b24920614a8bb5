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

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")

_STEERING = re.compile(
    r"^(?:export\s+|declare\s+\S*\s*|local\s+|readonly\s+|typeset\s+)*"
    r"(PATH|IFS|ENV|BASH_ENV|PROMPT_COMMAND|PS4|SHELLOPTS|BASHOPTS|PAGER|EDITOR|VISUAL|LESSOPEN"
    r"|LD_\w*|GIT_\w*|PYTHON\w*|NODE_OPTIONS|PERL5\w*|RUBYOPT)\+?=",
)

_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox-sh"}
_UNANALYSABLE = {"eval": "`eval` runs a string built at run time", "source": "`source` runs a file",
                 ".": "`.` runs a file", "trap": "`trap` runs a string later"}

_VALUE_OPTS: dict[str, set[str]] = {
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"},
    "doas": {"-u", "-C"},
    "xargs": {"-n", "-L", "-P", "-s", "-d", "-E", "-I", "-a", "--max-args", "--max-lines",
              "--max-procs", "--max-chars", "--delimiter", "--eof", "--replace", "--arg-file"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n", "--adjustment"},
    "exec": {"-a"},
    "stdbuf": {"-i", "-o", "-e", "--input", "--output", "--error"},
    "nohup": set(),
    "time": set(),
    "command": set(),
}
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


def _skip_options(name: str, words: Words) -> Words:
    """The words after `name`'s own options (and, for env/sudo, its VAR=value settings)."""
    takes_value = _VALUE_OPTS[name]
    i = 0
    while i < len(words):
        text = words[i][0]
        if text == "--":
            return words[i + 1 :]
        if name in ("env", "sudo") and ASSIGNMENT.match(text):
            i += 1
            continue
        if not text.startswith("-") or text == "-":
            break
        i += 2 if text in takes_value else 1
    return words[i:]


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
    if name not in _VALUE_OPTS:
        return UnwrapStep()
    if name == "env":
        split = [w for i, w in enumerate(words[1:]) if words[i][0] in ("-S", "--split-string")]
        if split:
            return UnwrapStep(keep_self=False, scripts=[split[0][0]])
    rest = _skip_options(name, words)
    if name == "timeout" and rest:
        rest = rest[1:]  # the duration
    if not rest:
        return UnwrapStep()  # `env` prints, `exec 3>f` redirects: the command itself is checked
    return UnwrapStep(keep_self=name in _KEEP_SELF, inner=[rest])
