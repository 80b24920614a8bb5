"""Where the runtime keeps things: the one place that reads the data and config locations, and
that makes and reads the per-user files deciding a later run as the user's alone
(`make_private_folder`, `read_private`; docs/security.md, "The runtime's own files")."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NoReturn


def data_home() -> Path:
    """Sessions, checkpoints and saved outputs: `$SUBAGENT_HOME`, else `$XDG_DATA_HOME/subagent`."""
    if explicit := os.environ.get("SUBAGENT_HOME"):
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "subagent"


def worktrees_home() -> Path:
    """Subagents' worktrees: `$SUBAGENT_WORKTREES`, else `<data>/worktrees`.

    Pointing it at a tmpfs (`/dev/shm/subagent`) makes checkouts several times faster on a slow
    disk; the sandbox binds a worktree wherever it is.
    """
    if explicit := os.environ.get("SUBAGENT_WORKTREES"):
        return Path(explicit)
    return data_home() / "worktrees"


def bases_home() -> Path:
    """The checkouts subagents' copy-on-write trees are layered on (one per workspace, reused
    across runs): `<data>/bases`. Never under the worktrees, which are all a run's own."""
    return data_home() / "bases"


def subagent_trees_left() -> bool:
    """Whether any subagent's worktree or base checkout is on disk (either folder has an entry):
    where none is, a run has nothing of them to sweep and need not load the code that would."""
    for folder in (worktrees_home(), bases_home()):
        try:
            with os.scandir(folder) as entries:
                if next(entries, None) is not None:
                    return True
        except OSError:  # missing (none made yet) or unreadable (the sweep would skip it too)
            continue
    return False


def config_home() -> Path:
    """The user's config: `$XDG_CONFIG_HOME/subagent` (config.yaml, agents/, AGENTS.md, trusted folders)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "subagent"


def user_config_file() -> Path:
    """The user's own settings (agents.yaml's schema), trusted because only the user writes there."""
    return config_home() / "config.yaml"


def trusted_folders_file() -> Path:
    """The folders the user trusts (`subagent trust`); written by the runtime, not by hand."""
    return config_home() / "trusted-folders.json"


def builtin_dir() -> Path:
    """The folder holding the shipped `prompts/` and `agents.yaml`.

    In a source checkout (or an editable install) that is the repository root; in a wheel the
    files are packed under `agent/_builtin/`.
    """
    package = Path(__file__).resolve().parent
    packed = package / "_builtin"
    if (packed / "agents.yaml").is_file():
        return packed
    return package.parent


def claude_home() -> Path:
    """Claude Code's user folder (`~/.claude/settings.json`, `skills/`, `commands/`):
    `$CLAUDE_CONFIG_DIR`, else `~/.claude`, as Claude Code itself reads it."""
    if explicit := os.environ.get("CLAUDE_CONFIG_DIR"):
        return Path(explicit)
    return Path.home() / ".claude"


def make_private_folder(folder: Path) -> None:
    """Make `folder` and each missing folder above it, every one 0700 whatever the umask (where the
    runtime keeps what decides a later run: the trusted folders, MCP approvals and listings).
    `Path.mkdir(parents=True, mode=...)` gives the mode to the last folder only; the others would
    be 0777 less the umask, and another user could swap the private folder in one of them.
    A folder that exists keeps its mode (`read_private` refuses one others can write).

    Raises:
        OSError: a folder could not be made.
    """
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            os.mkdir(made, 0o700)
        except FileExistsError:
            continue  # made meanwhile (another run): `read_private` checks it
        os.chmod(made, 0o700)  # the umask may have taken the owner's bits too


def _unsafe(info: os.stat_result) -> str | None:
    """Why another local user could replace what is in (or at) a folder or file with this status."""
    if info.st_uid not in (os.geteuid(), 0):
        return "owned by another user"
    if info.st_mode & stat.S_ISVTX:
        return None  # /tmp and the like: no one removes or renames another's entry
    if info.st_mode & 0o002 or (info.st_mode & 0o020 and not _group_is_owners_own(info)):
        return "writable by other users"
    return None


def _group_is_owners_own(info: os.stat_result) -> bool:
    """Whether the file's group has no one in it but its owner, as OpenSSH's StrictModes rules: its
    one listed member is the owner, or it lists none and is the owner's primary group (a user
    private group: many systems give users a umask of 002 with one)."""
    import grp
    import pwd

    try:
        owner = pwd.getpwuid(info.st_uid)
        group = grp.getgrgid(info.st_gid)
    except KeyError:
        return False
    if not group.gr_mem:
        return group.gr_gid == owner.pw_gid
    return group.gr_mem == [owner.pw_name]


def read_private(path: Path, *, what: str) -> bytes | None:
    """The content of `path`, one of the runtime's files that decide a later run (`what` names it);
    None when it does not exist.

    Raises:
        ConfigError: it, or a folder above it (up to HOME), is owned by another user or writable by
            others (another local user may have written it or swapped it), or it is a link; the
            message names the path and what to do.
        OSError: it exists but cannot be read.
    """
    home = Path.home()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        if os.path.islink(path):
            _refuse(path, path, "a link", what)
        raise
    with os.fdopen(fd, "rb") as file:
        if why := _unsafe(os.fstat(file.fileno())):
            _refuse(path, path, why, what)
        for folder in path.parents:
            if folder == home:
                break
            if why := _unsafe(os.stat(folder)):
                _refuse(path, folder, why, what)
        return file.read()


def _refuse(path: Path, culprit: Path, why: str, what: str) -> NoReturn:
    from agent.errors import ConfigError

    fix = f"`chmod go-w {culprit}`" if why == "writable by other users" else f"remove {culprit}"
    raise ConfigError(
        f"{path}: not read: {'it' if culprit == path else culprit} is {why}, so another user of this"
        f" machine may have written {what}; check it, then {fix} (or delete {path} and make it again)"
    )
