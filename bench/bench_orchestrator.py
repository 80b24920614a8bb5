"""Parallel subagents against the ideal schedule, on repositories of 500 to 20,000 files.

A local Messages API server (real HTTP, the real client) waits `--delay` seconds before each
reply. N `worker` children are dispatched at once; each reads a file, writes its own file and
reports (three model turns). They may all edit, so each gets a tree of its own, made from the
checkpoint and merged back: that is inside the measured time. The ideal is 3 x delay (everything
in parallel, zero overhead); aim: within 1.2 of it at 5,000 files and 1.5 at 20,000, 8 children.

Outside the measured time, as a run's earlier steps would have done them: one untimed dispatch of
one child per workspace (the runtime's first-use imports), the client's first connection (one
client per event loop: a client's pooled connections belong to the loop that made them), the
workspace's checkpoint, and the base checkout children's overlay trees share (built in the
background while the orchestrator's model writes its `task` calls; here before the clock starts).
The process enters its own mount namespace first, as the command line does; where it cannot,
children get checkouts there too and the figures' notes say so.

Every size is measured in the same run with `worktrees: auto` (overlay trees where the runtime
may mount), `worktrees: checkout` (today's path, each child a full checkout) and, as root, with
`worktrees: reflink` with the data folder on a loop-mounted XFS made with reflinks (this disk may
have none; without root the figures say why they are missing).

Figures (JSON lines; ratio = value / reference, lower is better):
- dispatch_<N>x3_<F>_files_s against the ideal, for every N of --children and F of --files, the
  median of --rounds dispatches; dispatch_<N>x3_<F>_files_s_checkout and ..._reflink the same
  with checkouts and reflinked trees; one child works in the workspace itself (no tree of its own);
- tree_create_<F>_files_ms: one child's tree (an overlay mount, a reflinked copy, a checkout),
  against `cp -r` of the workspace;
- reflink_copy_<F>_files_ms: the reflinked copy the runtime makes (`cp -r --reflink=always`)
  against cloning each file from Python (`ioctl(FICLONE)`), of the same base;
- base_build_<F>_files_s: the base checkout, once per snapshot (a checkout of every file);
- load_avg_1min before and after, so a reader knows how busy the machine was.

Run: python bench/bench_orchestrator.py [--files 500,5000,20000] [--children 1,2,4,8] [--delay 0.5]
     [--rounds 3]          (as root for the reflink figures: it mounts a loop XFS, and takes it down)
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.orchestrator._xfs import cannot_mount_xfs, xfs_mount  # noqa: E402

WORKER = """---
description: bench worker
mode: subagent
tools: {read: true, write: true}
---
Do the task.
"""


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
            disable_nagle_algorithm = True
            """Headers and body go out as two writes: with Nagle's algorithm the body waited for the
            client's delayed ACK, 40 ms on every reply of a kept-alive connection (not the model's
            time, nor the runtime's)."""

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                if body.get("model") != "warm-up":
                    time.sleep(delay_s)
                payload = (
                    sse.reply(sse.text_block(0, "ok")) if body.get("model") == "warm-up" else _reply(body)
                ).encode()
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
        self.url = f"http://{self.httpd.server_address[0]}:{self.httpd.server_address[1]}"


def _workspace(root: Path, files: int, children: int, worktrees: str) -> Path:
    ws = root / f"ws{files}"
    for i in range(files):
        folder = ws / f"pkg{i % 50}" / f"sub{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.py").write_text(f"VALUE = {i}\n" * 10)
    (ws / ".subagent" / "agents").mkdir(parents=True)
    (ws / ".subagent" / "agents" / "worker.md").write_text(WORKER)
    (ws / ".subagent" / "config.yaml").write_text(
        f"defaults: {{permission_mode: bypass, max_parallel_tasks: {children}, worktrees: {worktrees}}}\n"
    )
    return ws


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


async def _dispatch(ws: Path, children: int, url: str, run: str) -> tuple[float, list[Any], list[str]]:
    """One dispatch with a client made in this loop (warmed up before the clock starts), its
    connections closed in the same loop (a pooled connection outliving its loop cannot close)."""
    import httpx2

    async with httpx2.AsyncClient(timeout=60.0) as http:
        return await _dispatch_with(ws, children, url, run, http)


async def _dispatch_with(
    ws: Path, children: int, url: str, run: str, http: Any
) -> tuple[float, list[Any], list[str]]:
    from agent.model.anthropic_client import AnthropicModel
    from agent.model.base import ModelRequest
    from agent.orchestrator.base import SubtaskSpec
    from agent.orchestrator.local import LocalDispatcher

    client = AnthropicModel(api_key="bench-key", base_url=url, http_client=http)
    warm = ModelRequest(
        model="warm-up", system=[], messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )
    _ = [event async for event in client.stream(warm)]  # the client imported, a connection made
    tasks = [
        SubtaskSpec(id=f"c{n}", agent="worker", prompt=f"You are child-{run}-{n} of the bench.")
        for n in range(children)
    ]
    kinds: list[str] = []

    def seen(_task: str, event: Any) -> None:
        if event.type == "subagent_started" and event.worktree:
            kinds.append(event.worktree)

    dispatcher = LocalDispatcher(ws, model_client=client, trust=True)  # the bench wrote its config
    started = time.perf_counter()
    results = await dispatcher.run(tasks, on_event=seen)
    return time.perf_counter() - started, results, kinds


