"""The escape suite: every action first works WITHOUT the sandbox, then must fail inside it.

Controls run through the unsandboxed runner (or a plain subprocess where the runner's own
scrubbing would hide the effect), so a test cannot pass because the action never worked at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.unsandboxed import UnsandboxedRunner
from tests.processes import gone, kill_all_with, live_processes_with, unique_sleep
from tests.sandbox.conftest import sandbox_for

pytestmark = pytest.mark.bwrap
MARK = f"escape-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def host() -> UnsandboxedRunner:
    return UnsandboxedRunner()


@pytest.fixture
def box(workspace: Path, fake_home: Path) -> BwrapSandbox:
    return sandbox_for(workspace, home=fake_home)


async def test_writing_etc(host: UnsandboxedRunner, box: BwrapSandbox, workspace: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the control needs root: only root can write /etc outside the sandbox")
    target = Path("/etc") / f"subagent-{MARK}"
    try:
        assert (await host.run(f"echo x > {target}", cwd=workspace, timeout_s=10)).exit_code == 0
        assert target.exists()
        target.unlink()
        result = await box.run(f"echo x > {target}", cwd=workspace, timeout_s=10)
        assert result.exit_code != 0 and "Read-only file system" in result.output
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("where", ["$HOME", "/tmp"])
async def test_writing_home_or_host_tmp(
    host: UnsandboxedRunner, box: BwrapSandbox, workspace: Path, fake_home: Path, where: str
) -> None:
    name = f"subagent-{MARK}-{uuid.uuid4().hex[:6]}"
    target = (fake_home if where == "$HOME" else Path("/tmp")) / name
    try:
        assert (await host.run(f"echo x > {where}/{name}", cwd=workspace, timeout_s=10)).exit_code == 0
        assert target.exists()
        target.unlink()
        await box.run(f"echo x > {where}/{name}", cwd=workspace, timeout_s=10)
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("home_is_workspace", [False, True])
async def test_reading_planted_secrets(
    host: UnsandboxedRunner, fake_home: Path, workspace: Path, home_is_workspace: bool
) -> None:
    (fake_home / ".ssh").mkdir()
    (fake_home / ".ssh" / "id_ed25519").write_text(f"ssh-{MARK}\n")
    (fake_home / ".netrc").write_text(f"machine x password netrc-{MARK}\n")
    (fake_home / ".aws").mkdir()
    (fake_home / ".aws" / "credentials").write_text(f"aws-{MARK}\n")
    command = "cat ~/.ssh/id_ed25519 ~/.netrc ~/.aws/credentials; ls -a ~/.ssh; wc -c < ~/.netrc"
    control = await host.run(command, cwd=workspace, timeout_s=10)
    assert control.output.count(MARK) == 3
    root = fake_home if home_is_workspace else workspace
    box = sandbox_for(root, home=fake_home)
    result = await box.run(command + "; echo x > ~/.ssh/authorized_keys", cwd=root, timeout_s=10)
    assert MARK not in result.output and "id_ed25519" not in result.output.split("\n")
    if home_is_workspace:  # HOME's known credentials stay hidden; a hidden file reads as empty
        assert result.output.split("\n")[-3] == "0"
    else:  # the rest of HOME is not there at all
        assert "No such file or directory" in result.output
    assert not (fake_home / ".ssh" / "authorized_keys").exists()


class _Marker(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(f"server-{MARK}\n".encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Marker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


CLIENTS = {
    "curl": "curl -s --max-time 5 http://127.0.0.1:{port}/",
    "python": 'python3 -c "import urllib.request as u; '
    "print(u.urlopen('http://127.0.0.1:{port}/', timeout=5).read())\"",
    "bash": "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3",
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
async def test_reaching_a_local_server(
    host: UnsandboxedRunner, box: BwrapSandbox, workspace: Path, server_port: int, client: str
) -> None:
    if client == "curl" and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    command = CLIENTS[client].format(port=server_port)
    control = await host.run(command, cwd=workspace, timeout_s=15)
    assert f"server-{MARK}" in control.output
    result = await box.run(command, cwd=workspace, timeout_s=15)
    assert f"server-{MARK}" not in result.output and result.exit_code != 0


async def test_reading_an_api_key(
    box: BwrapSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", f"sk-ant-{MARK}")
    monkeypatch.setenv("SERVICE_TOKEN", f"tok-{MARK}")
    command = "env; cat /proc/$PPID/environ /proc/*/environ 2>/dev/null | tr '\\0' '\\n'"
    control = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=workspace)
    assert f"sk-ant-{MARK}" in control.stdout and f"tok-{MARK}" in control.stdout
    result = await box.run(command, cwd=workspace, timeout_s=10)
    assert MARK not in result.output


async def test_writing_through_a_symlink_out_of_the_workspace(
    host: UnsandboxedRunner, box: BwrapSandbox, workspace: Path, fake_home: Path
) -> None:
    outside = fake_home / "outside"
    outside.mkdir()
    (workspace / "link").symlink_to(outside)
    assert (await host.run("echo x > link/host", cwd=workspace, timeout_s=10)).exit_code == 0
    assert (outside / "host").exists()
    result = await box.run("echo x > link/boxed", cwd=workspace, timeout_s=10)
    assert result.exit_code != 0 and not (outside / "boxed").exists()


async def test_writing_git_hooks_and_config(
    host: UnsandboxedRunner, workspace: Path, fake_home: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    hook = workspace / ".git" / "hooks" / "pre-commit"
    control = await host.run("echo 'echo pwned' > .git/hooks/pre-commit", cwd=workspace, timeout_s=10)
    assert control.exit_code == 0 and hook.exists()
    hook.unlink()
    config_before = (workspace / ".git" / "config").read_text()
    box = sandbox_for(workspace, home=fake_home)
    attempts = [
        "echo 'echo pwned' > .git/hooks/pre-commit",
        "git config core.hooksPath /tmp/evil",
        "mv .git .git-old && mkdir -p .git/hooks && echo pwned > .git/hooks/pre-commit",
    ]
    for attempt in attempts:
        result = await box.run(attempt, cwd=workspace, timeout_s=10)
        assert result.exit_code != 0, attempt
    assert not hook.exists() and not (workspace / ".git-old").exists()
    assert (workspace / ".git" / "config").read_text() == config_before
    ok = await box.run("git status --short && echo data > .git/description", cwd=workspace, timeout_s=10)
    assert ok.exit_code == 0, ok.output  # the rest of .git stays usable


async def test_leaving_a_process_running(box: BwrapSandbox, workspace: Path) -> None:
    tag = unique_sleep()
    try:
        subprocess.run(["bash", "-c", f"setsid sleep {tag} >/dev/null 2>&1 &"], check=True)
        assert not gone(tag, wait_s=0.2)  # the control: it did survive its shell
        kill_all_with(tag)
        assert gone(tag)
        command = f"setsid nohup sleep {tag} >/dev/null 2>&1 & disown"
        result = await box.run(command, cwd=workspace, timeout_s=10)
        assert result.exit_code == 0
        assert gone(tag)
    finally:
        kill_all_with(tag)


async def test_kill_all_reaches_nothing_outside(
    host: UnsandboxedRunner, box: BwrapSandbox, workspace: Path
) -> None:
    tag = unique_sleep()
    sentinel = subprocess.Popen(["sleep", tag])
    try:
        victim = subprocess.Popen(["sleep", tag])
        control = await host.run(f"kill -9 {victim.pid}", cwd=workspace, timeout_s=10)
        assert control.exit_code == 0 and victim.wait(timeout=5) == -9
        command = f"kill -9 {sentinel.pid}; kill -9 -1; echo still-here"
        result = await box.run(command, cwd=workspace, timeout_s=10)
        assert "still-here" in result.output
        assert sentinel.poll() is None and live_processes_with(tag) == [sentinel.pid]
    finally:
        sentinel.kill()
        sentinel.wait()
