"""Which repository a folder belongs to, checked before the runtime's git goes near it.

git follows a `.git` file (`gitdir: X`), a `commondir` file and a symlinked `.git` without
asking, and each is a file an agent can write. The runtime looks for the nearest `.git` at or
above a folder, as git does, and accepts only the shapes git itself makes:

- a `.git` folder without a `commondir` (git writes one only under `.git/worktrees/NAME/`);
- a `.git` file naming a linked worktree's git dir `C/worktrees/NAME`, whose `commondir` leads
  back to `C` and whose `gitdir` names this `.git`;
- a `.git` file naming a git dir without a `commondir` (a submodule's, `--separate-git-dir`).

Anything else, a git dir or common dir inside the work tree (other than `.git` itself), or a
`.git` that is a symlink, is refused with `GitDirRefusedError` naming the file and where it
points. Nothing here runs git.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent.errors import GitDirRefusedError
from agent.hostgit._files import pointer_target, read_small


@dataclass(frozen=True, eq=False, repr=False)
class RepoLayout:
    """Where one checkout's parts live (all absolute and resolved)."""

    work_tree: Path
    git_dir: Path
    """This checkout's HEAD and index."""
    common_dir: Path
    """Objects, refs, config, info/exclude: the git dir itself unless this is a linked worktree."""


def find_repository(start: Path) -> RepoLayout | None:
    """The repository `start` is in (the nearest `.git` at or above it), None when there is none.

    Raises:
        GitDirRefusedError: that `.git` has a shape git does not make (see the module docstring).
    """
    start = Path(os.path.realpath(start))
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return read_layout(folder)
    return None


def read_layout(work_tree: Path) -> RepoLayout:
    """The checked layout of the repository whose `.git` is in `work_tree`.

    Raises:
        GitDirRefusedError: see the module docstring; also a `.git` that is neither file nor folder.
    """
    work_tree = Path(os.path.realpath(work_tree))
    dotgit = work_tree / ".git"
    mode = os.lstat(dotgit).st_mode
    if stat.S_ISLNK(mode):
        raise GitDirRefusedError(
            dotgit, os.readlink(dotgit), "a symbolic link (git makes a folder or a `gitdir:` file)"
        )
    if stat.S_ISDIR(mode):
        commondir = dotgit / "commondir"
        if os.path.lexists(commondir):
            raise GitDirRefusedError(
                commondir,
                _named(commondir),
                "and a repository's own .git never has "
                "a commondir (git writes one only under .git/worktrees/NAME)",
            )
        return RepoLayout(work_tree, dotgit, dotgit)
    if not stat.S_ISREG(mode):
        raise GitDirRefusedError(dotgit, "(not a file or folder)", "which git would try to read")
    git_dir = pointer_target(dotgit, "gitdir:")
    if git_dir is None or not git_dir.is_dir():
        raise GitDirRefusedError(dotgit, _named(dotgit), "which is not a `gitdir:` line naming a folder")
    _refuse_inside(work_tree, git_dir, dotgit)
    return RepoLayout(work_tree, git_dir, _common_dir(work_tree, dotgit, git_dir))


def _common_dir(work_tree: Path, dotgit: Path, git_dir: Path) -> Path:
    """A linked worktree's common dir, checked both ways; the git dir itself when it has none."""
    commondir = git_dir / "commondir"
    if not os.path.lexists(commondir):
        return git_dir
    common = pointer_target(commondir)
    if common is None or git_dir.parent.name != "worktrees" or git_dir.parent.parent != common:
        raise GitDirRefusedError(
            commondir,
            _named(commondir),
            f"not the repository that holds {git_dir} (a worktree's git dir is COMMON/worktrees/NAME)",
        )
    back = pointer_target(git_dir / "gitdir")
    if back != dotgit:
        raise GitDirRefusedError(
            git_dir / "gitdir",
            back or _named(git_dir / "gitdir"),
            f"not {dotgit}, whose worktree it claims to be",
        )
    if os.path.lexists(common / "commondir"):
        raise GitDirRefusedError(
            common / "commondir",
            _named(common / "commondir"),
            "and a common dir never has a commondir of its own",
        )
    _refuse_inside(work_tree, common, commondir)
    return common


def _refuse_inside(work_tree: Path, git_dir: Path, pointer: Path) -> None:
    """A git dir among the work tree's files is one the agent writes: its config would be theirs."""
    if git_dir.is_relative_to(work_tree) and not git_dir.is_relative_to(work_tree / ".git"):
        raise GitDirRefusedError(pointer, git_dir, "a folder inside the work tree, where the agent writes")


def _named(pointer: Path) -> str:
    text = read_small(pointer, 4096)
    return text.strip() if text is not None else "(unreadable)"
