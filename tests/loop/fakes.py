"""Small real implementations of the loop's collaborators, for tests without the other packages."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from agent.errors import SessionError, SessionLockedError, UnknownSessionError
from agent.events import FileChange
from agent.permissions.models import AskAnswer, AskRequest
from agent.sessions.base import (
    CheckpointRecord,
    CompactionRecord,
    MarkRecord,
    ResumeHistory,
    SessionRecord,
    StoredMessage,
)
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.transcript import Block, Message, blocks_to_wire


class NoteInput(ToolInput):
    name: str
    text: str = ""


class ReadNoteTool(Tool[NoteInput]):
    """Reads a file of the workspace; waits on `gate_event` when given, to prove concurrency."""

    name: ClassVar[str] = "read_note"
    description: ClassVar[str] = "Read a note."
    input_model: ClassVar[type[ToolInput]] = NoteInput
    kind: ClassVar = "read"
    barrier: ClassVar[asyncio.Barrier | None] = None
    started: ClassVar[asyncio.Event | None] = None

    async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
        if self.started is not None:
            self.started.set()
        if self.barrier is not None:
            await asyncio.wait_for(self.barrier.wait(), 5)
        path = ctx.workspace / input.name
        return ToolResult(output=path.read_text(), files_touched=[str(path)])

    def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="read", patterns=[input.name])]

    def title(self, input: NoteInput) -> str:
        return f"read {input.name}"


class WriteNoteTool(Tool[NoteInput]):
    """Appends to a file; same-file calls share a conflict key and must run in order."""

    name: ClassVar[str] = "write_note"
    description: ClassVar[str] = "Append to a note."
    input_model: ClassVar[type[ToolInput]] = NoteInput
    kind: ClassVar = "edit"
    mutates: ClassVar[bool] = True
    order: ClassVar[list[str]] = []

    async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace / input.name
        before = path.read_text() if path.exists() else ""
        await asyncio.sleep(0.01 if input.text.startswith("slow") else 0)
        self.order.append(input.text)
        path.write_text(before + input.text)
        return ToolResult(output="ok", changes=[FileChange(path=str(path), action="update")])

    def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="edit", patterns=[input.name])]

    def conflict_key(self, input: NoteInput, ctx: ToolContext) -> str | None:
        return input.name


class SleepTool(Tool[NoteInput]):
    name: ClassVar[str] = "sleep"
    description: ClassVar[str] = "Sleep a long time."
    input_model: ClassVar[type[ToolInput]] = NoteInput
    kind: ClassVar = "execute"
    started: ClassVar[asyncio.Event | None] = None

    async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
        if self.started is not None:
            self.started.set()
        await asyncio.sleep(60)
        return ToolResult(output="woke")

    def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return [PermissionRequest(permission="bash", patterns=["sleep"])]


class Verdict:
    def __init__(self, decision: str, reason: str, permission: str, patterns: list[str]) -> None:
        self.decision, self.reason, self.permission, self.patterns = decision, reason, permission, patterns


class TableGate:
    """Decides by permission name from a table; asks are answered by `answer`."""

    def __init__(self, table: dict[str, str] | None = None, answer: str = "allow") -> None:
        self.table = table or {}
        self.answer = answer
        self.asked: list[AskRequest] = []

    def evaluate(
        self, tool_name: str, tool_input: dict[str, Any], requests: list[PermissionRequest]
    ) -> Verdict:
        for req in requests:
            decision = self.table.get(req.permission, "allow")
            if decision != "allow":
                return Verdict(
                    decision, f"{req.permission} is {decision} by rule", req.permission, req.patterns
                )
        return Verdict("allow", "", "", [])

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.asked.append(request)
        return AskAnswer(decision=self.answer, message="" if self.answer == "allow" else "the user said no")  # type: ignore[arg-type]


class MemoryStore:
    """The SessionStore protocol kept in memory, held to the SQLite store's behaviour by
    tests/sessions/test_store_conformance.py (the same tests run on both)."""

    def __init__(self, outputs: Path | None = None) -> None:
        self.outputs = outputs
        """Where `output_dir` puts each session's saved outputs (None: a new temporary folder)."""
        self.rows: list[StoredMessage] = []
        self.updates: list[dict[str, Any]] = []
        """Every `update` call's fields, in order (tests read what the loop reported)."""
        self.sessions: dict[str, SessionRecord] = {}
        self.checkpoint_rows: list[CheckpointRecord] = []
        self.mark_rows: list[MarkRecord] = []
        self.started: dict[str, set[str]] = {}
        self.compaction_rows: list[CompactionRecord] = []
        self.held: set[str] = set()
        self.closed = False
        """Set by `close`: a front end that opened the store through the parts seam closed it."""

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
    ) -> SessionRecord:
        sid = session_id or f"ses_{len(self.sessions) + 1:014x}"  # sorts by creation, as the real ids
        if sid in self.sessions:
            raise SessionError(f"cannot create session {sid}: it exists")
        now = datetime.now(UTC)
        record = SessionRecord(
            id=sid,
            agent=agent,
            model=model,
            workspace=str(Path(workspace).resolve()),
            title=title,
            parent_id=parent_id,
            parent_tool_use_id=parent_tool_use_id,
            created=now,
            updated=now,
        )
        self.sessions[record.id] = record
        return record

    def get(self, session_id: str) -> SessionRecord:
        if session_id in self.sessions:
            return self.sessions[session_id]
        found = [sid for sid in self.sessions if sid.startswith(session_id)]
        if not found:
            raise UnknownSessionError(f"no session {session_id!r}; `subagent sessions list --all` shows them")
        if len(found) > 1:
            raise UnknownSessionError(f"session id prefix {session_id!r} is ambiguous; give more characters")
        return self.sessions[found[0]]

    def list(self, workspace: Path | None = None, limit: int = 50) -> list[SessionRecord]:
        where = None if workspace is None else str(Path(workspace).resolve())
        mine = [r for r in self.sessions.values() if where is None or r.workspace == where]
        newest = sorted(mine, key=lambda r: r.id, reverse=True)[:limit]
        return [
            r.model_copy(update={"status": "interrupted"})
            if r.status == "running" and r.id not in self.held
            else r
            for r in newest
        ]

    def latest(self, workspace: Path) -> SessionRecord | None:
        where = str(Path(workspace).resolve())
        mine = [r for r in self.sessions.values() if r.workspace == where and r.parent_id is None]
        return max(mine, key=lambda r: r.id) if mine else None

    def fork(self, session_id: str, new_id: str | None = None) -> SessionRecord:
        old = self.get(session_id)
        new = self.create(
            session_id=new_id,
            agent=old.agent,
            workspace=Path(old.workspace),
            model=old.model,
            parent_id=old.parent_id,
            parent_tool_use_id=old.parent_tool_use_id,
            title=old.title,
        )
        copied = new.model_copy(
            update={"usage": old.usage, "cost_usd": old.cost_usd, "num_turns": old.num_turns}
        )
        self.sessions[new.id] = copied
        for row in self.messages(old.id):
            self.rows.append(row.model_copy(update={"session_id": new.id}, deep=True))
        for done in self.compactions(old.id):
            self.compaction_rows.append(done.model_copy(update={"session_id": new.id}, deep=True))
        return copied

    def mark_tool_started(self, session_id: str, tool_use_id: str) -> None:
        self.started.setdefault(session_id, set()).add(tool_use_id)

    def started_tools(self, session_id: str) -> set[str]:
        return set(self.started.get(session_id, set()))

    def append_message(
        self, session_id: str, role: str, content: Sequence[Block], *, merge: bool = False
    ) -> int:
        if role not in ("user", "assistant"):
            raise SessionError(f"message role must be 'user' or 'assistant', not {role!r}")
        if session_id not in self.sessions:
            raise SessionError(f"no session {session_id!r} to append to")
        mine = self.messages(session_id)
        covered = max((c.upto_seq for c in self.compactions(session_id)[-1:]), default=0)
        if merge and role == "user" and mine and mine[-1].role == "user" and mine[-1].seq > covered:
            mine[-1].content = [*mine[-1].content, *content]
            return mine[-1].seq
        seq = mine[-1].seq + 1 if mine else 1
        self.rows.append(
            StoredMessage(
                session_id=session_id,
                seq=seq,
                role=role,  # type: ignore[arg-type]
                content=list(content),
                created=datetime.now(UTC),
            )
        )
        return seq

    def wire_rows(self) -> list[dict[str, Any]]:
        """Every stored message in its wire form, as SQLite would hold it."""
        return [{"role": r.role, "content": blocks_to_wire(r.content)} for r in self.rows]

    def messages(self, session_id: str) -> list[StoredMessage]:
        return [r for r in self.rows if r.session_id == session_id]

    def record_compaction(
        self,
        session_id: str,
        upto_seq: int,
        messages: Sequence[Message],
        method: str,
        tokens_before: int,
        tokens_after: int,
    ) -> None:
        self.compaction_rows.append(
            CompactionRecord(
                session_id=session_id,
                upto_seq=upto_seq,
                messages=list(messages),
                method=method,  # type: ignore[arg-type]
                tokens_before=tokens_before,
                tokens_after=tokens_after,
                created=datetime.now(UTC),
            )
        )

    def compactions(self, session_id: str) -> list[CompactionRecord]:
        return [r for r in self.compaction_rows if r.session_id == session_id]

    def messages_for_resume(self, session_id: str) -> ResumeHistory:
        done = self.compactions(session_id)
        upto = done[-1].upto_seq if done else 0
        rows = self.messages(session_id)
        head = done[-1].messages if done else []
        tail = [Message(role=r.role, content=r.content) for r in rows if r.seq > upto]
        last = rows[-1].seq if rows else 0
        return ResumeHistory(messages=[*head, *tail], last_seq=last, compacted_upto=upto)

    def update(self, session_id: str, **fields: Any) -> None:
        self.updates.append(fields)
        if session_id not in self.sessions:
            raise SessionError(f"no session {session_id!r} to update")
        given = {key: value for key, value in fields.items() if value is not None}
        record = self.sessions[session_id]
        self.sessions[session_id] = record.model_copy(update={**given, "updated": datetime.now(UTC)})

    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        if session_id in self.held:
            raise SessionLockedError(f"session {session_id} is in use (held in this process)")
        self.held.add(session_id)
        try:
            yield
        finally:
            self.held.discard(session_id)

    def record_checkpoint(self, record: CheckpointRecord) -> None:
        self.checkpoint_rows = [
            r for r in self.checkpoint_rows if (r.session_id, r.step) != (record.session_id, record.step)
        ]
        self.checkpoint_rows.append(record)

    def checkpoints(self, session_id: str) -> list[CheckpointRecord]:
        return sorted((r for r in self.checkpoint_rows if r.session_id == session_id), key=lambda r: r.step)

    def record_mark(self, record: MarkRecord) -> None:
        self.mark_rows.append(record)

    def marks(self, workspace: Path) -> list[MarkRecord]:
        where = str(Path(workspace).resolve())
        mine = [m for m in self.mark_rows if str(Path(m.workspace).resolve()) == where]
        return sorted(mine, key=lambda m: m.created)

    def output_dir(self, session_id: str) -> Path:
        if self.outputs is None:
            self.outputs = Path(tempfile.mkdtemp(prefix="memory-store-outputs-"))
        folder = self.outputs / session_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def workspace_checkpoints(self, workspace: Path) -> list[CheckpointRecord]:
        ours = {s.id for s in self.sessions.values() if s.workspace == str(workspace)}
        return [r for r in self.checkpoint_rows if r.session_id in ours]

    def session_tree(self, session_id: str) -> set[str]:
        tree = {session_id}
        while grown := {s.id for s in self.sessions.values() if s.parent_id in tree} - tree:
            tree |= grown
        return tree

    def close(self) -> None:
        self.closed = True


