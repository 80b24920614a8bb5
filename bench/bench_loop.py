"""Loop latency and first-request size, against a local Messages API server.

Figures (JSON lines `{"name", "value", "reference", "ratio"}`; ratio = value / reference, lower
is better):
- first_request_s: process start to the first request reaching the server (`subagent run`).
  Reference: Claude Code, 0.52 s (bench/bench_startup.py measures it beside us in the same run).
- import_httpx2_s: `python -c "import httpx2"` measured in the same run: the HTTP client the
  Messages API is streamed over, a floor for any Python client; first_request_over_import_floor is
  how many times that the whole start-up takes.
- next_step_ms: from the end of a reply asking for a trivial tool call (read a small file) to the
  next request. Reference: Claude Code, 40 ms.
- first_request_system_bytes / _tools_bytes / _bytes for backend-engineer. Reference: opencode's
  whole first request, 30 KB (Claude Code sends 76 KB).

Run: python bench/bench_loop.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402


def _command(workspace: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "agent",
        "run",
        "read note.txt",
        "--agent",
        "backend-engineer",
        "--cwd",
        str(workspace),
        "--output",
        "json",
        "--permission-mode",
        "bypass",
    ]


def _one_run(workspace: Path) -> tuple[float, float, dict]:
    replies = [
        sse.reply(sse.tool_block(0, "toolu_1", "read", {"file_path": "note.txt"}), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "It says hi.")),
    ]
    env = dict(
        os.environ,
        ANTHROPIC_API_KEY="bench-key",
        PYTHONPATH=str(ROOT),
        SUBAGENT_HOME=str(workspace.parent / "home"),
    )
    with MessagesServer(replies) as server:
        env["ANTHROPIC_BASE_URL"] = server.url
        start = time.time()
        proc = subprocess.run(
            _command(workspace), cwd=workspace, env=env, capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0 or len(server.arrivals) < 2:
            raise SystemExit(f"the run failed ({proc.returncode}): {proc.stderr[-2000:]}")
        first = server.arrivals[0] - start
        step = server.arrivals[1] - server.replied[0]
        return first, step, server.requests[0]


def _import_floor() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import httpx2"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    firsts, steps, body = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        (workspace / "note.txt").write_text("hi\n")
        for _ in range(args.runs):
            first, step, body = _one_run(workspace)
            firsts.append(first)
            steps.append(step)
    first, floor = statistics.median(firsts), _import_floor()
    peer = "Claude Code, measured elsewhere"
    emit("first_request_s", first, 0.52, unit="s", reference_name=peer, aim="<= 1")
    emit("import_httpx2_s", floor, 0.52, unit="s", reference_name=peer)
    emit("first_request_over_import_floor", first / floor, 1.0, reference_name="import httpx2 alone")
    emit("next_step_ms", statistics.median(steps) * 1000, 40.0, unit="ms", reference_name=peer, aim="<= 1")
    system = len(json.dumps(body.get("system", [])).encode())
    tools = len(json.dumps(body.get("tools", [])).encode())
    whole = "opencode's whole first request"
    emit("first_request_system_bytes", system, 30_000, unit="bytes", reference_name=whole)
    emit("first_request_tools_bytes", tools, 30_000, unit="bytes", reference_name=whole)
    emit(
        "first_request_bytes",
        len(json.dumps(body).encode()),
        30_000,
        unit="bytes",
        reference_name=whole,
        aim="<= 1",
    )


if __name__ == "__main__":
    main()
