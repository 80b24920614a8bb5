"""The one way the runtime runs git on the host: nothing a repository configured can execute.

Every command gets:

- an environment with no inherited `GIT_*` variable (`GIT_DIR`, `GIT_CONFIG_*`, `GIT_EXEC_PATH`,
  `GIT_SSH*`, ...) and the repository named explicitly (`GIT_DIR`, `GIT_WORK_TREE`,
  `GIT_INDEX_FILE`), so git never discovers one; no system or global config for a local target;
  no pager, editor or terminal prompt; stdin closed; its own process group, killed on timeout;
- `-c` settings that switch off what git could run from configuration (`NEVER_RUN`; for a local
  target also every transport and credential helper, `LOCAL_ONLY`). Command-line settings win
  over every config file for these single-valued keys, includes included;
- options per command (`COMMAND_OPTIONS`): no external diff or textconv, no submodule recursion,
  no hook or signing on a commit.

Drivers (`filter.<name>.clean`, `diff.<name>.textconv`, `merge.<name>.driver`) are named by
`.gitattributes` but defined in config, and `-c` cannot blank a name it does not know: so git
here only reads config the runtime wrote. The shadow repository pins its own config
(`GitTarget.pinned`, restored before every command); a user's repository is read through
`view.repository_view`, whose config is ours.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from agent.errors import GitDirRefusedError, HostGitError
from agent.hostgit._files import read_small, replace_text

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 300.0
"""Bounds a git that blocks (a FIFO where it expects a file); far above any real checkout."""

NEVER_RUN: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", "cat"),
    ("core.editor", ":"),
    ("sequence.editor", ":"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("log.showSignature", "false"),
    ("submodule.recurse", "false"),
    ("diff.ignoreSubmodules", "all"),
    ("status.submoduleSummary", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("protocol.ext.allow", "never"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
"""Settings on every command: each names something git would otherwise run (or a git it would
start in a submodule, with that submodule's own config)."""

LOCAL_ONLY: tuple[tuple[str, str], ...] = (
    ("protocol.allow", "never"),
    *((f"protocol.{name}.allow", "never") for name in ("file", "git", "ssh", "http", "https")),
    ("credential.helper", ""),
    ("core.askPass", ""),
    ("core.sshCommand", "false"),
)
"""A local command talks to no remote: no transport (each named too, as `protocol.<name>.allow`
beats `protocol.allow`), so no ssh, upload-pack, proxy, askpass or credential helper either (an
empty `credential.helper` empties the list)."""

NETWORK_ONLY: tuple[tuple[str, str], ...] = (("protocol.file.allow", "always"),)
"""A fetch may read a local path (a Temporal worker on the same machine)."""

COMMAND_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "diff": ("--no-ext-diff", "--no-textconv"),
    "log": ("--no-ext-diff", "--no-textconv"),
    "show": ("--no-ext-diff", "--no-textconv"),
    "status": ("--ignore-submodules=all",),
    "commit": ("--no-verify", "--no-gpg-sign"),
    "commit-tree": ("--no-gpg-sign",),
    "checkout": ("--no-recurse-submodules",),
    "fetch": ("--no-recurse-submodules",),
}
"""Inserted right after the subcommand, so a caller cannot forget them."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class GitTarget:
    """The repository a command works on, named in full so git discovers nothing."""

    git_dir: Path
    work_tree: Path | None = None
    index: Path | None = None
    """Default: `<git_dir>/index`."""
    identity: tuple[str, str] | None = None
    """(name, email) for the commits this target makes; never the user's."""
    network: bool = False
    """Read the user's system and global git config (credentials, proxies) and allow transports
    but `ext::`: only for fetching into a repository the runtime has just made."""
    pinned: tuple[tuple[str, str], ...] = ()
    """Files of a git dir the runtime owns (relative path, exact text), restored before every
    command; such a git dir must not have a `commondir` (it would move the config elsewhere)."""

    def at(self, work_tree: Path, index: Path | None = None) -> GitTarget:
        """The same repository with another work tree (and index)."""
        return dataclasses.replace(self, work_tree=work_tree, index=index)


