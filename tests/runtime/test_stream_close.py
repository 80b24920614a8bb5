"""A run whose stream is left early lets go of its session and workspace when the stream is closed,
at once: the next run on the same session is not refused as busy.

Real SQLite store and locks (the default parts, in the test's own data home), the scripted model.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import pytest

import agent
from agent.events import Event
from agent.model.scripted import ScriptedModel, ScriptFile
from agent.paths import data_home
from agent.sessions._lock import is_held, workspace_holder

Stream = Callable[..., AsyncGenerator[Event]]


def _events_of(prompt: str, **fields: Any) -> AsyncGenerator[Event]:
    return agent.run_events(agent.RunOptions.build(prompt=prompt, **fields))


STREAMS: dict[str, Stream] = {"run_agent": agent.run_agent, "run_events": _events_of}


def _fields(workspace: Path) -> dict[str, Any]:
    script = ScriptFile.model_validate({"scripts": [{"replies": [{"text": "done"}]}]})
    return {"agent": "backend-engineer", "cwd": workspace, "model_client": ScriptedModel(script)}


def _free(session_id: str, workspace: Path) -> bool:
    locks = data_home() / "locks"
    return not is_held(locks, session_id) and workspace_holder(locks, workspace.resolve()) is None


@pytest.mark.parametrize("name", sorted(STREAMS))
async def test_closing_a_stream_left_after_its_first_event_lets_go_at_once(name: str, tmp_path: Path) -> None:
    stream, fields = STREAMS[name], _fields(tmp_path)
    events = stream("one", **fields)
    first = await anext(events)
    assert first.type == "session_started"
    assert not _free(first.session_id, tmp_path)  # the run holds both while its stream is open
    await events.aclose()
    assert _free(first.session_id, tmp_path)  # no event loop turn in between: closed, not collected

    again = [e async for e in stream("two", resume=first.session_id, **fields)]
    assert (again[-1].type, again[-1].session_id) == ("result", first.session_id)
    assert again[-1].subtype == "success"


@pytest.mark.parametrize("name", sorted(STREAMS))
async def test_leaving_the_loop_inside_aclosing_frees_the_session_for_the_next_run(
    name: str, tmp_path: Path
) -> None:
    stream, fields = STREAMS[name], _fields(tmp_path)
    seen: list[Event] = []
    async with contextlib.aclosing(stream("one", **fields)) as events:
        async for event in events:
            seen.append(event)
            break
    session = seen[0].session_id
    assert _free(session, tmp_path)
    again = [e async for e in stream("two", resume=session, **fields)]
    assert (again[-1].type, again[-1].session_id) == ("result", session)
    assert again[-1].subtype == "success"


async def test_breaking_out_of_the_loop_frees_the_session_for_a_run_started_next(tmp_path: Path) -> None:
    """No `aclose`: the stream left behind is closed when it is dropped, before the next run
    reaches the session's lock."""
    fields, seen = _fields(tmp_path), []
    async for event in agent.run_agent("one", **fields):
        seen.append(event)
        break
    session = seen[0].session_id
    again = [e async for e in agent.run_agent("two", resume=session, **fields)]
    assert (again[-1].type, again[-1].session_id) == ("result", session)
    assert again[-1].subtype == "success"
