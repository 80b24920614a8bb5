"""`patch`: apply a multi-file patch (Codex grammar or unified diff), all files or none.

Every new file content is computed in memory and every guard checked before the first write; a
write that fails part-way restores the files already written.
"""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from agent.errors import PatchApplyError, ToolFailure
from agent.events import FileChange
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from tools._files import (
    TextFile,
    check_fresh,
    check_writable,
    decode_text,
    delete_file,
    encode_text,
    file_change,
    is_binary,
    load_bytes,
    store_bytes,
    write_atomic,
)
from tools._fs import remove_file
from tools._line_endings import splice
from tools._paths import display_path, path_permissions, resolve_path
from tools.schemas import SCHEMA_FILE

if TYPE_CHECKING:
    from tools._patch_parse import FileOp


class PatchInput(ToolInput):
    patch_text: str = Field(description="The patch: `*** Begin Patch` format or a unified diff")


@dataclass(eq=False, repr=False)
class _Plan:
    """The patch applied in memory: original and new bytes of every path it touches."""

    original: dict[Path, bytes | None] = field(default_factory=dict)
    state: dict[Path, bytes | None] = field(default_factory=dict)
    changes: list[FileChange] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)


class PatchTool(Tool[PatchInput]):
    name = "patch"
    description = (
        "Apply a patch to one or more files, all or nothing. Format:\n*** Begin Patch\n"
        "*** Add File: path\n+line\n*** Update File: path\n*** Move to: new/path (optional)\n"
        "@@ optional scope line\n context\n-old\n+new\n*** Delete File: path\n*** End Patch\n"
        "A unified diff (git diff) also works. Changed files must be read first."
    )
    input_model = PatchInput
    kind = "edit"
    stored_schemas = SCHEMA_FILE
    mutates = True

    def title(self, input: PatchInput) -> str:
        return "patch " + ", ".join(_raw_paths(input.patch_text)[:3])

    def preview(self, input: PatchInput, ctx: ToolContext) -> str:
        return input.patch_text

    def locations(self, input: PatchInput, ctx: ToolContext) -> list[str]:
        return _raw_paths(input.patch_text)

    def permission_requests(self, input: PatchInput, ctx: ToolContext) -> list[PermissionRequest]:
        raws = _raw_paths(input.patch_text)
        return (
            path_permissions("edit", raws, ctx)
            if raws
            else [PermissionRequest(permission="edit", patterns=["*"])]
        )

    def conflict_key(self, input: PatchInput, ctx: ToolContext) -> str | None:
        paths: list[str] = []
        for raw in _raw_paths(input.patch_text):
            try:
                paths.append(str(resolve_path(raw, ctx)))
            except ToolFailure:
                paths.append(raw)
        return "patch:" + ",".join(sorted(set(paths))) if paths else "patch"

    async def run(self, input: PatchInput, ctx: ToolContext) -> ToolResult:
        from tools._patch_parse import parse_patch  # the patch grammars: at the first patch

        ops = parse_patch(input.patch_text)
        plan = _Plan()
        for op in ops:
            await _plan_op(op, plan, ctx)
        await _commit(plan, ctx)
        touched = sorted({str(p) for p in plan.state})
        return ToolResult(
            output="Applied patch:\n" + "\n".join(plan.summary), files_touched=touched, changes=plan.changes
        )


def _raw_paths(patch_text: str) -> list[str]:
    from tools._patch_parse import parse_patch

    try:
        ops = parse_patch(patch_text)
    except PatchApplyError:
        return []
    out: list[str] = []
    for op in ops:
        for raw in (op.path, op.move_to):
            if raw and raw not in out:
                out.append(raw)
    return out


async def _current(path: Path, plan: _Plan, ctx: ToolContext) -> bytes | None:
    """The path's bytes as the patch has left them so far; the first look checks the guard."""
    if path not in plan.original:
        if path.is_dir():
            raise PatchApplyError(f"{path} is a directory; nothing was changed")
        data = await load_bytes(path, ctx)
        check_fresh(path, data, ctx.reads)
        plan.original[path] = data
        plan.state[path] = data
    return plan.state[path]


