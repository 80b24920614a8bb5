"""A program's dispatch is one session for `always`: an answer given to one subtask holds for the
others, and not for the next dispatch."""

from __future__ import annotations

from pathlib import Path

from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.local import LocalDispatcher
from agent.permissions.models import AskAnswer, AskRequest
from tests.orchestrator._scenario import model, workspace

CHECK = {"name": "bash", "input": {"command": "sh ./check.sh"}}


class AlwaysApprover:
    def __init__(self) -> None:
        self.asked: list[AskRequest] = []

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.asked.append(request)
        return AskAnswer(decision="allow", scope="always")


def _client() -> object:
    return model([
        {"agent": "worker", "match": prompt, "replies": [{"tool_calls": [CHECK]}, {"text": f"{prompt} done"}]}
        for prompt in ("first", "second")
    ])  # fmt: skip


async def test_allow_always_holds_for_the_whole_dispatch_and_not_the_next(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        config={"defaults": {"permission_mode": "default", "max_parallel_tasks": 1}},
        files={"check.sh": "echo checked\n"},
    )
    tasks = [
        SubtaskSpec(id="a", agent="worker", prompt="first"),
        SubtaskSpec(id="b", agent="worker", prompt="second"),
    ]
    approver = AlwaysApprover()
    results = await LocalDispatcher(ws, model_client=_client(), approver=approver).run(tasks)
    assert [r.status for r in results] == ["success", "success"], results
    assert [a.tool_name for a in approver.asked] == ["bash"]  # the second subtask was not asked

    again = await LocalDispatcher(ws, model_client=_client(), approver=approver).run(tasks)
    assert [r.status for r in again] == ["success", "success"], again
    assert len(approver.asked) == 2  # a new dispatch: a new session, asked once again
