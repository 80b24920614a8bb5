"""The one event stream every front end consumes.

`agent.loop.agent_loop` yields these; the rich renderer, `--output stream-json`, ACP, MCP and the Python API
are adapters over them. Each event carries the session it belongs to and, for a subagent's events,
the id of the parent's `task` tool call. See docs/events.md for the contract.
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from agent.transcript import Content

ResultSubtype = Literal[
    "success",
    "error_max_turns",
    "error_max_budget",
    "error_during_execution",
    "error_permission_denied",
    "cancelled",
]
ToolKindName = Literal["read", "edit", "search", "execute", "other"]


class Usage(BaseModel):
    """Token counts as the Messages API reports them."""

    model_config = ConfigDict(defer_build=True)

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + other.cache_creation_input_tokens,
        )

    @property
    def context_tokens(self) -> int:
        """Tokens of prompt the request carried (what fills the context window)."""
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens


class FileChange(BaseModel):
    """One file a tool changed, with enough to show the change."""

    model_config = ConfigDict(defer_build=True)

    path: str
    """Absolute path after the change (the new path for a move)."""
    action: Literal["add", "update", "delete", "move"]
    diff: str = ""
    """Unified diff of the change."""
    old_text: str | None = None
    """Whole text before (None for a new file); front ends such as ACP show diffs from it."""
    new_text: str | None = None
    """Whole text after (None for a deleted file)."""
    old_path: str | None = None
    """Where a moved file came from."""


class PermissionDenial(BaseModel):
    """A call that was refused, as reported in the result."""

    model_config = ConfigDict(defer_build=True)

    tool_name: str
    tool_use_id: str
    tool_input: dict[str, Any]
    reason: str


SandboxState = Literal["bwrap", "none", "unavailable"]


class McpServerState(BaseModel):
    """One of the run's MCP servers as the run starts, in Claude Code's status words."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    status: Literal["connected", "failed", "disabled", "pending"]
    """`pending`: starting, in the background (the run does not wait for its servers, so this is
    what most are at its first event); `connected`: started, its tools listed; `failed`: it did
    not start or list its tools (`error` says why); `disabled`: configured but not started (an
    untrusted workspace's server the user has not approved)."""
    error: str | None = None


