"""Claude Code's command line (`claude -p ...`, as the Agent SDK and scripts pass it) read into
`HeadlessOptions`: each flag mapped onto a `subagent run` option, or refused with the reason.

The alias table (docs/headless.md) is `ALIASES` below; a flag Claude Code has and subagent has no
equivalent for is in `REFUSED` and ends the command with exit 2 and that reason, so a caller never
believes a setting took effect when it did not.
"""

import argparse
import json
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel

from agent.errors import ConfigError
from agent.headless.settings import ClaudeSettings
from agent.mcpclient.config import ServerDef
from agent.peers.claude_rules import split_rules
from agent.peers.claude_settings import CLAUDE_MODES
from agent.permissions.models import PermissionMode

ClaudeMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"]

MODES: dict[str, PermissionMode] = {
    **CLAUDE_MODES,  # the settings files' table (`defaultMode`)
    "dontAsk": "default",  # plus a policy that denies every ask (dont_ask below)
}
"""Claude Code's permission modes -> ours; `dontAsk` is `default` with every ask denied."""


def claude_mode_of(mode: PermissionMode, *, dont_ask: bool) -> ClaudeMode:
    """Our mode in Claude Code's spelling (`default` with every ask denied is `dontAsk`)."""
    if dont_ask and mode == "default":
        return "dontAsk"
    return cast(ClaudeMode, next(name for name, ours in MODES.items() if ours == mode and name != "dontAsk"))


ALIASES: dict[str, str] = {
    "--model": "run --model",
    "--fallback-model": "the model asked for a turn the model stays overloaded on after the retries",
    "--max-turns": "run --max-turns",
    "--max-budget-usd": "the run's max_budget_usd (agents.yaml defaults.max_budget_usd)",
    "--permission-mode": "run --permission-mode (acceptEdits=accept-edits, bypassPermissions=bypass, "
    "dontAsk=default with every ask denied)",
    "--resume": "run --resume",
    "--continue": "run --continue",
    "--fork-session": "run --fork",
    "--session-id": "the new session's id, or the fork's with --fork-session (a UUID; an id already "
    "stored is an error: use --resume)",
    "--system-prompt": "replaces the agent's persona prompt (empty: the persona's own)",
    "--append-system-prompt": "appended to the agent's persona prompt",
    "--tools": "the agent's tools (Claude names or ours; `default`: the agent's own)",
    "--allowedTools": "allow rules, read as .claude/settings.json's (`Bash(git log:*)` -> bash `git log *`)",
    "--disallowedTools": "deny rules, same forms",
    "--permission-prompt-tool stdio": "asks go to the SDK as can_use_tool control requests",
    "--json-schema": "the final answer validated, retried on a mismatch, returned as structured_output",
    "--setting-sources": "the config layers read: `user`, `project`, `local` (comma-separated)",
    "--settings": "Claude settings (a file or JSON text) read last, so they win: permissions, hooks, "
    "defaultMode, env; trusted, since the caller passed them",
    "--add-dir": "another folder the tools may read and write (run as sandbox.extra_roots), repeatable",
    "--mcp-config": 'MCP servers for the run, a JSON file or text ({"mcpServers": {...}}), repeatable',
    "--strict-mcp-config": "accepted, no effect: the configured servers join --mcp-config's",
    "--include-hook-events": "accepted: every hook's run is always a `system` message (subtype `hook`)",
    "--agent": "run --agent",
    "--agents": "subagents for this process (JSON {name: {description, prompt, tools?, model?}}); the SDK's "
    "`agents` option arrives the same way in `initialize`",
}

REFUSED: dict[str, str] = {
    "--system-prompt-file": "pass the text with --system-prompt",
    "--append-system-prompt-file": "pass the text with --append-system-prompt",
    "--betas": "subagent sends the betas its model client needs",
    "--plugin-dir": "subagent has no Claude Code plugins",
    "--resume-session-at": "subagent resumes a whole session (--resume, then --fork-session)",
    "--resume-drops-turn": "subagent resumes a whole session",
    "--session-mirror": "subagent stores sessions itself (`subagent sessions`)",
    "--task-budget": "set max_budget_usd (--max-budget-usd)",
    "--thinking": "thinking is set on the persona (`thinking:`)",
    "--max-thinking-tokens": "thinking is set on the persona (`thinking: {budget_tokens: N}`)",
    "--thinking-display": "thinking is set on the persona",
    "--effort": "thinking is set on the persona (`thinking: {effort: ...}`)",
}


