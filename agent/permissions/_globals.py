"""Global options that come before a tool's subcommand, taken out of the text rules match.

`git -C . push` runs `git push`, so a rule `git push *: deny` must see `git push`: otherwise
reordered flags walk past it. For the tools in `_GLOBALS` the options before the subcommand are
removed from the matched words. An option that is not known, or that can make the tool run
another program (`git -c alias.x='!sh'`, `-c core.hooksPath=...`, `--exec-path=DIR`), makes the
command unanalysable, so it is asked about. Tools not listed here keep their words as written:
docs/permissions.md says which rules that leaves open.
"""

from __future__ import annotations

from typing import NamedTuple


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

_SAFE_GIT_CONFIG = (
    "user.", "color.", "advice.", "init.defaultbranch", "core.quotepath", "core.autocrlf",
    "core.safecrlf", "core.filemode", "core.abbrev", "core.longpaths", "safe.directory",
    "commit.gpgsign", "tag.gpgsign", "pull.rebase", "pull.ff", "merge.ff", "push.default",
    "push.autosetupremote", "fetch.prune", "log.", "format.pretty", "diff.noprefix",
    "diff.renames", "status.", "i18n.", "gc.auto",
)  # fmt: skip
"""`git -c` keys that cannot make git run a program; any other key (alias.*, core.hooksPath,
core.pager, core.sshCommand, *.textconv, filter.*, credential.helper, include.path...) may."""


def _git_danger(option: str, value: str) -> str:
    """Why a git global option with this value may run another program, or ""."""
    if option == "--exec-path":
        return "" if not value else f"`git --exec-path={value}` runs git commands from another directory"
    if option not in ("-c", "--config-env"):
        return ""
    key = value.partition("=")[0].lower()
    if key.startswith(_SAFE_GIT_CONFIG):
        return ""
    return f"`git {option} {value}` sets config {key!r}, which may make git run another program"


def strip_globals(name: str, args: list[str], dynamic: list[bool]) -> tuple[list[str], list[bool], str]:
    """`args` without `name`'s global options before its subcommand, and a reason for doubt.

    The reason is empty when the options are known and harmless; otherwise the command must be
    asked about (an unknown option, a value only known at run time where it matters, or a git
    option that can run another program). Harmful options are still taken out, so that deny
    rules on the subcommand keep applying; an unknown one stops the stripping (its width is
    not known).
    """
    table = _GLOBALS.get(name)
    if table is None:
        return args, dynamic, ""
    doubts: list[str] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        option, has_value, value = args[i].partition("=")
        if option in table.flags and not has_value:
            width = 1
        elif option in table.valued:
            width = 1 if has_value else 2
            if not has_value:
                value = args[i + 1] if i + 1 < len(args) else ""
        elif name == "git" and option == "--exec-path" and has_value:
            width = 1
        else:
            doubts.append(f"unknown {name} option {args[i]!r} before the subcommand")
            break
        if name == "git" and option in ("-c", "--config-env") and any(dynamic[i : i + width]):
            doubts.append(f"`git {option}` with a value only known when it runs")
        elif name == "git" and (danger := _git_danger(option, value)):
            doubts.append(danger)
        i += width
    return args[i:], dynamic[i:], "; ".join(doubts)
