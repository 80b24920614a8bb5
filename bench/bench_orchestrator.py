"""Parallel subagents against the ideal schedule: eight children, three turns each, 0.5 s per reply.

A local Messages API server (real HTTP, the real client) waits 0.5 s before each reply.
Eight `worker` children are dispatched at once on a workspace of 5,000 files; each reads a file,
writes its own file, and reports (three model turns). They may all edit, so each gets its own
worktree, made from the checkpoint and merged back: that setup is inside the measured time.
The ideal is 3 x 0.5 s = 1.5 s (everything in parallel, zero overhead); aim: within 1.2 of it.

Figures (JSON lines; ratio = value / reference, lower is better):
- dispatch_8x3_wall_s against the ideal 1.5 s (worktrees under the data dir), and
  dispatch_8x3_wall_s_worktrees_on_tmpfs (SUBAGENT_WORKTREES on /dev/shm) beside it;
- worktree_create_5000_files_s: one worktree alone (objects packed, as a fan-out does first),
  against the same files copied by `cp -r`;
- first_snapshot_5000_files_s: the workspace's first checkpoint (once per workspace, before the
  timed run), against `git add -A && git write-tree` in a scratch repository.

Run: python bench/bench_orchestrator.py [--files 5000] [--children 8] [--delay 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.model import sse  # noqa: E402

WORKER = """---
description: bench worker
mode: subagent
tools: {read: true, write: true}
---
Do the task.
"""


def _emit(name: str, value: float, reference: float, **extra: Any) -> None:
    line = {
        "name": name,
        "value": round(value, 4),
        "reference": round(reference, 4),
        "ratio": round(value / reference, 3) if reference else None,
        **extra,
    }
    print(json.dumps(line), flush=True)


def _reply(body: dict[str, Any]) -> str:
    """Turn 1 reads, turn 2 writes the child's own file, turn 3 reports."""
    messages = body["messages"]
    turn = sum(1 for m in messages if m["role"] == "assistant")
    first = messages[0]["content"]
    prompt = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    child = prompt.split("child-")[1].split()[0]  # "<run>-<n>"
    if turn == 0:
        return sse.reply(
            sse.tool_block(0, f"toolu_r{child}", "read", {"file_path": "pkg0/sub0/f0.py"}),
            stop_reason="tool_use",
        )
    if turn == 1:
        call = {"file_path": f"out/child-{child}.txt", "content": f"child {child}\n"}
        return sse.reply(sse.tool_block(0, f"toolu_w{child}", "write", call), stop_reason="tool_use")
    return sse.reply(sse.text_block(0, f"child {child} wrote its file"))


class SlowServer:
    """Answers each POST /v1/messages after `delay` seconds, requests in parallel."""

    def __init__(self, delay: float) -> None:
        delay_s = delay

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                time.sleep(delay_s)
                payload = _reply(body).encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def _workspace(root: Path, files: int, children: int) -> Path:
    ws = root / "ws"
    for i in range(files):
        folder = ws / f"pkg{i % 50}" / f"sub{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.py").write_text(f"VALUE = {i}\n" * 10)
    (ws / ".subagent" / "agents").mkdir(parents=True)
    (ws / ".subagent" / "agents" / "worker.md").write_text(WORKER)
    (ws / ".subagent" / "config.yaml").write_text(
        f"defaults: {{permission_mode: bypass, max_parallel_tasks: {children}}}\n"
    )
    return ws


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _git_reference(ws: Path, scratch: Path) -> float:
    env = {
        **os.environ,
        "GIT_DIR": str(scratch / "ref.git"),
        "GIT_WORK_TREE": str(ws),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", "init", "-q", "--bare", str(scratch / "ref.git")], check=True)
    return _timed(
        lambda: (
            subprocess.run(["git", "add", "-A"], env=env, check=True),
            subprocess.run(["git", "write-tree"], env=env, check=True, capture_output=True),
        )
    )


async def _dispatch(ws: Path, children: int, client: Any, run: str) -> tuple[float, list[Any]]:
    from agent.orchestrator.base import SubtaskSpec
    from agent.orchestrator.local import LocalDispatcher

    tasks = [
        SubtaskSpec(id=f"c{n}", agent="worker", prompt=f"You are child-{run}-{n} of the bench.")
        for n in range(children)
    ]
    dispatcher = LocalDispatcher(ws, model_client=client, trust=True)  # the bench wrote its config
    started = time.perf_counter()
    results = await dispatcher.run(tasks)
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--children", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-orch-"))
    os.environ["SUBAGENT_HOME"] = str(scratch / "home")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    os.environ["ANTHROPIC_API_KEY"] = "bench-key"
    try:
        from agent.model.anthropic_client import AnthropicModel
        from agent.orchestrator.worktree import Worktree, pack_objects
        from agent.sessions.checkpoints import ShadowRepo

        ws = _workspace(scratch, args.files, args.children)
        reference = _git_reference(ws, scratch)
        repo = ShadowRepo(ws)
        first = _timed(lambda: repo.snapshot("bench: first checkpoint"))
        _emit("first_snapshot_5000_files_s", first, reference, reference_name="git add -A && git write-tree")
        base = repo.snapshot("bench")
        packed = _timed(lambda: pack_objects(repo))  # what the first fan-out does once
        print(json.dumps({"name": "pack_loose_objects_s", "value": round(packed, 4)}), flush=True)
        cp = _timed(lambda: shutil.copytree(ws, scratch / "copy"))
        one: list[Worktree] = []
        created = _timed(lambda: one.append(Worktree.create(repo, base, "bench-probe")))
        one[0].remove()
        _emit("worktree_create_5000_files_s", created, cp, reference_name="cp -r of the workspace")

        server = SlowServer(args.delay)
        client = AnthropicModel(api_key="bench-key", base_url=server.url)
        runs = [("disk", None)]
        if Path("/dev/shm").is_dir():
            runs.append(("tmpfs", str(Path("/dev/shm") / scratch.name)))
        for run, where in runs:
            if where:
                os.environ["SUBAGENT_WORKTREES"] = where
            wall, results = asyncio.run(_dispatch(ws, args.children, client, run))
            failed = [r for r in results if not r.ok]
            if failed:
                raise SystemExit(f"{len(failed)} children failed: {failed[0].status}: {failed[0].error}")
            landed = len(list((ws / "out").glob(f"child-{run}-*.txt")))
            suffix = "" if run == "disk" else "_worktrees_on_tmpfs"
            _emit(
                f"dispatch_{args.children}x3_wall_s{suffix}",
                wall,
                3 * args.delay,
                aim="<= 1.2",
                reference_name="ideal parallel schedule (3 turns x delay)",
                merged_files=landed,
            )
        server.httpd.shutdown()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(Path("/dev/shm") / scratch.name, ignore_errors=True)


if __name__ == "__main__":
    main()
