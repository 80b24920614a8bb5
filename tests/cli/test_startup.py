"""What a `subagent run` process pays for before its first request, and how it ends.

Real subprocesses against the local Messages API server: the run must not import the anthropic
SDK on its way to the first request (it takes about two seconds of CPU here).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import subagent_argv, subprocess_env
from tests.model import sse
from tests.model.messages_server import MessagesServer


def _imported(stderr: str) -> set[str]:
    """Every module `python -X importtime` reported importing."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_a_run_never_imports_the_sdk(tmp_path: Path) -> None:
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        argv = subagent_argv("run", "say hi", "--agent", "explore", "-o", "json", "--cwd", str(tmp_path))
        proc = subprocess.run(
            [argv[0], "-X", "importtime", *argv[1:]], cwd=tmp_path, capture_output=True, text=True,
            timeout=120, env=subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert len(server.requests) == 1
    assert json.loads(proc.stdout)["result"] == "hi"
    modules = _imported(proc.stderr)
    assert {"httpx2", "agent.model._wire", "agent.loop"} <= modules  # the log is complete
    assert not {m for m in modules if m == "anthropic" or m.startswith("anthropic.")}
