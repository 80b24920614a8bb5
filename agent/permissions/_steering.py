"""Variables that change which program runs or what it runs, and the builtins that set variables.

`PATH=/tmp/evil ls` runs whatever `ls` is in /tmp/evil; `LD_PRELOAD` loads code into any program;
`BASH_ENV` runs a file when bash starts; a `BASH_FUNC_ls%%` variable defines a function `ls` in the
next bash; `PS4` runs its command substitutions under `set -x`; pagers, editors and askpass
programs run whatever they name; `GIT_SSH_COMMAND`, `GIT_EXEC_PATH`, `GIT_CONFIG_GLOBAL`... make git
run another program. Such an assignment makes the command unknown: it is a reason to ask, and a
denial when a deny rule exists. Other assignments (`FOO=1 make`, `PYTHONPATH=. pytest`) are looked
through: an interpreter runs whatever code it is given anyway, which command rules never bound.

`GIT_CONFIG_PARAMETERS` and `GIT_CONFIG_COUNT/KEY_<n>/VALUE_<n>` given to a git command are read as
its configuration instead (`_git`); anywhere else they are steering too.
"""

from __future__ import annotations

import re

from agent.permissions._words import Word

_STEERING = re.compile(
    r"(PATH|IFS|ENV|BASH_ENV|BASH_FUNC_.*|PROMPT_COMMAND|PS[0-4]|SHELLOPTS|BASHOPTS|SHELL"
    r"|BASH_LOADABLES_PATH|EXECIGNORE|LD_\w*|GCONV_PATH|LOCPATH"
    r"|PAGER|MANPAGER|SYSTEMD_PAGER|LESS|LESSOPEN|LESSCLOSE|LESSKEY\w*|EDITOR|VISUAL|SUDO_EDITOR"
    r"|SUDO_ASKPASS|SSH_ASKPASS|BROWSER|TEXTDOMAIN|TEXTDOMAINDIR"
    r"|GIT_(CONFIG|CONFIG_GLOBAL|CONFIG_SYSTEM|EXEC_PATH|SSH|SSH_COMMAND|PAGER|EDITOR|SEQUENCE_EDITOR"
    r"|EXTERNAL_DIFF|ASKPASS|PROXY_COMMAND|TEMPLATE_DIR|ALLOW_PROTOCOL|PROTOCOL_FROM_USER))"
)
_GIT_CONFIG_ENV = re.compile(r"GIT_CONFIG_(PARAMETERS|COUNT|KEY_\d+|VALUE_\d+)")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
"""A shell assignment word: `NAME=value`, `NAME+=value`, `NAME[i]=value`."""


def steers(name: str) -> bool:
    """Whether setting variable `name` can change which program runs or what it runs."""
    return _STEERING.fullmatch(name) is not None or is_git_config(name)


def is_git_config(name: str) -> bool:
    """Whether `name` carries configuration a git command reads (`GIT_CONFIG_PARAMETERS`...)."""
    return _GIT_CONFIG_ENV.fullmatch(name) is not None


def split_assignment(word: Word, *, env_style: bool = False) -> tuple[str, Word] | None:
    """`NAME=value` as (NAME, value word); None when `word` is no assignment.

    `env_style` takes any word holding `=` as env(1) does (`BASH_FUNC_ls%%=...` included). A name
    only known when it runs gives the name `?`, which every caller treats as steering.
    """
    name, has_value, _ = word.text.partition("=")
    if not has_value or not name or (not env_style and not ASSIGNMENT.match(word.text)):
        return None
    known, _, value_template = word.template.partition("=")
    if known != name:
        return "?", Word(word.text, word.template, word.splits)
    value_text = word.text[len(name) + 1 :]
    return name.rstrip("+").split("[", 1)[0], Word(value_text, value_template, word.splits)


def _name_part(word: Word) -> Word:
    """`NAME=value` -> NAME (the whole word when the name is only known at run time)."""
    name, has_value, _ = word.text.partition("=")
    if not has_value or word.template.partition("=")[0] != name:
        return word
    return Word(name, name)


_NAME_TAKERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "read": (frozenset({"-a"}), frozenset("-d -i -n -N -p -t -u".split())),
    "mapfile": (frozenset(), frozenset("-d -n -O -s -u -C -c".split())),
    "readarray": (frozenset(), frozenset("-d -n -O -s -u -C -c".split())),
    "printf": (frozenset({"-v"}), frozenset()),
    "wait": (frozenset({"-p"}), frozenset()),
}
"""Builtins that set variables: options whose value is a name, and options with other values.
`read` and `mapfile` also set the variables named by their plain arguments."""


def names_set_by(command: str, args: list[Word]) -> list[Word]:
    """The words naming variables `command args...` sets (read, mapfile, printf -v, getopts...)."""
    if command in ("declare", "typeset", "local", "export", "readonly"):
        return [_name_part(w) for w in args if not w.text.startswith(("-", "+"))]
    if command == "getopts":
        return args[1:2]
    if command not in _NAME_TAKERS:
        return []
    name_options, valued = _NAME_TAKERS[command]
    named: list[Word] = []
    plain: list[Word] = []
    words = iter(args)
    for word in words:
        option = word.text[:2]
        if option in name_options and len(word.text) > 2:
            named.append(Word(word.text[2:], word.template[2:]))
        elif option in name_options:
            named.append(next(words, Word("", "")))
        elif option in valued:
            if len(word.text) == 2:
                next(words, None)
        elif not word.text.startswith("-"):
            plain.append(word)
    return named if command in ("printf", "wait") else named + plain
