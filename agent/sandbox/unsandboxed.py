"""`sandbox: none`: bash runs as a plain child process, opted into by the user.

The same process handling as the sandbox (own process group, timeout kills the group, scrubbed
environment, rlimits), but no filesystem, network or PID isolation. Front ends show `name`
("none") on every call so nobody mistakes it for the sandbox.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Iterable
from pathlib import Path

from agent.sandbox._env import scrub_env
from agent.sandbox.base import ExecResult
from agent.sandbox.process import ProcessLimits, run_process


class UnsandboxedRunner:
    """Runs bash directly on the host, in the given working directory."""

    name = "none"

    def __init__(self, *, env_extra: Iterable[str] = (), limits: ProcessLimits = ProcessLimits()) -> None:
        self.env_extra = tuple(env_extra)
        self.limits = limits

    async def run(
        self, command: str, *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run `command` with bash in `cwd`; see `run_process` for the kill rules."""
        return await run_process(
            command, wrap=lambda argv: argv, env=scrub_env(os.environ, extra=self.env_extra),
            cwd=cwd, timeout_s=timeout_s, limits=self.limits, cancel=cancel,
        )

    async def run_argv(
        self, argv: list[str], *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run the program `argv` the way `run` runs a command (the shell `exec`s it)."""
        return await self.run("exec " + shlex.join(argv), cwd=cwd, timeout_s=timeout_s, cancel=cancel)
