"""The schema of `agents.yaml` (and of a workspace's `.subagent/config.yaml`).

Unknown keys are rejected with the key's dotted name and the file's path.
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import agent.registry.yaml_text as yaml_text
from agent.errors import RegistryError
from agent.hooks.config import HooksConfig
from agent.permissions.models import PermissionMode
from agent.registry.spec import ThinkingConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PriceConfig(_Strict):
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0


class ModelConfig(_Strict):
    """What the runtime knows of one model; the models API may refine the limits."""

    context_window: int = 200_000
    max_output_tokens: int = 64_000
    price: PriceConfig | None = None
    thinking: bool = True
    """Whether the model accepts extended thinking."""
    server_compaction: bool = False
    """Let the API compact long sessions (beta `compact-2026-01-12`; see docs/context.md)."""


class ToolTimeouts(_Strict):
    """Seconds. bash is the one tool that runs arbitrary commands, so the only one with a timeout."""

    bash: float = Field(120.0, gt=0)
    """A bash call's timeout when it asks for none."""
    bash_max: float = Field(600.0, gt=0)
    """The longest timeout a bash call may ask for (`timeout_ms`); longer asks are cut to it."""


class SandboxConfig(_Strict):
    kind: Literal["bwrap", "none"] = "bwrap"
    """`none` runs bash unsandboxed, and every call says so."""
    extra_roots: list[str] = []
    """More folders bound read-write."""
    home_visible: list[str] = []
    """More folders of HOME that bash may read (relative to HOME), besides the toolchain folders
    of `agent.sandbox.policy.DEFAULT_HOME_VISIBLE`; the rest of HOME is hidden."""
    max_processes: int = 512
    max_memory_mb: int = 4096
    """Per process (RLIMIT_DATA); and per call, shared memory and tmpfs included, where the
    runtime can have a memory cgroup (`subagent doctor` says whether it can)."""
    max_file_mb: int = 4096
    """The largest file a command may write (RLIMIT_FSIZE): a write past it stops the writer
    (SIGXFSZ, "File size limit exceeded"). 0 (or less) lets no file grow."""
    tmp_size_mb: int = 1024
    """The size of bash's private /tmp, /dev/shm, /run and HOME, each (at least 1 MB: a tmpfs of
    size 0 would have no limit at all)."""
    env: list[str] = []
    """More environment variable names passed into bash (never ones naming a key, token or secret)."""


class Defaults(_Strict):
    model: str = "claude-sonnet-5-5"
    max_turns: int = 50
    max_output_tokens: int = 16_000
    max_budget_usd: float | None = None
    permission_mode: PermissionMode = "default"
    tool_timeouts: ToolTimeouts = ToolTimeouts()
    max_parallel_tasks: int = 4
    worktrees: Literal["auto", "reflink", "checkout"] = "auto"
    """How a subagent that needs a tree of its own gets it: `auto` copy-on-write (an overlay of one
    cached checkout per snapshot) where the runtime may mount, else a reflinked copy of that
    checkout where the file system has reflinks, else a checkout; `reflink` skips the overlay;
    `checkout` always."""
    max_depth: int = 2
    verify_rounds: int = 2
    ask_timeout_s: float = 300.0
    sandbox: SandboxConfig = SandboxConfig()
    context_reserve_tokens: int = 20_000
    """Compact before the context comes this close to the window."""
    prompt_caching: bool = True
    """Place cache breakpoints (turn off for an endpoint that rejects `cache_control`)."""
    elide_tool_outputs: bool = True
    """Replace old large tool outputs by a note naming the file that keeps them (docs/context.md)."""


class AgentEntry(_Strict):
    """An agent in the registry: a persona file, overrides, or a whole agent inline."""

    prompt_file: str | None = Field(None, alias="prompt")
    """Persona file, relative to the registry file."""
    description: str | None = None
    mode: Literal["primary", "subagent", "all"] | None = None
    model: str | None = None
    temperature: float | None = None
    tools: dict[str, bool] | list[str] | None = None
    permission: dict[str, Any] | str | None = None
    max_turns: int | None = None
    max_output_tokens: int | None = None
    thinking: ThinkingConfig | None = None
    verify: str | None = None
    network: bool | None = None
    can_delegate: bool | None = None
    disable: bool | None = None


class RegistryConfig(_Strict):
    version: Literal[1] = 1
    defaults: Defaults = Defaults()
    models: dict[str, ModelConfig] = {}
    aliases: dict[str, str] = {}
    """Short names (`sonnet`, `opus`, `haiku`) to model ids."""
    agents: dict[str, AgentEntry] = {}
    permission: dict[str, Any] | str | None = None
    """Rules for every agent (opencode's `permission` form)."""
    hooks: HooksConfig = {}
    """Commands run at fixed points of every run (Claude Code's `hooks` form; docs/hooks.md).
    Every file's hooks run, in the order of the layers."""
    mcp_servers: dict[str, dict[str, Any]] = {}
    """MCP servers whose tools every agent gets, in Claude Code's `mcpServers` shape (read and
    checked by `agent.mcpclient.sources`; a workspace's start only when approved)."""


def load_registry(path: Path) -> RegistryConfig:
    """Parse and validate a registry file; errors name the file and the key."""
    try:
        raw = yaml_text.load(path.read_text(encoding="utf-8")) or {}
    except yaml_text.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise RegistryError(path, f"invalid YAML{line}: {exc}") from exc
    except OSError as exc:
        raise RegistryError(path, f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(
            path,
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); a config "
            "file is YAML text: rewrite it, or delete it to use the defaults",
        ) from exc
    if not isinstance(raw, dict):
        raise RegistryError(path, "the top level must be a mapping")
    try:
        return RegistryConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        reason = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise RegistryError(path, reason, key=key) from exc
