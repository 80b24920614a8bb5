"""The run view under attack: every string field of every event holds escapes and markup.

The renderer is tested on a plain rich console (without `terminal_console`'s guard), so what is
checked is its own escaping, not the net under it.
"""

from __future__ import annotations

import io
import typing

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from agent.events import (
    AssistantMessageEvent,
    CompactionEvent,
    ErrorEvent,
    Event,
    FileChange,
    HookEvent,
    ModelFallbackEvent,
    PermissionAnsweredEvent,
    PermissionAskedEvent,
    PermissionDenial,
    ResultEvent,
    SessionStartedEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    TextDeltaEvent,
    ThinkingDeltaEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
    TurnStartedEvent,
    Usage,
    UsageEvent,
)
from agent.terminal.render import EventRenderer
from tests.terminal.test_safe_text import hostile_chars, is_unsafe_for_a_terminal

ATTACK = (
    "\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\x1b[0m\x9b2J\x07 "
    "safe\rrm -rf / \u202eevil\u202c [link=https://evil.example]click[/link] [bold red]alarm[/]"
)


def hostile_events(s: str) -> list[object]:
    """One event of each type, each string field `s` (ids too: a subagent's label shows one)."""
    diff = f"--- a/{s}\n+++ b/{s}\n@@ -1 +1 @@\n-{s}\n+{s}\n"
    child = dict(session_id="child", parent_tool_use_id="toolu_task")
    usage = Usage(input_tokens=1)
    return [
        SessionStartedEvent(session_id="s", agent=s, model=s, cwd=s, tools=[s]),
        TurnStartedEvent(session_id="s", turn=1),
        ThinkingDeltaEvent(session_id="s", text=s),
        TextDeltaEvent(session_id="s", text=s),
        AssistantMessageEvent(session_id="s", content=[{"type": "text", "text": s}], stop_reason=s),
        ToolCallStartedEvent(
            session_id="s",
            tool_use_id="toolu_task",
            name="task",
            input={"prompt": s},
            kind="other",
            title=s,
            locations=[s],
        ),
        SubagentStartedEvent(
            session_id="s", parent_tool_use_id="toolu_task", child_session_id="child", agent=s, description=s
        ),
        TextDeltaEvent(text=s, **child),
        ToolCallStartedEvent(
            tool_use_id="t1", name=s, input={"command": s}, kind="execute", title=s, **child
        ),
        PermissionAskedEvent(tool_use_id="t1", tool_name=s, permission=s, patterns=[s], title=s, **child),
        PermissionAnsweredEvent(tool_use_id="t1", decision="deny", reason=s, **child),
        ToolCallFinishedEvent(tool_use_id="t1", name=s, output=s, is_error=True, duration_ms=1, **child),
        ToolCallFinishedEvent(
            tool_use_id="t2",
            name=s,
            output=s,
            is_error=False,
            duration_ms=1,
            files_touched=[s],
            changes=[FileChange(path=s, action="update", diff=diff, old_text=s, new_text=s)],
            **child,
        ),
        UsageEvent(turn=1, usage=usage, total=usage, cost_usd=0, **child),
        CompactionEvent(tokens_before=2, tokens_after=1, method="summary", **child),
        HookEvent(hook_event=s, command=s, source=s, exit_code=1, message=s, failed=True, **child),
        HookEvent(hook_event=s, command=s, source=s, exit_code=2, decision="deny", message=s, **child),
        ErrorEvent(message=s, error_type=s, **child),
        ModelFallbackEvent(from_model=s, to_model=s, reason=s, **child),
        ResultEvent(
            subtype="success",
            is_error=False,
            result=s,
            num_turns=1,
            usage=usage,
            total_cost_usd=0,
            duration_ms=1,
            files_changed=[s],
            **child,
        ),
        SubagentFinishedEvent(
            session_id="s",
            parent_tool_use_id="toolu_task",
            child_session_id="child",
            agent=s,
            subtype="success",
            files_changed=[s],
        ),
        ToolCallFinishedEvent(
            session_id="s", tool_use_id="toolu_task", name="task", output=s, is_error=False, duration_ms=1
        ),
        ResultEvent(
            session_id="s",
            subtype="error_permission_denied",
            is_error=True,
            result=s,
            num_turns=1,
            usage=usage,
            total_cost_usd=0,
            duration_ms=1,
            files_changed=[s],
            permission_denials=[
                PermissionDenial(tool_name=s, tool_use_id="t1", tool_input={"command": s}, reason=s)
            ],
        ),
    ]


def render(events: list[object]) -> str:
    out = io.StringIO()
    renderer = EventRenderer(Console(file=out, width=1000, color_system=None, force_terminal=False))
    for event in events:
        renderer.handle(event)
        if isinstance(event, ResultEvent) and event.parent_tool_use_id is None:
            renderer.summary(event)
    return out.getvalue()


def test_every_event_type_is_covered() -> None:
    union = typing.get_args(typing.get_args(Event)[0])
    assert {type(e) for e in hostile_events("x")} == set(union)


def test_the_attack_is_real_without_escaping() -> None:
    """The control: the same strings printed as a program naively would carry the sequences."""
    out = io.StringIO()
    Console(file=out, color_system=None).print(ATTACK, end="")  # markup on: the link is taken
    assert "\x1b]52;c;" in out.getvalue() and "\x1b[2J" in out.getvalue() and "\u202e" in out.getvalue()
    assert "[link=" not in out.getvalue()


def test_a_hostile_run_shows_every_attack_as_text() -> None:
    shown = render(hostile_events(ATTACK))
    assert not [c for c in shown if is_unsafe_for_a_terminal(c)]
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b]0;pwned\\x07\\x1b[2J\\x1b[8mhidden" in shown  # the model's text
    assert "safe\\rrm -rf /" in shown and "\\u202eevil\\u202c" in shown
    assert "[link=https://evil.example]click[/link] [bold red]alarm[/]" in shown  # markup printed as text
    assert "? permission \\x1b]52" in shown and "✗ denied: \\x1b]52" in shown  # the ask and its denial


@settings(max_examples=60, deadline=None)
@given(st.text(hostile_chars, min_size=1))
def test_no_event_field_can_reach_the_terminal_raw(text: str) -> None:
    shown = render(hostile_events(text))
    assert not [c for c in shown if is_unsafe_for_a_terminal(c)]
