"""Context economy: first-request size, cache-read share, tokens sent with and without caching/elision.

Every run goes through `agent.api.run_agent` with the real registry, the seven real tools and
the permission gate, against tests/context/cache_server.py: a local Messages API server that
applies the prompt cache's prefix rule and counts tokens as bytes / 4. Figures (JSON lines):
- first_request_bytes (and its system / tool-schema parts) for backend-engineer, against the sizes
  the issue gives for Claude Code (76 KB, 63 KB of it tool schemas) and opencode (30 KB).
- cache_read_share_30_turns: the share of input tokens read from the cache over a 30-turn
  session; reference 0.90, the issue's floor.
- tokens over a scripted 50-turn task with large tool outputs, against the same task with
  caching and elision off: the context tokens sent, and the input cost in input-token
  equivalents (cache reads at 0.1, cache writes at 1.25, the API's price ratios).

Run: python bench/bench_context.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.context.cache_server import CacheUsage, CachingMessagesServer, Turn  # noqa: E402
from tests.context.driver import run_session, scripted, write_config  # noqa: E402

CLAUDE_CODE_BYTES, CLAUDE_CODE_TOOLS_BYTES, OPENCODE_BYTES = 76_000, 63_000, 30_000
GOAL = "Check every module under src/ and report the defaults each one sets."


def _emit(name: str, value: float, unit: str, reference: float, reference_name: str, aim: str) -> None:
    ratio = round(value / reference, 3) if reference else None
    figure = {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "reference": reference,
        "reference_name": reference_name,
        "ratio": ratio,
        "aim": aim,
    }
    print(json.dumps(figure), flush=True)


def _workspace(root: Path, *, caching: bool = True, elision: bool = True) -> Path:
    workspace = root / ("ws-on" if caching else "ws-off")
    (workspace / "src").mkdir(parents=True)
    for n in range(25):
        body = "".join(
            f"SETTING_{n}_{i} = {i}  # default for the {i}th option of module {n}\n" for i in range(200)
        )
        (workspace / "src" / f"mod_{n}.py").write_text(body)
    write_config(workspace, window=200_000, caching=caching, elision=elision)
    return workspace


def _task(turns: int) -> Any:
    """A scripted task: read modules (about 12 KB each), grep now and then, then report."""

    def turn(n: int) -> Turn:
        if n == turns - 1:
            return Turn(text="Every module's defaults are listed above.")
        if n % 5 == 4:
            return Turn(
                text="Searching.",
                tools=[(f"toolu_g{n}", "grep", {"pattern": f"SETTING_{n}_1", "path": "src"})],
            )
        return Turn(
            text=f"Reading module {n % 25}.",
            tools=[(f"toolu_r{n}", "read", {"file_path": f"src/mod_{n % 25}.py"})],
        )

    return scripted(turn, "Goal: report defaults.\nNext step: read the next module.")


async def _session(workspace: Path, turns: int) -> tuple[list[CacheUsage], dict[str, Any]]:
    with CachingMessagesServer(_task(turns)) as server:
        events = await run_session(workspace, server.url, GOAL, max_turns=turns + 5)
    result = events[-1]
    if result.type != "result" or result.subtype != "success" or server.violations or server.over_window:
        raise SystemExit(f"the session failed: {result} {server.violations[:1]} {server.over_window[:1]}")
    return server.usages, server.requests[0]


def _compact_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _cost_units(usages: list[CacheUsage]) -> float:
    return sum(
        u.input_tokens + 0.1 * u.cache_read_input_tokens + 1.25 * u.cache_creation_input_tokens
        for u in usages
    )


async def _main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        usages, first = await _session(_workspace(Path(tmp) / "30"), 30)
        system, tools = _compact_bytes(first["system"]), _compact_bytes(first["tools"])
        total = _compact_bytes(first)
        _emit("first_request_bytes", total, "bytes", CLAUDE_CODE_BYTES, "Claude Code", "lower")
        _emit("first_request_bytes_vs_opencode", total, "bytes", OPENCODE_BYTES, "opencode", "lower")
        _emit("first_request_tools_bytes", tools, "bytes", CLAUDE_CODE_TOOLS_BYTES, "Claude Code", "lower")
        _emit(
            "first_request_system_bytes",
            system,
            "bytes",
            CLAUDE_CODE_BYTES - CLAUDE_CODE_TOOLS_BYTES,
            "Claude Code",
            "lower",
        )
        read = sum(u.cache_read_input_tokens for u in usages)
        _emit(
            "cache_read_share_30_turns",
            read / sum(u.total for u in usages),
            "share",
            0.90,
            "issue 9 floor",
            ">= 1",
        )

        on, _ = await _session(_workspace(Path(tmp) / "50"), 50)
        off, _ = await _session(_workspace(Path(tmp) / "50", caching=False, elision=False), 50)
        _emit(
            "context_tokens_50_turns",
            sum(u.total for u in on),
            "tokens",
            sum(u.total for u in off),
            "same task, caching and elision off",
            "lower",
        )
        _emit(
            "input_cost_units_50_turns",
            _cost_units(on),
            "input-token equivalents",
            _cost_units(off),
            "same task, caching and elision off",
            "lower",
        )


if __name__ == "__main__":
    asyncio.run(_main())
