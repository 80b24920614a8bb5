"""A memory cgroup per bash call, where the runtime may make one.

rlimits cap each process's heap, not what a call holds in total: shared mappings, memfds and
tmpfs pages (a filled /tmp) escape RLIMIT_DATA. A memory cgroup counts them all, and the kernel's
OOM killer stops the call when it passes `sandbox.max_memory_mb`.

Which cgroup can be had: the runtime makes a child of its own memory cgroup when that folder is
writable to it (cgroup v1's memory controller, as root or when delegated). cgroup v2 forbids
processes in a cgroup whose children have controllers ("no internal processes"), so a child of
the runtime's own v2 cgroup cannot get a memory limit without moving the runtime itself; that,
and `systemd-run --user --scope` (a D-Bus round trip per call, and a user manager that
containers and CI seldom run), are not attempted: there `subagent doctor` says no cgroup is
used, and docs/sandbox.md says how to cap the whole runtime instead.

The child enters its cgroup between fork and exec (`enter`), so nothing it starts is ever outside.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
from collections.abc import Callable
from pathlib import Path

_counter = itertools.count(1)
_leftover: list[Path] = []
"""Call cgroups that were still busy when their call ended (a process still being reaped)."""


def _memory_cgroup_dir() -> Path | None:
    """The folder of this process's cgroup v1 memory controller, or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    own = next((line.split(":", 2)[2] for line in lines if line.split(":")[1:2] == ["memory"]), None)
    for mount in mounts:
        fields = mount.split(" - ")
        if own is None or len(fields) != 2:
            continue
        left, right = fields[0].split(), fields[1].split()
        if right[0] == "cgroup" and "memory" in right[2].split(",") and left[3] == "/":
            return Path(left[4]) / own.lstrip("/")
    return None


@functools.cache
def memory_cgroup_parent() -> Path | None:
    """Where call cgroups are made (a writable v1 memory cgroup), or None where none can be."""
    folder = _memory_cgroup_dir()
    if folder is None or not (folder / "memory.limit_in_bytes").exists():
        return None
    return folder if os.access(folder, os.W_OK) else None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def sweep() -> None:
    """Remove call cgroups whose last process has since been reaped."""
    for folder in list(_leftover):
        with contextlib.suppress(OSError):
            folder.rmdir()
            _leftover.remove(folder)
        if not folder.exists() and folder in _leftover:
            _leftover.remove(folder)


class CallCgroup:
    """One call's memory cgroup: made before the call, entered by the child, removed after."""

    def __init__(self, parent: Path, max_memory_mb: int) -> None:
        self.path = parent / f"subagent-{os.getpid()}-{next(_counter)}"
        self.path.mkdir()
        limit = str(max_memory_mb * 1024 * 1024)
        _write(self.path / "memory.limit_in_bytes", limit)
        with contextlib.suppress(OSError):  # absent without swap accounting
            _write(self.path / "memory.memsw.limit_in_bytes", limit)
        self._procs = str(self.path / "cgroup.procs")

    def enter(self) -> Callable[[], None]:
        """A `preexec_fn` step that moves the child into this cgroup (exit 126 if refused)."""
        procs = self._procs

        def move() -> None:
            try:
                fd = os.open(procs, os.O_WRONLY)
                os.write(fd, b"0")
                os.close(fd)
            except OSError:
                os._exit(126)

        return move

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the call for passing the limit."""
        try:
            text = (self.path / "memory.oom_control").read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0")) > 0

    def remove(self) -> None:
        """Remove the cgroup, now or (still busy) at a later call's sweep, or at exit."""
        try:
            self.path.rmdir()
        except OSError:
            if not _leftover:
                atexit.register(sweep)
            _leftover.append(self.path)
        sweep()
