"""`sandbox: none`: bash runs as a plain child process, opted into by the user.

The same process handling as the sandbox (own process group, timeout kills the group, scrubbed
environment, rlimits), but no filesystem, network or PID isolation. Front ends show `name`
("none") on every call so nobody mistakes it for the sandbox.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
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
            command,
            wrap=lambda argv: argv,
            env=scrub_env(os.environ, extra=self.env_extra),
            cwd=cwd,
            timeout_s=timeout_s,
            limits=self.limits,
            cancel=cancel,
        )

    async def run_argv(
        self, argv: Sequence[str], *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run the program `argv` (no shell) in `cwd` with the same limits; see `run_process`."""
        return await run_process(
            list(argv),
            wrap=lambda bash: bash,
            env=scrub_env(os.environ, extra=self.env_extra),
            cwd=cwd,
            timeout_s=timeout_s,
            limits=self.limits,
            cancel=cancel,
        )
