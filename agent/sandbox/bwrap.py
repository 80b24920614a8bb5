"""The bubblewrap sandbox: the OS boundary around every bash call, built from the run's FsPolicy.

Each call gets a fresh mount, PID (and by default network) namespace, all capabilities dropped.
The filesystem is the policy's (`agent.sandbox._mounts`): `/` read-only, the roots read-write
with their protected paths read-only, HOME bash's own but for the toolchain folders, the
runtime's data hidden, a size-limited private /tmp, /dev/shm and /run. Unix sockets outside the
roots are unreachable (`agent.sandbox._sockets`, `_landlock`, `_seccomp`); rlimits and, where one
can be had, a memory cgroup bound what a call may take (`agent.sandbox._cgroup`). When the call
ends the namespace's init dies, and with it every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.sandbox._env import git_identity, scrub_env
from agent.sandbox.base import ExecResult
from agent.sandbox.process import ProcessLimits, run_process

if TYPE_CHECKING:
    from agent.sandbox._cgroup import SandboxCgroup
    from agent.sandbox._mounts import MountPlan
    from agent.sandbox.policy import FsPolicy

DEFAULT_TMP_SIZE_MB = 1024


def _is_setuid(program: str) -> bool:
    with contextlib.suppress(OSError):
        return bool(os.stat(program).st_mode & 0o4000)
    return False


class BwrapSandbox:
    """Runs each bash call (or program, `run_argv`) in a new bubblewrap sandbox."""

    name = "bwrap"

    def __init__(
        self,
        policy: FsPolicy,
        *,
        network: bool = False,
        home: Path | None = None,
        limits: ProcessLimits = ProcessLimits(),
        env_extra: Iterable[str] = (),
        tmp_size_mb: int = DEFAULT_TMP_SIZE_MB,
        bwrap: str | None = None,
        user_namespace: bool = True,
        disable_nested_userns: bool = True,
        landlock: bool | None = None,
        cgroup: bool = True,
    ) -> None:
        self.policy = policy
        self.network = network
        self.home = (home or Path.home()).resolve()
        self.limits = limits
        self.env_extra = tuple(env_extra)
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        self.user_namespace = user_namespace
        self.disable_nested_userns = disable_nested_userns and user_namespace
        self._tmp_size_mb = tmp_size_mb
        self._landlock = landlock
        self._with_cgroup = cgroup
        self._cgroup: SandboxCgroup | None = None

    # What follows is worked out at the first call, not when the sandbox is made: a run makes its
    # sandbox before its first request, and these (with their modules) were 28 M instructions of
    # the way to it (docs/decisions.md, issue 18), for a run that may never call bash.

    @functools.cached_property
    def mounts(self) -> MountPlan:
        """The static part of the policy's mounts."""
        from agent.sandbox._mounts import MountPlan

        return MountPlan(self.policy, network=self.network, tmp_size_mb=self._tmp_size_mb)

    @functools.cached_property
    def scope_sockets(self) -> bool:
        """Landlock keeps abstract sockets in (needed only with the host's network namespace)."""
        from agent.sandbox import _landlock

        landlock = self._landlock
        if landlock is None:  # a setuid bwrap would lose its setuid bit under no_new_privs
            landlock = _landlock.can_scope_abstract_sockets() and not _is_setuid(self.bwrap)
        return self.network and landlock

    @functools.cached_property
    def seccomp(self) -> bytes | None:
        """The seccomp filter program bubblewrap installs (None: no filter for this architecture)."""
        from agent.sandbox import _seccomp

        arch = _seccomp.native_arch()
        if arch is None:
            return None
        return _seccomp.filter_program(arch, block_unix_sockets=self.network and not self.scope_sockets)

    @functools.cached_property
    def cgroup_parent(self) -> Path | None:
        """Where this sandbox's memory cgroup is made (None: none can be, or none was asked for)."""
        from agent.sandbox._cgroup import memory_cgroup_parent

        return memory_cgroup_parent() if self._with_cgroup else None

    def argv(
        self, command_argv: list[str], cwd: Path, mounts: Sequence[str], seccomp_fd: int | None
    ) -> list[str]:
        """The full bwrap argv around `command_argv`."""
        args = [
            self.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-ipc",
            "--cap-drop",
            "ALL",
        ]
        if self.user_namespace:
            args.append("--unshare-user")
        if self.disable_nested_userns:
            args.append("--disable-userns")
        if not self.network:
            args.append("--unshare-net")
        args += mounts
        if seccomp_fd is not None:
            args += ["--seccomp", str(seccomp_fd)]
        return [*args, "--chdir", str(cwd), "--", *command_argv]

    async def run(
        self, command: str, *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run `command` with bash in `cwd` inside a new sandbox; see `run_process`."""
        return await self._call(command, cwd, timeout_s, cancel)

    async def run_argv(
        self, argv: Sequence[str], *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run the program `argv` (no shell) in `cwd`, in the same mounts and limits as bash.

        For the tools that must see exactly what the policy lets bash see (grep and glob run
        ripgrep this way). stdin is /dev/null; stdout and stderr are merged.
        """
        return await self._call(list(argv), cwd, timeout_s, cancel)

    async def _call(
        self, command: str | list[str], cwd: Path, timeout_s: float, cancel: asyncio.Event | None
    ) -> ExecResult:
        env = scrub_env(os.environ, extra=self.env_extra, home=str(self.home))
        env |= git_identity(os.environ, str(self.home))
        if self._cgroup is None and self.cgroup_parent is not None:
            from agent.sandbox._cgroup import SandboxCgroup

            self._cgroup = SandboxCgroup(self.cgroup_parent, self.limits.max_memory_mb)
        cgroup = self._cgroup
        kills = cgroup.oom_kills() if cgroup is not None else 0
        preexec = self._preexec(cgroup)
        # Last before the `try`: what can fail after it must not leave the placeholders on disk.
        mounts = self.mounts.prepare()  # well under a millisecond: a few stat calls
        seccomp_fd: int | None = None
        try:
            seccomp_fd = self._seccomp_fd()
            fd = seccomp_fd
            result = await run_process(
                command,
                wrap=lambda bash: self.argv(bash, cwd, mounts.args, fd),
                env=env,
                cwd=cwd,
                timeout_s=timeout_s,
                limits=self.limits,
                cancel=cancel,
                orphan_watch=False,  # --die-with-parent already ends the sandbox with the runtime
                pass_fds=() if fd is None else (fd,),
                preexec=preexec,
            )
        finally:
            if seccomp_fd is not None:
                os.close(seccomp_fd)
            notes = mounts.finish()
            if cgroup is not None and cgroup.oom_kills() > kills:
                limit = self.limits.max_memory_mb
                notes.append(f"[killed: the command passed its memory limit of {limit} MB]")
        if not notes:
            return result
        text = result.output + ("" if not result.output or result.output.endswith("\n") else "\n")
        return ExecResult(
            text + "\n".join(notes) + "\n",
            result.exit_code,
            result.timed_out,
            result.cancelled,
            result.cwd_after,
            result.duration_ms,
        )

    def _seccomp_fd(self) -> int | None:
        """A pipe holding the filter program; bubblewrap reads it to the end."""
        if self.seccomp is None:
            return None
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, self.seccomp)
        finally:
            os.close(write_end)
        return read_end

    def _preexec(self, cgroup: SandboxCgroup | None) -> Callable[[], None] | None:
        """What the child does between fork and exec: enter the cgroup, and with the network on
        Landlock's abstract-socket scope. None keeps the fast spawn path (vfork, no Python code
        in the child); with a step, the child forks and runs it, about 2 ms more (measured)."""
        steps = [cgroup.enter] if cgroup is not None else []
        if self.scope_sockets:
            from agent.sandbox import _landlock

            steps.append(_landlock.scope_abstract_sockets())
        if not steps:
            return None

        def preexec() -> None:
            for step in steps:
                step()

        return preexec
