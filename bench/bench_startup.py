"""Start-up and exit beside Claude Code: `run`, `acp` and `mcp`, in interleaved rounds.

Both programs run in a loopback-only network namespace (`unshare -rn`) against the same local
Messages API server (TCP_NODELAY; it answers "hi" at once), one after the other in alternating
order each round; figures are medians over the rounds, each the ratio to Claude Code's measured in
the same run (Claude Code 2.1.332 from npm, installed into bench/.cache; its ACP side is Zed's
adapter `@agentclientprotocol/claude-agent-acp`). Where Claude Code cannot be installed or run,
its figures are skipped and the note says why; `python -c pass` and `import httpx` are measured
beside as floors.

- run: exec to the first request reaching the server; the wall time of `run "say hi"`; exit
  after the last reply (the reply written to the process gone); peak RSS.
- acp: exec to `initialize` answered; exec to the first `agent_message_chunk` of "say hi".
- mcp: exec to `initialize` answered; exec to `tools/list` answered (`claude mcp serve`).

Run: python bench/bench_startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from bench._peers import claude_acp, claude_code  # noqa: E402
from bench._stdio_rpc import RpcChild  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402

PROMPT = "say hi"
INSIDE = "SUBAGENT_BENCH_NETNS"
Sample = dict[str, float]


class Setup:
    """Folders and environments shared by every round (warmed once, so no round is a first run)."""

    def __init__(self, claude: Path | None, acp: Path | None) -> None:
        self.claude, self.acp = claude, acp
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        self.workspace = self.tmp / "ws"
        self.workspace.mkdir()
        subprocess.run(["git", "init", "-q", str(self.workspace)], check=True)
        (self.tmp / "home").mkdir()

    def env(self, url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", INSIDE)}
        return dict(
            env, HOME=str(self.tmp / "home"), ANTHROPIC_API_KEY="sk-ant-bench", ANTHROPIC_BASE_URL=url,
            PYTHONPATH=str(ROOT), SUBAGENT_HOME=str(self.tmp / "data"), IS_SANDBOX="1",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1",
            **({"CLAUDE_CODE_EXECUTABLE": str(self.claude)} if self.claude else {}),
        )  # fmt: skip

    def ours(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "agent", *args]


def _reply(_: object) -> str:
    return sse.reply(sse.text_block(0, "hi"))


def measure_run(setup: Setup, argv: list[str]) -> Sample:
    with MessagesServer(_reply) as server:
        out, err = (setup.tmp / "out").open("wb"), (setup.tmp / "err").open("wb")
        started = time.time()
        proc = subprocess.Popen(argv, cwd=setup.workspace, env=setup.env(server.url),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        ended = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.close(), err.close()
        if proc.returncode != 0 or not server.arrivals:
            raise RuntimeError(f"{argv[0]} failed: {(setup.tmp / 'err').read_text()[-800:]}")
        return {"first_request_s": server.arrivals[0] - started, "wall_s": ended - started,
                "exit_after_reply_ms": (ended - server.replied[-1]) * 1000,
                "peak_rss_mib": usage.ru_maxrss / 1024}  # fmt: skip


def _is_first_chunk(message: dict[str, Any]) -> bool:
    update = message.get("params", {}).get("update", {}) if message.get("method") == "session/update" else {}
    return update.get("sessionUpdate") == "agent_message_chunk"


def measure_acp(setup: Setup, argv: list[str]) -> Sample:
    with MessagesServer(_reply) as server:
        child = RpcChild(argv, env=setup.env(server.url), cwd=setup.workspace, stderr=setup.tmp / "err")
        capabilities = {"fs": {"readTextFile": False, "writeTextFile": False}, "terminal": False}
        init = child.request("initialize", {"protocolVersion": 1, "clientCapabilities": capabilities})
        initialized, _ = child.answer_to(init)
        new = child.request("session/new", {"cwd": str(setup.workspace), "mcpServers": []})
        session = child.answer_to(new)[1]["result"]["sessionId"]
        prompt = [{"type": "text", "text": PROMPT}]
        done = child.request("session/prompt", {"sessionId": session, "prompt": prompt})
        first, _ = child.wait_for(_is_first_chunk)
        child.answer_to(done)
        child.finish()
    return {"initialize_s": initialized, "first_answer_s": first}


def measure_mcp(setup: Setup, argv: list[str]) -> Sample:
    with MessagesServer(_reply) as server:
        child = RpcChild(argv, env=setup.env(server.url), cwd=setup.workspace, stderr=setup.tmp / "err")
        client = {"name": "bench", "version": "1"}
        init = child.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                            "clientInfo": client})  # fmt: skip
        initialized, _ = child.answer_to(init)
        child.notify("notifications/initialized")
        listed, _ = child.answer_to(child.request("tools/list", {}))
        exited, _ = child.finish()
    return {"initialize_s": initialized, "tools_listed_s": listed, "exit_after_stdin_ms": exited * 1000}


def _floor(argv: list[str]) -> float:
    started = time.time()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.time() - started


def rounds(setup: Setup, count: int) -> dict[str, dict[str, list[Sample]]]:
    """Every measurement, ours and Claude Code's alternating first, after one warm-up of each."""
    ours: dict[str, Callable[[], Sample]] = {
        "run": lambda: measure_run(setup, setup.ours("run", PROMPT, "--output", "json")),
        "acp": lambda: measure_acp(setup, setup.ours("acp")),
        "mcp": lambda: measure_mcp(setup, setup.ours("mcp")),
        "floor": lambda: {"python_pass_s": _floor([sys.executable, "-c", "pass"]),
                          "import_httpx_s": _floor([sys.executable, "-c", "import httpx"])},
    }  # fmt: skip
    theirs: dict[str, Callable[[], Sample]] = {}
    if setup.claude:
        claude = str(setup.claude)
        theirs["run"] = lambda: measure_run(setup, [claude, "-p", PROMPT, "--output-format", "json"])
        theirs["mcp"] = lambda: measure_mcp(setup, [claude, "mcp", "serve"])
        if setup.acp:
            theirs["acp"] = lambda: measure_acp(setup, ["node", str(setup.acp)])
    results: dict[str, dict[str, list[Sample]]] = {"ours": {}, "claude": {}}
    for n in range(count + 1):  # round 0 warms caches and compiles bytecode; not counted
        sides = [("ours", ours), ("claude", theirs)]
        for side, table in sides if n % 2 else reversed(sides):
            for kind, measure in table.items():
                sample = measure()
                if n:
                    results[side].setdefault(kind, []).append(sample)
    return results


