"""The approver is asked only after the front end has taken the call's events: no timer needed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from agent.api import run_agent
from agent.permissions.gate import PermissionGate
from agent.permissions.models import AskAnswer, AskRequest
from tests.loop.fakes import MemoryStore
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.runtime.test_run_agent import parts_for


class WitnessApprover:
    """Allows, and notes which of the consumer's events had been taken when it was asked."""

    def __init__(self, taken: list[Any]) -> None:
        self.taken = taken
        self.seen_when_asked: list[list[tuple[str, str]]] = []

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.seen_when_asked.append(
            [
                (e.type, getattr(e, "tool_use_id", ""))
                for e in self.taken
                if e.session_id == request.session_id
            ]
        )
        return AskAnswer(decision="allow")


async def test_the_question_comes_after_the_front_end_took_the_tool_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    replies = [
        sse.reply(
            sse.tool_block(0, "toolu_w", "write_note", {"name": "out.txt", "text": "x"}),
            stop_reason="tool_use",
        ),
        sse.reply(sse.text_block(0, "Wrote it.")),
    ]
    taken: list[Any] = []
    approver = WitnessApprover(taken)
    parts = dataclasses.replace(
        parts_for(MemoryStore(), []),
        make_gate=lambda rules, mode, approver, timeout, memory: PermissionGate(
            [], "default", approver, timeout
        ),
    )
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        async for event in run_agent(
            "write", agent="backend-engineer", cwd=tmp_path, parts=parts, approver=approver
        ):
            taken.append(event)  # a front end "shows" an event by the time it asks for the next one
    assert len(approver.seen_when_asked) == 1
    seen = approver.seen_when_asked[0]
    assert ("tool_call_started", "toolu_w") in seen and seen[-1] == ("permission_asked", "toolu_w")
    assert taken[-1].type == "result" and taken[-1].result == "Wrote it."