def _prepare(ws: Path, kind: str) -> float:
    """The checkpoint and the base its children share, before the clock starts (seconds)."""
    from agent.orchestrator import bases
    from agent.orchestrator.worktree import pack_objects
    from agent.sessions.checkpoints import ShadowRepo

    repo = ShadowRepo(ws)
    commit = repo.snapshot("bench: before the fan-out")
    pack_objects(repo)
    return 0.0 if kind == "checkout" else float(_timed(lambda: bases.prepare(repo, commit))[0])


def _tree_create(ws: Path, scratch: Path, kind: str, files: int) -> None:
    from agent.orchestrator import bases, reflink
    from agent.orchestrator.trees import reserve
    from agent.sessions.checkpoints import ShadowRepo

    repo = ShadowRepo(ws)
    commit = repo.snapshot("bench: tree probe")
    tree = reserve(kind, repo, commit, "bench-probe")  # type: ignore[arg-type]

    def make() -> None:
        if kind == "overlay":
            tree.populate(bases.acquire(repo, commit))  # type: ignore[call-arg]
        elif kind == "reflink":
            reflink.populate(tree, bases.acquire(repo, commit))  # type: ignore[arg-type]
        else:
            tree.populate()  # type: ignore[call-arg]

    made, _ = _timed(make)
    tree.remove()
    copied, _ = _timed(lambda: shutil.copytree(ws, scratch / f"copy{files}"))
    shutil.rmtree(scratch / f"copy{files}", ignore_errors=True)
    emit(
        f"tree_create_{files}_files_ms",
        made * 1000,
        copied * 1000,
        unit="ms",
        reference_name="cp -r of the workspace",
        note=kind,
    )
    if kind == "reflink":
        _reflink_copy(repo, commit, files)


def _reflink_copy(repo: Any, commit: str, files: int) -> None:
    """The runtime's reflinked copy (`cp -r --reflink=always`) against a clone of each file from
    Python (`ioctl(FICLONE)`), of the same base, into the same file system."""
    from agent import paths
    from agent.orchestrator import bases, reflink

    base = bases.acquire(repo, commit)
    try:
        target = paths.worktrees_home() / "bench-copy"
        target.mkdir()
        copied, _ = _timed(lambda: reflink.clone_tree(base.tree, target))
        shutil.rmtree(target)

        def clone_each() -> None:
            for folder, _subfolders, names in os.walk(base.tree):
                into = target / Path(folder).relative_to(base.tree)
                into.mkdir(parents=True, exist_ok=True)
                for name in names:
                    source = os.open(os.path.join(folder, name), os.O_RDONLY | os.O_NOFOLLOW)
                    info = os.fstat(source)
                    made = os.open(into / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, info.st_mode & 0o777)
                    fcntl.ioctl(made, reflink.FICLONE, source)
                    os.utime(made, ns=(info.st_atime_ns, info.st_mtime_ns))
                    os.close(made)
                    os.close(source)

        cloned, _ = _timed(clone_each)
        shutil.rmtree(target)
    finally:
        bases.detach(base)
    emit(
        f"reflink_copy_{files}_files_ms",
        copied * 1000,
        cloned * 1000,
        unit="ms",
        reference_name="FICLONE of each file from Python",
        note="cp -r --reflink=always (the runtime's reflink.clone_tree)",
    )


def _fan_outs(ws: Path, kind: str, files: int, counts: list[int], rounds: int, url: str) -> dict[int, float]:
    """The median wall time of `rounds` dispatches of each of `counts` children, by count."""
    medians: dict[int, float] = {}
    for children in counts:
        walls: list[float] = []
        trees = "in place"
        for round_ in range(rounds):
            run = f"{files}-{children}-{round_}"
            _prepare(ws, kind)  # the last run's merges made a new snapshot: refresh the base
            wall, results, kinds = asyncio.run(_dispatch(ws, children, url, run))
            failed = [r for r in results if not r.ok]
            if failed:
                raise SystemExit(f"{len(failed)} children failed: {failed[0].status}: {failed[0].error}")
            landed = len(list((ws / "out").glob(f"child-{run}-*.txt")))
            assert landed == children, f"{landed} of {children} files merged"
            walls.append(wall)
            trees = ",".join(sorted(set(kinds))) or "in place"
        medians[children] = statistics.median(walls)
        print(json.dumps({"name": "walls", "files": files, "children": children, "trees": trees,
                          "walls_s": [round(w, 3) for w in walls]}), flush=True)  # fmt: skip
    return medians