class HeadlessOptions(BaseModel):
    """One headless invocation, in subagent's terms."""

    prompt: str | None = None
    output_format: Literal["text", "json", "stream-json"] = "text"
    input_format: Literal["text", "stream-json"] = "text"
    include_partial: bool = False
    agent: str | None = None
    model: str | None = None
    fallback_model: str | None = None
    """`--fallback-model`: asked when the model stays overloaded (529) through every retry."""
    max_turns: int | None = None
    max_budget_usd: float | None = None
    permission_mode: PermissionMode | None = None
    dont_ask: bool = False
    prompt_tool_stdio: bool = False
    resume: str | None = None
    continue_latest: bool = False
    fork: bool = False
    session_id: str | None = None
    """`--session-id`: the new session's id, a UUID."""
    system_prompt: str | None = None
    append_system_prompt: str | None = None
    tools: list[str] | None = None
    allowed: list[str] = []
    disallowed: list[str] = []
    json_schema: dict[str, Any] | None = None
    setting_sources: tuple[str, ...] | None = None
    """The config layers read (`--setting-sources`); None reads them all."""
    settings: ClaudeSettings | None = None
    """`--settings`: Claude settings given on the command line."""
    add_dirs: list[Path] = []
    """`--add-dir`: more folders the tools may read and write (resolved)."""
    mcp_servers: list[ServerDef] = []
    """The caller's MCP servers (`--mcp-config`), besides the configured ones."""
    agents: dict[str, Any] = {}
    """Claude Code agent definitions (`--agents`, or the SDK's initialize request)."""
    cwd: Path = Path(".")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit(2) with our wording
        raise ConfigError(f"{message} (subagent -p takes Claude Code's flags; see docs/headless.md)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="subagent", add_help=False, allow_abbrev=False)
    p.add_argument("prompt", nargs="?")
    for flag in ("-p", "--print"):
        p.add_argument(flag, action="store_true", dest="print")
    p.add_argument("--output-format", choices=["text", "json", "stream-json"], default="text")
    p.add_argument("--input-format", choices=["text", "stream-json"], default="text")
    for flag in (
        "--verbose",
        "--include-partial-messages",
        "--fork-session",
        "--strict-mcp-config",
        "--include-hook-events",
    ):
        p.add_argument(flag, action="store_true")
    p.add_argument("-c", "--continue", action="store_true", dest="continue_latest")
    for flag in (
        "--system-prompt",
        "--append-system-prompt",
        "--model",
        "--fallback-model",
        "--agent",
        "--resume",
        "-r",
        "--permission-prompt-tool",
        "--json-schema",
        "--setting-sources",
        "--tools",
        "--max-turns",
        "--max-budget-usd",
        "--permission-mode",
        "--agents",
        "--session-id",
    ):
        p.add_argument(flag, dest=flag.lstrip("-").replace("-", "_") if flag != "-r" else "resume")
    for flag in ("--allowedTools", "--allowed-tools", "--disallowedTools", "--disallowed-tools"):
        dest = "disallowed" if "disallowed" in flag.lower() else "allowed"
        p.add_argument(flag, action="append", dest=dest, default=[])
    p.add_argument("--mcp-config", action="append", dest="mcp_config", default=[])
    p.add_argument("--add-dir", action="append", dest="add_dir", default=[])
    p.add_argument("--settings")
    for flag in REFUSED:
        p.add_argument(flag, action="append", dest="refused_" + flag.lstrip("-").replace("-", "_"))
    return p


def _number(raw: str | None, flag: str, kind: type[int] | type[float]) -> Any:
    if raw is None:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{flag} takes a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{flag} must be above 0, not {raw!r}")
    return value


def _refusal(ns: argparse.Namespace) -> str | None:
    for flag, reason in REFUSED.items():
        if getattr(ns, "refused_" + flag.lstrip("-").replace("-", "_")):
            return f"{flag} is not supported: {reason}"
    if ns.permission_prompt_tool not in (None, "stdio"):
        return "--permission-prompt-tool takes `stdio` only: subagent asks the SDK over the control protocol"
    return None


def _fallback_model(raw: str | None, model: str | None) -> str | None:
    """`--fallback-model` as given; the same as `--model` is an error, as in Claude Code (an alias
    of it is found when the run resolves both)."""
    if raw is not None and raw == model:
        raise ConfigError(
            f"--fallback-model {raw!r} is the same as --model; name a different model, or leave it out"
        )
    return raw


def _session_id(raw: str | None, *, resuming: bool) -> str | None:
    """A `--session-id` as given, once it is known to be a UUID; with a resume only for a fork."""
    if raw is None:
        return None
    from agent.runtime.options import is_uuid

    if not is_uuid(raw):
        raise ConfigError(f"--session-id must be a valid UUID (8-4-4-4-12 hex digits), not {raw!r}")
    if resuming:
        raise ConfigError(
            "--session-id names a new session; with --resume or --continue, pass --fork-session too "
            "(the fork takes the id)"
        )
    return raw


def _schema(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        schema = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--json-schema is not JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise ConfigError("--json-schema must be a JSON object (a JSON Schema)")
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigError(f"--json-schema is not a valid JSON Schema: {exc.message}") from exc
    return schema


def _agents(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        agents = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--agents is not JSON: {exc}") from exc
    if not isinstance(agents, dict):
        raise ConfigError('--agents must be a JSON object: {"name": {"description": ..., "prompt": ...}}')
    return agents


def _setting_sources(raw: str | None) -> tuple[str, ...] | None:
    """`user,project` -> ("user", "project"); an unknown source is an error, not ignored."""
    from agent.registry.layers import SETTING_SOURCES

    if raw is None:
        return None
    sources = tuple(s.strip() for s in raw.split(",") if s.strip())
    if unknown := [s for s in sources if s not in SETTING_SOURCES]:
        raise ConfigError(
            f"--setting-sources: unknown source {unknown[0]!r}; sources: {', '.join(SETTING_SOURCES)}"
        )
    return sources


def _folder(raw: str) -> Path:
    """An `--add-dir` folder, resolved; one that is not a folder is an error, not skipped."""
    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"--add-dir {raw!r} is not a directory")
    return path


def _mcp_servers(values: list[str]) -> list[ServerDef]:
    """Every `--mcp-config` value's servers, in order (a later one of the same name wins in the run)."""
    from agent.mcpclient.project_files import servers_from_mcp_config

    return [server for value in values for server in servers_from_mcp_config(value)]


def parse(argv: list[str]) -> HeadlessOptions:
    """Read Claude Code's flags.

    Raises:
        ConfigError: an unknown flag, a refused one (with why and what to use), a bad value.
    """
    ns = _parser().parse_args(argv)
    if problem := _refusal(ns):
        raise ConfigError(problem)
    mode = ns.permission_mode or "default"
    if mode not in MODES:
        raise ConfigError(f"--permission-mode must be one of {', '.join(MODES)}, not {mode!r}")
    tools = None if ns.tools in (None, "default") else split_rules([ns.tools])
    return HeadlessOptions(
        prompt=ns.prompt,
        output_format=ns.output_format,
        input_format=ns.input_format,
        include_partial=ns.include_partial_messages,
        agent=ns.agent,
        model=ns.model,
        fallback_model=_fallback_model(ns.fallback_model, ns.model),
        max_turns=_number(ns.max_turns, "--max-turns", int),
        max_budget_usd=_number(ns.max_budget_usd, "--max-budget-usd", float),
        permission_mode=MODES[mode] if ns.permission_mode else None,
        dont_ask=mode == "dontAsk",
        prompt_tool_stdio=ns.permission_prompt_tool == "stdio",
        resume=ns.resume,
        continue_latest=ns.continue_latest,
        fork=ns.fork_session,
        session_id=_session_id(
            ns.session_id, resuming=bool(ns.resume or ns.continue_latest) and not ns.fork_session
        ),
        system_prompt=ns.system_prompt or None,
        append_system_prompt=ns.append_system_prompt or None,
        tools=tools,
        allowed=split_rules(ns.allowed),
        disallowed=split_rules(ns.disallowed),
        json_schema=_schema(ns.json_schema),
        agents=_agents(ns.agents),
        mcp_servers=_mcp_servers(ns.mcp_config),
        setting_sources=_setting_sources(ns.setting_sources),
        settings=ClaudeSettings.given(ns.settings, Path.cwd()) if ns.settings is not None else None,
        add_dirs=[_folder(raw) for raw in ns.add_dir],
    )
