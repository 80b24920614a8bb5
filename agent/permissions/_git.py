"""What a git command really runs: its configuration from the command line and the environment.

git takes configuration from `-c key=value`, `--config-env=key=VAR`, `GIT_CONFIG_PARAMETERS` and
`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`; all are read here as config:
- an alias (`alias.p=push`, then `git p`) is expanded, and the expansion is checked as well as
  the command as written (a builtin of the same name wins over an alias, and an external
  `git-p` over both: checking every reading is sound). `alias.x='!rm -rf .'` is a shell script;
- any other key that is not known to be harmless (core.sshCommand, core.pager, core.fsmonitor,
  core.hooksPath, diff.external, *.textconv, filter.*, credential.helper, protocol.*.allow,
  include.path, ...) may make git run another program: the command cannot be checked.
A subcommand git does not have may be an alias from a config file, which the analysis cannot read:
a doubt. Subcommand options that run a shell command (`rebase --exec`, `bisect run`, `submodule foreach`,
`fetch --upload-pack`, `filter-branch --tree-filter`, ...) hand that command back to be checked,
and `git config` setting such a key is itself a doubt, since the next git command obeys it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.permissions._words import Word, literal

SAFE_CONFIG = (
    "user.", "color.", "advice.", "init.defaultbranch", "core.quotepath", "core.autocrlf",
    "core.safecrlf", "core.filemode", "core.abbrev", "core.longpaths", "safe.directory",
    "commit.gpgsign", "tag.gpgsign", "pull.rebase", "pull.ff", "merge.ff", "push.default",
    "push.autosetupremote", "fetch.prune", "log.", "format.pretty", "diff.noprefix",
    "diff.renames", "status.", "i18n.", "gc.auto",
)  # fmt: skip
"""Config keys (lowercase prefixes) that cannot make git run a program."""

KNOWN_SUBCOMMANDS = frozenset(
    """
    absorb add am annex annotate apply archimport archive backfill bisect blame branch branchless
    bugreport bundle cat-file check-attr check-ignore check-mailmap check-ref-format checkout
    checkout-index cherry cherry-pick citool clean clone cola column commit commit-graph
    commit-tree config count-objects credential credential-cache credential-store crypt
    cvsexportcommit cvsimport cvsserver daemon describe diagnose diff diff-files diff-index
    diff-tree difftool fast-export fast-import fetch fetch-pack filter-branch filter-repo flow
    fmt-merge-msg for-each-ref for-each-repo format-patch fsck fsck-objects gc get-tar-commit-id
    gitk grep gui hash-object help hook http-backend http-fetch http-push imap-send index-pack init
    init-db instaweb interpret-trailers last-modified lfs log ls-files ls-remote ls-tree machete
    mailinfo mailsplit maintenance merge merge-base merge-file merge-index merge-octopus
    merge-one-file merge-ours merge-recursive merge-recursive-ours merge-recursive-theirs
    merge-resolve merge-subtree merge-tree mergetool mktag mktree multi-pack-index mv name-rev
    notes p4 pack-objects pack-redundant pack-refs patch-id pickaxe prune prune-packed pull push
    quiltimport range-diff read-tree rebase receive-pack reflog refs remote remote-ext remote-fd
    remote-ftp remote-ftps remote-http remote-https repack replace replay repo request-pull rerere
    reset restore rev-list rev-parse revert rm secret send-email send-pack shell shortlog show
    show-branch show-index show-ref sizer sparse-checkout stage stash status stripspace submodule
    subtree survey svn switch symbolic-ref tag town unpack-file unpack-objects update-index
    update-ref update-server-info upload-archive upload-pack var verify-commit verify-pack
    verify-tag version web--browse whatchanged worktree write-tree
    """.split()
)
"""git's own commands (2.39 to 2.47) and well-known external ones. Any other `git NAME` may be an
alias from a config file the agent can write (`git config`, a new repository, HOME), so it is a
doubt, unless an alias given on the command line or in the environment says what it is."""

_SCRIPT_OPTIONS: dict[str, tuple[str, ...]] = {
    "rebase": ("-x", "--exec"),
    "difftool": ("-x", "--extcmd"),
    "fetch": ("--upload-pack",),
    "pull": ("--upload-pack",),
    "ls-remote": ("--upload-pack",),
    "clone": ("-u", "--upload-pack"),
    "archive": ("--exec",),
    "push": ("--receive-pack", "--exec"),
    "send-email": ("--to-cmd", "--cc-cmd", "--header-cmd", "--smtp-server"),
    "filter-branch": (
        "--env-filter", "--tree-filter", "--index-filter", "--parent-filter", "--msg-filter",
        "--commit-filter", "--tag-name-filter",
    ),
}  # fmt: skip
"""Subcommand options whose value is a shell command git runs."""
_RUNS_REST = {"bisect": "run", "submodule": "foreach"}
"""`git bisect run CMD...`, `git submodule foreach CMD...`: the rest is a command."""


@dataclass(eq=False, repr=False)
class GitCall:
    """What one git command adds to the analysis."""

    expansions: list[list[Word]] = field(default_factory=list)
    """Alias expansions: `git` and the words it becomes, checked like any command."""
    scripts: list[str] = field(default_factory=list)
    """Shell commands git runs (a `!` alias, `rebase --exec`, ...), parsed in turn."""
    reasons: list[str] = field(default_factory=list)


Config = list[tuple[str, Word | None]]


def _sq_string(text: str, at: int) -> tuple[str, int] | None:
    """A single-quoted string at `at` as git writes it (`'\\''` for a quote): value and end."""
    if text[at : at + 1] != "'":
        return None
    out: list[str] = []
    at += 1
    while True:
        end = text.find("'", at)
        if end < 0:
            return None
        out.append(text[at:end])
        at = end + 1
        if text[at : at + 3] != "\\''":
            return "".join(out), at
        out.append("'")
        at += 3


def parse_parameters(text: str) -> Config | None:
    """`GIT_CONFIG_PARAMETERS` (`'key'='value' 'key2'` or the old `'key=value'`); None if malformed."""
    entries: Config = []
    at = 0
    while True:
        while text[at : at + 1] == " ":
            at += 1
        if at >= len(text):
            return entries
        key = _sq_string(text, at)
        if key is None:
            return None
        name, at = key
        if text[at : at + 1] == "=":
            value = _sq_string(text, at + 1)
            if value is None:
                return None
            entries.append((name, literal(value[0])))
            at = value[1]
        elif "=" in name:
            key_part, _, value_part = name.partition("=")
            entries.append((key_part, literal(value_part)))
        else:
            entries.append((name, None))


def _from_env(env: Sequence[tuple[str, Word]], reasons: list[str]) -> Config:
    values = dict(env)
    entries: Config = []
    params = values.get("GIT_CONFIG_PARAMETERS")
    if params is not None:
        parsed = None if params.dynamic else parse_parameters(params.text)
        if parsed is None:
            reasons.append("GIT_CONFIG_PARAMETERS that cannot be read")
        entries += parsed or []
    count = values.get("GIT_CONFIG_COUNT")
    if count is None:
        return entries
    if count.dynamic or not count.text.strip().isdigit():
        reasons.append(f"GIT_CONFIG_COUNT={count.text} is only known when it runs")
        return entries
    for index in range(int(count.text)):
        key = values.get(f"GIT_CONFIG_KEY_{index}")
        if key is None or key.dynamic:
            reasons.append(f"GIT_CONFIG_KEY_{index} is only known when it runs")
            continue
        entries.append((key.text, values.get(f"GIT_CONFIG_VALUE_{index}", literal(""))))
    return entries


def _from_options(stripped: Sequence[tuple[str, Word]], env: Sequence[tuple[str, Word]],
                  reasons: list[str]) -> Config:  # fmt: skip
    values = dict(env)
    entries: Config = []
    for option, given in stripped:
        if option not in ("-c", "--config-env"):
            continue
        key, has_value, rest = given.text.partition("=")
        if given.template.partition("=")[0] != key:
            reasons.append(f"`git {option} {given.text}`: a key only known when it runs")
        elif option == "-c":
            dynamic = given.dynamic
            entries.append((key, None if not has_value else Word(rest, rest) if not dynamic else None))
        else:
            entries.append((key, values.get(rest)))
    return entries


def read_config(
    stripped: Sequence[tuple[str, Word]], env: Sequence[tuple[str, Word]]
) -> tuple[Config, list[str]]:
    """Every config entry the command line and the environment give git, and doubts met reading them."""
    reasons: list[str] = []
    entries = _from_env(env, reasons) + _from_options(stripped, env, reasons)
    return [(key.lower(), value) for key, value in entries], reasons


def is_safe_key(key: str) -> bool:
    """Whether config `key` (lowercase) cannot make git run a program."""
    return key.startswith(SAFE_CONFIG)


def _alias_words(value: Word | None, name: str, reasons: list[str]) -> list[Word] | str | None:
    """The words of a plain alias, the script of a `!` alias, or None (a doubt was noted)."""
    if value is None or value.dynamic:
        reasons.append(f"git alias {name!r} is only known when it runs")
        return None
    if value.text.startswith("!"):
        return value.text[1:]
    try:
        return [literal(w) for w in shlex.split(value.text)]
    except ValueError:
        reasons.append(f"git alias {name!r} cannot be read")
        return None


def _subcommand_scripts(args: list[Word], call: GitCall) -> None:
    """Shell commands the subcommand's own options run."""
    if not args:
        return
    sub = args[0].text
    if sub in _RUNS_REST and len(args) > 2 and args[1].text == _RUNS_REST[sub]:
        call.scripts.append(" ".join(shlex.quote(w.text) for w in args[2:]))
        if any(w.dynamic for w in args[2:]):
            call.reasons.append(f"`git {sub} {_RUNS_REST[sub]}` with a command only known when it runs")
    options = _SCRIPT_OPTIONS.get(sub, ())
    for index, word in enumerate(args[1:], start=1):
        name, has_value, value = word.text.partition("=")
        if name not in options:
            continue
        given = literal(value) if has_value else args[index + 1] if index + 1 < len(args) else literal("")
        if given.dynamic or word.dynamic:
            call.reasons.append(f"`git {sub} {name}` with a command only known when it runs")
        else:
            call.scripts.append(given.text)
    if sub == "config":
        _config_writes(args[1:], call)


