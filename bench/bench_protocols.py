"""ACP overhead against the CLI's stream-json, on the same run, against a local Messages API server.

One reply of 1,000 text deltas (the real Anthropic client parses the SSE stream in both cases) is
run twice per round: through `subagent run --output stream-json` and through `subagent acp` (a
raw JSON-RPC client on its stdin/stdout, so no client SDK cost is counted). Figures (JSON lines
`{"name", "value", "reference", "ratio"}`, ratio = value / reference, lower is better; the
reference is the CLI measured in the same round):
- acp_first_update_s: `initialize` written (right after spawn) to the first `session/update` of
  the prompt. Reference: spawn to the first `text_delta` line of stream-json.
- acp_per_delta_us: time per text delta, from the first to the last `agent_message_chunk` over
  the 1,000 deltas (chunks queued behind a slow pipe are joined, so there may be fewer updates).
  Reference: time per `text_delta` line of stream-json, first to last.
- acp_updates_per_delta: how many updates the 1,000 deltas became (reference 1.0: one each).

Run: python bench/bench_protocols.py [--runs N] [--deltas N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402


class _Lines:
    """Reads a pipe in a thread, stamping each line with its arrival time."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: IO[bytes]) -> None:
        for raw in pipe:
            stamp = time.perf_counter()
            with self._cond:
                self.lines.append((stamp, json.loads(raw)))
                self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, message in self.lines:
                    if predicate(message):
                        return message
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    raise SystemExit("timed out waiting for the agent; see its stderr")


def _env(workspace: Path, url: str) -> dict[str, str]:
    return dict(
        os.environ,
        ANTHROPIC_API_KEY="bench-key",
        ANTHROPIC_BASE_URL=url,
        PYTHONPATH=str(ROOT),
        SUBAGENT_HOME=str(workspace.parent / "home"),
        XDG_CONFIG_HOME=str(workspace.parent / "cfg"),
    )


def _per_delta(stamps: list[float], deltas: int) -> float:
    return (stamps[-1] - stamps[0]) / max(1, deltas - 1)


def _cli_run(workspace: Path, reply: str, count: int) -> tuple[float, float]:
    with MessagesServer([reply]) as server:
        argv = [sys.executable, "-m", "agent", "run", "say it", "--cwd", str(workspace),
                "--output", "stream-json", "--permission-mode", "bypass"]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=workspace, env=_env(workspace, server.url),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
        assert proc.stdout is not None
        lines = _Lines(proc.stdout)
        proc.wait(timeout=120)
        lines.wait_for(lambda m: m.get("type") == "result")
    deltas = [t for t, m in lines.lines if m.get("type") == "text_delta"]
    assert len(deltas) == count, f"stream-json carried {len(deltas)} text deltas, not {count}"
    return deltas[0] - start, _per_delta(deltas, count)


def _send(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def _acp_run(workspace: Path, reply: str, count: int) -> tuple[float, float, int]:
    with MessagesServer([reply]) as server:
        proc = subprocess.Popen([sys.executable, "-m", "agent", "acp"], cwd=workspace,
                                env=_env(workspace, server.url), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
        assert proc.stdout is not None
        lines = _Lines(proc.stdout)
        start = time.perf_counter()
        _send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1}})
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "session/new",
                     "params": {"cwd": str(workspace), "mcpServers": []}})  # fmt: skip
        session = lines.wait_for(lambda m: m.get("id") == 2)["result"]["sessionId"]
        _send(
            proc,
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "session/prompt",
                "params": {"sessionId": session, "prompt": [{"type": "text", "text": "say it"}]},
            },
        )
        lines.wait_for(lambda m: m.get("id") == 3)
        proc.communicate(timeout=30)
    chunks = [(t, m["params"]["update"]["content"]["text"]) for t, m in lines.lines
              if m.get("method") == "session/update"
              and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"]  # fmt: skip
    text = "".join(piece for _, piece in chunks)
    assert text == "word " * count, "the ACP client did not get the whole text"
    return chunks[0][0] - start, _per_delta([t for t, _ in chunks], count), len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deltas", type=int, default=1000)
    args = parser.parse_args()
    reply = sse.reply(sse.text_block(0, "word " * args.deltas, pieces=args.deltas))
    cli_first, cli_each, acp_first, acp_each, acp_updates = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        for _ in range(args.runs):
            first, each = _cli_run(workspace, reply, args.deltas)
            cli_first.append(first)
            cli_each.append(each)
            first, each, updates = _acp_run(workspace, reply, args.deltas)
            acp_first.append(first)
            acp_each.append(each)
            acp_updates.append(updates)
    emit(
        "acp_first_update_s",
        statistics.median(acp_first),
        statistics.median(cli_first),
        unit="s",
        reference_name="first event through --output stream-json",
    )
    emit(
        "acp_per_delta_us",
        statistics.median(acp_each) * 1e6,
        statistics.median(cli_each) * 1e6,
        unit="µs",
        reference_name="per event through --output stream-json",
    )
    emit(
        "acp_updates_per_delta",
        statistics.median(acp_updates) / args.deltas,
        1.0,
        reference_name="one update per delta",
    )


if __name__ == "__main__":
    main()
