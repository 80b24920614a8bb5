"""What the mounts cannot stop: the kernel keyring, io_uring, abstract unix sockets (seccomp and
Landlock), and memory held in shared mappings (a memory cgroup, where one can be had)."""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.sandbox._cgroup import memory_cgroup_parent
from agent.sandbox._landlock import can_scope_abstract_sockets
from agent.sandbox.process import ProcessLimits
from agent.sandbox.unsandboxed import UnsandboxedRunner
from tests.sandbox.conftest import sandbox_for

pytestmark = pytest.mark.bwrap
PY = sys.executable

SYSCALL = (
    PY + ' -c "import ctypes; libc = ctypes.CDLL(None, use_errno=True); '
    "r = libc.syscall({nr}, {args}); print('result', r, 'errno', ctypes.get_errno())\""
)
KEYCTL = SYSCALL.format(nr=250, args="0, -3, 1")  # KEYCTL_GET_KEYRING_ID of the session keyring
IO_URING = SYSCALL.format(nr=425, args="1, 0")
CONNECT = (
    PY + " -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); "
    'print(s.recv(64).decode())" 2>&1 | tail -1'
)
INSIDE = (
    PY + " -c \"import socket; s = socket.socket(socket.AF_UNIX); s.bind('\\0inside-{name}'); "
    "s.listen(); c = socket.socket(socket.AF_UNIX); c.connect('\\0inside-{name}'); "
    "a, _ = s.accept(); a.sendall(b'ok'); print('inside server', c.recv(2).decode())\" "
    "2>&1 | tail -1"
)
PAIR = (
    PY + " -c \"import socket; a, b = socket.socketpair(); a.sendall(b'ok'); "
    "print('pair', b.recv(2).decode())\""
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux syscalls")
async def test_keyring_and_io_uring_are_refused(workspace: Path, fake_home: Path) -> None:
    host = UnsandboxedRunner()
    control = await host.run(f"{KEYCTL}; {IO_URING}", cwd=workspace, timeout_s=10)
    lines = control.output.splitlines()
    assert not lines[0].endswith("errno 1") and not lines[1].endswith("errno 38")
    result = await sandbox_for(workspace, home=fake_home).run(
        f"{KEYCTL}; {IO_URING}", cwd=workspace, timeout_s=10
    )
    assert result.output.splitlines() == ["result -1 errno 1", "result -1 errno 38"]  # EPERM, ENOSYS


@pytest.fixture
def abstract_server() -> Iterator[str]:
    name = f"subagent-test-{uuid.uuid4().hex[:8]}"
    server = socket.socket(socket.AF_UNIX)
    server.bind(f"\0{name}")
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"ABSTRACT-CANARY")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield name
    server.close()


@pytest.mark.parametrize("landlock", [True, False])
async def test_abstract_sockets_with_the_network_on(
    workspace: Path, fake_home: Path, abstract_server: str, landlock: bool
) -> None:
    if landlock and not can_scope_abstract_sockets():
        pytest.skip("Landlock ABI 6 (Linux 6.12) is not available here")
    command = "; ".join(c.format(name=abstract_server) for c in (CONNECT, INSIDE, PAIR))
    control = await UnsandboxedRunner().run(command, cwd=workspace, timeout_s=10)
    assert "ABSTRACT-CANARY" in control.output
    box = sandbox_for(workspace, home=fake_home, network=True, landlock=landlock)
    result = await box.run(command, cwd=workspace, timeout_s=10)
    assert "ABSTRACT-CANARY" not in result.output and "pair ok" in result.output
    if landlock:  # scoped: a server of the command's own still works
        assert "inside server ok" in result.output
    else:  # seccomp refuses every AF_UNIX socket instead
        assert result.output.count("Operation not permitted") == 2


