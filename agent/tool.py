"""What every tool is: a pydantic input model, a kind, and `async run(input, ctx) -> ToolResult`.

The loop owns permissions, events and timing; a tool only does its job inside the context it is
given. A failure the model can act on is raised as `agent.errors.ToolFailure` (or returned as a
result with `is_error=True`); the loop turns it into an error tool result.
"""

import asyncio
import copy
import functools
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from agent.events import Event, FileChange, ToolKindName
from agent.sandbox.policy import FsPolicy, build_policy

if TYPE_CHECKING:
    from agent.sandbox.base import Sandbox


class ToolInput(BaseModel):
    """Base of every tool's input model; unknown keys are an error the model sees."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class ImageBlock(BaseModel):
    """An image a tool returns (read of a png, jpeg, gif or webp)."""

    model_config = ConfigDict(defer_build=True)

    media_type: Literal["image/png", "image/jpeg", "image/gif", "image/webp"]
    data_base64: str


class ToolResult(BaseModel):
    """What a tool call produced; `output` is what the model reads."""

    model_config = ConfigDict(defer_build=True)

    output: str
    is_error: bool = False
    images: list[ImageBlock] = []
    files_touched: list[str] = []
    """Absolute paths the call read or changed (ACP locations, the session's file list)."""
    changes: list[FileChange] = []
    """Files the call changed, each with its diff."""
    full_output_path: str | None = None
    """Where the untruncated output was saved, when it was capped."""


class PermissionRequest(BaseModel):
    """One permission a call needs, with the patterns the rules are matched against."""

    model_config = ConfigDict(defer_build=True)

    permission: str
    """`read`, `edit`, `bash`, `grep`, `glob`, `task`, `external_directory`, ..."""
    patterns: list[str]
    """For files the paths (relative to the workspace where inside it), for bash each simple command."""


@dataclass(frozen=True, eq=False, repr=False)
class OutputLimits:
    """Caps on what one tool result may hand the model."""

    max_lines: int = 2000
    max_chars: int = 40_000
    max_line_chars: int = 2000


class EditorBuffers(Protocol):
    """An editor's view of files (ACP `fs/*`); unsaved buffers win over the disk."""

    async def read_text(self, path: Path) -> str | None:
        """The buffer's text, or None when the editor does not have the file."""
        ...

    async def write_text(self, path: Path, text: str) -> None:
        """Write through the editor so it tracks the change."""
        ...


class Hasher(Protocol):
    """What the ledger needs of a hashlib object."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


@dataclass(eq=False, repr=False)
class ReadLedger:
    """What this session has read or written, by content hash, for the read-before-change guard."""

    hashes: dict[Path, str] = field(default_factory=dict)

    @staticmethod
    def hasher() -> Hasher:
        """A fresh hash of the ledger's kind, for content that arrives in pieces (a streamed read)."""
        return hashlib.sha256()

    @classmethod
    def digest(cls, data: bytes) -> str:
        hasher = cls.hasher()
        hasher.update(data)
        return hasher.hexdigest()

    def record(self, path: Path, data: bytes) -> None:
        self.hashes[path] = self.digest(data)

    def record_digest(self, path: Path, digest: str) -> None:
        """Record a digest made with `hasher()` over the file's every byte."""
        self.hashes[path] = digest

    def forget(self, path: Path) -> None:
        self.hashes.pop(path, None)


@dataclass(eq=False, repr=False)
class ToolContext:
    """Everything a tool may use, and nothing more."""

    workspace: Path
    """The primary root; relative paths resolve against it."""
    data_dir: Path
    """Where capped outputs are saved (per session)."""
    sandbox: "Sandbox | None" = None
    extra_roots: tuple[Path, ...] = ()
    """More folders the config grants read-write."""
    allow_external: bool = False
    """Set by the loop for one call once `external_directory` was allowed."""
    reads: ReadLedger = field(default_factory=ReadLedger)
    limits: OutputLimits = field(default_factory=OutputLimits)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    editor: EditorBuffers | None = None
    bash_cwd: Path | None = None
    """The working directory bash carries from one call to the next."""
    bash_timeout_s: float = 120.0
    """Default bash timeout (agents.yaml `tool_timeouts.bash`)."""
    bash_max_timeout_s: float = 600.0
    """The longest timeout a bash call may ask for (agents.yaml `tool_timeouts.bash_max`)."""
    policy: FsPolicy | None = None
    """The run's filesystem policy; when not given, the default one for these roots and data dir."""
    read_notes: Callable[[Path], str | None] | None = None
    """What the read tool appends to a good result for a path (None: nothing): the session's
    subfolder instructions, shown with the first read there (agent.prompt.instructions)."""

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = build_policy(
                workspace=self.workspace, extra_roots=self.extra_roots, outputs=self.data_dir
            )

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.workspace, *self.extra_roots)


