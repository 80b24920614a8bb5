"""The stored transcript is the transcript sent: after a resume, `sessions export` holds exactly
the messages of the last request (and the reply to it), one user message where the API got one."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from agent.api import run_agent
from agent.sessions.store import SqliteSessionStore
from agent.transcript import parse_blocks
from tests.conftest import run_subagent
from tests.orchestrator._scenario import model, workspace, write
from tests.request_check import check_request


def _plain(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages without the cache breakpoints a request adds."""
    return [
        {
            "role": m["role"],
            "content": [{k: v for k, v in b.items() if k != "cache_control"} for b in m["content"]],
        }
        for m in messages
    ]


def _exported(session_id: str) -> list[dict[str, Any]]:
    lines = run_subagent("sessions", "export", session_id).stdout.splitlines()
    return [{"role": m["role"], "content": m["content"]} for m in map(json.loads, lines) if "role" in m]


async def _run(prompt: str, ws: Path, client: Any, **options: Any) -> Any:
    return [e async for e in run_agent(prompt, agent="worker", cwd=ws, model_client=client, **options)][-1]


async def test_after_a_resume_the_export_is_the_last_request_and_its_reply(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    client = model(
        [
            {
                "agent": "worker",
                "replies": [
                    {"tool_calls": [write("a.txt", "a\n")]},
                    {"text": "wrote a.txt"},
                    {"tool_calls": [write("b.txt", "b\n")]},
                    {"text": "wrote b.txt"},
                ],
            }
        ]
    )
    first = await _run("write a", ws, client)
    second = await _run("now write b", ws, client, resume=first.session_id)
    assert second.subtype == "success"

    last = client.requests[-1]
    reply = {"role": "assistant", "content": [{"type": "text", "text": "wrote b.txt"}]}
    sent = [*_plain(last.messages), reply]
    exported = _exported(first.session_id)
    assert exported == sent
    roles = [m["role"] for m in exported]
    assert all(a != b for a, b in itertools.pairwise(roles))  # never two of one role in a row


async def test_a_resume_after_a_crash_stores_the_interrupted_answers_and_the_prompt_as_one_message(
    tmp_path: Path,
) -> None:
    ws = workspace(tmp_path)
    store = SqliteSessionStore()
    sid = store.create(agent="worker", workspace=ws).id
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "write a"}]))
    call = {
        "type": "tool_use",
        "id": "toolu_cut",
        "name": "write",
        "input": {"file_path": "a.txt", "content": "a"},
    }
    store.append_message(sid, "assistant", parse_blocks([call]))  # killed before the result was stored
    client = model(
        [
            {
                "agent": "worker",
                "replies": [{"tool_calls": [write("a.txt", "a\n")]}, {"text": "resumed and done"}],
            }
        ]
    )
    done = await _run("go on", ws, client, resume=sid)
    assert done.subtype == "success"

    exported = _exported(sid)
    sent = _plain(client.requests[-1].messages)
    reply = {"role": "assistant", "content": [{"type": "text", "text": "resumed and done"}]}
    assert exported == [*sent, reply]
    joined = exported[2]["content"]
    assert [b["type"] for b in joined] == ["tool_result", "text"] and joined[1]["text"] == "go on"


async def test_a_session_stored_with_two_user_messages_in_a_row_still_resumes(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    store = SqliteSessionStore()
    sid = store.create(agent="worker", workspace=ws).id
    rows = [
        ("user", [{"type": "text", "text": "start"}]),
        ("assistant", [{"type": "tool_use", "id": "t1", "name": "glob", "input": {"pattern": "*"}}]),
        ("user", [{"type": "tool_result", "tool_use_id": "t1", "content": "nothing"}]),
        ("user", [{"type": "text", "text": "an older run's prompt, stored apart"}]),
    ]
    for role, content in rows:
        store.append_message(sid, role, parse_blocks(content))  # as older versions stored a resumed prompt
    client = model([{"agent": "worker", "replies": [{"text": "x"}, {"text": "still fine"}]}])
    done = await _run("and again", ws, client, resume=sid)
    assert done.subtype == "success" and done.result == "still fine"
    request = client.requests[-1]
    check_request(request.to_api_kwargs())
    assert [b.get("text") for b in request.messages[-1]["content"] if b["type"] == "text"] == [
        "an older run's prompt, stored apart",
        "and again",
    ]