class RunBoundary(BaseModel):
    """What confines a run, as its `session_started` event tells every front end."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sandbox: SandboxState | None = None
    """How bash runs: `bwrap` (sandboxed), `none` (unsandboxed: `sandbox: {kind: none}`),
    `unavailable` (bubblewrap cannot run here, so bash refuses every call); None: no bash tool."""
    network: bool = False
    """Whether bash can reach the network (the agent's `network: true`, or no sandbox at all)."""
    trusted: bool = False
    """Whether the workspace is trusted (`subagent trust`, `--trust`): its config applied as written."""
    refused: list[str] = []
    """One line per workspace key the run goes without (file, key, why, how to trust the folder)."""
    mcp_servers: list[McpServerState] = []
    """The MCP servers the run started or left out (programs that run as the user, outside the
    sandbox); the root's event only, a subagent shares its root's."""

    def notices(self) -> list[str]:
        """The warnings a person must see before the run does anything (empty when there are
        none): the same lines on every front end (the text view, chat, ACP, MCP). Nothing is said
        when bash is sandboxed without network and no workspace key was refused."""
        lines: list[str] = []
        if self.sandbox == "none":
            lines.append(
                "bash runs WITHOUT a sandbox (`sandbox: {kind: none}`): its commands can read and "
                "change anything your user can"
            )
        if self.network:
            why = "" if self.sandbox == "none" else " (`network: true`)"
            lines.append(f"bash can reach the network{why}")
        lines += [f"refused: {line}" for line in self.refused]
        return lines


class _EventBase(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    session_id: str
    parent_tool_use_id: str | None = None
    """Set on a subagent's events: the parent's `task` tool call that started it."""


class SessionStartedEvent(RunBoundary, _EventBase):
    type: Literal["session_started"] = "session_started"
    agent: str
    model: str
    cwd: str
    tools: list[str]
    resumed: bool = False
    context_window: int = 0
    """The model's context window in tokens, as the run resolved it (agents.yaml `models:`, then the
    models API); 0 when unknown."""

    def boundary(self) -> RunBoundary:
        """The run's boundary alone (sandbox, network, trusted, refused)."""
        return RunBoundary(**{name: getattr(self, name) for name in RunBoundary.model_fields})


class TurnStartedEvent(_EventBase):
    type: Literal["turn_started"] = "turn_started"
    turn: int
    """1-based number of the model turn about to be requested."""


class TextDeltaEvent(_EventBase):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDeltaEvent(_EventBase):
    type: Literal["thinking_delta"] = "thinking_delta"
    text: str


class AssistantMessageEvent(_EventBase):
    type: Literal["assistant_message"] = "assistant_message"
    content: Content
    """The complete assistant message as sent back to the API (text, thinking, tool_use blocks)."""
    stop_reason: str | None


class ToolCallStartedEvent(_EventBase):
    type: Literal["tool_call_started"] = "tool_call_started"
    tool_use_id: str
    name: str
    input: dict[str, Any]
    kind: ToolKindName
    title: str
    """One line a person reads: `read src/app.py`, `bash: pytest -q`."""
    locations: list[str] = []
    """Paths (with `:line` where known) the call is about."""


class PermissionAskedEvent(_EventBase):
    type: Literal["permission_asked"] = "permission_asked"
    tool_use_id: str
    tool_name: str
    permission: str
    patterns: list[str]
    title: str


class PermissionAnsweredEvent(_EventBase):
    type: Literal["permission_answered"] = "permission_answered"
    tool_use_id: str
    decision: Literal["allow", "deny"]
    scope: Literal["once", "always", "rule"] = "once"
    reason: str = ""
    updated_input: dict[str, Any] | None = None
    """With an allow: the input the approver changed the call to, which is what runs (after the
    deny rules are checked on it again)."""


class ToolCallFinishedEvent(_EventBase):
    type: Literal["tool_call_finished"] = "tool_call_finished"
    tool_use_id: str
    name: str
    output: str
    is_error: bool
    duration_ms: float
    files_touched: list[str] = []
    changes: list[FileChange] = []


class UsageEvent(_EventBase):
    type: Literal["usage"] = "usage"
    turn: int
    usage: Usage
    """This turn's usage."""
    total: Usage
    cost_usd: float
    """Cost of the session so far."""
    model: str = ""
    """The model that answered this turn: the session's, or its fallback after a `model_fallback`."""
    turn_cost_usd: float = 0.0
    """This turn's cost, at `model`'s price."""


class SubagentStartedEvent(_EventBase):
    type: Literal["subagent_started"] = "subagent_started"
    child_session_id: str
    agent: str
    description: str
    worktree: Literal["overlay", "reflink", "checkout"] | None = None
    """The child's own tree: `overlay` or `reflink` (copy-on-write), `checkout`; None when it works
    in place."""


class SubagentFinishedEvent(_EventBase):
    type: Literal["subagent_finished"] = "subagent_finished"
    child_session_id: str
    agent: str
    subtype: ResultSubtype
    files_changed: list[str] = []


class CompactionEvent(_EventBase):
    type: Literal["compaction"] = "compaction"
    tokens_before: int
    tokens_after: int
    method: Literal["summary", "elision", "server"]


class HookEvent(_EventBase):
    type: Literal["hook"] = "hook"
    hook_event: str
    """The point of the run (`PreToolUse`, `Stop`, ...)."""
    command: str
    source: str
    """The config file that declared the hook."""
    exit_code: int | None
    """None when it did not finish (timeout) or could not start."""
    decision: str | None = None
    """`allow`, `deny`, `ask` or `block` when the hook decided something."""
    message: str = ""
    """Its reason, its message for the person, or why it failed."""
    failed: bool = False
    """The hook failed (exit other than 0 and 2, timeout, bad JSON, no sandbox): the run went on."""


class ModelFallbackEvent(_EventBase):
    """The model stayed overloaded through every retry; this turn, asked again from its start, goes
    to the fallback model (`--fallback-model`). Each turn asks the session's model first."""

    type: Literal["model_fallback"] = "model_fallback"
    from_model: str
    to_model: str
    reason: str
    """The last failure of `from_model`."""


class ErrorEvent(_EventBase):
    type: Literal["error"] = "error"
    message: str
    error_type: str
    retrying: bool = False
    """True when the loop will try again (a retried model turn)."""


class ResultEvent(_EventBase):
    type: Literal["result"] = "result"
    subtype: ResultSubtype
    is_error: bool
    result: str
    """The final assistant text."""
    num_turns: int
    usage: Usage
    total_cost_usd: float
    duration_ms: float
    permission_denials: list[PermissionDenial] = []
    files_changed: list[str] = []


Event = Annotated[
    SessionStartedEvent
    | TurnStartedEvent
    | TextDeltaEvent
    | ThinkingDeltaEvent
    | AssistantMessageEvent
    | ToolCallStartedEvent
    | PermissionAskedEvent
    | PermissionAnsweredEvent
    | ToolCallFinishedEvent
    | UsageEvent
    | SubagentStartedEvent
    | SubagentFinishedEvent
    | CompactionEvent
    | HookEvent
    | ModelFallbackEvent
    | ErrorEvent
    | ResultEvent,
    Field(discriminator="type"),
]

EventT = TypeVar("EventT", bound=Event)
"""One kind of event (the loop's and the tool runner's event factories return the kind asked for)."""
EventSink = Callable[[Event], None]
"""Where a piece of work puts the events it produces (the loop's stream yields them)."""

EventAdapter: TypeAdapter[Event] = TypeAdapter(Event, config=ConfigDict(defer_build=True))
"""The one JSON parser and serialiser for events (built at its first use: a run that parses no
events, as a run on its way to its first request, builds none of the kinds it does not send)."""
