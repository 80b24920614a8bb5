"""One bash command as a child process: its own process group, merged output, a hard stop.

Both runners (bubblewrap and none) go through `run_process`; they differ only in how the bash
argv is wrapped and which environment it gets. The shell's last working directory comes back on a
private pipe written by an EXIT trap, so nothing the command prints can be mistaken for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.sandbox.base import ExecResult

GRACE_S = 2.0
"""How long a killed command gets between SIGTERM and SIGKILL."""
DRAIN_S = 0.5
"""How long to wait for the output pipe to close once the shell is gone."""
KEEP_BYTES = 4 * 1024 * 1024
"""Bytes kept from each end of a huge output; the middle is dropped before decoding."""


@dataclass(frozen=True, eq=False, repr=False)
class ProcessLimits:
    """rlimits for the command and everything it starts."""

    max_processes: int = 512
    """How many more processes the command may start than the user already runs (RLIMIT_NPROC
    counts every process of the user, so a plain 512 would break on a busy desktop). Root is exempt."""
    max_memory_mb: int = 4096
    """RLIMIT_DATA (heap and private mappings), so address-space reservations still work."""
    max_file_mb: int = 4096
    """RLIMIT_FSIZE: the largest file a command may write."""


class _OutputBuffer:
    """Keeps the head and the tail of the output, so a runaway command cannot exhaust memory."""

    def __init__(self, keep: int = KEEP_BYTES) -> None:
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.keep - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > self.keep:
            cut = len(self.tail) - self.keep
            self.dropped += cut
            del self.tail[:cut]

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes dropped ...]\n".encode() if self.dropped else b""
        return bytes(self.head + middle + self.tail).decode("utf-8", errors="replace")


_RECOUNT_S = 5.0
_running: list[float] = [-_RECOUNT_S, 0]
"""When the user's processes were last counted, and how many there were."""


def user_process_limit(max_processes: int) -> int:
    """RLIMIT_NPROC that leaves `max_processes` of headroom over what this user runs now.

    Counting scans /proc (a few ms on a busy machine), so the count is reused for a few seconds.
    """
    now = time.monotonic()
    if now - _running[0] >= _RECOUNT_S:
        uid, running = os.getuid(), 0
        with os.scandir("/proc") as entries:
            for entry in entries:
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        running += entry.stat().st_uid == uid
        _running[:] = [now, running]
    return int(_running[1]) + max_processes


