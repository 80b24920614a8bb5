"""Wrappers whose arguments follow a plan of their own: env, xargs, find, parallel, watch, flock,
su, runuser, sg, busybox; and the few table options that need a look at their value.

- `env`: options (`-S STRING` is split into more arguments in place, as env does), then every
  word holding `=` is an assignment for the command's environment, then the command.
- `xargs`: appends words it reads to the command (its template ends with ANY), or with `-I R`
  puts them where R is; `find -exec ... ;` and `parallel` put a file name or an argument where
  `{}` is.
- `watch` and `parallel` join their words into a script for `sh -c` (`watch -x`: exec'd as is).
- `flock FILE CMD...` or `flock FILE -c SCRIPT`; `sg GROUP SCRIPT`; `su`/`runuser` run a shell
  (`-c SCRIPT`, else the words after the user are the shell's arguments), `runuser -u USER CMD`.
- `busybox APPLET ...` is `APPLET ...`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from agent.permissions._options import options, parse_options
from agent.permissions._shells import SHELLS, shell_call
from agent.permissions._steering import split_assignment
from agent.permissions._words import ANY, Word, literal

Env = tuple[tuple[str, Word], ...]


class Inner(NamedTuple):
    """A command a wrapper runs."""

    words: list[Word]
    env: Env = ()
    """Variables the wrapper sets for it (`env A=1 cmd`, `strace -E A=1 cmd`)."""
    appended: bool = False
    """The wrapper appends words only known when it runs (xargs)."""


@dataclass(eq=False, repr=False)
class UnwrapStep:
    """What one command contributes: itself, commands it runs, scripts to parse, or doubt."""

    keep_self: bool = True
    inner: list[Inner] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    script_env: Env = ()
    reasons: list[str] = field(default_factory=list)


def add_scripts(step: UnwrapStep, scripts: list[Word], env: Env = ()) -> None:
    """Scripts for `sh -c`: parsed in turn, or a doubt when built at run time."""
    step.script_env = env
    for script in scripts:
        if script.dynamic:
            step.reasons.append(f"a shell script built at run time: {script.text!r}")
        else:
            step.scripts.append(script.text)


def _placeholders(words: list[Word], marker: str) -> list[Word]:
    """Words with `marker` (xargs' `-I R`, find's `{}`) standing for a value only known later."""
    return [Word(w.text, w.template.replace(marker, ANY), w.splits) for w in words]


_ENV = options("-u/--unset -C/--chdir -S/--split-string",
               "-i/--ignore-environment -0/--null -v/--debug --list-signal-handling",
               "--block-signal --default-signal --ignore-signal")  # fmt: skip


def _env(name: str, words: list[Word]) -> UnwrapStep:
    pending = list(words)
    for _ in range(5):
        parsed = parse_options(_ENV, pending, stop_at=frozenset({"-S"}))
        if parsed.reason:
            return UnwrapStep(reasons=[f"env: {parsed.reason}: cannot tell which command it runs"])
        if parsed.stopped_at != "-S":
            break
        split = _split_string(parsed.found["-S"][-1])
        if split is None:
            return UnwrapStep(reasons=["`env -S` with a string that cannot be read in advance"])
        pending = split + parsed.rest
    else:
        return UnwrapStep(reasons=["`env -S` nested too deep"])
    rest = parsed.rest[1:] if parsed.rest[:1] and parsed.rest[0].text == "-" else parsed.rest
    env: list[tuple[str, Word]] = []
    while rest and "=" in rest[0].text:
        env.append(split_assignment(rest[0], env_style=True) or ("?", rest[0]))
        rest = rest[1:]
    if not rest:
        unknown = any(n == "?" for n, _ in env)
        return UnwrapStep(reasons=["env sets a name only known when it runs"] if unknown else [])
    return UnwrapStep(keep_self=False, inner=[Inner(rest, tuple(env))])


def _split_string(value: Word) -> list[Word] | None:
    """env's `-S` string as words; None when env's own escapes or `${VAR}` would be needed."""
    if value.dynamic or "\\" in value.text or "$" in value.text:
        return None
    try:
        return [literal(w) for w in shlex.split(value.text, comments=True)]
    except ValueError:
        return None


_XARGS = options("-a/--arg-file -d/--delimiter -E -I -L/--max-lines -n/--max-args -P/--max-procs "
                 "-s/--max-chars --process-slot-var",
                 "-0/--null -o/--open-tty -p/--interactive -r/--no-run-if-empty -t/--verbose -x/--exit "
                 "--show-limits",
                 "-e/--eof -i/--replace -l")  # fmt: skip


def _xargs(name: str, words: list[Word]) -> UnwrapStep:
    parsed = parse_options(_XARGS, words)
    if parsed.reason:
        return UnwrapStep(reasons=[f"xargs: {parsed.reason}: cannot tell which command it runs"])
    if not parsed.rest:
        return UnwrapStep()  # runs echo
    replace = parsed.found.get("-I", [])
    replace += [w if w.text else literal("{}") for w in parsed.found.get("-i", [])]
    if replace:
        marker = replace[-1]
        if marker.dynamic or not marker.text:
            return UnwrapStep(reasons=["xargs with a replace string only known when it runs"])
        return UnwrapStep(keep_self=False, inner=[Inner(_placeholders(parsed.rest, marker.text))])
    return UnwrapStep(keep_self=False, inner=[Inner(parsed.rest, appended=True)])


_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def _find(name: str, words: list[Word]) -> UnwrapStep:
    step = UnwrapStep()
    current: list[Word] | None = None
    for word in words:
        if current is None and word.text in _FIND_EXEC:
            current = []
        elif current is not None and word.text in (";", "+"):
            step.inner.append(Inner(_placeholders(current, "{}")))
            current = None
        elif current is not None:
            current.append(word)
    if current:
        step.inner.append(Inner(_placeholders(current, "{}")))
    return step


_PARALLEL = options("-j/--jobs -N -n/--max-args -L/--max-lines --colsep -a/--arg-file -d/--delimiter "
                    "-E -I --halt --timeout --joblog --results --nice --retries --delay --load --memfree "
                    "--header --tmpdir --wd/--workdir --block --env --tag-string",
                    "-k/--keep-order -q/--quote --pipe -0/--null -u/--ungroup --group --line-buffer "
                    "-v/--verbose --will-cite --shuf --tag --eta --bar --progress --dry-run -X -m --xargs "
                    "--plus --no-notice -r/--no-run-if-empty")  # fmt: skip
_ARG_SEPARATORS = frozenset({":::", "::::", ":::+", "::::+"})
_REPLACEMENT = re.compile(r"\{[^{}\s]*\}")


def _parallel(name: str, words: list[Word]) -> UnwrapStep:
    parsed = parse_options(_PARALLEL, words)
    if parsed.reason:
        return UnwrapStep(reasons=[f"parallel: {parsed.reason}: cannot tell which command it runs"])
    command: list[Word] = []
    for word in parsed.rest:
        if word.text in _ARG_SEPARATORS:
            break
        command.append(word)
    if not command:
        return UnwrapStep(reasons=["parallel runs commands it reads from its arguments or stdin"])
    if any(w.dynamic for w in command) or "{=" in " ".join(w.text for w in command):
        return UnwrapStep(reasons=["parallel with a command only known when it runs"])
    markers = [m.text for m in parsed.found.get("-I", [])] or ["{}"]
    script = " ".join(w.text for w in command)
    if not any(m in script for m in markers) and "{" not in script:
        script += " {}"  # the arguments are appended
    for marker in markers:
        script = script.replace(marker, "$__parallel_arg")
    script = _REPLACEMENT.sub("$__parallel_arg", script)  # `{.}`, `{/}`, `{2}`, ...
    return UnwrapStep(keep_self=False, scripts=[script])


_WATCH = options("-n/--interval -q/--equexit",
                 "-b/--beep -c/--color -e/--errexit -g/--chgexit -p/--precise -t/--no-title "
                 "-w/--no-wrap -x/--exec", "-d/--differences")  # fmt: skip


def _watch(name: str, words: list[Word]) -> UnwrapStep:
    parsed = parse_options(_WATCH, words)
    if parsed.reason:
        return UnwrapStep(reasons=[f"watch: {parsed.reason}: cannot tell which command it runs"])
    if not parsed.rest:
        return UnwrapStep()
    if "-x" in parsed.found:
        return UnwrapStep(keep_self=False, inner=[Inner(parsed.rest)])
    step = UnwrapStep(keep_self=False)
    joined = Word(" ".join(w.text for w in parsed.rest), " ".join(w.template for w in parsed.rest))
    add_scripts(step, [joined])
    return step


_FLOCK = options("-w/--timeout/--wait -E/--conflict-exit-code",
                 "-s/--shared -x/-e/--exclusive -u/--unlock -n/--nb/--nonblock -o/--close "
                 "-F/--no-fork --verbose")  # fmt: skip


def _flock(name: str, words: list[Word]) -> UnwrapStep:
    parsed = parse_options(_FLOCK, words)
    if parsed.reason:
        return UnwrapStep(reasons=[f"flock: {parsed.reason}: cannot tell which command it runs"])
    rest = parsed.rest[1:]  # the lock file or descriptor
    if parsed.rest[:1] and parsed.rest[0].splits:
        return UnwrapStep(reasons=["flock: a lock file only known when it runs"])
    if not rest:
        return UnwrapStep()
    step = UnwrapStep(keep_self=False)
    if rest[0].text in ("-c", "--command"):
        add_scripts(step, rest[1:2] or [literal("")])
    else:
        step.inner.append(Inner(rest))
    return step


_SU = options("-c/--command/--session-command -s/--shell -g/--group -G/--supp-group "
              "-w/--whitelist-environment -u/--user",
              "-m/-p/--preserve-environment -l/--login -f/--fast -P/--pty")  # fmt: skip


def _su(name: str, words: list[Word]) -> UnwrapStep:
    parsed = parse_options(_SU, words, permute=True)
    if parsed.reason:
        return UnwrapStep(reasons=[f"{name}: {parsed.reason}: cannot tell which command it runs"])
    step = UnwrapStep()
    rest = [w for w in parsed.rest if w.text != "-"]
    for shell in parsed.found.get("-s", []):
        if shell.dynamic or shell.text.rsplit("/", 1)[-1] not in SHELLS:
            step.reasons.append(f"`{name} -s {shell.text}` runs another program as the shell")
    if "-u" in parsed.found and name == "runuser":
        if rest:
            step.inner.append(Inner(rest))
        return step
    scripts = parsed.found.get("-c", [])
    if scripts:
        add_scripts(step, scripts[-1:])
        return step
    call = shell_call("sh", rest[1:])  # the words after the user go to the shell
    step.reasons += call.reasons
    if call.script is not None:
        step.scripts.append(call.script)
    return step


def _sg(name: str, words: list[Word]) -> UnwrapStep:
    rest = words[1:] if words[:1] and words[0].text == "-" else words
    rest = rest[1:]  # the group
    if rest[:1] and rest[0].text == "-c":
        rest = rest[1:]
    step = UnwrapStep()
    if not rest:
        step.reasons.append("`sg` without a command runs a shell reading commands from stdin")
    else:
        add_scripts(step, rest[:1])
    return step


def _busybox(name: str, words: list[Word]) -> UnwrapStep:
    if not words or words[0].text.startswith("-"):
        return UnwrapStep()
    return UnwrapStep(keep_self=False, inner=[Inner(words)])


FORMS: dict[str, Callable[[str, list[Word]], UnwrapStep]] = {
    "env": _env, "xargs": _xargs, "find": _find, "parallel": _parallel, "watch": _watch,
    "flock": _flock, "su": _su, "runuser": _su, "sg": _sg, "busybox": _busybox, "toybox": _busybox,
}  # fmt: skip


def output_scripts(name: str, found: dict[str, list[Word]]) -> list[Word]:
    """`strace -o '|cmd'` (or `!cmd`) pipes its output into a shell command."""
    if name not in ("strace", "ltrace"):
        return []
    return [Word(v.text[1:], v.template[1:]) for v in found.get("-o", []) if v.text[:1] in ("|", "!")]


def option_doubts(name: str, found: dict[str, list[Word]]) -> list[str]:
    """Option values that make the command unknown (`systemd-run -p ExecStartPre=...`)."""
    if name != "systemd-run":
        return []
    properties = found.get("-p", [])
    risky = [v.text for v in properties if v.dynamic or v.text.lower().startswith(("exec", "environment"))]
    return [f"`systemd-run -p {text}` runs or steers another program" for text in risky]


def positional_doubts(name: str, positional: list[Word]) -> list[str]:
    """`chroot DIR cmd`: under another root, a command's name may be any program."""
    if name == "chroot" and positional and positional[0].text.rstrip("/") != "":
        return [f"`chroot {positional[0].text}` runs the command from another root"]
    return []
