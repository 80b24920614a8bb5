"""Open exactly the path that was checked, following no symbolic link in any component.

Between a check of a resolved path and its open, another process (a bash loop, say) may swap a
folder for a symlink to HOME; opening by name again would follow it. `open_nofollow` refuses a
symlink anywhere in the path, so what opens is the checked path or nothing (`ELOOP`):

- `openat2(2)` with `RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS` (Linux 5.6+), through ctypes;
- elsewhere a walk from `/`, one component at a time, each opened `O_NOFOLLOW` relative to the
  descriptor of the folder before it.

`strategy()` probes once which one this kernel has. `RESOLVE_BENEATH` adds nothing here: the path
is absolute and has no `..`, and reads may rightly leave the workspace (`/usr/include`). The file
tools (`tools._fs`), the files the runtime reads after checking them (`agent.trust.confine`) and
the merge back (`agent.orchestrator.materialise`) open through it.
"""

from __future__ import annotations

import errno
import os
import platform
import stat
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal

Strategy = Literal["openat2", "walk"]

_SYS_OPENAT2 = 437
"""The same number on every architecture with the unified syscall table (the ones below)."""
_OPENAT2_MACHINES = frozenset(
    {"x86_64", "i686", "aarch64", "armv7l", "armv8l", "riscv64", "ppc64le", "ppc64", "s390x", "loongarch64"}
)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_AT_FDCWD = -100
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY


@cache
def _openat2_call() -> Callable[[int, bytes, int, int, int], int]:
    """openat2 through libc's `syscall`, imported on first use (ctypes is not free at start-up)."""
    import ctypes

    class OpenHow(ctypes.Structure):
        _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))

    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    number, size = ctypes.c_long(_SYS_OPENAT2), ctypes.c_size_t(ctypes.sizeof(OpenHow))

    def openat2(dir_fd: int, path: bytes, flags: int, mode: int, resolve: int) -> int:
        how = OpenHow(flags, mode if flags & os.O_CREAT else 0, resolve)
        fd = syscall(number, dir_fd, path, ctypes.byref(how), size)  # ints go as C int, bytes as char *
        if fd < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return int(fd)

    return openat2


@cache
def strategy() -> Strategy:
    """`openat2` when this kernel (and any seccomp filter around us) allows it, else `walk`."""
    if platform.machine() not in _OPENAT2_MACHINES:
        return "walk"
    try:
        fd = _openat2_call()(_AT_FDCWD, b"/", _DIR_FLAGS | os.O_CLOEXEC, 0, _RESOLVE_NO_SYMLINKS)
    except OSError:  # ENOSYS on old kernels, EPERM under some container seccomp profiles
        return "walk"
    os.close(fd)
    return "openat2"


def open_nofollow(path: Path, flags: int, mode: int = 0o600) -> int:
    """Open the absolute, resolved `path` with no symlink followed in any component.

    Raises:
        OSError: as open(2); ELOOP when a component is a symbolic link.
    """
    if not path.is_absolute() or ".." in path.parts:
        raise ValueError(f"open_nofollow needs an absolute resolved path, not {path}")
    flags |= os.O_CLOEXEC
    if strategy() == "openat2":
        return _openat2_call()(
            _AT_FDCWD, os.fsencode(path), flags, mode, _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS
        )
    return _walk(path, flags, mode)


def _walk(path: Path, flags: int, mode: int) -> int:
    """Open `path` component by component, each relative to the folder before, none followed."""
    *folders, last = path.parts[1:] or ("",)
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in folders:
            step = open_at(fd, name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, 0, path)
            os.close(fd)
            fd = step
        return open_at(fd, last or ".", flags | os.O_NOFOLLOW, mode, path)
    finally:
        os.close(fd)


def open_at(dir_fd: int, name: str, flags: int, mode: int, path: Path) -> int:
    """openat(2) of one component. O_DIRECTORY|O_NOFOLLOW says ENOTDIR for a symlink: that is an
    ELOOP, as openat2 says, unless the name is now a plain file (a file where a folder was meant)."""
    try:
        return os.open(name, flags, mode, dir_fd=dir_fd)
    except NotADirectoryError:
        try:
            now: int | None = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except OSError:
            now = None  # gone since: it changed under us
        if now is not None and not stat.S_ISLNK(now) and not stat.S_ISDIR(now):
            raise
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None


def subfolder(parent: int, name: str, mode: int) -> int:
    """A descriptor of the folder `name` in the folder `parent` (a descriptor), made with `mode`
    (less the umask) if missing; never entered through a link.

    Raises:
        OSError: ELOOP or ENOTDIR when `name` is a link or a file; what mkdir or open says.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        try:
            os.mkdir(name, mode, dir_fd=parent)
        except FileExistsError:
            pass  # made meanwhile: open says what it is
        return os.open(name, flags, dir_fd=parent)