InputT = TypeVar("InputT", bound=ToolInput)


@dataclass(frozen=True, eq=False, repr=False)
class ToolCallInfo:
    """What the loop tells one call about itself, handed to `Tool.run_call` explicitly.

    Most tools need none of it; a tool that starts work of its own (the orchestrator's `task`)
    tags that work with the call's id, sends its events into the run's stream, and looks at
    its siblings in the turn.
    """

    tool_use_id: str
    emit: Callable[[Event], None]
    """Puts an event into the run's stream, in order with the loop's own."""
    turn: tuple[tuple[str, dict[str, Any]], ...] = ()
    """(tool name, input) of every call of this turn that was allowed to run, this one included."""


class Tool(ABC, Generic[InputT]):
    """A tool the model can call. Subclasses set the class attributes and implement `run`."""

    name: ClassVar[str]
    description: ClassVar[str]
    input_model: ClassVar[type[ToolInput]]
    kind: ClassVar[ToolKindName]
    mutates: ClassVar[bool] = False
    """True when the tool may change files (a checkpoint is taken first)."""
    stored_schemas: ClassVar[Path | None] = None
    """A JSON file of entries by tool name (`definition`, `kind`, `mutates`), generated from the
    classes and committed (tools/schemas.json for the built-in tools), whose `definition`
    `schema()` reads instead of building the input model's validator and JSON schema on a run's
    way to its first request; a test fails when it differs from `generated_schema()` by a byte.
    None: generated each time."""

    @abstractmethod
    async def run(self, input: InputT, ctx: ToolContext) -> ToolResult:
        """Do the work; raise ToolFailure for errors the model can act on."""

    async def run_call(self, input: InputT, ctx: ToolContext, call: ToolCallInfo) -> ToolResult:
        """How the loop runs a call: `run`, unless the tool needs to know about the call itself."""
        return await self.run(input, ctx)

    @abstractmethod
    def permission_requests(self, input: InputT, ctx: ToolContext) -> list[PermissionRequest]:
        """The permissions this call needs (paths outside the roots add `external_directory`)."""

    def title(self, input: InputT) -> str:
        """One line a person reads in a tool call's header."""
        return self.name

    def preview(self, input: InputT, ctx: ToolContext) -> str:
        """What a person asked to allow this call reads: the command, or the change it makes.

        "" means the loop shows the input's fields instead. It must be cheap and must not fail.
        """
        return ""

    def locations(self, input: InputT, ctx: ToolContext) -> list[str]:
        """Paths (optionally `path:line`) the call is about, for front ends."""
        return []

    def announced(self, ctx: ToolContext) -> None:
        """The model has begun writing a call to this tool (its input is still streaming).

        A tool with slow preparation starts it here, in the background; it must not block.
        """

    def conflict_key(self, input: InputT, ctx: ToolContext) -> str | None:
        """Calls with the same key run in order; None means it may run beside any other.

        Reads and searches return None; edits return the file they change; bash returns "bash".
        """
        return None if not self.mutates else self.name

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The tool definition sent to the Messages API."""
        if cls.stored_schemas is not None:
            return copy.deepcopy(stored_entry(cls.stored_schemas, cls.name)["definition"])
        return cls.generated_schema()

    @classmethod
    def generated_schema(cls) -> dict[str, Any]:
        """The tool definition made from `input_model` (what `stored_schemas` holds)."""
        return {
            "name": cls.name,
            "description": cls.description,
            "input_schema": copy.deepcopy(_input_schema(cls.input_model)),
        }


def stored_entry(path: Path, name: str) -> dict[str, Any]:
    """The entry of tool `name` in a `stored_schemas` file (read once per process); the caller
    copies what it changes."""
    return _stored(path)[name]


@functools.cache
def _stored(path: Path) -> dict[str, dict[str, Any]]:
    stored: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return stored


@functools.cache
def _input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """An input model's schema, generated once per process (pydantic builds it anew on each call,
    milliseconds a tool; every run of every subagent asks for its tools' schemas)."""
    return _compact_schema(model.model_json_schema())


def _compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's `title` keys: every byte of a schema is paid for on every request."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if isinstance(value, dict):
            value = (
                _compact_schema(value)
                if key != "properties"
                else {k: _compact_schema(v) for k, v in value.items()}
            )
        out[key] = value
    return _drop_null_option(out)


def _drop_null_option(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` with `default: null` is just an optional X: send X alone."""
    options = schema.get("anyOf")
    if (
        isinstance(options, list)
        and len(options) == 2
        and {"type": "null"} in options
        and "default" in schema
        and schema["default"] is None
    ):
        kept = next(o for o in options if o != {"type": "null"})
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**kept, **rest}
    return schema
