"""Claude Code's flags: mapped onto run's options, or refused with the reason (exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.headless.entry import is_headless
from agent.headless.flags import REFUSED, claude_mode_of, parse
from agent.headless.overrides import agent_specs, reshape, rules_for
from agent.peers.claude_rules import split_rules
from agent.registry.spec import AgentSpec
from tests.conftest import run_subagent

SDK_ARGV = [
    "--output-format", "stream-json", "--verbose", "--system-prompt=", "--allowedTools=Read,Bash(git log:*)",
    "--max-turns=3", "--max-budget-usd=0.5", "--model=haiku", "--permission-prompt-tool=stdio",
    "--permission-mode=acceptEdits", "--resume=ses_1", "--fork-session", "--setting-sources=user,project",
    "--include-partial-messages", "--input-format", "stream-json",
]  # fmt: skip
"""What claude-agent-sdk 0.2.190 passes for those options (subprocess_cli._build_command)."""


def test_the_sdks_argv_maps_onto_runs_options() -> None:
    opts = parse(SDK_ARGV)
    assert (opts.output_format, opts.input_format, opts.include_partial) == (
        "stream-json",
        "stream-json",
        True,
    )
    assert (opts.model, opts.max_turns, opts.max_budget_usd) == ("haiku", 3, 0.5)
    assert (opts.permission_mode, opts.prompt_tool_stdio) == ("accept-edits", True)
    assert (opts.resume, opts.fork, opts.system_prompt) == ("ses_1", True, None)
    assert opts.allowed == ["Read", "Bash(git log:*)"]


@pytest.mark.parametrize(
    ("claude", "ours", "dont_ask"),
    [("default", "default", False), ("acceptEdits", "accept-edits", False), ("plan", "plan", False),
     ("bypassPermissions", "bypass", False), ("dontAsk", "default", True)],
)  # fmt: skip
def test_each_claude_mode_has_ours_and_back(claude: str, ours: str, dont_ask: bool) -> None:
    opts = parse(["-p", "x", f"--permission-mode={claude}"])
    assert (opts.permission_mode, opts.dont_ask) == (ours, dont_ask)
    assert claude_mode_of(ours, dont_ask=dont_ask) == claude  # init's permissionMode


@pytest.mark.parametrize("flag", sorted(REFUSED))
def test_a_flag_without_an_equivalent_is_refused_with_its_reason(flag: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{flag} is not supported: {REFUSED[flag]}")):
        parse(["-p", "x", f"{flag}=v"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-p", "--permission-mode", "yolo"], "--permission-mode must be one of"),
        (["-p", "--max-turns", "many"], "--max-turns takes a number"),
        (["-p", "--max-budget-usd", "0"], "must be above 0"),
        (["-p", "--json-schema", "{nope"], "--json-schema is not JSON"),
        (["-p", "--json-schema", '{"type": "nothing"}'], "not a valid JSON Schema"),
        (["-p", "--permission-prompt-tool", "mcp__x__ask"], "takes `stdio` only"),
        (["-p", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_values_are_configuration_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(argv)


def test_refusals_exit_2_with_the_reason_and_nothing_on_stdout() -> None:
    proc = run_subagent("-p", "hi", "--output-format", "stream-json", "--betas", "x")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--betas is not supported: subagent sends the betas its model client needs" in proc.stderr


def test_the_subcommands_and_help_are_routed_as_before() -> None:
    assert is_headless(["-p", "x"]) and is_headless(["--model", "m", "--print", "x"])
    assert is_headless(["--output-format=stream-json", "--verbose"])
    assert not is_headless(["run", "-p", "x"]) and not is_headless(["--help"]) and not is_headless([])
    assert not is_headless(["--version"]) and not is_headless(["mcp", "--output-format", "x"])
    assert "run" in run_subagent("--help").stdout


def test_tool_lists_split_on_commas_and_spaces_outside_parentheses() -> None:
    assert split_rules(["Read,Bash(git log:*) Edit", "Write"]) == [
        "Read",
        "Bash(git log:*)",
        "Edit",
        "Write",
    ]


def test_allowed_and_disallowed_tools_become_rules(tmp_path: Path) -> None:
    entries = [
        "Bash(git log:*)",
        "Write",
        "WebFetch(domain:docs.python.org)",
        "Read(./.env)",
        "mcp__db__query",
    ]
    rules = rules_for([*entries, "WebSearch"], "allow", "--allowedTools", tmp_path)
    assert [(r.permission, r.pattern, r.decision) for r in rules] == [
        ("bash", "git log *", "allow"),  # as .claude/settings.json's rules: `git log` and its arguments
        ("edit", "*", "allow"),
        ("webfetch", "docs.python.org", "allow"),  # the runtime's webfetch (issue 20), on the host
        ("read", ".env", "allow"),
        ("mcp__db__query", "*", "allow"),
    ]  # WebSearch: a Claude Code tool subagent has not, no rule
    with pytest.raises(ConfigError, match="unknown tool 'Raed'"):
        rules_for(["Raed"], "deny", "--disallowedTools", tmp_path)


def test_the_flags_reshape_the_root_agent() -> None:
    spec = AgentSpec(name="a", prompt="persona", tools=["read", "edit", "write", "bash"])
    opts = parse(["-p", "x", "--append-system-prompt", "be brief", "--tools", "Read,Bash",
                  "--disallowedTools", "Bash(rm:*)"])  # fmt: skip
    shaped = reshape(spec, opts)
    assert shaped.prompt == "persona\n\nbe brief" and shaped.tools == ["read", "bash"]
    assert shaped.permission[-1].decision == "deny" and shaped.permission[-1].pattern == "rm *"
    assert any(r.permission == "edit" and r.decision == "deny" for r in shaped.permission)
    assert reshape(spec, parse(["-p", "x", "--system-prompt", "other"])).prompt == "other"
    assert reshape(spec, parse(["-p", "x", "--system-prompt="])).prompt == "persona"  # the SDK's default


def test_claude_agent_definitions_become_subagent_specs() -> None:
    opts = parse(
        ["-p", "x", "--agents", '{"rev": {"description": "Reviews", "prompt": "Review.", "tools": ["Read"]}}']
    )
    (spec,) = agent_specs(opts.agents)
    assert (spec.name, spec.mode, spec.prompt, spec.tools) == ("rev", "subagent", "Review.", ["read"])
    assert any(r.permission == "edit" and r.decision == "deny" for r in spec.permission)
    with pytest.raises(ConfigError, match="agent 'bad': prompt: Field required"):
        agent_specs({"bad": {"description": "no prompt"}})
    with pytest.raises(ConfigError, match="--agents is not JSON"):
        parse(["-p", "x", "--agents", "{"])


def test_mcp_config_gives_the_run_the_callers_servers(tmp_path: Path) -> None:
    listed = tmp_path / "servers.json"
    listed.write_text(json.dumps({"mcpServers": {"files": {"command": "npx", "args": ["server-files"]}}}))
    inline = json.dumps({"mcpServers": {"db": {"type": "http", "url": "http://127.0.0.1:9/mcp"}}})
    opts = parse(["-p", "x", "--mcp-config", str(listed), f"--mcp-config={inline}"])
    assert [s.name for s in opts.mcp_servers] == ["files", "db"]
    with pytest.raises(ConfigError, match="--mcp-config"):
        parse(["-p", "x", "--mcp-config", "{not json"])


def test_setting_sources_pick_the_config_layers() -> None:
    assert parse(["-p", "x", "--setting-sources=user,project"]).setting_sources == ("user", "project")
    assert parse(["-p", "x"]).setting_sources is None
    with pytest.raises(ConfigError, match="unknown source 'everything'"):
        parse(["-p", "x", "--setting-sources", "user,everything"])
