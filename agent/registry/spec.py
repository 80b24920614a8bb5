"""`AgentSpec`: one agent, resolved from whichever persona dialect or registry entry defined it."""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent.permissions.models import PermissionRule

TOOL_NAMES = ("read", "edit", "write", "grep", "glob", "bash", "patch")
"""The seven built-in tools; primary agents also get `task`."""


class ThinkingConfig(BaseModel):
    """Extended thinking: a token budget, or an effort level the model maps to one."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    budget_tokens: int | None = None
    effort: Literal["low", "medium", "high"] | None = None


class AgentSpec(BaseModel):
    """Everything the runtime needs to run one agent."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    description: str = ""
    mode: Literal["primary", "subagent", "all"] = "all"
    prompt: str
    """The persona body: the system prompt, as written."""
    model: str | None = None
    """A model id or alias as written (`sonnet`, `inherit`, `anthropic/claude-...`); resolved later."""
    temperature: float | None = None
    top_p: float | None = None
    tools: list[str] = list(TOOL_NAMES)
    """Enabled tools, after the persona's `tools` map or list was applied."""
    permission: list[PermissionRule] = []
    """Rules from the persona and registry, in order (last match wins)."""
    max_turns: int | None = None
    max_output_tokens: int | None = None
    thinking: ThinkingConfig | None = None
    verify: str | None = None
    """A command run in the sandbox when a child reports done (e.g. the project's tests)."""
    network: bool = False
    """Whether bash may reach the network."""
    can_delegate: bool | None = None
    """Whether this agent gets the `task` tool; None means: primary agents do."""
    hidden: bool = False
    disable: bool = False
    color: str | None = None
    skills: list[str] | None = None
    """Skills whose instructions the agent starts with (Claude Code's `skills:`); the others
    stay listed, read on demand."""
    options: dict[str, Any] = {}
    """Unknown opencode keys, passed to the model as options."""
    mcp_servers: dict[str, Any] = {}
    """MCP servers the persona defines (`mcpServers`, Claude Code's shape), for its runs
    (`agent.mcpclient`; a workspace persona's start only when approved)."""
    source: Path | None = None
    """The file that defined the agent (None for built-in defaults)."""
    dialect: Literal["opencode", "claude", "registry"] = "opencode"


EDITING_TOOLS = frozenset({"edit", "write", "patch", "bash"})
"""An agent with any of these may change files (a child then needs its own worktree beside siblings)."""


def may_delegate(spec: AgentSpec, depth: int, max_depth: int) -> bool:
    """Whether an agent at `depth` gets the `task` tool.

    A root agent delegates when it says so (`can_delegate: true`) or is a primary agent that does
    not refuse; a child only when its config allows it. No child is started below `max_depth`.
    """
    if depth + 1 > max_depth:
        return False
    if spec.can_delegate is not None:
        return spec.can_delegate
    return depth == 0 and spec.mode in ("primary", "all")


def may_edit(spec: AgentSpec) -> bool:
    """Whether the agent has a tool that can change files."""
    return bool(EDITING_TOOLS & set(spec.tools))