def _median(samples: list[Sample], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def report(results: dict[str, dict[str, list[Sample]]], note: str) -> None:
    ours, claude = results["ours"], results["claude"]
    peer = "Claude Code 2.1.332, same run"
    aims = {("run", "first_request_s"): "<= 0.8", ("run", "exit_after_reply_ms"): "< 50 ms",
            ("run", "peak_rss_mib"): "< 120 MiB", ("acp", "initialize_s"): "< 0.3 s",
            ("mcp", "tools_listed_s"): "< 0.3 s"}  # fmt: skip
    units = {"s": "s", "ms": "ms", "mib": "MiB"}
    for kind in ("run", "acp", "mcp"):
        for key in ours[kind][0]:
            reference = _median(claude[kind], key) if kind in claude else None
            emit(f"{kind}_{key}", _median(ours[kind], key), reference, unit=units[key.rsplit("_", 1)[1]],
                 reference_name=peer if reference is not None else "", aim=aims.get((kind, key), ""),
                 note=note if reference is None else "")  # fmt: skip
    first = _median(ours["run"], "first_request_s")
    for key in ("python_pass_s", "import_httpx_s"):
        emit(key, _median(ours["floor"], key), first, unit="s", reference_name="our run's first request")
    load = os.getloadavg()
    emit("load_average_1min", load[0], os.cpu_count(), reference_name="cores", note="machine load when done")


def _inside(args: argparse.Namespace) -> None:
    claude = Path(args.claude) if args.claude else None
    acp = Path(args.acp) if args.acp else None
    setup = Setup(claude, acp)
    try:
        report(rounds(setup, args.rounds), args.note)
    finally:
        shutil.rmtree(setup.tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--claude", default="", help=argparse.SUPPRESS)
    parser.add_argument("--acp", default="", help=argparse.SUPPRESS)
    parser.add_argument("--note", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.environ.get(INSIDE):
        return _inside(args)
    claude, why = claude_code()
    acp, acp_why = claude_acp() if claude else (None, why)
    notes = [f"Claude Code skipped: {why}" if why else "",
             f"its ACP adapter skipped: {acp_why}" if acp_why else ""]  # fmt: skip
    argv = [sys.executable, __file__, "--rounds", str(args.rounds), "--claude", str(claude or ""),
            "--acp", str(acp or ""), "--note", "; ".join(filter(None, notes))]  # fmt: skip
    netns = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    probe = subprocess.run([*netns, "true"], capture_output=True)
    if probe.returncode != 0:  # no namespaces here: measured on the host network, and said so
        argv[-1] += "; not in a network namespace: " + probe.stderr.decode(errors="replace").strip()[:200]
        netns = []
    sys.exit(subprocess.run([*netns, *argv], env=dict(os.environ, **{INSIDE: "1"})).returncode)


if __name__ == "__main__":
    main()
