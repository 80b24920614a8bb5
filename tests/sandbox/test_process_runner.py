"""Both runners (bubblewrap and none): exit codes, kills, output, carried cwd, env scrub, limits."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from agent.sandbox.base import Sandbox
from agent.sandbox.process import ProcessLimits, _OutputBuffer, user_process_limit
from agent.sandbox.unsandboxed import UnsandboxedRunner
from tests.processes import gone, kill_all_with, live_processes_with, unique_sleep
from tests.sandbox.conftest import sandbox_for


@pytest.fixture(params=["none", pytest.param("bwrap", marks=pytest.mark.bwrap)])
def runner(request: pytest.FixtureRequest, workspace: Path) -> Sandbox:
    if request.param == "none":
        return UnsandboxedRunner(env_extra=["PROJECT_SETTING", "GITHUB_TOKEN"])
    return sandbox_for(workspace, env_extra=["PROJECT_SETTING", "GITHUB_TOKEN"])


@pytest.mark.parametrize(("command", "code"), [("true", 0), ("exit 7", 7), ("false", 1), ("kill -9 $$", 137)])
async def test_exit_codes(runner: Sandbox, workspace: Path, command: str, code: int) -> None:
    result = await runner.run(command, cwd=workspace, timeout_s=10)
    assert (result.exit_code, result.timed_out, result.cancelled) == (code, False, False)


async def test_output_merges_stdout_and_stderr_in_order(runner: Sandbox, workspace: Path) -> None:
    result = await runner.run("echo one; echo two >&2; echo three", cwd=workspace, timeout_s=10)
    assert result.output == "one\ntwo\nthree\n"


async def test_timeout_kills_children_in_subshells(runner: Sandbox, workspace: Path) -> None:
    tag, tag2 = unique_sleep(), unique_sleep()
    try:
        result = await runner.run(
            f"(sleep {tag} &) ; ( sleep {tag2} ) & echo started; sleep 60", cwd=workspace, timeout_s=1
        )
        assert result.timed_out and result.exit_code is None
        assert "started" in result.output
        assert gone(tag) and gone(tag2)
    finally:
        kill_all_with(tag)
        kill_all_with(tag2)


async def test_background_process_does_not_outlive_a_finished_call(runner: Sandbox, workspace: Path) -> None:
    tag = unique_sleep()
    try:
        command = f"nohup sleep {tag} >/dev/null 2>&1 & echo done"
        result = await runner.run(command, cwd=workspace, timeout_s=10)
        assert result.exit_code == 0 and result.output == "done\n"
        assert gone(tag)
    finally:
        kill_all_with(tag)


async def _appears(tag: str) -> None:
    """Wait (without blocking the loop that starts it) until a live process carries `tag`."""
    deadline = asyncio.get_running_loop().time() + 30
    while not live_processes_with(tag):
        assert asyncio.get_running_loop().time() < deadline, f"no process with {tag!r} within 30 s"
        await asyncio.sleep(0.02)


async def test_cancel_event_kills_and_keeps_output(runner: Sandbox, workspace: Path) -> None:
    tag, cancel = unique_sleep(), asyncio.Event()

    async def cancel_once_sleeping() -> None:  # not after a fixed delay: bash may not have begun
        await _appears(tag)
        cancel.set()

    canceller = asyncio.ensure_future(cancel_once_sleeping())
    try:
        result = await runner.run(f"echo partial; sleep {tag}", cwd=workspace, timeout_s=30, cancel=cancel)
        await canceller
        assert result.cancelled and not result.timed_out and result.exit_code is None
        assert result.output == "partial\n"
        assert gone(tag)
    finally:
        canceller.cancel()
        kill_all_with(tag)


async def test_cancelling_the_task_kills_the_group(runner: Sandbox, workspace: Path) -> None:
    tag = unique_sleep()
    task = asyncio.ensure_future(runner.run(f"sleep {tag}", cwd=workspace, timeout_s=30))
    try:
        await _appears(tag)  # else `gone` would hold for a command that never began
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gone(tag)
    finally:
        kill_all_with(tag)


async def test_working_directory_is_reported(runner: Sandbox, workspace: Path) -> None:
    (workspace / "sub dir").mkdir()
    result = await runner.run("cd 'sub dir' && echo /etc && exit 4", cwd=workspace, timeout_s=10)
    assert result.exit_code == 4
    assert result.cwd_after == (workspace / "sub dir").resolve()
    same = await runner.run("echo /usr; printf /var", cwd=workspace / "sub dir", timeout_s=10)
    assert same.cwd_after == (workspace / "sub dir").resolve()


async def test_environment_is_an_allowlist(
    runner: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-leak")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://leak")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-leak")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-leak")
    monkeypatch.setenv("DB_PASSWORD", "pw-leak")
    monkeypatch.setenv("RANDOM_UNLISTED", "unlisted-leak")
    monkeypatch.setenv("PROJECT_SETTING", "kept")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    result = await runner.run("env", cwd=workspace, timeout_s=10)
    assert "leak" not in result.output
    assert "PROJECT_SETTING=kept" in result.output and "LC_ALL=C.UTF-8" in result.output
    assert "PATH=" in result.output


async def test_memory_limit_applies(workspace: Path) -> None:
    runner = UnsandboxedRunner(limits=ProcessLimits(max_memory_mb=200))
    result = await runner.run(
        f"{sys.executable} -c 'bytearray(600 * 1024 * 1024)'", cwd=workspace, timeout_s=30
    )
    assert result.exit_code != 0 and "MemoryError" in result.output


async def test_big_output_is_bounded_head_and_tail(runner: Sandbox, workspace: Path) -> None:
    result = await runner.run("seq 1 3000000", cwd=workspace, timeout_s=30)
    assert result.exit_code == 0
    assert result.output.startswith("1\n2\n") and result.output.endswith("2999999\n3000000\n")
    assert "bytes dropped" in result.output and len(result.output) < 9_000_000


async def test_term_ignoring_command_is_killed_after_the_grace(runner: Sandbox, workspace: Path) -> None:
    tag = unique_sleep()
    try:
        result = await runner.run(f"trap '' TERM; sleep {tag}; echo survived", cwd=workspace, timeout_s=0.5)
        assert result.timed_out and "survived" not in result.output
        assert gone(tag)
    finally:
        kill_all_with(tag)


def test_process_limit_leaves_headroom_over_running_processes() -> None:
    assert user_process_limit(0) >= 1  # this very process counts
    assert user_process_limit(50) - user_process_limit(0) == 50  # the count is reused, not re-read


async def test_process_limit_applies(workspace: Path) -> None:
    result = await UnsandboxedRunner(limits=ProcessLimits(max_processes=7)).run(
        "ulimit -u", cwd=workspace, timeout_s=10
    )
    limit = int(result.output)  # not "unlimited"
    assert 8 <= limit and abs(limit - user_process_limit(7)) < 50  # other processes come and go


def test_output_buffer_drops_the_middle() -> None:
    buffer = _OutputBuffer(keep=4)
    for chunk in (b"ab", b"cdef", b"ghij", b"kl"):
        buffer.add(chunk)
    assert buffer.text() == "abcd\n[... 4 bytes dropped ...]\nijkl"
