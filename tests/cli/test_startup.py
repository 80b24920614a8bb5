"""What a `subagent run` process pays for before its first request, and how it ends.

Real subprocesses against the local Messages API server: the run must not import the anthropic
SDK on its way to the first request (it takes about two seconds of CPU here).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import subagent_argv, subprocess_env
from tests.model import sse
from tests.model.local_api import ApiHandler, error_body
from tests.model.messages_server import MessagesServer

_LIST_MODULES = (
    "import atexit, json, os, runpy, sys; "
    "atexit.register(lambda: open(os.environ['MODULES_OUT'], 'w').write(json.dumps(sorted(sys.modules)))); "
    "sys.argv = ['subagent', *sys.argv[1:]]; runpy.run_module('agent', run_name='__main__')"
)
"""`subagent` that writes the name of every module it imported when it exits (its exit handlers
run before `os._exit`)."""


def test_a_run_never_imports_the_sdk(tmp_path: Path) -> None:
    listing = tmp_path / "modules.json"
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        argv = [sys.executable, "-c", _LIST_MODULES, "run", "say hi", "--agent", "explore", "-o", "json"]
        env = subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url, MODULES_OUT=str(listing))
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert len(server.requests) == 1
    assert json.loads(proc.stdout)["result"] == "hi"
    modules = set(json.loads(listing.read_text()))
    assert {"httpx2", "agent.model._wire", "agent.loop.agent_loop"} <= modules  # the listing is whole
    assert not {m for m in modules if m == "anthropic" or m.startswith("anthropic.")}
    assert "agent.cli.run_cmd" in modules and "agent.cli.chat_cmd" not in modules  # only its command


def test_every_command_is_found_by_name() -> None:
    """`agent.cli.commands.MODULES` names the module of every command the CLI has."""
    from agent.cli.commands import MODULES, register
    from agent.cli.main import app

    register([])
    commands = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    groups = {g.name or g.typer_instance.info.name for g in app.registered_groups if g.typer_instance}
    names = commands | groups
    assert names == set(MODULES)


def _run(tmp_path: Path, server: MessagesServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        subagent_argv("run", *args, "--agent", "explore", "--cwd", str(tmp_path)), cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
        env=subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url),
    )  # fmt: skip


def test_the_run_leaves_at_once_with_its_output_whole_and_its_session_stored(tmp_path: Path) -> None:
    """`os._exit` after the result: every line is out, the exit code is the result's, and the store
    is closed (no WAL left behind) with the session and its messages in it."""
    long_text = "".join(f"line {n} of a long answer\n" for n in range(3000))
    with MessagesServer([sse.reply(sse.text_block(0, long_text, pieces=300))]) as server:
        proc = _run(tmp_path, server, "tell me a lot", "-o", "stream-json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    deltas = "".join(line["text"] for line in lines if line["type"] == "text_delta")
    assert deltas == long_text and lines[-1]["type"] == "result" and lines[-1]["result"] == long_text
    data = Path(subprocess_env()["SUBAGENT_HOME"])
    assert (data / "sessions.db").exists() and not (data / "sessions.db-wal").exists()
    with sqlite3.connect(data / "sessions.db") as db:
        status = db.execute("SELECT status FROM sessions WHERE id = ?", (lines[-1]["session_id"],)).fetchall()
        roles = db.execute("SELECT role FROM messages ORDER BY seq").fetchall()
    assert status == [("completed",)] and roles == [("user",), ("assistant",)]


class RefusingServer(MessagesServer):
    """Answers every request with a 400 (not retried)."""

    def handle_post(self, request: ApiHandler, body: dict[str, Any]) -> None:
        self.requests.append(body)
        request.send_body(400, "application/json", error_body("max_tokens: too large"))


def test_a_failed_run_leaves_with_its_exit_code_and_its_error(tmp_path: Path) -> None:
    with RefusingServer([]) as server:
        proc = _run(tmp_path, server, "hi", "-o", "json")
    assert proc.returncode == 1 and len(server.requests) == 1
    result = json.loads(proc.stdout)
    assert result["subtype"] == "error_during_execution" and "max_tokens: too large" in result["result"]
