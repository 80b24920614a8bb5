"""The sandbox probe's answer, remembered in the data dir for the same bubblewrap on the same boot.

Probing runs bubblewrap five times (30 to 90 ms here, more under load) on every run's way to its
first request, and the answer only changes when bubblewrap, the kernel or its namespace settings
do. So a working report is kept in `<data>/sandbox-probe.json` beside the fingerprint of what it
depends on: the bwrap binary (real path, size, mtime, inode, mode), the kernel, the boot, the
user namespace this process lives in (another container is another one), our effective uid and
the sysctls that allow or refuse unprivileged user namespaces. Any difference, or a file that
does not read back, means probing again. A failing report is never kept (the user is about to
fix something, and the next run must see the fix) and drops the one kept before. The data dir is
hidden from the sandbox and the file tools, so nothing a run does can plant a report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent._atomic_file import write_atomic

if TYPE_CHECKING:
    from agent.sandbox.probe import SandboxReport

_SYSCTLS = (
    "/proc/sys/kernel/unprivileged_userns_clone",
    "/proc/sys/user/max_user_namespaces",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    "/proc/sys/kernel/random/boot_id",
)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def fingerprint(bwrap: str) -> dict[str, Any]:
    """What a probe's answer depends on (OSError when bwrap cannot be looked at)."""
    real = os.path.realpath(bwrap)
    stat = os.stat(real)
    uname = os.uname()
    try:
        userns = os.readlink("/proc/self/ns/user")
    except OSError:
        userns = ""
    return {
        "bwrap": real, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino,
        "mode": stat.st_mode, "kernel": f"{uname.release} {uname.version}", "userns": userns,
        "euid": os.geteuid(), "sysctl": {path: _read(path) for path in _SYSCTLS},
    }  # fmt: skip


def cache_file() -> Path:
    from agent.paths import data_home

    return data_home() / "sandbox-probe.json"


def load(bwrap: str) -> SandboxReport | None:
    """The kept report for this bubblewrap here, or None (none kept, changed, unreadable)."""
    from pydantic import ValidationError

    from agent.sandbox.probe import SandboxReport

    try:
        kept = json.loads(cache_file().read_text(encoding="utf-8"))
        if kept.get("fingerprint") != fingerprint(bwrap):
            return None
        report = SandboxReport.model_validate(kept["report"])
    except (OSError, ValueError, KeyError, AttributeError, ValidationError):
        return None
    return report if report.ok else None


def store(bwrap: str, report: SandboxReport) -> None:
    """Keep a working report (atomically; a data dir that cannot be written just means no cache); a
    failing one drops what was kept."""
    path = cache_file()
    if not report.ok:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return
    try:
        record = {"fingerprint": fingerprint(bwrap), "report": report.model_dump(mode="json")}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(record), mode=0o600, fsync=False)
    except OSError:
        pass
