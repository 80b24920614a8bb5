"""What a shell invocation runs: a `-c` script (parsed in turn), a script file, or commands from stdin.

The shell's own options are read first, as bash reads them (`-e`, `+x`, `-o NAME`, `-O NAME`,
`--norc`, grouped `-ec`), so `bash -c -o errexit 'rm x'` yields the script `rm x`, not
`errexit`, and `bash -o errexit` with no script is a shell reading stdin. Commands from stdin (a
pipe, a here-doc, a here-string, `-s`, `/dev/stdin`, a process substitution) cannot be checked
before they run. A shell whose syntax is not bash's (zsh, fish, csh...) has its `-c` script
parsed anyway, so a denied command in it is found, but the line stays unanalysable: zsh alone
can run code from a glob qualifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.permissions._words import ANY, ONE, Word

BASH_LIKE = frozenset({"sh", "bash", "dash", "ash", "rbash", "busybox-sh"})
OTHER_SHELLS = frozenset({
    "zsh", "ksh", "ksh93", "mksh", "pdksh", "oksh", "loksh", "yash", "posh", "fish", "csh", "tcsh",
    "pwsh", "nu", "xonsh", "elvish",
})  # fmt: skip
SHELLS = BASH_LIKE | OTHER_SHELLS

_FLAGS = set("abefhkmnptuvxBCEHPTilrD")
_LONG_FLAGS = frozenset(
    "--debugger --dump-po-strings --dump-strings --help --login --noediting --noprofile --norc "
    "--posix --protected --restricted --verbose --version --no-rcs --no-globalrcs --no-config "
    "--private --interactive".split()
)
_START_FILES = frozenset({"--rcfile", "--init-file"})
RISKY_SHOPT = frozenset({"extglob", "expand_aliases"})
"""Shell options that change how the rest of a script is read (`@(rm)`, aliases)."""
_FROM_INPUT = re.compile(r"^(-|/dev/stdin|/dev/fd/\d+|/proc/[^/]+/fd/\d+|/dev/tty)$")


@dataclass(eq=False, repr=False)
class ShellCall:
    """What one shell invocation amounts to."""

    script: str | None = None
    """The `-c` script, to parse in turn."""
    reads_file: bool = False
    """It runs a script file: the rules decide on `sh FILE` as written."""
    reasons: list[str] = field(default_factory=list)


class _ShellOptions:
    def __init__(self, words: list[Word]) -> None:
        self.words = words
        self.i = 0
        self.command = False
        self.stdin = False
        self.unknown = False
        self.reasons: list[str] = []

    def read(self) -> list[Word]:
        """Read the options; the words left (the script or file, then its arguments)."""
        while self.i < len(self.words):
            word = self.words[self.i]
            text = word.text
            if word.dynamic and (word.splits or word.template[:1] in ("-", "+", ANY, ONE)):
                if self.command and not word.splits:
                    break  # the script itself, built at run time
                self.reasons.append(f"the shell argument {text!r} is only known when it runs")
                self.unknown = True
                return []
            if text in ("--", "-"):
                self.i += 1
                break
            if text.startswith("--"):
                self._long(text)
            elif text[:1] in "-+" and len(text) > 1:
                self._short(text)
            else:
                break
            self.i += 1
        return self.words[self.i :]

    def _long(self, text: str) -> None:
        if text in _START_FILES:
            self.i += 1
            self.reasons.append(f"`{text}` runs a start-up file")
        elif text not in _LONG_FLAGS:
            self.reasons.append(f"unknown shell option {text!r}")

    def _short(self, text: str) -> None:
        for at, letter in enumerate(text[1:], start=1):
            if letter == "c":
                self.command = True
            elif letter == "s":
                self.stdin = True
            elif letter in "oO":
                value = text[at + 1 :]
                if not value and self.i + 1 < len(self.words):
                    self.i += 1
                    value = self.words[self.i].text
                if letter == "O" and value in RISKY_SHOPT:
                    self.reasons.append(f"`-O {value}` changes how the script is read")
                return
            elif letter not in _FLAGS:
                self.reasons.append(f"unknown shell option {'-' + letter!r}")
                return


def shell_call(name: str, words: list[Word]) -> ShellCall:
    """What `name words...` runs, for a shell `name` (one of SHELLS)."""
    options = _ShellOptions(words)
    rest = options.read()
    call = ShellCall(reasons=options.reasons)
    if name in OTHER_SHELLS:
        call.reasons.append(f"{name} scripts are not bash: they cannot be checked")
    if options.unknown:
        return call
    if options.command:
        if not rest:
            call.reasons.append("`-c` without a script")
        elif rest[0].dynamic:
            call.reasons.append(f"a shell script built at run time: {rest[0].text!r}")
        else:
            call.script = rest[0].text
        return call
    if options.stdin or not rest:
        call.reasons.append("a shell reading commands from stdin")
    elif rest[0].dynamic or _FROM_INPUT.match(rest[0].text):
        call.reasons.append(f"a shell reading commands from {rest[0].text!r}")
    else:
        call.reads_file = True
    return call
