"""`subagent run` with MCP servers: a real server (the SDK's server API) as a subprocess, driven by
a scripted model; trust and approval, the permission gate, results, crashes, the environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_subagent, subagent_argv, subprocess_env
from tests.mcpclient._fixtures import (
    git_workspace,
    results,
    run_events,
    script,
    stdio_entry,
    via_doors,
    warm,
    write_mcp_json,
)
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.request_check import check_request

ECHO = {"name": "mcp__t__echo", "input": {"text": "hi"}}


def _started(marker: Path) -> list[int]:
    return [int(p) for p in marker.read_text().split()] if marker.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_an_untrusted_workspace_does_not_start_its_server_until_approved(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    write_mcp_json(ws, {"t": stdio_entry(marker)})
    calls = script(tmp_path / "s.yaml", [[ECHO]])

    # the control: trusted for this run, the same definition starts and answers (its first run:
    # its tools are not known yet, so the model reaches them through mcp_call)
    events, _ = run_events(
        ws, script(tmp_path / "c.yaml", [[via_doors(ECHO)]]), "--permission-mode", "bypass", "--trust"
    )
    assert results(events)["mcp_call"]["output"] == "echo: hi"
    assert len(_started(marker)) == 1

    # untrusted: not started (in default mode either), the run says so and how to change it
    run_events(ws, calls)
    events, _ = run_events(ws, calls, "--permission-mode", "bypass")
    assert len(_started(marker)) == 1
    refused = events[0]["refused"]
    assert any("MCP server `t`" in line and "mcp-servers approve t" in line for line in refused)
    assert results(events)["mcp__t__echo"]["is_error"]

    # approved: it starts
    approve = run_subagent("mcp-servers", "approve", "t", "--cwd", str(ws))
    assert approve.returncode == 0, approve.stderr
    events, _ = run_events(ws, calls, "--permission-mode", "bypass")
    assert results(events)["mcp__t__echo"]["output"] == "echo: hi"
    assert len(_started(marker)) == 2

    # a changed definition needs approving again
    write_mcp_json(ws, {"t": stdio_entry(marker, EXTRA="1")})
    events, _ = run_events(ws, calls, "--permission-mode", "bypass")
    assert len(_started(marker)) == 2
    assert any("definition changed" in line for line in events[0]["refused"])


def test_the_users_own_server_starts_in_an_untrusted_workspace(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": {"t": stdio_entry(marker)}}))
    events, _ = run_events(
        ws, script(tmp_path / "s.yaml", [[via_doors(ECHO)]]), "--permission-mode", "bypass"
    )
    assert results(events)["mcp_call"]["output"] == "echo: hi"
    assert events[0]["refused"] == []
    assert len(_started(marker)) == 1


def test_calls_go_through_the_permission_gate(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    write_mcp_json(ws, {"t": stdio_entry(marker)})
    lookup = {"name": "mcp__t__lookup", "input": {"key": "k"}}
    calls = script(tmp_path / "s.yaml", [[ECHO, lookup]])
    warm(ws, tmp_path, "--trust")

    # default mode, no one to ask: denied, read-only hint or not (a hint is never a grant)
    events, _ = run_events(ws, calls, "--trust")
    found = results(events)
    assert all(found[n]["is_error"] and "permission denied" in found[n]["output"] for n in found)

    # a rule allows one server's tools; a deny rule wins in bypass mode
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"permission": {"mcp__t__*": "allow"}}))
    found = results(run_events(ws, calls, "--trust")[0])
    assert found["mcp__t__echo"]["output"] == "echo: hi" and found["mcp__t__lookup"]["output"] == "value of k"
    config.write_text(json.dumps({"permission": {"mcp__t__echo": "deny"}}))
    found = results(run_events(ws, calls, "--trust", "--permission-mode", "bypass")[0])
    assert "permission denied" in found["mcp__t__echo"]["output"]
    assert found["mcp__t__lookup"]["output"] == "value of k"


def test_results_errors_large_outputs_and_a_crash(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    write_mcp_json(ws, {"t": stdio_entry(marker)})
    warm(ws, tmp_path, "--trust")
    calls = script(
        tmp_path / "s.yaml",
        [
            [{"name": "mcp__t__fail", "input": {}}, {"name": "mcp__t__big", "input": {"lines": 5000}}],
            [{"name": "mcp__t__getenv", "input": {"name": "ANTHROPIC_API_KEY"}}],
            [{"name": "mcp__t__crash", "input": {}}],
            [ECHO],
        ],
    )
    events, _ = run_events(ws, calls, "--trust", "--permission-mode", "bypass", ANTHROPIC_API_KEY="sk-secret")
    finished = [e for e in events if e.get("type") == "tool_call_finished"]
    by_name = {e["name"]: e for e in finished}
    assert by_name["mcp__t__fail"]["is_error"] and "always fails" in by_name["mcp__t__fail"]["output"]
    big = by_name["mcp__t__big"]["output"]
    assert "truncated" in big and len(big) < 50_000
    saved = Path(big.split("is in ")[1].split(" (")[0])
    assert saved.read_text().count("\n") >= 4999
    assert by_name["mcp__t__getenv"]["output"] == "(unset)"  # the runtime's key stays with the runtime
    crash = by_name["mcp__t__crash"]
    assert crash["is_error"] and "MCP server 't'" in crash["output"] and "about to crash" in crash["output"]
    assert by_name["mcp__t__echo"]["output"] == "echo: hi"  # started again after the crash
    assert events[-1]["subtype"] == "success"
    pids = _started(marker)
    assert len(pids) == 3 and not any(_alive(p) for p in pids)  # stopped with the runs (warm is one)


@pytest.mark.parametrize("bad", ["/nonexistent/server-binary", "false"])
def test_a_server_that_does_not_start_is_named_and_the_run_goes_on(tmp_path: Path, bad: str) -> None:
    ws = git_workspace(tmp_path / "ws")
    write_mcp_json(ws, {"broken": {"command": bad}})
    search = {"name": "mcp_tools", "input": {"query": "echo"}}
    echo = via_doors({"name": "mcp__broken__echo", "input": {"text": "hi"}})
    events, _ = run_events(
        ws, script(tmp_path / "s.yaml", [[search], [echo]]), "--trust", "--permission-mode", "bypass"
    )
    found = results(events)
    assert "MCP server 'broken'" in found["mcp_tools"]["output"]  # the search says which failed
    assert found["mcp_call"]["is_error"] and "MCP server 'broken'" in found["mcp_call"]["output"]
    [state] = events[0]["mcp_servers"]
    assert (state["name"], state["status"]) == ("broken", "pending")  # the run did not wait for it
    assert events[-1]["subtype"] == "success"


def _start_slow_run(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """A `subagent run` whose server is inside a long `slow` call when this returns."""
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    write_mcp_json(ws, {"t": stdio_entry(marker)})
    calls = script(tmp_path / "s.yaml", [[via_doors({"name": "mcp__t__slow", "input": {"seconds": 120}})]])
    proc = subprocess.Popen(
        subagent_argv("run", "wait", "--script", str(calls), "--cwd", str(ws), "--trust",
                      "--permission-mode", "bypass", "--output", "stream-json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
    )  # fmt: skip
    _wait_for(lambda: Path(f"{marker}.slow").exists(), proc)
    return proc, marker


def _wait_for(
    condition: Callable[[], bool], proc: subprocess.Popen[str] | None = None, limit: float = 60
) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the run ended first: {proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_cancelled_run_cancels_the_call_on_the_server_and_stops_it(tmp_path: Path) -> None:
    proc, marker = _start_slow_run(tmp_path)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert Path(f"{marker}.cancel").read_text() == "cancelled\n"  # notifications/cancelled reached it
    [pid] = _started(marker)
    _wait_for(lambda: not _alive(pid))


def test_a_killed_runtime_leaves_no_server_behind(tmp_path: Path) -> None:
    proc, marker = _start_slow_run(tmp_path)
    [pid] = _started(marker)
    assert _alive(pid)  # the control: the server runs while the runtime does
    proc.kill()
    proc.communicate(timeout=60)
    _wait_for(lambda: not _alive(pid))


def _helper_with_a_server(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace whose persona `helper` brings its own server `t`; the server's start marker."""
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    (ws / ".claude" / "agents").mkdir(parents=True)
    entry = json.dumps({"t": stdio_entry(marker)})
    (ws / ".claude" / "agents" / "helper.md").write_text(
        f"---\nname: helper\ndescription: helps\nmcpServers: {entry}\n---\nYou help.\n"
    )
    return ws, marker


