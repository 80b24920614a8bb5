"""The terminal view, rendered to a fixed-width console over StringIO."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from agent.events import (
    FileChange,
    ModelFallbackEvent,
    ResultEvent,
    SubagentStartedEvent,
    TextDeltaEvent,
    ThinkingDeltaEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
    Usage,
)
from agent.terminal.render import EventRenderer


def render(*events: object) -> str:
    out = io.StringIO()
    renderer = EventRenderer(Console(file=out, width=80, color_system=None, force_terminal=False))
    for event in events:
        renderer.handle(event)
        if isinstance(event, ResultEvent):
            renderer.summary(event)
    return out.getvalue()


def test_a_run_reads_as_text_tools_diff_and_summary() -> None:
    diff = "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-old\n+new\n"
    text = render(
        ThinkingDeltaEvent(session_id="s", text="plan it"),
        TextDeltaEvent(session_id="s", text="Editing "),
        TextDeltaEvent(session_id="s", text="app.py"),
        ToolCallStartedEvent(
            session_id="s", tool_use_id="t1", name="edit", input={}, kind="edit", title="edit app.py"
        ),
        ToolCallFinishedEvent(
            session_id="s",
            tool_use_id="t1",
            name="edit",
            output="ok",
            is_error=False,
            duration_ms=1234,
            changes=[FileChange(path="/w/app.py", action="update", diff=diff)],
        ),
        ToolCallStartedEvent(
            session_id="s", tool_use_id="t2", name="bash", input={}, kind="execute", title="bash: pytest"
        ),
        ToolCallFinishedEvent(
            session_id="s",
            tool_use_id="t2",
            name="bash",
            output="2 failed\nmore",
            is_error=True,
            duration_ms=500,
        ),
        ResultEvent(
            session_id="s",
            subtype="success",
            is_error=False,
            result="done",
            num_turns=3,
            usage=Usage(input_tokens=100, output_tokens=20, cache_read_input_tokens=900),
            total_cost_usd=0.0123,
            duration_ms=4200,
            files_changed=["/w/app.py"],
        ),
    )
    assert "plan it\nEditing app.py\n" in text
    assert "✎ edit app.py" in text and "✓ edit app.py (1.2s)" in text
    assert "+new" in text and "-old" in text
    assert "✗ bash: pytest (0.5s): 2 failed" in text
    assert "files changed: /w/app.py" in text
    assert "3 turns · 1000 tokens in (900 cached) · 20 out · $0.0123 · 4.2s" in text


def test_subagent_events_are_indented_under_their_task() -> None:
    text = render(
        SubagentStartedEvent(
            session_id="parent",
            child_session_id="child",
            agent="backend-engineer",
            description="build the API",
            parent_tool_use_id=None,
        ),
        ToolCallStartedEvent(
            session_id="child",
            parent_tool_use_id="task1",
            tool_use_id="c1",
            name="read",
            input={},
            kind="read",
            title="read api.py",
        ),
    )
    lines = text.splitlines()
    assert lines[0].startswith("▶ #1 backend-engineer: build the API")
    assert lines[1].startswith("  #1 backend-engineer │ ◇ read api.py")


def test_what_confines_a_run_is_said_first_and_only_when_there_is_something_to_say() -> None:
    from agent.events import SessionStartedEvent

    base = {"agent": "backend-engineer", "model": "m", "cwd": "/w", "tools": ["bash"]}
    quiet = render(SessionStartedEvent(session_id="s", sandbox="bwrap", trusted=False, **base))
    assert quiet == ""
    loud = render(
        SessionStartedEvent(session_id="s", sandbox="none", network=True, trusted=True, **base),
        SessionStartedEvent(
            session_id="c",
            parent_tool_use_id="t1",
            sandbox="bwrap",
            network=True,
            refused=["/w/.claude/agents/x.md: verify: refused (...)"],
            **base,
        ),
        TextDeltaEvent(session_id="s", text="hello"),
    )
    lines = [line.rstrip() for line in loud.splitlines()]
    assert lines[0].startswith("⚠ bash runs WITHOUT a sandbox")
    assert "⚠ bash can reach the network" in lines
    assert "  ⚠ backend-engineer: bash can reach the network (`network: true`)" in lines
    assert "  ⚠ backend-engineer: refused: /w/.claude/agents/x.md: verify: refused (...)" in lines
    assert lines[-1] == "hello"


def test_a_switch_to_the_fallback_model_is_one_line_naming_both_models() -> None:
    shown = render(
        ModelFallbackEvent(
            session_id="s",
            agent="a",
            from_model="claude-opus-4-7",
            to_model="claude-sonnet-4-6",
            reason="529",
        )
    )
    assert "claude-opus-4-7 is overloaded: this turn goes to claude-sonnet-4-6" in shown


def test_without_a_console_it_makes_the_terminals_at_its_first_print(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`subagent run`'s text view: no console (nor rich) until a line is printed, then stdout's,
    with the guard on it."""
    from agent.events import SessionStartedEvent

    renderer = EventRenderer()
    renderer.handle(
        SessionStartedEvent(
            session_id="s", agent="a", model="m", cwd="/w", tools=[], sandbox="bwrap", trusted=True
        )
    )
    assert renderer._console is None
    renderer.handle(TextDeltaEvent(session_id="s", text="hi \x1b]0;x\x07"))
    renderer.handle(TextDeltaEvent(session_id="s", text="there"))
    assert renderer._console is not None and renderer.console is renderer._console
    renderer.summary(
        ResultEvent(
            session_id="s",
            subtype="success",
            is_error=False,
            result="hi",
            num_turns=1,
            usage=Usage(),
            total_cost_usd=0.0,
            duration_ms=1000,
        )
    )
    out = capsys.readouterr().out
    assert out.startswith("hi \\x1b]0;x\\x07there\n── success ──\n") and "\x1b" not in out
