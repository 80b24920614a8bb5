"""Approvers and requests the permission gate's tests share."""

from __future__ import annotations

import asyncio

from agent.permissions.models import AskAnswer, AskRequest, PermissionRule
from agent.tool import PermissionRequest


def bash_requests(line: str) -> list[PermissionRequest]:
    return [PermissionRequest(permission="bash", patterns=[line])]


def rule(permission: str, pattern: str, decision: str) -> PermissionRule:
    return PermissionRule(permission=permission, pattern=pattern, decision=decision)  # type: ignore[arg-type]


class RecordingApprover:
    """Answers with a fixed answer and keeps every request it was asked."""

    def __init__(self, answer: AskAnswer) -> None:
        self.answer = answer
        self.requests: list[AskRequest] = []

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.requests.append(request)
        return self.answer


class SilentApprover:
    """A person who never answers."""

    async def ask(self, request: AskRequest) -> AskAnswer:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def ask_request(verdict_patterns: list[str], permission: str = "bash", tool_use_id: str = "t1") -> AskRequest:
    return AskRequest(
        session_id="s", tool_use_id=tool_use_id, tool_name="bash", permission=permission,
        patterns=verdict_patterns, title=" ".join(verdict_patterns),
    )  # fmt: skip
