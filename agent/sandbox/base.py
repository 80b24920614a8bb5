"""The sandbox seam: how `bash` runs a command. Implementations: bubblewrap, and none (opt-in)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, eq=False, repr=False)
class ExecResult:
    """What one command did."""

    output: str
    """stdout and stderr merged, decoded as UTF-8 with replacement (not yet capped)."""
    exit_code: int | None
    """None when the command was killed (timeout or cancel)."""
    timed_out: bool
    cancelled: bool
    cwd_after: Path | None
    """The shell's working directory when it finished, to carry into the next call."""
    duration_ms: float


class Sandbox(Protocol):
    """Runs one shell command per call, isolated as configured."""

    name: str
    """"bwrap" or "none"; front ends show "none" as unsandboxed."""

    async def run(
        self, command: str, *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run `command` with bash in `cwd`; kill the whole process tree on timeout or cancel.

        Setting `cancel` kills the command and returns its output so far with `cancelled=True`.
        """
        ...

    async def run_argv(
        self, argv: Sequence[str], *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run the program `argv` without a shell, in the same isolation and limits as `run`.

        stdin is /dev/null, stdout and stderr are merged, the process tree is killed on timeout
        or cancel as for `run`; `cwd_after` is None.
        """
        ...
