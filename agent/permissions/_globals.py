"""Global options that come before a tool's subcommand, taken out of the text rules match.

`git -C . push` runs `git push`, so a rule `git push *: deny` must see `git push`: otherwise
reordered flags walk past it. For the tools in `_GLOBALS` the options before the subcommand are
removed from the matched words. An option that is not known, or `git --exec-path=DIR`, makes the
command unanalysable; git's `-c` and `--config-env` are handed to `_git`, which reads them as
config. Tools not listed here keep their words as written: docs/permissions.md says which rules
that leaves open.
"""

from __future__ import annotations

from typing import NamedTuple

from agent.permissions._words import ANY, ONE, Word, literal


class _Globals(NamedTuple):
    valued: frozenset[str]
    """Options that take a value: `--opt value` or `--opt=value` (short ones: `-o value`)."""
    flags: frozenset[str]


def _table(valued: str, flags: str) -> _Globals:
    return _Globals(frozenset(valued.split()), frozenset(flags.split()))


_GLOBALS: dict[str, _Globals] = {
    "git": _table(
        "-C -c --config-env --git-dir --work-tree --namespace --attr-source --list-cmds",
        "--no-pager -P -p --paginate --bare --literal-pathspecs --glob-pathspecs --noglob-pathspecs "
        "--icase-pathspecs --no-replace-objects --no-optional-locks --no-advice --no-lazy-fetch "
        "--html-path --man-path --info-path --exec-path --version --help -v -h",
    ),
    "docker": _table(
        "--context -c --host -H --config --log-level -l --tlscacert --tlscert --tlskey",
        "--debug -D --tls --tlsverify --version -v --help",
    ),
    "kubectl": _table(
        "-n --namespace --context --cluster --user --kubeconfig -s --server --token --as --as-group "
        "--as-uid --request-timeout -v --certificate-authority --client-certificate --client-key "
        "--tls-server-name --cache-dir",
        "--insecure-skip-tls-verify --warnings-as-errors --match-server-version --help",
    ),
    "npm": _table(
        "--prefix -C --workspace -w --userconfig --registry --loglevel", "--silent -s --global -g -ws"
    ),
}

GLOBAL_TOOLS = frozenset(_GLOBALS)
"""Tools whose options before a subcommand are left out of the matched text."""


def strip_globals(name: str, args: list[Word]) -> tuple[list[Word], list[tuple[str, Word]], str]:
    """`args` without `name`'s global options before its subcommand; the options; a reason for doubt.

    The reason is empty when the options are known; otherwise the command cannot be checked (an
    unknown option, whose width is not known, stops the stripping; so does a word only known
    when it runs where an option or the subcommand could be). The options taken out are handed
    back, so that git's `-c` and `--config-env` can be read as config (`_git`).
    """
    table = _GLOBALS.get(name)
    if table is None:
        return args, [], ""
    stripped: list[tuple[str, Word]] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word.dynamic and (word.splits or word.template[:1] in ("-", ANY, ONE)):
            doubt = f"`{name} {word.text}`: an option or subcommand only known when it runs"
            return args[i:], stripped, doubt
        if not word.text.startswith("-") or word.text == "--":
            break
        option, has_value, value = word.text.partition("=")
        if option in table.flags and not has_value:
            given, width = literal(""), 1
        elif option in table.valued or (name == "git" and option == "--exec-path" and has_value):
            width = 1 if has_value else 2
            given = literal(value) if has_value else args[i + 1] if i + 1 < len(args) else literal("")
        else:
            return args[i:], stripped, f"unknown {name} option {word.text!r} before the subcommand"
        stripped.append((option, given))
        i += width
    exec_path = [v.text for o, v in stripped if o == "--exec-path" and v.text]
    reason = f"`git --exec-path={exec_path[0]}` runs git commands from another directory" if exec_path else ""
    return args[i:], stripped, reason