def create_loop_session(store: Any, workspace: Path) -> None:
    """Create the session `s1` the test setups run, in a MemoryStore that does not have it yet
    (the real store refuses messages for a session it does not know, and so does the fake)."""
    if isinstance(store, MemoryStore) and "s1" not in store.sessions:
        store.create(agent="tester", workspace=workspace, session_id="s1")


def build_setup(tmp_path: Path, client: Any, gate: TableGate | None = None, **kw: Any) -> Any:
    """A LoopSetup over the fake tools, for any model client."""
    from agent.loop.loop_setup import LoopSetup
    from agent.loop.tool_calls import ToolRunner
    from agent.model.resolve import ResolvedModel
    from agent.registry.schema import PriceConfig
    from agent.registry.spec import AgentSpec
    from agent.tool import ToolContext

    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / ".data")
    tools = {t.name: t for t in (ReadNoteTool(), WriteNoteTool(), SleepTool())}
    runner = ToolRunner(session_id="s1", agent="tester", tools=tools, ctx=ctx, gate=gate or TableGate())
    price = PriceConfig(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    spec = kw.pop("spec", None) or AgentSpec(name="tester", prompt="You test.")
    create_loop_session(kw.get("store"), tmp_path)
    return LoopSetup(
        session_id="s1",
        spec=spec,
        model=ResolvedModel("claude-sonnet-5-5", 200_000, 8_000, price, True),
        client=client,
        runner=runner,
        env_block="<env>x</env>",
        **kw,
    )
