"""A real orchestrator run with a scripted model: what its subagents spent and were refused reaches
the root's result in every front end, and children in worktrees report what bash changed."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import agent
from agent.orchestrator.base import SubtaskSpec
from agent.permissions.models import AskAnswer, AskRequest
from tests.conftest import run_subagent, subprocess_env
from tests.orchestrator._scenario import final, model, task, workspace, write

PRICE = {"input": 3.0, "output": 15.0}  # USD per million tokens: every number below is exact
ROOT_USAGE = {"input_tokens": 10_000, "output_tokens": 1_000}
CHILD_USAGE = {"input_tokens": 40_000, "output_tokens": 4_000}
ROOT_COST = 2 * (10_000 * 3 + 1_000 * 15) / 1e6  # two turns
CHILD_COST = 2 * (40_000 * 3 + 4_000 * 15) / 1e6  # two turns each


def _scripts() -> list[dict[str, Any]]:
    return [
        {
            "agent": "orchestrator",
            "replies": [
                {"tool_calls": [task("job fine"), task("job secret")], "usage": ROOT_USAGE},
                {"text": "both children ran", "usage": ROOT_USAGE},
            ],
        },
        {
            "agent": "worker",
            "match": "job fine",
            "replies": [
                {"tool_calls": [write("fine.txt", "ok\n")], "usage": CHILD_USAGE},
                {"text": "wrote fine.txt", "usage": CHILD_USAGE},
            ],
        },
        {
            "agent": "worker",
            "match": "job secret",
            "replies": [
                {"tool_calls": [write("secret.txt", "no\n")], "usage": CHILD_USAGE},
                {"text": "could not write it", "usage": CHILD_USAGE},
            ],
        },
    ]


def _workspace(tmp_path: Path) -> Path:
    return workspace(
        tmp_path,
        config={
            "defaults": {"permission_mode": "default"},
            "models": {"claude-sonnet-5-5": {"price": PRICE}},
            "permission": {"task": "allow", "read": "allow", "edit": "allow"},
            "agents": {"worker": {"permission": {"edit": {"secret*": "deny"}}}},
        },
    )


def _check(total: float, denials: list[Any], subtype: str) -> None:
    assert total == pytest.approx(ROOT_COST + 2 * CHILD_COST)
    names = [
        (d["tool_name"], d["tool_input"]["file_path"])
        if isinstance(d, dict)
        else (d.tool_name, d.tool_input["file_path"])
        for d in denials
    ]
    assert names == [("write", "secret.txt")]
    assert subtype == "error_permission_denied"  # a refused subagent call makes the run's result say so


class Allow:
    async def ask(self, request: AskRequest) -> AskAnswer:
        return AskAnswer(decision="allow")


async def test_the_python_api_result_counts_the_subagents(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    result = await agent.run(
        "two jobs", agent="orchestrator", cwd=ws, model_client=model(_scripts()), approver=Allow()
    )
    _check(result.total_cost_usd, result.permission_denials, result.subtype)
    assert (ws / "fine.txt").exists() and not (ws / "secret.txt").exists()


def test_the_cli_json_and_stream_json_results_count_the_subagents(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"scripts": _scripts()}))
    for output in ("json", "stream-json"):
        ran = run_subagent(
            "run",
            "two jobs",
            "--agent",
            "orchestrator",
            "--script",
            str(script),
            "--cwd",
            str(ws),
            "--output",
            output,
            "--permission-mode",
            "accept-edits",
        )
        assert ran.returncode == 3, ran.stderr
        result = json.loads(ran.stdout.splitlines()[-1])
        _check(result["total_cost_usd"], result["permission_denials"], result["subtype"])


async def test_the_mcp_result_counts_the_subagents(tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters

    ws = _workspace(tmp_path)
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"scripts": _scripts()}))
    argv = ["-m", "agent", "mcp", "--script", str(script)]
    params = StdioServerParameters(command=sys.executable, args=argv, env=subprocess_env(), cwd=str(ws))
    async with Client(params) as client:
        done = await client.call_tool(
            "run_task",
            {
                "prompt": "two jobs",
                "agent": "orchestrator",
                "cwd": str(ws),
                "permission_mode": "accept-edits",
            },
        )
    result = done.structured_content
    assert done.is_error
    _check(result["total_cost_usd"], result["permission_denials"], result["status"])


async def test_dispatch_results_carry_denials_and_say_what_was_refused(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    specs = [
        SubtaskSpec(id="fine", agent="worker", prompt="job fine"),
        SubtaskSpec(id="secret", agent="worker", prompt="job secret"),
    ]
    results = await agent.dispatch(specs, cwd=ws, model_client=model(_scripts()), approver=Allow())
    fine, secret = results
    assert fine.ok and fine.total_cost_usd == pytest.approx(CHILD_COST) and fine.error is None
    assert secret.status == "error_permission_denied"
    assert [d.tool_input["file_path"] for d in secret.permission_denials] == ["secret.txt"]
    assert secret.result == "could not write it"  # the child's report stays its report
    assert secret.error is not None and secret.error.startswith("permission denied: ")
    assert "could not write it" not in secret.error and "secret" in secret.error


async def test_children_in_worktrees_list_what_bash_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = workspace(tmp_path)
    scripts = [
        {
            "agent": "orchestrator",
            "replies": [{"tool_calls": [task("by bash one"), task("by bash two")]}, {"text": "done"}],
        },
        *(
            {
                "agent": "worker",
                "match": f"by bash {n}",
                "replies": [
                    {"tool_calls": [{"name": "bash", "input": {"command": f"echo {n} > only-bash-{n}.txt"}}]},
                    {"text": f"made only-bash-{n}.txt"},
                ],
            }
            for n in ("one", "two")
        ),
    ]
    with caplog.at_level(logging.WARNING):
        run = agent.run_agent("two", agent="orchestrator", cwd=ws, model_client=model(scripts))
        events = [e async for e in run]
    assert final(events).subtype == "success"
    assert not [r for r in caplog.records if "could not list the files" in r.getMessage()]
    children = [e for e in events if e.type == "result" and e.parent_tool_use_id is not None]
    assert len(children) == 2
    for child in children:
        assert len(child.files_changed) == 1 and Path(child.files_changed[0]).name.startswith("only-bash-")
    finished = [e for e in events if e.type == "subagent_finished"]
    assert sorted(f for e in finished for f in e.files_changed) == ["only-bash-one.txt", "only-bash-two.txt"]
    assert (ws / "only-bash-one.txt").read_text() == "one\n" and (ws / "only-bash-two.txt").exists()


async def test_the_acp_answer_reports_the_subagents_denials(tmp_path: Path) -> None:
    from acp import text_block
    from acp.schema import ClientCapabilities

    from tests.acp.acp_client import RecordingClient, acp_agent

    ws = _workspace(tmp_path)
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"scripts": _scripts()}))
    client = RecordingClient()
    with open(tmp_path / "acp-stderr.txt", "w+") as stderr:
        async with acp_agent(client, ws, script, stderr) as conn:
            await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
            session = await conn.new_session(cwd=str(ws), mcp_servers=[])
            await conn.prompt(session_id=session.session_id, prompt=[text_block("two jobs")])
    said = "".join(u.content.text for u in client.of_kind("agent_message_chunk"))
    assert "Stopped (error_permission_denied)" in said
    assert "- write: " in said and "secret.txt" in said  # the child's refusal, in the root's answer