async def test_abstract_sockets_without_the_network(
    workspace: Path, fake_home: Path, abstract_server: str
) -> None:
    command = "; ".join(c.format(name=abstract_server) for c in (CONNECT, INSIDE))
    result = await sandbox_for(workspace, home=fake_home).run(command, cwd=workspace, timeout_s=10)
    assert "ABSTRACT-CANARY" not in result.output and "inside server ok" in result.output


FILL_SHARED = (
    PY + ' -c "import mmap; m = mmap.mmap(-1, 600 << 20, flags=mmap.MAP_SHARED); '
    "[m.write(b'x' * (1 << 20)) for _ in range(600)]; print('filled')\""
)


@pytest.mark.skipif(
    memory_cgroup_parent() is None,
    reason="no memory cgroup can be made here "
    "(needs a writable cgroup v1 memory controller: root, or delegated)",
)
async def test_shared_memory_is_capped_by_the_cgroup(workspace: Path, fake_home: Path) -> None:
    limits = ProcessLimits(max_memory_mb=200)
    control = await UnsandboxedRunner(limits=limits).run(FILL_SHARED, cwd=workspace, timeout_s=60)
    assert "filled" in control.output.splitlines()  # RLIMIT_DATA does not count shared mappings
    box = sandbox_for(workspace, home=fake_home, limits=limits)
    result = await box.run(FILL_SHARED, cwd=workspace, timeout_s=60)
    assert "filled" not in result.output.splitlines()
    assert "[killed: the command passed its memory limit of 200 MB]" in result.output
    cgroup = box._cgroup
    assert cgroup is not None and cgroup.path.is_dir()
    again = await box.run("echo still usable", cwd=workspace, timeout_s=60)
    assert again.output == "still usable\n"  # the limit is per call: the next one starts afresh
    del box, cgroup
    gc.collect()
    parent = memory_cgroup_parent()
    assert parent is not None
    assert not [p for p in parent.iterdir() if p.name.startswith(f"subagent-{os.getpid()}-")]


@pytest.mark.skipif(memory_cgroup_parent() is None, reason="no memory cgroup can be made here")
def test_cgroups_of_killed_runtimes_are_removed() -> None:
    from agent.sandbox._cgroup import _remove_orphans

    parent = memory_cgroup_parent()
    assert parent is not None
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan, alive = parent / f"subagent-{dead.pid}-1", parent / f"subagent-{os.getpid()}-999"
    orphan.mkdir()
    alive.mkdir()
    try:
        _remove_orphans(parent)
        assert not orphan.exists() and alive.exists()
    finally:
        for folder in (orphan, alive):
            if folder.exists():
                folder.rmdir()


@pytest.fixture
def socket_in_a_closed_folder() -> Iterator[Path]:
    """A listening socket under /var/tmp in a folder the sandbox's user cannot search: owned by
    another user (as root) or searchable by nobody (otherwise)."""
    folder = Path(tempfile.mkdtemp(prefix="subagent-closed-", dir="/var/tmp"))
    inner = folder / "closed"
    inner.mkdir()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(inner / "agent.sock"))
    server.listen()
    if os.geteuid() == 0:
        os.chown(inner, 65534, 65534)
        inner.chmod(0o700)
    else:
        inner.chmod(0o000)
    yield inner / "agent.sock"
    server.close()
    inner.chmod(0o700)
    shutil.rmtree(folder)


async def test_a_socket_out_of_the_sandboxs_reach_does_not_stop_its_calls(
    workspace: Path, fake_home: Path, socket_in_a_closed_folder: Path
) -> None:
    """Found when a socket in the attacker seat's HOME made every root-run call fail:
    bubblewrap cannot make a mount point under a folder it cannot search."""
    script = f"import socket; socket.socket(socket.AF_UNIX).connect('{socket_in_a_closed_folder}')"
    connect = f'{PY} -c "{script}" 2>&1 | tail -1; echo done'
    result = await sandbox_for(workspace, home=fake_home).run(connect, cwd=workspace, timeout_s=10)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["PermissionError: [Errno 13] Permission denied", "done"]