def test_a_workspace_personas_servers_are_the_workspaces(tmp_path: Path) -> None:
    ws, marker = _helper_with_a_server(tmp_path)
    calls = script(tmp_path / "s.yaml", [[via_doors(ECHO)]])
    events, _ = run_events(ws, calls, "--agent", "helper", "--permission-mode", "bypass")
    assert not marker.exists() and any("MCP server `t`" in line for line in events[0]["refused"])
    approve = run_subagent("mcp-servers", "approve", "t", "--cwd", str(ws))
    assert approve.returncode == 0, approve.stderr
    events, _ = run_events(ws, calls, "--agent", "helper", "--permission-mode", "bypass")
    assert results(events)["mcp_call"]["output"] == "echo: hi" and marker.exists()


def test_many_tools_load_on_demand_and_the_tool_list_stays_put(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    write_mcp_json(ws, {"t": stdio_entry(tmp_path / "marker", EXTRA_TOOLS="40")})
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"permission": {"mcp__t__echo": "deny"}}))
    records = {"tool": "mcp__t__records_007", "arguments": {"record_id": "r1", "fields": ["a"]}}
    echo = {"tool": "mcp__t__echo", "arguments": {"text": "x"}}
    replies = [
        sse.reply(
            sse.tool_block(0, "toolu_1", "mcp_tools", {"query": "table 7 records"}), stop_reason="tool_use"
        ),
        sse.reply(sse.tool_block(0, "toolu_2", "mcp_call", records), stop_reason="tool_use"),
        sse.reply(sse.tool_block(0, "toolu_3", "mcp_call", echo), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "done")),
    ]
    with MessagesServer(replies) as server:
        proc = run_subagent(
            "run", "use the records", "--cwd", str(ws), "--output", "stream-json", "--trust",
            "--permission-mode", "bypass", ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 3, proc.stderr  # 3: the run had a permission denial (the echo)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    finished = [e for e in events if e.get("type") == "tool_call_finished"]
    found = json.loads(finished[0]["output"])
    assert found[0]["name"] == "mcp__t__records_007" and "input_schema" in found[0]
    assert finished[1]["output"] == "table 7: r1 ['a'] 10"
    assert "permission denied" in finished[2]["output"]  # the real tool's rule holds through the door
    assert [e["title"] for e in events if e.get("type") == "tool_call_started"][1] == "t: records_007"
    tool_lists = [[t["name"] for t in body["tools"]] for body in server.requests]
    assert all(names == tool_lists[0] for names in tool_lists)  # the cached prefix holds
    assert {"mcp_tools", "mcp_call"} <= set(tool_lists[0]) and not any(
        n.startswith("mcp__") for n in tool_lists[0]
    )
    for body in server.requests:
        check_request(body)


def test_resources_and_prompts_through_one_tool(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    write_mcp_json(ws, {"t": stdio_entry(tmp_path / "marker")})
    warm(ws, tmp_path, "--trust")  # mcp_resources comes with a listing that announces resources
    review = {"server": "t", "prompt": "review", "arguments": {"path": "a.py"}}
    calls = script(
        tmp_path / "s.yaml",
        [
            [{"name": "mcp_resources", "input": {"server": "t"}}],
            [{"name": "mcp_resources", "input": {"server": "t", "uri": "notes://readme"}}],
            [{"name": "mcp_resources", "input": review}],
        ],
    )
    events, _ = run_events(ws, calls, "--trust", "--permission-mode", "bypass")
    listing, read, prompt = [e["output"] for e in events if e.get("type") == "tool_call_finished"]
    assert json.loads(listing)["resources"][0]["uri"] == "notes://readme"
    assert read == "[resource notes://readme]\nthe notes say: deploy on Fridays"
    assert "Please review a.py." in prompt


def test_a_subagents_persona_brings_its_own_servers(tmp_path: Path) -> None:
    ws, marker = _helper_with_a_server(tmp_path)
    delegate = {
        "name": "task",
        "input": {"description": "echo", "prompt": "echo hi", "subagent_type": "helper"},
    }
    calls = tmp_path / "s.yaml"
    calls.write_text(
        json.dumps({"scripts": [
            {"agent": "helper", "replies": [{"tool_calls": [via_doors(ECHO)]}, {"text": "helped"}]},
            {"agent": "orchestrator", "replies": [
                {"tool_calls": [delegate]}, {"tool_calls": [via_doors(ECHO)]}, {"text": "done"}
            ]},
        ]})
    )  # fmt: skip

    def finished(events: list[dict[str, object]]) -> list[tuple[object, object, object]]:
        return [
            (e["name"], e["is_error"], e["output"]) for e in events if e.get("type") == "tool_call_finished"
        ]

    # a workspace persona's server needs approval, for a subagent too: not started, and said so
    events, _ = run_events(ws, calls, "--agent", "orchestrator", "--permission-mode", "bypass")
    child_call, _task, root_call = finished(events)
    assert child_call[:2] == ("mcp_call", True) and not marker.exists()
    [child] = [e for e in events if e.get("type") == "session_started" and e["agent"] == "helper"]
    assert any("MCP server `t`" in line for line in child["refused"]) and "mcp_call" not in child["tools"]

    approve = run_subagent("mcp-servers", "approve", "t", "--cwd", str(ws))
    assert approve.returncode == 0, approve.stderr
    events, _ = run_events(ws, calls, "--agent", "orchestrator", "--permission-mode", "bypass")
    child_call, _task, root_call = finished(events)
    assert child_call == ("mcp_call", False, "echo: hi") and marker.exists()
    assert root_call[1] and "unknown tool 'mcp_call'" in str(root_call[2])  # the child's, not the root's
    started = {e["agent"]: e["tools"] for e in events if e.get("type") == "session_started"}
    assert {"mcp_tools", "mcp_call"} <= set(started["helper"]) and "mcp_call" not in started["orchestrator"]
    [pid] = _started(marker)
    _wait_for(lambda: not _alive(pid))  # stopped with the run


def test_a_call_past_the_servers_timeout_is_cancelled_and_named(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    write_mcp_json(ws, {"t": {**stdio_entry(marker), "timeout": 700}})
    slow = via_doors({"name": "mcp__t__slow", "input": {"seconds": 60}})
    # the next call, on the same running server, waits for the mark the cancelled `slow` leaves
    cancelled = via_doors({"name": "mcp__t__wait_for_file", "input": {"path": f"{marker}.cancel"}})
    events, _ = run_events(ws, script(tmp_path / "s.yaml", [[slow], [cancelled]]), "--trust",
                           "--permission-mode", "bypass")  # fmt: skip
    timed_out, after = [e for e in events if e.get("type") == "tool_call_finished"]
    assert timed_out["is_error"]
    assert (
        "MCP server 't'" in timed_out["output"] and "slow did not answer within 0.7 s" in timed_out["output"]
    )
    assert after["output"] == "there"  # notifications/cancelled reached the server, which goes on
    assert len(_started(marker)) == 1 and events[-1]["subtype"] == "success"