def git_environment(target: GitTarget) -> dict[str, str]:
    """The whole environment of a git command on `target` (nothing `GIT_*` is inherited)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_DIR=str(target.git_dir),
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_PAGER="cat",
        GIT_EDITOR=":",
        GIT_SEQUENCE_EDITOR=":",
        GIT_ATTR_NOSYSTEM="1",
        LC_ALL="C",
        LANGUAGE="C",
    )
    if not target.network:
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    if target.work_tree is not None:
        env["GIT_WORK_TREE"] = str(target.work_tree)
    if target.index is not None:
        env["GIT_INDEX_FILE"] = str(target.index)
    if target.identity is not None:
        name, email = target.identity
        for who in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{who}_NAME"], env[f"GIT_{who}_EMAIL"] = name, email
    return env


def git_command(target: GitTarget, args: tuple[str, ...]) -> list[str]:
    """`git --no-pager -c ... SUBCOMMAND <its safety options> ARGS...`."""
    settings = NEVER_RUN + (NETWORK_ONLY if target.network else LOCAL_ONLY)
    flags = [part for key, value in settings for part in ("-c", f"{key}={value}")]
    if not args:
        return ["git", "--no-pager", *flags]
    return ["git", "--no-pager", *flags, args[0], *COMMAND_OPTIONS.get(args[0], ()), *args[1:]]


def enforce_pins(target: GitTarget) -> None:
    """Restore the files the runtime pins in its own git dir; refuse a planted `commondir`.

    Raises:
        GitDirRefusedError: the git dir has a `commondir`, which would send git to another config.
    """
    if not target.pinned:
        return
    commondir = target.git_dir / "commondir"
    if os.path.lexists(commondir):
        raise GitDirRefusedError(
            commondir,
            read_small(commondir, 4096) or "(unreadable)",
            "and the runtime's own repository never has one",
        )
    for relative, text in target.pinned:
        path = target.git_dir / relative
        if read_small(path) != text:
            log.warning("restored %s: it differed from what subagent writes there", path)
            replace_text(path, text)


def write_pins(target: GitTarget) -> None:
    """Write the pinned files of a git dir the runtime has just created."""
    for relative, text in target.pinned:
        replace_text(target.git_dir / relative, text)


def run_git(
    target: GitTarget,
    *args: str,
    stdin: bytes | None = None,
    ok: tuple[int, ...] = (0,),
    timeout: float = DEFAULT_TIMEOUT_S,
    error: type[HostGitError] = HostGitError,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS` on `target` in its work tree (else its git dir); returns stdout unstripped.

    Raises:
        HostGitError: (or `error`) the exit code is not in `ok`, or git ran past `timeout`.
        GitDirRefusedError: the target's own git dir was tampered with (see `enforce_pins`).
    """
    enforce_pins(target)
    argv = git_command(target, args)
    with subprocess.Popen(
        argv,
        cwd=target.work_tree or target.git_dir,
        env=git_environment(target),
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.communicate()
            raise _timed_out(args, timeout, error) from None
        except BaseException:  # interrupted: leave no git behind
            _kill_group(process.pid)
            raise
    done = subprocess.CompletedProcess(argv, process.returncode, out, err)
    if done.returncode not in ok:
        raise error(_failure(args, done.returncode, err))
    return done


async def run_git_async(
    target: GitTarget,
    *args: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    error: type[HostGitError] = HostGitError,
) -> None:
    """`run_git` awaited without holding a thread (a big checkout takes seconds); output dropped.

    Cancelling it kills git's process group.
    """
    import asyncio

    enforce_pins(target)
    process = await asyncio.create_subprocess_exec(
        *git_command(target, args),
        cwd=target.work_tree or target.git_dir,
        env=git_environment(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout)
    except BaseException as exc:
        if process.returncode is None:
            _kill_group(process.pid)
            await asyncio.shield(process.wait())
        if isinstance(exc, TimeoutError):
            raise _timed_out(args, timeout, error) from None
        raise
    if process.returncode != 0:
        raise error(_failure(args, process.returncode or 0, err))


def init_repository(path: Path, *, bare: bool) -> None:
    """`git init` at `path` with no template (so no sample hooks) and no config but git's own.

    Raises:
        HostGitError: git could not create it.
    """
    path.mkdir(parents=True, exist_ok=True)
    git_dir = path if bare else path / ".git"
    run_git(
        GitTarget(git_dir=git_dir, work_tree=None if bare else path),
        "init",
        "--quiet",
        "--template=",
        *(["--bare"] if bare else []),
    )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _failure(args: tuple[str, ...], code: int, stderr: bytes) -> str:
    said = stderr.decode(errors="replace").strip() or "no message"
    return f"git {' '.join(args[:3])} failed ({code}): {said}"


def _timed_out(args: tuple[str, ...], timeout: float, error: type[HostGitError]) -> HostGitError:
    return error(
        f"git {' '.join(args[:3])} did not finish in {timeout:g}s and was stopped "
        "(a FIFO or device where git expects a file can block it)"
    )
