"""Landlock's abstract-socket scope: bash may not connect to an abstract unix socket made outside.

Without `--unshare-net` (the agent's `network: true`) the sandbox shares the host's network
namespace, and with it the abstract unix sockets (X11's, D-Bus's, containerd's), which no mount
can hide and seccomp cannot tell from path sockets. Landlock (ABI 6, Linux 6.12) scopes them:
after `LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET` a process connects only to abstract sockets bound
inside its own domain, so a test server the command starts still works. The domain is entered in
the child between fork and the exec of bwrap (it inherits through exec and cannot be left), with
no filesystem access handled, so bwrap's mounts are unaffected. Where Landlock is too old, the
seccomp filter refuses `socket(AF_UNIX)` instead (`agent.sandbox._seccomp`).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
from collections.abc import Callable

_SYS = {"x86_64": (444, 446), "aarch64": (444, 446)}
"""landlock_create_ruleset and landlock_restrict_self (the same in both tables)."""
_CREATE_RULESET_VERSION = 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1
_PR_SET_NO_NEW_PRIVS = 38


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


@functools.cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is absent or disabled."""
    numbers = _SYS.get(platform.machine())
    if numbers is None:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def can_scope_abstract_sockets() -> bool:
    """Whether this kernel has the abstract-socket scope (Landlock ABI 6 or later)."""
    return landlock_abi() >= 6


def scope_abstract_sockets() -> Callable[[], None]:
    """A `preexec_fn` that enters the scope; everything it needs is made here, in the parent.

    The child runs it after fork, when other threads' locks may be held: it allocates nothing
    and imports nothing, and exits with status 126 when the kernel refuses.
    """
    create, restrict = _SYS[platform.machine()]
    libc = ctypes.CDLL(None, use_errno=True)
    syscall, prctl = libc.syscall, libc.prctl
    attr = _RulesetAttr(0, 0, _SCOPE_ABSTRACT_UNIX_SOCKET)
    attr_ref, attr_size = ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))
    zero32 = ctypes.c_uint32(0)

    def enter() -> None:
        fd = syscall(create, attr_ref, attr_size, zero32)
        if fd < 0 or prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or syscall(restrict, fd, zero32) != 0:
            os._exit(126)
        os.close(fd)

    return enter
