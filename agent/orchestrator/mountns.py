"""The runtime's own mount namespace, where subagents' copy-on-write trees are mounted.

A child's overlay tree must be one tree for everything that touches it: bash and ripgrep (in
bubblewrap), the file tools (in the runtime's own process), git (the runtime's checkpoints and
merges). Mounted in a namespace the runtime process itself is in, it is exactly that: a path, the
same for all of them, with nothing to translate. An unprivileged process can have such a namespace
only by entering a new user namespace (with its own uid mapped to itself) and a mount namespace,
and only while it is single-threaded: so the command line enters it first thing (`enter`), before
any thread starts. Root enters a mount namespace only. Either way the namespace dies with the
process, so a killed run leaves no mount behind; mounts never propagate to the host (`MS_SLAVE`).

Nothing is entered unless a probe in a forked copy of this process showed it works here: the same
unshare, an overlay mount on the real folders (`user.*` xattrs must work where the upper folders
live), and bubblewrap nested inside (a process cannot leave a user namespace again, so a system
where the sandbox would not start inside one must never be entered). The probe's answer is cached
per kernel, user-namespace settings, bubblewrap binary and data folders.

Inside, the process's effective capabilities are only CAP_SYS_ADMIN (to mount): not the DAC
overrides a user namespace grants on the user's own files. The thread that mounts raises
CAP_DAC_OVERRIDE for that one call, as overlayfs does its later work in the upper folder (in its
mode-000 `work/work`) with the credentials the mount was made with. Every program the runtime
starts runs without capabilities.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from agent import paths
from agent.errors import TreeMountError

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_REC = 0x4000
_MS_SLAVE = 1 << 19
_MNT_DETACH = 2
_CAP_DAC_OVERRIDE = 1
_CAP_SYS_ADMIN = 21
_CAP_VERSION_3 = 0x20080522
_UNSAFE_IN_OPTIONS = frozenset(",:\\\n")
"""Characters the overlay's option string would split or unescape: such a path gets no overlay."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class MountRights:
    """Whether this process may mount children's trees, and how it got the right (or why not)."""

    ok: bool
    how: str
    """`user and mount namespace`, `mount namespace (root)`; or why not, in a sentence."""


_IN_USER_NS = "user and mount namespace"
_AS_ROOT = "mount namespace (root)"
_NOT_ENTERED = MountRights(
    False,
    "the process did not enter a mount namespace of its own (only the "
    "command line does, before any thread starts)",
)
_state: list[MountRights] = [_NOT_ENTERED]


def rights() -> MountRights:
    """What `enter` found for this process."""
    return _state[0]


def enter() -> MountRights:
    """Enter the runtime's own mount namespace if the cached probe says it works here; idempotent.

    Call it before any thread starts (the command line does, first thing). Never raises: a process
    that could not enter stays where it was and its subagents get checked-out trees.
    """
    if _state[0].ok:
        return _state[0]
    if _threads() != 1:
        _state[0] = MountRights(
            False,
            "the process already runs threads when it could have entered a "
            "mount namespace (only a single-threaded process can)",
        )
        return _state[0]
    probe = _cached_probe()
    if not probe.ok:
        _state[0] = probe
        return probe
    try:
        how = _unshare()
    except OSError as exc:
        _state[0] = MountRights(False, f"entering a mount namespace failed: {exc.strerror}")
        return _state[0]
    _state[0] = MountRights(True, how)
    return _state[0]


def mount_overlay(lower: Path, upper: Path, work: Path, target: Path) -> None:
    """Mount `lower` (read-only) under `upper` (the child's changes) at `target`.

    Raises:
        TreeMountError: the process has no mount rights, a path cannot be named in the options,
            or the kernel refused (its words).
    """
    if not _state[0].ok:
        raise TreeMountError(f"cannot mount {target}: {_state[0].how}")
    _mount(lower, upper, work, target)


