"""Every front end that exits leaves at once: nothing still running can hold the process.

Each command runs under a wrapper that first starts a thread which never ends and is no daemon.
An interpreter that exits the ordinary way waits for such a thread forever (the control shows it);
`exit_now` (agent.cli.main) flushes the output, runs the exit handlers and ends the process without
the interpreter's teardown, so every command must still end, with its usual exit code and output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.acp.test_stdio_front import ACP, MCP_LEGACY, answers_then_exit
from tests.chat.tmux_term import TmuxTerminal
from tests.conftest import subprocess_env
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.orchestrator._scenario import workspace, write

_HOLD = "import runpy, sys, threading; threading.Thread(target=threading.Event().wait).start(); "
_WRAPPER = _HOLD + "sys.argv = ['subagent', *sys.argv[1:]]; runpy.run_module('agent', run_name='__main__')"


def held(*args: str) -> list[str]:
    """argv of `subagent ARGS` with a never-ending, non-daemon thread started first."""
    return [sys.executable, "-c", _WRAPPER, *args]


def test_the_control_an_ordinary_exit_waits_for_the_thread_forever() -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", _HOLD + "sys.exit(0)"], capture_output=True, timeout=3)


def test_run_leaves_at_once(tmp_path: Path) -> None:
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        proc = subprocess.run(
            held("run", "say hi", "--agent", "explore", "-o", "json", "--cwd", str(tmp_path)),
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env=subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["result"] == "hi"


def test_dispatch_leaves_at_once(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    script = tmp_path / "script.yaml"
    replies = [{"tool_calls": [write("alpha.txt", "alpha\n")]}, {"text": "made alpha"}]
    script.write_text(yaml.safe_dump({"scripts": [{"agent": "worker", "replies": replies}]}))
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({"tasks": [{"id": "a", "agent": "worker", "prompt": "make alpha"}]}))
    proc = subprocess.run(
        held("dispatch", str(tasks), "--cwd", str(ws), "--script", str(script)),
        capture_output=True, text=True, timeout=120, env=subprocess_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["results"][0]["status"] == "success"
    assert (ws / "alpha.txt").read_text() == "alpha\n"


@pytest.mark.slow
def test_the_demo_leaves_at_once(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = subprocess.run(
        held("demo", "--fast", "--workdir", str(target)),
        capture_output=True, text=True, timeout=300, env=subprocess_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "tests on the merged tree" in proc.stdout


_PING = {
    "mcp": [*MCP_LEGACY, {"jsonrpc": "2.0", "id": 3, "method": "ping"}],
    "acp": [*ACP, {"jsonrpc": "2.0", "id": 1, "method": "no/such/method", "params": {}}],
}


@pytest.mark.parametrize("command", ["mcp", "acp"])
def test_acp_and_mcp_leave_at_once_when_their_input_closes(command: str) -> None:
    """The last request is one only the SDK answers, so the server that leaves is the SDK's."""
    answers = answers_then_exit(held(command), _PING[command], subprocess_env())
    assert [a["id"] for a in answers] == [r["id"] for r in _PING[command] if "id" in r]
    if command == "mcp":
        assert answers[-1]["result"] == {}  # ping
    else:
        assert answers[-1]["error"]["code"] == -32601  # method not found


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_chat_leaves_at_once(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    script = tmp_path / "script.yaml"
    script.write_text(textwrap.dedent("""
        scripts:
          - replies:
              - text: Hello from the script.
    """))  # fmt: skip
    passed = ("PYTHONPATH", "SUBAGENT_HOME", "XDG_CONFIG_HOME", "PATH", "HOME")
    env = {k: v for k, v in subprocess_env().items() if k in passed}
    env["LANG"] = "C.UTF-8"
    term = TmuxTerminal(held("chat", "--script", str(script), "--cwd", str(ws)), env, ws)
    try:
        term.wait_idle()
        term.type_line("hi")
        term.wait_for("Hello from the script.")
        term.wait_idle()
        term.send("C-d")
        assert "resume it with: subagent chat --resume" in term.wait_for("[exited]")
    finally:
        term.close()