def _measure(
    scratch: Path, choice: str, files: int, counts: list[int], rounds: int, url: str
) -> dict[int, float]:
    """Every fan-out of one workspace of `files` files whose children get `choice` trees."""
    from agent.orchestrator.trees import tree_kind

    kind, why = tree_kind(choice)  # type: ignore[arg-type]
    if kind == "checkout" and choice != "checkout":
        raise SystemExit(f"`worktrees: {choice}` gives checkouts here: {why}")
    ws = _workspace(scratch / choice, files, max(counts), choice)
    built = _prepare(ws, kind)
    if kind != "checkout":
        emit(f"base_build_{files}_files_s", built, None, unit="s", note=f"{kind}; once per snapshot, reused")
    _tree_create(ws, scratch, kind, files)
    asyncio.run(_dispatch(ws, 1, url, f"warm-{files}"))  # first-use imports, caches
    medians = _fan_outs(ws, kind, files, counts, rounds, url)
    shutil.rmtree(ws, ignore_errors=True)
    return medians


def _on_xfs(scratch: Path, files: int, counts: list[int], rounds: int, url: str) -> dict[int, float]:
    """`_measure` with reflinked trees, the data folder on a fresh loop-mounted reflink XFS."""
    home = os.environ["SUBAGENT_HOME"]
    with xfs_mount(f"bench-{files}", size="4G") as mount:
        os.environ["SUBAGENT_HOME"] = str(mount / "home")
        try:
            return _measure(scratch, "reflink", files, counts, rounds, url)
        finally:
            os.environ["SUBAGENT_HOME"] = home


def _report(
    files: int,
    auto: dict[int, float],
    others: dict[str, dict[int, float]],
    ideal: float,
    kind: str,
    rounds: int,
) -> None:
    """Each fan-out against the ideal, overlays (`auto`), checkouts and reflinked trees (`others`, by
    kind); and against one child in place measured in the same run (the load's share, which no
    tree can remove)."""
    ideal_name = "ideal parallel schedule (3 turns x delay)"
    for children in auto:
        aim = {(5000, 8): "<= 1.2", (20000, 8): "<= 1.5"}.get((files, children), "")
        trees = kind if children > 1 else "in place"
        emit(
            f"dispatch_{children}x3_{files}_files_s",
            auto[children],
            ideal,
            unit="s",
            reference_name=ideal_name,
            aim=aim,
            note=f"trees: {trees}; median of {rounds}",
        )
        for other, medians in others.items():
            what = {"checkout": "checkout (today's path)", "reflink": "reflink (loop XFS)"}[other]
            emit(
                f"dispatch_{children}x3_{files}_files_s_{other}",
                medians[children],
                ideal,
                unit="s",
                reference_name=ideal_name,
                note=f"trees: {what if children > 1 else 'in place'}; median of {rounds}",
            )
        if children > 1 and 1 in auto:
            emit(
                f"dispatch_{children}x3_{files}_files_s_vs_one_child",
                auto[children],
                auto[1],
                unit="s",
                reference_name="one child in place, same run",
                note=f"trees: {trees}",
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", default="500,5000,20000")
    parser.add_argument("--children", default="1,2,4,8")
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3, help="dispatches per figure (the median)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-orch-", dir="/var/tmp"))
    os.environ["SUBAGENT_HOME"] = str(scratch / "home")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    os.environ["ANTHROPIC_API_KEY"] = "bench-key"
    from agent.orchestrator import mountns
    from agent.orchestrator.trees import tree_kind

    rights = mountns.enter()  # first, as the command line does: only a single-threaded process can
    kind, why = tree_kind("auto")
    print(json.dumps({"name": "worktrees", "kind": kind, "why": why, "mount_rights": rights.how}), flush=True)
    emit("load_avg_1min_before", os.getloadavg()[0], os.cpu_count() or 1, reference_name="cores")
    server = SlowServer(args.delay)
    ideal = 3 * args.delay
    counts = [int(c) for c in args.children.split(",")]
    no_xfs = cannot_mount_xfs()
    if no_xfs is not None:
        print(json.dumps({"name": "reflink", "measured": False, "why": no_xfs}), flush=True)
    try:
        for files in [int(f) for f in args.files.split(",")]:
            auto = _measure(scratch, "auto", files, counts, args.rounds, server.url)
            others = {"checkout": _measure(scratch, "checkout", files, counts, args.rounds, server.url)}
            if no_xfs is None:
                others["reflink"] = _on_xfs(scratch, files, counts, args.rounds, server.url)
            _report(files, auto, others, ideal, kind, args.rounds)
    finally:
        server.httpd.shutdown()
        emit("load_avg_1min_after", os.getloadavg()[0], os.cpu_count() or 1, reference_name="cores")
        mountns.remove_tree(scratch)


if __name__ == "__main__":
    main()
