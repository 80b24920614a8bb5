"""`--session-id UUID`: the new session takes the caller's id; an id already stored is refused."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest

from agent.errors import ConfigError
from agent.headless.flags import parse
from tests.headless.conftest import SdkSite
from tests.model import sse
from tests.model.messages_server import MessagesServer


def _print(site: SdkSite, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**site.env, "ANTHROPIC_BASE_URL": url, "PATH": "/usr/bin:/bin"}
    argv = [str(site.launcher), "-p", "hi", "--output-format", "stream-json", "--verbose", *args]
    return subprocess.run(argv, cwd=site.workspace, env=env, capture_output=True, text=True, timeout=120)


def test_the_new_session_has_the_given_id_and_a_second_use_is_refused(sdk_site: SdkSite) -> None:
    sid = str(uuid.uuid4())
    with MessagesServer([sse.reply(sse.text_block(0, "hello"))]) as server:
        proc = _print(sdk_site, server.url, "--session-id", sid)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {line["session_id"] for line in lines if "session_id" in line} == {sid}
    with MessagesServer([]) as server:
        again = _print(sdk_site, server.url, "--session-id", sid)
    assert again.returncode == 2 and again.stdout == ""
    assert f"session {sid} already exists; to continue it, pass --resume {sid}" in again.stderr


def test_with_fork_session_the_fork_takes_the_id(sdk_site: SdkSite) -> None:
    first, fork = str(uuid.uuid4()), str(uuid.uuid4())
    replies = [sse.reply(sse.text_block(0, "one")), sse.reply(sse.text_block(0, "two"))]
    with MessagesServer(replies) as server:
        assert _print(sdk_site, server.url, "--session-id", first).returncode == 0
        proc = _print(sdk_site, server.url, "--resume", first, "--fork-session", "--session-id", fork)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {line["session_id"] for line in lines if "session_id" in line} == {fork}
    assert len(server.requests[1]["messages"]) == 3  # the fork goes on from the first session's history


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--session-id", "ses_0123"], "--session-id must be a valid UUID"),
        (["--session-id", "0" * 32], "--session-id must be a valid UUID"),
        (["--session-id", str(uuid.UUID(int=1)), "--resume", "ses_1"], "pass --fork-session too"),
        (["--session-id", str(uuid.UUID(int=1)), "--continue"], "pass --fork-session too"),
    ],
)
def test_a_session_id_that_is_not_a_uuid_or_goes_with_resume_is_an_error(
    argv: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(["-p", "x", *argv])


async def test_the_sdk_passes_the_id_through_extra_args(sdk_site: SdkSite) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    sid = str(uuid.uuid4())
    with MessagesServer([sse.reply(sse.text_block(0, "hello"))]) as server:
        options = sdk_site.options(server.url, extra_args={"session-id": sid})
        messages: list[Any] = [m async for m in sdk.query(prompt="hi", options=options)]
    assert messages[0].data["session_id"] == sid
    assert isinstance(messages[-1], sdk.ResultMessage) and messages[-1].session_id == sid