def unmount(target: Path) -> None:
    """Detach the mount at `target` (lazily: whatever still holds it open keeps its view).

    Raises:
        TreeMountError: the kernel refused (not EINVAL, which means nothing is mounted there).
    """
    if _libc().umount2(os.fsencode(target), _MNT_DETACH) != 0:
        code = _errno()
        if code != 22:  # EINVAL: not a mount point (already gone)
            raise TreeMountError(f"cannot unmount {target}: {os.strerror(code)}")


def mountable(path: Path) -> bool:
    """Whether `path` can be named in an overlay's options (no `,`, `:`, `\\` or newline)."""
    return not (_UNSAFE_IN_OPTIONS & set(str(path)))


def _mount(lower: Path, upper: Path, work: Path, target: Path) -> None:
    for path in (lower, upper, work, target):
        if not mountable(path):
            raise TreeMountError(f"cannot mount an overlay naming {path}: it holds `,`, `:` or `\\`")
    # No redirects, no metacopy: the upper folder then holds whole files and plain folders, which
    # is what `agent.orchestrator.upper` reads; userxattr works with and without a user ns.
    # volatile: no sync of the upper file system, not even at unmount (a syncfs of the whole disk,
    # up to a second on a busy one): a child's tree is thrown away, its work is kept by snapshots.
    options = (
        f"lowerdir={lower},upperdir={upper},workdir={work},userxattr,redirect_dir=nofollow,"
        "metacopy=off,volatile"
    )
    raised = _state[0].how == _IN_USER_NS and _set_effective(_CAP_SYS_ADMIN, _CAP_DAC_OVERRIDE)
    try:
        done = _libc().mount(b"overlay", os.fsencode(target), b"overlay", 0, os.fsencode(options))
        code = _errno()
    finally:
        if raised:
            _set_effective(_CAP_SYS_ADMIN)
    if done != 0:
        raise TreeMountError(f"cannot mount the overlay at {target}: {os.strerror(code)}")


@cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def _check(result: int, what: str) -> None:
    if result != 0:
        code = _errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _threads() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0  # unknown: do not enter


def _unshare() -> str:
    """Enter the namespaces (this process only); returns how. Raises OSError."""
    libc = _libc()
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        _check(libc.unshare(_CLONE_NEWNS), "unshare")
        how = _AS_ROOT
    else:
        _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        how = _IN_USER_NS
    _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_SLAVE, None), "mount --make-rslave /")
    if uid != 0 and not _set_effective(_CAP_SYS_ADMIN):
        raise OSError(_errno(), "capset: cannot drop the user namespace's capabilities")
    return how


def _set_effective(*caps: int) -> bool:
    """Make `caps` this thread's effective capabilities; CAP_SYS_ADMIN and CAP_DAC_OVERRIDE stay
    permitted (so the mounting thread can raise the second for its call), every other one goes."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))

    class Data(ctypes.Structure):
        _fields_ = (
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        )

    effective = sum(1 << cap for cap in caps)
    permitted = (1 << _CAP_SYS_ADMIN) | (1 << _CAP_DAC_OVERRIDE)
    data = (Data * 2)(Data(effective, permitted, 0), Data(0, 0, 0))
    return bool(_libc().capset(ctypes.byref(Header(_CAP_VERSION_3, 0)), data) == 0)


# --- the probe ----------------------------------------------------------------------------------


def _probe_key() -> str:
    """What the probe's answer depends on."""
    parts = [os.uname().release, str(os.geteuid()), str(paths.worktrees_home()), str(paths.bases_home())]
    for knob in (
        "/proc/sys/user/max_user_namespaces",
        "/proc/sys/kernel/unprivileged_userns_clone",
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    ):
        with contextlib.suppress(OSError):
            parts.append(Path(knob).read_text().strip())
    bwrap = shutil.which("bwrap")
    if bwrap is not None:
        with contextlib.suppress(OSError):
            info = os.stat(bwrap)
            parts.append(f"{bwrap}:{info.st_size}:{info.st_mtime_ns}:{info.st_mode}")
    return "|".join(parts)


