"""A user's repository as the runtime's git sees it: its objects, refs, HEAD and index, not its config.

git reads a repository's config (and whatever it includes) before every command, and config is
where fsmonitor, hooks, filter, diff and merge drivers, pagers and aliases live. A view is a
private git dir the runtime writes: a config of its own, a copy of HEAD, and links to the
repository's objects, refs, packed-refs, shallow file and info/exclude; the index is the
repository's (`GIT_INDEX_FILE`). `git status`, `rev-parse`, `diff` or `add -N` on a view see the
repository as it is, and git never opens its config. A view is also a repository a worker can
fetch from without git's upload-pack reading the original's config.

From the repository's config only settings that change how files are compared are carried over
(file modes, symlinks, case, line endings, the object format), each only with a value git accepts,
read with includes off from bytes read once.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import HostGitError
from agent.hostgit._files import read_small
from agent.hostgit.layout import RepoLayout
from agent.hostgit.runner import DEFAULT_TIMEOUT_S, GitTarget, run_git

_BOOL = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})
_CARRIED: dict[str, frozenset[str]] = {
    "core.filemode": _BOOL,
    "core.symlinks": _BOOL,
    "core.ignorecase": _BOOL,
    "core.precomposeunicode": _BOOL,
    "core.trustctime": _BOOL,
    "core.checkstat": frozenset({"default", "minimal"}),
    "core.autocrlf": _BOOL | {"input"},
    "core.eol": frozenset({"lf", "crlf", "native"}),
    "extensions.objectformat": frozenset({"sha1", "sha256"}),
}
"""Settings a view takes from the repository, with the values it takes them with."""

_HEAD = re.compile(r"ref: refs/[A-Za-z0-9._/@+-]+\n?|[0-9a-f]{40}\n?|[0-9a-f]{64}\n?")
_LINKED = ("objects", "refs", "packed-refs", "shallow")
"""From the common dir, when present."""


@contextmanager
def repository_view(layout: RepoLayout, timeout: float = DEFAULT_TIMEOUT_S) -> Iterator[GitTarget]:
    """A target for git on `layout`'s repository that never reads its config or hooks.

    Raises:
        HostGitError: the repository's HEAD is missing or not one git could read.
    """
    head_file = layout.git_dir / "HEAD"
    head = read_small(head_file, 4096)
    if head is None or not _HEAD.fullmatch(head):
        raise HostGitError(
            f"{head_file} is missing or not a HEAD git can read; is {layout.work_tree} a git repository?"
        )
    with tempfile.TemporaryDirectory(prefix="subagent-git-view-") as scratch:
        view = Path(scratch)
        (view / "HEAD").write_text(head)
        (view / "config").write_text(_config({}))
        for name in _LINKED:
            if os.path.lexists(layout.common_dir / name):
                (view / name).symlink_to(layout.common_dir / name)
        (view / "info").mkdir()
        (view / "info" / "exclude").symlink_to(layout.common_dir / "info" / "exclude")
        for shared in layout.git_dir.glob("sharedindex.*"):  # a split index refers to these by name
            (view / shared.name).symlink_to(shared)
        target = GitTarget(git_dir=view, work_tree=layout.work_tree, index=layout.git_dir / "index")
        if settings := _carried_settings(layout, target, timeout):
            (view / "config").write_text(_config(settings))
        yield target


def _carried_settings(layout: RepoLayout, target: GitTarget, timeout: float) -> dict[str, str]:
    """The `_CARRIED` settings of the repository's own config file, includes not followed."""
    text = read_small(layout.common_dir / "config")
    if not text:
        return {}
    pattern = "^(" + "|".join(re.escape(key) for key in _CARRIED) + ")$"
    try:
        done = run_git(
            target,
            "config",
            "--no-includes",
            "--file",
            "-",
            "--get-regexp",
            pattern,
            stdin=text.encode("utf-8", errors="surrogateescape"),
            ok=(0, 1),
            timeout=timeout,
        )
    except HostGitError:  # a config git cannot parse: compare files with git's defaults
        return {}
    settings: dict[str, str] = {}
    for line in done.stdout.decode(errors="replace").splitlines():
        key, _, value = line.partition(" ")
        if value.lower() in _CARRIED.get(key, frozenset()):
            settings[key] = value.lower()
    return settings


def _config(settings: dict[str, str]) -> str:
    sha256 = settings.get("extensions.objectformat") == "sha256"
    lines = ["[core]", f"\trepositoryformatversion = {1 if sha256 else 0}", "\tbare = false"]
    lines += [
        f"\t{key.removeprefix('core.')} = {value}"
        for key, value in settings.items()
        if key.startswith("core.")
    ]
    if sha256:
        lines += ["[extensions]", "\tobjectformat = sha256"]
    return "\n".join(lines) + "\n"
