"""The session store seam. The store is synchronous; async callers use `asyncio.to_thread`."""

import builtins
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from agent.events import Usage
from agent.transcript import Block, Content, Message, Transcript

SessionStatus = Literal["running", "completed", "error", "cancelled", "interrupted"]


class SessionRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    parent_id: str | None = None
    parent_tool_use_id: str | None = None
    agent: str
    model: str = ""
    workspace: str
    title: str = ""
    status: SessionStatus = "running"
    created: datetime
    updated: datetime
    usage: Usage = Usage()
    cost_usd: float = 0.0
    num_turns: int = 0


class StoredMessage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    session_id: str
    seq: int
    role: Literal["user", "assistant"]
    content: Content
    """Messages API content blocks, exactly as sent or received."""
    created: datetime


class CheckpointRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    session_id: str
    step: int
    """The tool-call step the snapshot was taken before (1-based within the session)."""
    commit: str
    tool_use_id: str = ""
    label: str = ""
    """`edit src/app.py`, `bash: rm -rf build`."""
    created: datetime


class MarkRecord(BaseModel):
    """A point in a workspace's history where no session's step was under way.

    `end`: a run of `session_id` ended, and `commit` is the workspace then. `undo`: `subagent undo` or
    chat's `/undo` restored `session_id`'s work to before step `step`. With the checkpoints they split the
    workspace's history into spans, each changed by one session's step or by none (a person, an
    undo), which is how `undo` tells one session's changes from another's.
    """

    model_config = ConfigDict(defer_build=True)

    workspace: str
    commit: str
    kind: Literal["end", "undo"]
    session_id: str
    step: int = 0
    created: datetime


class CompactionRecord(BaseModel):
    """A compaction the loop applied: `messages` stand for every stored message up to `upto_seq`.

    The stored messages stay (`sessions show` lists them all); a resumed run starts from
    `messages` plus what was stored after `upto_seq`, so it does not compact again.
    """

    model_config = ConfigDict(defer_build=True)

    session_id: str
    upto_seq: int
    """The seq of the last stored message the compaction covers (0: none, all were in memory)."""
    messages: Transcript
    """Messages API messages (`role`, `content`) that replace those up to `upto_seq`."""
    method: Literal["summary", "elision"]
    tokens_before: int
    tokens_after: int
    created: datetime


class ResumeHistory(BaseModel):
    """What a resumed run starts from (`SessionStore.messages_for_resume`)."""

    model_config = ConfigDict(defer_build=True)

    messages: Transcript
    """Messages API messages: the latest compaction's, then every message stored after it."""
    last_seq: int = 0
    """The seq of the last stored message (0: none); the loop records compactions against it."""
    compacted_upto: int = 0
    """The `upto_seq` of the compaction used (0: none, the whole transcript)."""


class SessionStore(Protocol):
    def create(
        self,
        *,
        agent: str,
        workspace: Path,
        model: str = "",
        parent_id: str | None = None,
        parent_tool_use_id: str | None = None,
        title: str = "",
        session_id: str | None = None,
    ) -> SessionRecord: ...

    def get(self, session_id: str) -> SessionRecord:
        """Raises SessionError when there is no such session (ids may be given as a unique prefix)."""
        ...

    def list(self, workspace: Path | None = None, limit: int = 50) -> builtins.list[SessionRecord]:
        """Newest first."""
        ...

    def latest(self, workspace: Path) -> SessionRecord | None: ...

    def append_message(
        self, session_id: str, role: str, content: Sequence[Block], *, merge: bool = False
    ) -> int:
        """Append one complete message in its own transaction; returns its seq. `merge`: a user
        message after a stored user message joins it, as the loop sends them (one message)."""
        ...

    def messages(self, session_id: str) -> builtins.list[StoredMessage]: ...

    def record_compaction(
        self,
        session_id: str,
        upto_seq: int,
        messages: Sequence[Message],
        method: str,
        tokens_before: int,
        tokens_after: int,
    ) -> None:
        """Store a compaction of the messages up to `upto_seq`; nothing stored is deleted."""
        ...

    def compactions(self, session_id: str) -> builtins.list[CompactionRecord]:
        """The session's compactions, oldest first."""
        ...

    def messages_for_resume(self, session_id: str) -> ResumeHistory:
        """The latest compaction's messages followed by those stored after it (all, if none)."""
        ...

    def update(
        self,
        session_id: str,
        *,
        status: SessionStatus | None = None,
        usage: Usage | None = None,
        cost_usd: float | None = None,
        num_turns: int | None = None,
        title: str | None = None,
        model: str | None = None,
    ) -> None: ...

    def lock(self, session_id: str) -> AbstractContextManager[None]:
        """Hold the session for this process; raises SessionLockedError when another holds it."""
        ...

    def mark_tool_started(self, session_id: str, tool_use_id: str) -> None:
        """Record, before a tool runs, that it began; transcript repair after a crash reports it."""
        ...

    def started_tools(self, session_id: str) -> set[str]:
        """Ids of the session's tool calls that were marked as started."""
        ...

    def record_checkpoint(self, record: CheckpointRecord) -> None: ...

    def record_mark(self, record: MarkRecord) -> None:
        """Store a point where no step was under way (a run's end, an undo)."""
        ...

    def checkpoints(self, session_id: str) -> builtins.list[CheckpointRecord]: ...

    def fork(self, session_id: str, new_id: str | None = None) -> SessionRecord:
        """A new session with a copy of the messages; `new_id` names it (None: a generated id)."""
        ...

    def output_dir(self, session_id: str) -> Path:
        """Where capped tool outputs of this session are saved."""
        ...

    def marks(self, workspace: Path) -> builtins.list[MarkRecord]:
        """The workspace's marks, oldest first (`subagent undo` tells runs apart by them)."""
        ...

    def workspace_checkpoints(self, workspace: Path) -> builtins.list[CheckpointRecord]:
        """Every checkpoint of every session that worked in `workspace`, oldest first."""
        ...

    def session_tree(self, session_id: str) -> set[str]:
        """The session and every subagent session below it."""
        ...

    def close(self) -> None:
        """Release the store's connection; a front end that opened it closes it."""
        ...


@runtime_checkable
class RelaxableStore(Protocol):
    """A store whose commits can stop waiting for the disk (the SQLite store's)."""

    def relax_commits(self) -> None:
        """Commits stop waiting for the disk; one still survives the process's crash."""
        ...
