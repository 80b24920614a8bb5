"""Long sessions through `run_agent` (real registry, tools and gate) against the caching server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.context.cache_server import CachingMessagesServer, Turn
from tests.context.driver import run_session, scripted, write_config

GOAL = "GOAL-7F3A: list every config reader in src/ and note its defaults"


def _small_files(workspace: Path, count: int) -> None:
    src = workspace / "src"
    src.mkdir()
    for n in range(count):
        body = f'"""Module {n}."""\n\nDEFAULT_{n} = {n}\n\n\ndef read_{n}():\n    return {n}\n'
        (src / f"mod_{n}.py").write_text(body)


@pytest.mark.slow
async def test_a_30_turn_session_reads_90_percent_of_its_input_from_the_cache(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    _small_files(workspace, 30)
    write_config(workspace, window=200_000)
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)

    def turn(n: int) -> Turn:
        if n == 29:
            return Turn(text="Every reader is listed.")
        if n == 10:  # the git status changes mid-session; the cached system prompt must not
            return Turn(tools=[("toolu_w", "write", {"file_path": "NOTES.md", "content": "readers\n"})])
        if n % 3 == 2:
            return Turn(tools=[(f"toolu_g{n}", "grep", {"pattern": f"DEFAULT_{n}", "path": "src"})])
        return Turn(tools=[(f"toolu_r{n}", "read", {"file_path": f"src/mod_{n}.py"})])

    with CachingMessagesServer(scripted(turn, "unused"), window=200_000) as server:
        events = await run_session(workspace, server.url, GOAL, max_turns=40)
    result = events[-1]
    assert result.type == "result" and result.subtype == "success", result
    assert result.num_turns == 30 and len(server.requests) == 30
    assert not server.violations and not server.over_window
    assert (workspace / "NOTES.md").exists()
    first = server.requests[0]
    assert "Git:" in json.dumps(first["system"])
    assert all(b["system"] == first["system"] and b["tools"] == first["tools"] for b in server.requests)
    read = sum(u.cache_read_input_tokens for u in server.usages)
    total = sum(u.total for u in server.usages)
    assert read / total >= 0.90, f"cache read share {read / total:.3f}"
    # The loop's own usage figures are the server's, turn by turn.
    assert result.usage.cache_read_input_tokens == read
    # Every request after the first read the whole previous request from the cache.
    for prev, usage in zip(server.usages, server.usages[1:], strict=False):
        assert usage.cache_read_input_tokens >= prev.total - prev.input_tokens


def _large_files(workspace: Path, count: int, size: int) -> None:
    data = workspace / "data"
    data.mkdir()
    for n in range(count):
        line = f"record {n:03d}: " + "x" * 60 + "\n"
        (data / f"big_{n}.txt").write_text(line * (size // len(line)))


@pytest.mark.slow
async def test_a_300_turn_session_stays_inside_a_50k_window_with_its_goal(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    _large_files(workspace, 25, 8_000)
    write_config(workspace, window=50_000, reserve=12_000)

    def turn(n: int) -> Turn:
        if n == 299:
            return Turn(text="All records checked.")
        if n % 10 == 9:
            return Turn(tools=[(f"toolu_g{n}", "grep", {"pattern": "record 00", "path": "data"})])
        calls = [(f"toolu_r{n}", "read", {"file_path": f"data/big_{n % 25}.txt"})]
        if n % 7 == 0:  # two calls in one turn, so pairs of results must stay together too
            calls.append((f"toolu_s{n}", "glob", {"pattern": "data/*.txt"}))
        return Turn(text=f"Step {n}.", tools=calls)

    summary = "Goal: check records.\nDecisions: none.\nFiles touched: data/.\nState: reading.\nNext: go on."
    with CachingMessagesServer(scripted(turn, summary), window=50_000) as server:
        events = await run_session(workspace, server.url, GOAL, max_turns=320)
    result = events[-1]
    assert result.type == "result" and result.subtype == "success", result
    assert result.num_turns == 300
    assert not server.over_window, f"requests over the window: {server.over_window[:5]}"
    assert not server.violations, server.violations[:3]
    compactions = [e for e in events if e.type == "compaction"]
    assert {c.method for c in compactions} == {"elision", "summary"}
    assert all(c.tokens_after < c.tokens_before for c in compactions)
    last = server.requests[-1]
    assert GOAL in str(last["messages"]), "the task's goal fell out of the context"
    assert max(server.cache.tokens(body) for body in server.requests) <= 50_000 - 12_000
    # The saved outputs are there to read again.
    saved = list((tmp_path / "outputs" / result.session_id / "elided").glob("*.txt"))
    assert saved and "record" in saved[0].read_text()
