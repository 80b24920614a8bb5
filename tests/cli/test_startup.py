"""What a `subagent run` process pays for before its first request, and how it ends.

Real subprocesses against the local Messages API server: the way to the first request must not
import the anthropic SDK (about two seconds of CPU here) nor anything else heavy that it does not
need (`HEAVY`), checked at the moment the process connects to the server.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subagent_argv, subprocess_env
from tests.model import sse
from tests.model.local_api import ApiHandler, error_body
from tests.model.messages_server import MessagesServer

_REPORT = (
    "import atexit, gc, json, os, runpy, sys; "
    "report = {}; port = int(os.environ['SERVER_PORT']); "
    "built = lambda: [n for n in MODELS if getattr(getattr(sys.modules.get(n.rsplit('.', 1)[0]), "
    "n.rsplit('.', 1)[1], None), '__pydantic_complete__', False)]; "
    "defined = lambda modules: sorted(f'{n}.{k}' for n, m in modules "
    "if n.split('.')[0] in ('agent', 'tools') for k, v in list(vars(m).items()) "
    "if isinstance(v, type) and v.__module__ == n and issubclass(v, sys.modules['pydantic'].BaseModel)); "
    "at_request = lambda modules: report.update(at_request=[n for n, _ in modules], built=built(), "
    "defined=defined(modules)); "
    "sys.addaudithook(lambda event, args: event == 'socket.connect' and args[1][1:2] == (port,) "
    "and 'at_request' not in report and at_request(list(sys.modules.items()))); "
    "atexit.register(lambda: open(os.environ['REPORT_OUT'], 'w').write(json.dumps(dict(report, "
    "at_exit=list(sys.modules), gc_enabled=gc.isenabled(), gc_frozen=gc.get_freeze_count())))); "
    "sys.argv = ['subagent', *sys.argv[1:]]; runpy.run_module('agent', run_name='__main__')"
)
"""`subagent` that reports the modules it had imported when it connected to the server (the first
request), which of `MODELS` had their validators built then, the model classes of agent/ and tools/
defined then, the modules when it exited (its exit
handlers run before `os._exit`), and the collector's state."""

MODELS = (
    "agent.events.SessionStartedEvent",  # sent before the first request: built
    "agent.events.ResultEvent",  # not sent yet: deferred (defer_build) until it is
    "agent.events.ToolCallFinishedEvent",
    "agent.sessions.base.CheckpointRecord",
    "tools.read.ReadInput",  # the built-in tools' definitions are read from tools/schemas.json
    "tools.bash.BashInput",
)
"""Models whose build the report checks at the first request (module.Class)."""

HEAVY = (
    "anthropic",  # the SDK: about 2 s of CPU (the Messages API is streamed without it)
    "rich",  # the terminal view: at its first print (the JSON outputs print no rich text)
    "typer",  # --help, usage errors and the other commands: `run` and `-p` parse without it
    "click",
    "agent.cli.app",  # the typer app
    "mcp",  # `subagent mcp` and MCP servers a run starts (none configured here)
    "acp",  # `subagent acp`
    "temporalio",  # `subagent dispatch-remote`
    "git",  # gitpython (a test and bench dependency only)
    "prompt_toolkit",  # `subagent chat`
    "tree_sitter",  # bash analysis: at the first bash call
    "genai_prices",  # the price table: after the first request, for a model without a price
    "jsonschema",  # `-p --json-schema`
    "agent.headless.schema",
    "agent.web",  # webfetch: only for an agent that has it (the default agent has not)
    "markdownify",  # and its HTML conversion at the first fetch
    "bs4",
    "rapidfuzz",  # the nearest lines of a failed edit
    "agent.permissions.bash_parse",  # at the first bash call
    "agent.orchestrator.base",  # the task tool's subtask: when it runs
    "agent.orchestrator.bases",  # the sweep of subagents' leftovers: only where a subagent ran
    "agent.sessions.checkpoints",  # at the first step that changes files
    "agent.mcpclient.hub",  # only with an MCP server configured
    "agent.model._errors",  # the model client's failures: at the first one
    "agent.sandbox._mounts",  # the bubblewrap sandbox's mounts, seccomp filter, Landlock and
    "agent.sandbox._seccomp",  # memory cgroup: worked out at its first call, not when it is made
    "agent.sandbox._landlock",
    "agent.sandbox._cgroup",
    "tools.read",  # each built-in tool's module: at its first call (tools.registry)
    "tools.edit",
    "tools.write",
    "tools.grep",
    "tools.glob",
    "tools.bash",
    "tools.patch",
    "tools._files",  # their helpers (tools._rg_binary finds rg for the sandbox's policy)
    "tools._ripgrep",  # running rg: at the first grep or glob
    "tools._fs",
    "tools._linescan",
    "tools._globmatch",
    "tools._match",  # at the first edit
    "tools._patch_parse",  # at the first patch
    "yaml",  # PyYAML: the shipped agents.yaml and personas are read parsed (agent.registry.yaml_text)
    "agent.chat",
    "agent.acp",
    "agent.mcp",
    "agent.orchestrator.temporal",
)
"""Packages the way to the first request must not import: each is heavy or only needed later."""