def _config_writes(args: list[Word], call: GitCall) -> None:
    """`git config KEY VALUE` (or `set`, `--add`) for a key that can run a program is a doubt."""
    plain = [w for w in args if not w.text.startswith("-")]
    if plain[:1] and plain[0].text in ("set", "unset", "get", "list", "edit", "rename-section"):
        plain = plain[1:] if plain[0].text == "set" else []
    if len(plain) >= 2:
        key = plain[0].text.lower()
        if plain[0].dynamic or not is_safe_key(key):
            call.reasons.append(f"`git config {plain[0].text}` changes what later git commands run")


def git_call(args: list[Word], config: Config) -> GitCall:
    """What `git [globals] args...` adds, given the config it was started with."""
    call = GitCall()
    aliases: dict[str, list[Word | None]] = {}
    for key, value in config:
        if key.startswith("alias."):
            aliases.setdefault(key[len("alias.") :], []).append(value)
        elif not is_safe_key(key):
            call.reasons.append(f"git config {key!r} may make git run another program")
    _subcommand_scripts(args, call)
    if not args:
        return call
    name = args[0].text.lower()
    if name not in aliases and args[0].text not in KNOWN_SUBCOMMANDS and not args[0].text.startswith("-"):
        call.reasons.append(f"`git {args[0].text}` is no git command: it may be an alias from a config file")
    for value in aliases.get(name, []):
        expansion = _alias_words(value, args[0].text, call.reasons)
        if isinstance(expansion, str):
            quoted = " ".join(shlex.quote(w.text) for w in args[1:])
            call.scripts.append(f"{expansion} {quoted}".strip())
        elif expansion is not None:
            call.expansions.append([literal("git"), *expansion, *args[1:]])
    return call


DASHED = re.compile(r"^git-([a-z][a-z0-9-]*)$")
"""`git-push` (also `/usr/lib/git-core/git-push`) is `git push`."""
