"""A memory cgroup per sandbox, where the runtime may make one.

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

Each call enters the sandbox's cgroup between fork and the exec of bubblewrap (`enter`), so
nothing it starts is ever outside. One cgroup serves all the calls of a sandbox (a run): a fresh memory
cgroup per call cost 6 to 10 ms more per call here (measured; docs/decisions.md), a warm one
about 2. Calls of one sandbox at once (bash and a search) share its limit.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import time
import weakref
from pathlib import Path

_counter = itertools.count(1)


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


def _remove_orphans(parent: Path) -> None:
    """Remove the cgroups of runtimes that died without cleaning up (killed: no exit handler ran)."""
    for child in parent.glob("subagent-*-*"):
        try:
            os.kill(int(child.name.split("-")[1]), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                child.rmdir()
        except (ValueError, PermissionError):
            continue


@functools.cache
def memory_cgroup_parent() -> Path | None:
    """Where sandbox cgroups are made (a writable v1 memory cgroup), or None where none can be."""
    folder = _memory_cgroup_dir()
    if folder is None or not (folder / "memory.limit_in_bytes").exists() or not os.access(folder, os.W_OK):
        return None
    _remove_orphans(folder)
    return folder


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _remove(path: Path) -> None:
    """Remove an emptied cgroup; its last processes may still be being reaped."""
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


class SandboxCgroup:
    """One sandbox's memory cgroup: made at its first call, removed with the sandbox or at exit."""

    def __init__(self, parent: Path, max_memory_mb: int) -> None:
        self.path = parent / f"subagent-{os.getpid()}-{next(_counter)}"
        self.path.mkdir()
        limit = str(max_memory_mb * 1024 * 1024)
        _write(self.path / "memory.limit_in_bytes", limit)
        with contextlib.suppress(OSError):  # absent without swap accounting
            _write(self.path / "memory.memsw.limit_in_bytes", limit)
        self._procs = str(self.path / "cgroup.procs")
        self._finalizer = weakref.finalize(self, _remove, self.path)

    def enter(self) -> None:
        """Move the calling process into the cgroup; run in the child before exec (a
        `preexec_fn`: nothing imported, exit 126 when refused, so no call runs uncapped)."""
        try:
            fd = os.open(self._procs, os.O_WRONLY)
            os.write(fd, b"0")
            os.close(fd)
        except OSError:
            os._exit(126)

    def oom_kills(self) -> int:
        """How many processes the kernel has killed here for passing the limit, so far."""
        try:
            text = (self.path / "memory.oom_control").read_text()
        except OSError:
            return 0
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0"))

    def remove(self) -> None:
        """Remove the cgroup now (no call of its sandbox may be running)."""
        self._finalizer()
