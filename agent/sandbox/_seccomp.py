"""The seccomp filter bash runs under: what the mounts cannot stop, refused by the kernel.

bubblewrap loads it with `--seccomp FD` as the last step before it runs bash, so it binds every
process of the call and cannot be removed. The program is classic BPF over `struct
seccomp_data` (nr at offset 0, arch at 4, args from 16), assembled here: a handful of
instructions needs no libseccomp. Refused, with EPERM unless said otherwise:

- the kernel keyring (`add_key`, `keyctl`, `request_key`): it is not namespaced, so a session
  keyring's keys (Kerberos tickets, say) would be readable from inside;
- io_uring (ENOSYS, so runtimes fall back to plain syscalls): its operations would bypass this
  filter's socket rule;
- `socket(AF_UNIX, ...)` when `block_unix_sockets` (network on and no Landlock scope to keep
  abstract sockets in: see `agent.sandbox._landlock`); `socketpair` stays allowed;
- any syscall of another ABI (x32, 32-bit compat), which would name other numbers.
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import dataclass

_LD_W_ABS, _JEQ_K, _JSET_K, _RET_K = 0x20, 0x15, 0x45, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_AF_UNIX = 1


@dataclass(frozen=True, eq=False, repr=False)
class _Arch:
    """The numbers the seccomp filter needs for one architecture's native ABI."""

    audit: int
    """AUDIT_ARCH_* of the native ABI."""
    foreign_bit: int
    """Syscall numbers with this bit set belong to another ABI (x32), 0 if none."""
    socket: int
    keyring: tuple[int, ...]
    io_uring: tuple[int, ...]


ARCHES: dict[str, _Arch] = {
    "x86_64": _Arch(0xC000003E, 0x40000000, 41, (248, 249, 250), (425, 426, 427)),
    "aarch64": _Arch(0xC00000B7, 0, 198, (217, 218, 219), (425, 426, 427)),
}


def native_arch() -> _Arch | None:
    """The filter's tables for this machine, or None where none are known (no filter then)."""
    return ARCHES.get(platform.machine())


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _refuse(numbers: tuple[int, ...], err: int) -> list[bytes]:
    """`if nr in numbers: return ERRNO(err)`; the accumulator holds nr and keeps it."""
    out: list[bytes] = []
    for number in numbers:
        out += [_insn(_JEQ_K, number, jt=0, jf=1), _insn(_RET_K, _RET_ERRNO | err)]
    return out


def filter_program(arch: _Arch, *, block_unix_sockets: bool) -> bytes:
    """The BPF program, as the bytes bubblewrap reads from `--seccomp FD`."""
    body = [
        _insn(_LD_W_ABS, 4),
        _insn(_JEQ_K, arch.audit, jt=1, jf=0),
        _insn(_RET_K, _RET_ERRNO | errno.ENOSYS),
        _insn(_LD_W_ABS, 0),
    ]
    if arch.foreign_bit:
        body += [_insn(_JSET_K, arch.foreign_bit, jt=0, jf=1), _insn(_RET_K, _RET_ERRNO | errno.ENOSYS)]
    body += _refuse(arch.keyring, errno.EPERM)
    body += _refuse(arch.io_uring, errno.ENOSYS)
    if block_unix_sockets:  # socket(domain=args[0]): the low 32 bits, first on little-endian
        body += [
            _insn(_JEQ_K, arch.socket, jt=0, jf=3),
            _insn(_LD_W_ABS, 16),
            _insn(_JEQ_K, _AF_UNIX, jt=0, jf=1),
            _insn(_RET_K, _RET_ERRNO | errno.EPERM),
        ]
    body.append(_insn(_RET_K, _RET_ALLOW))
    return b"".join(body)
