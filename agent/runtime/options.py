"""`RunOptions`: everything one run is asked to do, as one validated model.

Every front end (run, chat, demo, dispatch's children, ACP, MCP, the Temporal worker) and the
Python API build one and hand it to `agent.api.run_events` (the runtime's `run_events` with the
orchestrator's `task` tool composed in); `agent.api.run_agent(prompt, **fields)` is the keyword
form of the same thing. One model instead of nineteen keyword
arguments, so a new option is added, validated and documented in one place, and a wrong value
is refused before anything starts, with the option's name in the message.

The collaborators a run may be handed (approver, model client, cancel event, parts, editor
buffers, parent link) are carried as they are: they are protocols and live objects, not data.

Example:
    options = RunOptions(prompt="add a /health endpoint", agent="backend-engineer", cwd=Path("."))
    async for event in run_events(options):
        ...
"""

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, ValidationError, model_validator

from agent import DEFAULT_AGENT
from agent.errors import ConfigError
from agent.mcpclient.config import ServerDef
from agent.mcpclient.for_run import KeptHub
from agent.model.base import ModelClient
from agent.permissions.always import AlwaysMemory
from agent.permissions.models import Approver, PermissionMode
from agent.prompt.command_grant import ToolGrant
from agent.runtime.parts import RuntimeParts
from agent.tool import EditorBuffers


class RunOptions(BaseModel):
    """One run of one agent on one task (or one compaction of a stored session)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True)

    prompt: str | None = None
    """The task; None only with `compact_only`."""
    agent: str = DEFAULT_AGENT
    cwd: Path
    """The workspace; resolved to an absolute path by the runtime."""
    model: str | None = None
    """A model id or alias; None takes the agent's, then the config's default."""
    fallback_model: str | None = None
    """A model id or alias asked for a turn the model stays overloaded on through every retry
    (Claude Code's `--fallback-model`); the run's own model is an error."""
    max_turns: int | None = Field(default=None, ge=1)
    permission_mode: PermissionMode | None = None
    resume: str | None = None
    """A stored session's id to continue."""
    continue_latest: bool = False
    """Continue the workspace's latest session."""
    compact_only: bool = False
    """With `resume` (or `continue_latest`) and no prompt: compact the history now, no model turn."""
    fork: bool = False
    """Continue a copy of the resumed session, leaving the original as it was."""
    session_id: str | None = None
    """The new session's id (a UUID, as Claude Code's `--session-id`); an id already stored is an
    error. With `resume` or `continue_latest` only when `fork`: it names the fork."""
    max_budget_usd: float | None = Field(default=None, ge=0)
    parent_tool_use_id: str | None = None
    """Set for a subagent: the parent's `task` call this run answers."""
    parent_model: str | None = None
    """The parent's resolved model (a persona's `model: inherit`)."""
    trust: bool = False
    """Trust the workspace for this run (`--trust`; docs/security.md)."""
    approver: SkipValidation[Approver | None] = None
    """Who answers `ask`; None takes the runtime's headless approver."""
    grant: ToolGrant | None = None
    """A custom command's `allowed-tools`: allowed without asking for this run only (a subagent's
    gate inherits it with the rest of its parent's rules)."""
    always: SkipValidation[AlwaysMemory | None] = None
    """The session's `always` answers, when the session outlives this run (a chat, an ACP or MCP
    session, a dispatch); None keeps them for this run only."""
    model_client: SkipValidation[ModelClient | None] = None
    """None makes the Messages API client from the environment."""
    cancel: SkipValidation[asyncio.Event | None] = None
    parts: SkipValidation[RuntimeParts | None] = None
    """The runtime's collaborators; None takes `default_parts()` (with the `task` tool, through
    `agent.api.run_events`)."""
    editor: SkipValidation[EditorBuffers | None] = None
    """An editor's unsaved buffers (ACP), read instead of the files on disk."""
    mcp_servers: SkipValidation[Sequence[ServerDef]] = ()
    """MCP servers the caller names (an editor's, over ACP), besides the configured ones."""
    mcp_kept: SkipValidation[KeptHub | None] = None
    """The servers of a session that outlives this run (an ACP session): started by its first run,
    reused by the next, stopped by the front end when the session ends; None: with this run."""
    parent: SkipValidation[Any] = None
    """An `agent.orchestrator.link.ParentLink` when this run is a subagent (typed loosely so the
    runtime does not import the orchestrator)."""

    @model_validator(mode="after")
    def _compact_needs_a_session(self) -> "RunOptions":
        if self.compact_only and (self.prompt or not (self.resume or self.continue_latest)):
            raise ValueError("compact_only compacts an existing session: give resume=ID and no prompt")
        return self

    @model_validator(mode="after")
    def _session_id_is_a_new_uuid(self) -> "RunOptions":
        if self.session_id is None:
            return self
        if not is_uuid(self.session_id):
            raise ValueError(f"session_id must be a UUID (8-4-4-4-12 hex digits), not {self.session_id!r}")
        if (self.resume or self.continue_latest) and not self.fork:
            raise ValueError("session_id names a new session: with resume or continue_latest, only a fork")
        return self

    @classmethod
    def build(cls, **fields: Any) -> "RunOptions":
        """A `RunOptions` from keywords, with a ConfigError that names the option on bad input
        (the Python API's keyword form; a front end with typed values calls the model directly)."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from exc


def is_uuid(text: str) -> bool:
    """`text` is a UUID in its usual hyphenated form (either case), as Claude Code's ids are."""
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _describe(exc: ValidationError) -> str:
    """`run option `max_turns`: Input should be greater than or equal to 1`, one line per problem."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"run option `{where}`: {message}" if where else f"run options: {message}")
    return "; ".join(lines)