DEFINED = {
    "agent.events": (
        "AssistantMessageEvent CompactionEvent ErrorEvent FileChange HookEvent McpServerState "
        "ModelFallbackEvent PermissionAnsweredEvent PermissionAskedEvent PermissionDenial ResultEvent "
        "RunBoundary SessionStartedEvent SubagentFinishedEvent SubagentStartedEvent TextDeltaEvent "
        "ThinkingDeltaEvent ToolCallFinishedEvent ToolCallStartedEvent TurnStartedEvent Usage UsageEvent "
        "_EventBase"
    ),
    "agent.hooks.config": "HookCommandConfig HookMatcherConfig",
    "agent.loop.turn_calls": "ToolCall",
    "agent.mcpclient.config": "RemoteServer ServerDef StdioServer _Strict",
    "agent.model.base": (
        "FallbackNotice MessageDoneEvent ModelInfo ModelRequest RetryNotice TextDeltaStreamEvent "
        "ThinkingDeltaStreamEvent ToolInputStreamEvent"
    ),
    "agent.orchestrator.task_tool": "TaskInput",
    "agent.permissions.from_config": "ToolSelection",
    "agent.permissions.gate": "GateVerdict",
    "agent.permissions.models": "AskAnswer AskRequest PermissionRule RuleUpdate",
    "agent.prompt.command_grant": "ToolGrant",
    "agent.registry.persona": "ClaudeFrontmatter OpencodeFrontmatter _OurKeys",
    "agent.registry.schema": (
        "AgentEntry Defaults ModelConfig PriceConfig RegistryConfig SandboxConfig ToolTimeouts _Strict"
    ),
    "agent.registry.spec": "AgentSpec ThinkingConfig",
    "agent.runtime.options": "RunOptions",
    "agent.sandbox.probe": "SandboxReport",
    "agent.sessions.base": (
        "CheckpointRecord CompactionRecord MarkRecord ResumeHistory SessionRecord StoredMessage"
    ),
    "agent.skills.skill_tool": "SkillInput",
    "agent.tool": "ImageBlock PermissionRequest ToolInput ToolResult",
    "agent.transcript": (
        "CompactionBlock DocumentBlock ImageBlock Message OtherBlock RedactedThinkingBlock TextBlock "
        "ThinkingBlock ToolResultBlock ToolUseBlock _Block"
    ),
    "agent.trust.store": "TrustedFolder TrustedFolders",
}
"""The pydantic models defined before the first request of `run` (module: class names). Defining
one costs about 1.5 M instructions even with its build deferred (docs/BENCHMARKS.md): a model the
first request does not need belongs in a module imported at its first use."""
HEADLESS_DEFINED = {
    "agent.headless.flags": "HeadlessOptions",  # `-p`'s command line
    "agent.headless.overrides": "ClaudeAgent",  # `--agents`
    "agent.headless.settings": "ClaudeSettings",  # `--settings`
}
"""The models `-p` defines before its first request besides `DEFINED`."""