async def _plan_op(op: "FileOp", plan: _Plan, ctx: ToolContext) -> None:
    from tools._patch_apply import join_lines

    path = resolve_path(op.path, ctx)
    label = display_path(path, ctx)
    current = await _current(path, plan, ctx)
    if op.kind == "add":
        prior = decode_text(current) if current is not None else None
        if current is not None:
            check_writable(path, label)
        new = join_lines(op.content or [], not op.no_final_newline)
        plan.state[path] = encode_text(new, prior)
        plan.changes.append(file_change(path, label, prior.text if prior else None, new))
        plan.summary.append(f"A {label}")
        return
    if current is None:
        raise PatchApplyError(f"{label}: no such file to {op.kind}; nothing was changed")
    if is_binary(current):
        raise PatchApplyError(f"{label} is a binary file; the patch cannot change it; nothing was changed")
    if op.kind == "delete":
        plan.state[path] = None
        gone = decode_text(current).text
        plan.changes.append(await asyncio.to_thread(file_change, path, label, gone, None))
        plan.summary.append(f"D {label}")
        return
    before, new, data = await asyncio.to_thread(_work_out, current, op, label)
    target = resolve_path(op.move_to, ctx) if op.move_to else path
    if target != path:
        if await _current(target, plan, ctx) is not None:
            check_writable(target, display_path(target, ctx))
        plan.state[path] = None
        target_label = display_path(target, ctx)
        plan.summary.append(f"R {label} -> {target_label}")
        plan.changes.append(
            await asyncio.to_thread(file_change, target, target_label, before.text, new, path)
        )
    else:
        if data == current:
            raise PatchApplyError(
                f"{label}: the patch leaves this file exactly as it is (its '-' and '+' "
                "lines say the same); nothing was changed"
            )
        check_writable(path, label)
        plan.summary.append(f"M {label}")
        plan.changes.append(await asyncio.to_thread(file_change, path, label, before.text, new))
    plan.state[target] = data


def _work_out(current: bytes, op: "FileOp", label: str) -> tuple[TextFile, str, bytes]:
    from tools._patch_apply import apply_chunks

    """The file before, its new view and the bytes to write: everything between reading and writing,
    in one function that runs in a thread (a big file must not stall the event loop)."""
    before = decode_text(current)
    new, endings = splice(before.text, before.endings, apply_chunks(before.text, op.chunks, label))
    return before, new, encode_text(new, before, endings, label)


async def _commit(plan: _Plan, ctx: ToolContext) -> None:
    """Write every changed path (deletions last); on a failure restore what was already done."""
    changed = [p for p, data in plan.state.items() if data != plan.original[p]]
    changed.sort(key=lambda p: plan.state[p] is None)
    done: list[Path] = []
    try:
        for path in changed:
            data = plan.state[path]
            if data is None:
                delete_file(path, ctx)
            else:
                await store_bytes(path, data, ctx)
            done.append(path)
    except (OSError, ToolFailure) as exc:
        _restore_all(done, plan, ctx)
        raise PatchApplyError(f"writing {path} failed ({exc}); every file was restored") from exc
    except BaseException:  # cancelled between two writes (an editor's write is awaited): all or none
        _restore_all(done, plan, ctx)
        raise


def _restore_all(done: list[Path], plan: _Plan, ctx: ToolContext) -> None:
    for path in reversed(done):
        _restore(path, plan.original[path], ctx)


def _restore(path: Path, data: bytes | None, ctx: ToolContext) -> None:
    """Put back a file the failed commit already changed, and what the guard knows of it."""
    if data is None:
        remove_file(path, missing_ok=True)
        ctx.reads.forget(path)
    else:
        write_atomic(path, data)
        ctx.reads.record(path, data)
