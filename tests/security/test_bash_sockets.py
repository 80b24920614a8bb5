"""bash cannot connect to a unix socket outside the workspace; a server inside it still works.

A read-only mount does not stop `connect()` (it needs only write permission on the socket file),
so a socket the user's own services bound under /var/tmp or HOME was reachable. The servers here
run as the attacking user, and the control connects to each as that user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security._bash import MODES, answers, bash_run
from tests.security.attacker import NOBODY, Site

SERVE = """
import socket, sys
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen()
while True:
    conn, _ = server.accept()
    conn.sendall(sys.argv[2].encode())
    conn.close()
"""
CONNECT = (
    'python3 -c "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); '
    'print(s.recv(100).decode())" {path} 2>&1 | tail -1'
)
SERVE_HERE = (
    "python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.bind('test.sock'); "
    "s.listen(); c = socket.socket(socket.AF_UNIX); c.connect('test.sock'); a, _ = s.accept(); "
    "a.sendall(b'in'); print('workspace server answered', c.recv(9).decode())\"; rm -f test.sock"
)


@pytest.fixture
def servers(site: Site) -> Iterator[dict[Path, str]]:
    """Unix-socket servers of the attacking user: one under /var/tmp, one in HOME."""
    paths = {
        site.root / "service.sock": "CANARY-SOCKET-VARTMP",
        site.home / ".docker" / "run" / "docker.sock": "CANARY-SOCKET-HOME",
    }
    user = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if os.getuid() == 0 else {}
    procs = []
    for path, canary in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        site.own(path.parent)
        procs.append(subprocess.Popen([sys.executable, "-c", SERVE, str(path), canary], **user))
    try:
        for path in paths:
            for _ in range(100):
                if path.exists():
                    break
                time.sleep(0.05)
        yield paths
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("mode", MODES)
def test_sockets_outside_the_workspace_are_unreachable(
    site: Site, servers: dict[Path, str], mode: str
) -> None:
    for path, canary in servers.items():
        control = site.shell(CONNECT.format(path=path))
        assert canary in control.stdout, control.stderr
    outcome = bash_run(site, [*(CONNECT.format(path=path) for path in servers), SERVE_HERE], mode)
    seen = outcome.everything_the_model_saw()
    assert not [canary for canary in servers.values() if canary in seen]
    assert "workspace server answered in" in answers(outcome)[-1].text
