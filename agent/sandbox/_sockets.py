"""Unix sockets bash could reach through the read-only view of the host, found per call.

`connect()` to a path socket needs only write permission on the socket file, and a read-only
mount does not remove it: a `--ro-bind / /` leaves `docker.sock` or an ssh-agent socket as
reachable as on the host (measured; docs/decisions.md). Most sockets live where the policy
already gives bash an empty folder of its own (/run, /tmp, /dev/shm, HOME); the rest (under
/var/tmp, /var/lib, another user's home, /srv) are found in `/proc/net/unix`, which lists every
bound path socket of the runtime's network namespace, and bubblewrap covers each with a file
that refuses connections. A socket bound after the call started, outside those folders, is not
covered; docs/sandbox.md says so.

A socket under a folder the sandbox's user cannot search is left alone: bash cannot reach it
either, and bubblewrap, which cannot make a mount point there (it holds no capability over the
files of users outside its namespace), would refuse to start every call while it exists.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from agent.sandbox.policy import FsPolicy


def _bound_paths() -> Iterator[str]:
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="surrogateescape") as table:
            next(table, None)  # the header
            for line in table:
                fields = line.split(maxsplit=7)
                if len(fields) == 8 and fields[7].startswith("/"):
                    yield fields[7].rstrip("\n")
    except OSError:
        return


def _searchable(folder: Path) -> bool:
    """Whether this user, without any capability, may pass through `folder`.

    Not root: the kernel's own answer (ACLs included). Root: the mode bits, since root's
    capabilities, which `os.access` counts, are not held inside the sandbox's namespace.
    """
    uid = os.geteuid()
    if uid != 0:
        return os.access(folder, os.X_OK)
    try:
        info = os.stat(folder)
    except OSError:
        return False
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in {os.getegid(), *os.getgroups()}:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def reachable_sockets(policy: FsPolicy) -> list[Path]:
    """The host's socket files that bash would see through a read-only rule, resolved."""
    found: dict[Path, None] = {}
    for raw in _bound_paths():
        path = Path(os.path.realpath(raw))
        if path in found or policy.rule_for(path).level != "read":
            continue
        if not all(_searchable(folder) for folder in path.parents):
            continue
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                found[path] = None
        except OSError:
            continue
    return list(found)
