"""`subagent -p` as the Claude Agent SDK sees it, against real Claude Code in the same run.

Figures (JSON lines, ratio = value / reference, lower is better):
- headless_per_event_us: time to turn one event into Claude Code's stream-json lines
  (`agent.headless.shapes.ClaudeShapes`, with --include-partial-messages, then json.dumps) over a
  run's worth of events (1,000 text deltas, tool calls, usage, the result). Reference: the same
  events as our own stream-json (`event.model_dump_json()`, what `subagent run` prints).
- sdk_first_system_message_s: `query()` called to the first `SystemMessage` (init) the SDK hands
  the program, with `cli_path` at `python -m agent`. Reference: the same with the SDK's bundled
  Claude Code (its own `claude` binary), in the same round, both against the same local
  Messages API server (loopback only: ANTHROPIC_BASE_URL, a fake key, nonessential traffic off).

Run: python bench/bench_headless.py [--runs N] [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.events import (  # noqa: E402
    AssistantMessageEvent,
    ResultEvent,
    SessionStartedEvent,
    TextDeltaEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
    TurnStartedEvent,
    Usage,
    UsageEvent,
)
from agent.headless.shapes import ClaudeShapes  # noqa: E402
from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402


def _events(deltas: int) -> list[Any]:
    s = {"session_id": "ses_bench"}
    usage = Usage(input_tokens=1200, output_tokens=300)
    call = {"file_path": "src/app.py"}
    return [
        SessionStartedEvent(**s, agent="orchestrator", model="claude-sonnet-5-5", cwd="/w", tools=["read"]),
        TurnStartedEvent(**s, turn=1),
        *[TextDeltaEvent(**s, text=f"word{i} ") for i in range(deltas)],
        UsageEvent(**s, turn=1, usage=usage, total=usage, cost_usd=0.01),
        AssistantMessageEvent(
            **s,
            stop_reason="tool_use",
            content=[
                {"type": "text", "text": "reading"},
                {"type": "tool_use", "id": "t1", "name": "read", "input": call},
            ],
        ),
        ToolCallStartedEvent(
            **s, tool_use_id="t1", name="read", input=call, kind="read", title="read src/app.py"
        ),
        ToolCallFinishedEvent(
            **s, tool_use_id="t1", name="read", output="x = 1\n" * 200, is_error=False, duration_ms=3.0
        ),
        ResultEvent(
            **s,
            subtype="success",
            is_error=False,
            result="done",
            num_turns=1,
            usage=usage,
            total_cost_usd=0.01,
            duration_ms=1000.0,
        ),
    ]


def _per_event_us(events: list[Any], claude: bool) -> float:
    started = time.perf_counter()
    if claude:
        shapes = ClaudeShapes(partial=True)
        for event in events:
            for message in shapes.messages(event):
                json.dumps(message, ensure_ascii=False)
    else:
        for event in events:
            event.model_dump_json()
    return (time.perf_counter() - started) / len(events) * 1e6


def measure_shapes(rounds: int, deltas: int) -> None:
    events = _events(deltas)
    ours, claude = [], []
    for _ in range(rounds):
        ours.append(_per_event_us(events, claude=False))
        claude.append(_per_event_us(events, claude=True))
    emit(
        "headless_per_event_us",
        statistics.median(claude),
        statistics.median(ours),
        unit="µs",
        reference_name="the same events as our own stream-json (model_dump_json)",
        note=f"{len(events)} events, {deltas} of them text deltas, with --include-partial-messages",
    )


async def _first_system_s(options: Any) -> float:
    from claude_agent_sdk import SystemMessage, query

    started = time.perf_counter()
    first = 0.0
    async for message in query(prompt="say hi", options=options):
        if isinstance(message, SystemMessage) and not first:
            first = time.perf_counter() - started
    return first


async def measure_first_message(rounds: int) -> None:
    from claude_agent_sdk import ClaudeAgentOptions

    home = Path(tempfile.mkdtemp(prefix="bench-headless-", dir="/var/tmp"))
    workspace = home / "ws"
    workspace.mkdir()
    launcher = home / "subagent-cli"
    launcher.write_text(f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m agent "$@"\n')
    launcher.chmod(0o755)
    ours, claude = [], []
    with MessagesServer(lambda body: sse.reply(sse.text_block(0, "hi"))) as server:
        env = {
            "ANTHROPIC_BASE_URL": server.url,
            "ANTHROPIC_API_KEY": "bench-key",
            "HOME": str(home),
            "SUBAGENT_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        for _ in range(rounds):
            ours.append(
                await _first_system_s(ClaudeAgentOptions(cli_path=str(launcher), cwd=str(workspace), env=env))
            )
            claude.append(
                await _first_system_s(
                    ClaudeAgentOptions(cwd=str(workspace), env=env, model="claude-sonnet-4-5")
                )
            )
    emit(
        "sdk_first_system_message_s",
        statistics.median(ours),
        statistics.median(claude),
        unit="s",
        reference_name="the SDK's bundled Claude Code (same SDK, same server, same round)",
        note=f"median of {rounds} rounds",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    measure_shapes(args.runs, args.events)
    asyncio.run(measure_first_message(args.runs))


if __name__ == "__main__":
    main()