def _report(tmp_path: Path, server: MessagesServer, *args: str) -> dict[str, Any]:
    """Run `subagent ARGS` (the default agent) against `server`; its report (see _REPORT)."""
    out = tmp_path / "report.json"
    argv = [sys.executable, "-c", f"MODELS = {MODELS!r}; {_REPORT}", *args]
    env = subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url, REPORT_OUT=str(out),
                         SERVER_PORT=server.url.rsplit(":", 1)[1].strip("/"),
                         SUBAGENT_WORKTREES=str(tmp_path / "worktrees"))  # fmt: skip
    workspace = tmp_path / "ws"
    workspace.mkdir()
    proc = subprocess.run(argv, cwd=workspace, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(server.requests) == 1
    report: dict[str, Any] = json.loads(out.read_text())
    report["stdout"] = proc.stdout
    return report


def _heavy(modules: list[str]) -> set[str]:
    return {m for m in modules for name in HEAVY if m == name or m.startswith(name + ".")}


@pytest.mark.parametrize(
    "args",
    [("run", "say hi", "-o", "json"), ("-p", "say hi", "--output-format", "json")],
    ids=["run", "headless"],
)
def test_the_first_request_imports_nothing_heavy(tmp_path: Path, args: tuple[str, ...]) -> None:
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        report = _report(tmp_path, server, *args)
    assert json.loads(report["stdout"])["result"] == "hi"
    before = report["at_request"]
    assert {"httpx2", "agent.model._wire", "agent.loop.agent_loop"} <= set(before)  # the listing is whole
    assert _heavy(before) == set()
    assert not {m for m in report["at_exit"] if m == "anthropic" or m.startswith("anthropic.")}
    listed = {**DEFINED, **(HEADLESS_DEFINED if args[0] == "-p" else {})}
    expected = {f"{module}.{name}" for module, names in listed.items() for name in names.split()}
    defined = set(report["defined"])
    assert not defined - expected, (
        f"models defined before the first request, not in DEFINED: {sorted(defined - expected)}"
    )
    assert not expected - defined, (
        f"no longer defined before the first request, drop from DEFINED: {sorted(expected - defined)}"
    )


def test_a_text_run_loads_rich_at_its_first_print_not_before_its_first_request(tmp_path: Path) -> None:
    """The text view (output not a terminal here) makes its console at the first line it prints, and
    needs syntax highlighting (pygments) only at a diff."""
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        report = _report(tmp_path, server, "run", "say hi")
    assert report["stdout"].startswith("hi\n") and "rich.console" in report["at_exit"]
    assert _heavy(report["at_request"]) == set()
    assert not {m for m in report["at_exit"] if m.split(".")[0] == "pygments" or m == "rich.syntax"}


def test_the_first_request_builds_only_the_models_it_uses(tmp_path: Path) -> None:
    """Models defer their build to their first use (docs/decisions.md, issue 18): at the first
    request the event it sent is built, the kinds it has not sent are not, and the tools' inputs
    are not even defined (their modules are imported at the tool's first call)."""
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        report = _report(tmp_path, server, "run", "say hi", "-o", "json")
    assert "agent.sessions.base" in report["at_request"]  # defined, not built
    assert "tools.read" not in report["at_request"]
    assert report["built"] == ["agent.events.SessionStartedEvent"]


def test_a_run_imports_only_its_command(tmp_path: Path) -> None:
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        report = _report(tmp_path, server, "run", "say hi", "--agent", "explore", "-o", "json")
    assert "agent.cli.run_cmd" in report["at_exit"] and "agent.cli.chat_cmd" not in report["at_exit"]


@pytest.mark.parametrize(
    "args",
    [("run", "say hi", "-o", "json"), ("-p", "say hi", "--output-format", "json")],
    ids=["run", "headless"],
)
def test_the_collector_is_back_on_after_start_up(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Start-up runs without cyclic collection (agent.runtime.startup_gc); the run's first event turns it
    back on, with what start-up made frozen out of its sight."""
    with MessagesServer([sse.reply(sse.text_block(0, "hi"))]) as server:
        report = _report(tmp_path, server, *args)
    assert report["gc_enabled"] is True
    assert report["gc_frozen"] > 10_000


def test_every_command_is_found_by_name() -> None:
    """`agent.cli.commands.MODULES` names the module of every command the CLI has."""
    from agent.cli.app import app
    from agent.cli.commands import MODULES, register

    register([])
    commands = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    groups = {g.name or g.typer_instance.info.name for g in app.registered_groups if g.typer_instance}
    names = commands | groups
    assert names == set(MODULES)


def _run(tmp_path: Path, server: MessagesServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        subagent_argv("run", *args, "--agent", "explore", "--cwd", str(tmp_path)), cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
        env=subprocess_env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url),
    )  # fmt: skip


def test_the_run_leaves_at_once_with_its_output_whole_and_its_session_stored(tmp_path: Path) -> None:
    """`os._exit` after the result: every line is out, the exit code is the result's, and the store
    is closed (no WAL left behind) with the session and its messages in it."""
    long_text = "".join(f"line {n} of a long answer\n" for n in range(3000))
    with MessagesServer([sse.reply(sse.text_block(0, long_text, pieces=300))]) as server:
        proc = _run(tmp_path, server, "tell me a lot", "-o", "stream-json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    deltas = "".join(line["text"] for line in lines if line["type"] == "text_delta")
    assert deltas == long_text and lines[-1]["type"] == "result" and lines[-1]["result"] == long_text
    data = Path(subprocess_env()["SUBAGENT_HOME"])
    assert (data / "sessions.db").exists() and not (data / "sessions.db-wal").exists()
    with sqlite3.connect(data / "sessions.db") as db:
        status = db.execute("SELECT status FROM sessions WHERE id = ?", (lines[-1]["session_id"],)).fetchall()
        roles = db.execute("SELECT role FROM messages ORDER BY seq").fetchall()
    assert status == [("completed",)] and roles == [("user",), ("assistant",)]


class RefusingServer(MessagesServer):
    """Answers every request with a 400 (not retried)."""

    def handle_post(self, request: ApiHandler, body: dict[str, Any]) -> None:
        self.requests.append(body)
        request.send_body(400, "application/json", error_body("max_tokens: too large"))


def test_a_failed_run_leaves_with_its_exit_code_and_its_error(tmp_path: Path) -> None:
    with RefusingServer([]) as server:
        proc = _run(tmp_path, server, "hi", "-o", "json")
    assert proc.returncode == 1 and len(server.requests) == 1
    result = json.loads(proc.stdout)
    assert result["subtype"] == "error_during_execution" and "max_tokens: too large" in result["result"]


def test_release_leaves_a_collector_someone_else_stopped_alone() -> None:
    """A process that stopped collection itself (an embedder, a debugger) keeps it stopped."""
    import gc

    from agent.runtime.startup_gc import hold, release

    gc.disable()
    try:
        hold()
        release()
        assert not gc.isenabled()
    finally:
        gc.enable()