def shell_script(
    command: str | None, limits: ProcessLimits, cwd_fd: int | None, alive_fd: int | None = None
) -> str:
    """The script bash runs: limits, the cwd epilogue, the orphan watch, then the command verbatim.

    With no `command` (and no `cwd_fd`), the script ends by exec-ing its arguments (`run_argv`):
    the program runs under the same limits, with no shell around it.

    The watch (when `alive_fd` is given) is a disowned subshell (a bare `wait` in the command does
    not wait for it) blocked reading `alive_fd`, a pipe whose only writer is this process: when
    this process dies, even by `kill -9`, the read ends and the watch kills the command's whole
    process group. Without it an unsandboxed command would outlive its agent; the sandbox needs
    none (bubblewrap's `--die-with-parent`), so it does not pay the extra fork.
    """
    watch = (
        f"( read -r -u {alive_fd} _; kill -KILL -- -$$ ) </dev/null >/dev/null 2>&1 & disown\n"
        if alive_fd is not None
        else ""
    )
    epilogue = f"trap 'pwd -P >&{cwd_fd} 2>/dev/null' EXIT\n" if cwd_fd is not None else ""
    body = command if command is not None else 'exec "$@"'
    return (
        f"ulimit -u {user_process_limit(limits.max_processes)} 2>/dev/null\n"
        f"ulimit -d {max(limits.max_memory_mb, 0) * 1024} 2>/dev/null\n"  # a refused ulimit
        f"ulimit -f {max(limits.max_file_mb, 0) * 1024} 2>/dev/null\n"  # would mean no limit
        f"{epilogue}{watch}{body}"
    )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left after the grace period."""
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    await proc.wait()


async def _read(stream: asyncio.StreamReader, buffer: _OutputBuffer) -> None:
    while chunk := await stream.read(65536):
        buffer.add(chunk)


async def _wait(proc: asyncio.subprocess.Process, timeout_s: float, cancel: asyncio.Event | None) -> str:
    """How the command ended: "exited", "timeout" or "cancelled"."""
    waiters = {asyncio.ensure_future(proc.wait())}
    cancel_task = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if cancel_task is not None:
        waiters.add(cancel_task)
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
    if proc.returncode is not None:
        return "exited"
    return "cancelled" if cancel_task is not None and cancel_task in done else "timeout"


def _read_cwd(fd: int) -> Path | None:
    os.set_blocking(fd, False)
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return None
    finally:
        os.close(fd)
    text = data.decode("utf-8", errors="surrogateescape").rstrip("\n")
    return Path(text) if text.startswith("/") and "\n" not in text else None


def _exit_code(returncode: int | None) -> int | None:
    if returncode is None:
        return None
    return 128 - returncode if returncode < 0 else returncode


async def run_process(
    command: str | Sequence[str],
    *,
    wrap: Callable[[list[str]], list[str]],
    env: dict[str, str],
    cwd: Path,
    timeout_s: float,
    limits: ProcessLimits,
    cancel: asyncio.Event | None = None,
    orphan_watch: bool = True,
    pass_fds: Sequence[int] = (),
    preexec: Callable[[], None] | None = None,
) -> ExecResult:
    """Run `command` with bash (or, given an argv, that program), wrapped by `wrap` (e.g. into
    bwrap), and always reap its group.

    Any process the command left behind is killed when the shell exits: nothing outlives a call.
    Cancelling the awaiting task kills the group too, then re-raises. `orphan_watch` kills the
    group if this process dies first (see `shell_script`); a wrapper that does that itself
    (bubblewrap's `--die-with-parent`) turns it off. `pass_fds` reach the wrapper (bubblewrap's
    seccomp program); `preexec` runs in the child before the wrapper is exec'd. An argv's working
    directory is not carried (`cwd_after` is None).
    """
    started = time.monotonic()
    is_shell = isinstance(command, str)
    cwd_r, cwd_w = os.pipe()
    alive_r, alive_w = os.pipe()  # we keep the write end (close-on-exec) until the group is reaped
    watch_fd = alive_r if orphan_watch else None
    script = shell_script(
        command if isinstance(command, str) else None, limits, cwd_w if is_shell else None, watch_fd
    )
    bash = ["/bin/bash", "--noprofile", "--norc", "-c", script]
    if not isinstance(command, str):
        bash += ["bash", *command]
    try:
        proc = await asyncio.create_subprocess_exec(
            *wrap(bash),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            pass_fds=(cwd_w, alive_r, *pass_fds),
            preexec_fn=preexec,
        )
    except BaseException:
        os.close(cwd_r)
        os.close(alive_w)
        raise
    finally:
        os.close(cwd_w)
        os.close(alive_r)
    buffer = _OutputBuffer()
    assert proc.stdout is not None
    reader = asyncio.ensure_future(_read(proc.stdout, buffer))
    try:
        ended = await _wait(proc, timeout_s, cancel)
        if ended != "exited":
            await _stop(proc)
        _signal_group(proc.pid, signal.SIGKILL)  # leftovers of a finished command
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), DRAIN_S)
    except asyncio.CancelledError:
        await _stop(proc)
        raise
    finally:
        reader.cancel()
        cwd_after = _read_cwd(cwd_r)
        os.close(alive_w)
    return ExecResult(
        output=buffer.text(),
        exit_code=_exit_code(proc.returncode) if ended == "exited" else None,
        timed_out=ended == "timeout",
        cancelled=ended == "cancelled",
        cwd_after=cwd_after,
        duration_ms=(time.monotonic() - started) * 1000,
    )