def _cache_file() -> Path:
    return paths.data_home() / "mount-probe.json"


def _cached_probe() -> MountRights:
    key = _probe_key()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        saved = json.loads(_cache_file().read_text())
        if saved["key"] == key:
            return MountRights(bool(saved["ok"]), str(saved["how"]))
    found = probe()
    with contextlib.suppress(OSError):
        _cache_file().parent.mkdir(parents=True, exist_ok=True)
        _cache_file().write_text(json.dumps({"key": key, "ok": found.ok, "how": found.how}))
    return found


def probe() -> MountRights:
    """Try, in a forked copy of this (single-threaded) process, everything `enter` would do, then
    an overlay mount on the real folders and bubblewrap nested inside."""
    home, bases = paths.worktrees_home(), paths.bases_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        bases.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".probe-{os.getpid()}-", dir=home))
        lower = Path(tempfile.mkdtemp(prefix=f".probe-{os.getpid()}-", dir=bases))
    except OSError as exc:
        return MountRights(False, f"cannot create the folders subagents' trees live in: {exc}")
    read, write = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # the child reports one line and exits without running any Python cleanup
            os.close(read)
            os._exit(_probe_child(write, lower, scratch))
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            said = pipe.read().decode(errors="replace").strip()
        _, status = os.waitpid(pid, 0)
    finally:
        remove_tree(scratch)
        remove_tree(lower)
    if os.waitstatus_to_exitcode(status) == 0:
        return MountRights(True, said)
    return MountRights(False, said or "the mount namespace probe failed")


def _probe_child(report: int, lower: Path, scratch: Path) -> int:
    """In the forked child: enter, mount, write through the overlay, run bubblewrap inside."""
    code, said = 1, "no answer"
    try:
        said = _unshare()
        _state[0] = MountRights(True, said)
        (lower / "seen").write_text("lower\n")
        for name in ("upper", "work", "tree"):
            (scratch / name).mkdir()
        _mount(lower, scratch / "upper", scratch / "work", scratch / "tree")
        (scratch / "tree" / "seen").write_text("changed\n")
        if (lower / "seen").read_text() != "lower\n" or not (scratch / "upper" / "seen").is_file():
            raise OSError(0, "the overlay did not keep its changes in the upper folder")
        unmount(scratch / "tree")
        _nested_bwrap()
        code = 0
    except (OSError, TreeMountError) as exc:
        said = f"copy-on-write trees do not work here: {exc}"
    except Exception as exc:  # the child must exit whatever happens
        said = f"copy-on-write trees do not work here: {type(exc).__name__}: {exc}"
    with contextlib.suppress(OSError):
        os.write(report, said.encode())
    return code


def _nested_bwrap() -> None:
    """bubblewrap as bash's sandbox starts it, inside the namespace (skipped without bubblewrap)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return
    argv = [
        bwrap,
        "--unshare-user",
        "--unshare-pid",
        "--unshare-net",
        "--disable-userns",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--die-with-parent",
        "true",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise OSError(0, f"bubblewrap does not start inside the namespace ({why}), so it is not entered")


def remove_tree(path: Path) -> None:
    """`rm -rf` that also removes what an overlay leaves unreadable (`work/work` and what is in it
    are mode 000): a folder that cannot be listed is made the owner's, then removed."""
    retried: set[str] = set()

    def own_then_retry(function: Any, failed: str, _exc: Any) -> None:
        if failed in retried:
            return  # it failed even after chmod: leave it (the next sweep tries again)
        retried.add(failed)
        for folder in (os.path.dirname(failed), failed):
            with contextlib.suppress(OSError):
                if not os.path.islink(folder):  # never through a link: only the tree's own folders
                    os.chmod(folder, 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            shutil.rmtree(failed, onerror=own_then_retry)
        else:
            with contextlib.suppress(OSError):
                function(failed)

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=own_then_retry)
