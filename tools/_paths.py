"""THE path resolver: every tool turns a model-given path into a real, checked path here.

Resolving in one place keeps the boundary in one place: a symlink that points out of the
workspace is outside, whatever its own path says. Two layers decide, in this order:

1. the run's filesystem policy (`ctx.policy`): `read` for read, grep and glob, `write` for write,
   edit and patch. It refuses whatever the permission mode; bypass does not lift it.
2. the workspace roots: a path the policy allows but outside every root needs the
   `external_directory` permission (asked, or allowed by a rule or by bypass).

A call the policy refuses fails before any ask (`path_permissions` raises), so nobody is asked to
approve what would be refused anyway. The check is on the resolved path; `tools._fs` then opens
that very path without following a link, so a folder swapped for a symlink in between cannot
redirect the open.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent.errors import PathOutsideWorkspaceError, ToolFailure, ToolInputError
from agent.sandbox.policy import Access
from agent.tool import PermissionRequest, ToolContext

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` safe to show and to serialise: a byte that is not UTF-8 (a surrogate escape, as the OS
    hands such names to Python) becomes `\\xNN`, any other lone surrogate `\\uNNNN`."""
    return _SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def valid_text(value: str, what: str) -> str:
    """`value` when the OS can take it (no NUL, encodable as UTF-8), else a ToolInputError.

    Raises:
        ToolInputError: naming `what` (e.g. "path") and how to fix it.
    """
    if "\0" in value:
        raise ToolInputError(
            f"the {what} {printable(value)!r} contains a NUL byte, which no file name or "
            "argument can hold; remove it"
        )
    if _SURROGATE.search(value):
        raise ToolInputError(
            f"the {what} {printable(value)!r} is not valid Unicode (a lone surrogate); "
            "give it as plain UTF-8 text"
        )
    return value


def is_inside(path: Path, roots: tuple[Path, ...] | list[Path]) -> bool:
    """True when `path` (already resolved) is one of `roots` or below one of them."""
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if path == real_root or path.is_relative_to(real_root):
            return True
    return False


def absolute_path(raw: str, ctx: ToolContext) -> Path:
    """`raw` made absolute against the workspace and resolved (symlinks followed), without checks.

    Raises:
        ToolInputError: empty, or not something a path can hold (NUL, lone surrogate).
        ToolFailure: the path changed under realpath (a link removed as it was read).
    """
    if not raw or not raw.strip():
        raise ToolInputError("path is empty; give a file path relative to the workspace or absolute")
    path = Path(os.path.expanduser(valid_text(raw, "path").strip()))
    if not path.is_absolute():
        path = ctx.workspace / path
    try:
        return Path(os.path.realpath(path))
    except OSError as exc:  # a link removed between realpath's lstat and its readlink
        raise ToolFailure(
            f"{printable(raw)}: the path changed while it was being resolved ({exc.strerror}); try again"
        ) from exc


_READ_ONLY_PERMISSIONS = frozenset({"read", "grep", "glob"})


def readable_roots(ctx: ToolContext) -> tuple[Path, ...]:
    """The roots plus the session's data dir, where capped and elided outputs are saved: the
    model is told to read them back, so reading there is no external access."""
    return (*ctx.roots, ctx.data_dir)


def check_policy(path: Path, access: Access, raw: str, ctx: ToolContext) -> None:
    """Refuse what the run's policy forbids, naming the path as the model gave it (and where it led).

    Raises:
        PolicyDeniedError: the policy's deepest rule at or above `path` does not allow `access`.
    """
    assert ctx.policy is not None  # ToolContext always builds one
    if not ctx.policy.allows(path, access):
        shown = raw if raw == str(path) else f"{raw} ({path})"
        ctx.policy.check(path, access, shown=printable(shown))


def resolve_path(raw: str, ctx: ToolContext, *, read_only: bool = False) -> Path:
    """Resolve a model-given path and check it: the policy first, then the roots.

    Args:
        raw: the path as the model wrote it.
        ctx: the tool context (workspace, roots, data dir, policy).
        read_only: the caller only reads (`read` access; the session's saved outputs are inside);
            otherwise it writes (`write` access).

    Raises:
        ToolInputError: an empty path, or one with a NUL byte or a lone surrogate.
        PolicyDeniedError: the policy forbids this access, whatever the permissions say.
        PathOutsideWorkspaceError: the resolved path (symlinks included) leaves every root and
            `external_directory` was not granted for this call.
    """
    path = absolute_path(raw, ctx)
    check_policy(path, "read" if read_only else "write", raw, ctx)
    roots = readable_roots(ctx) if read_only else ctx.roots
    if not ctx.allow_external and not is_inside(path, roots):
        raise PathOutsideWorkspaceError(printable(raw), Path(printable(str(path))))
    return path


def display_path(path: Path, ctx: ToolContext) -> str:
    """The workspace-relative form of `path` when inside the workspace, else the absolute one;
    printable (bytes that are not UTF-8 escaped)."""
    root = Path(os.path.realpath(ctx.workspace))
    if path.is_relative_to(root):
        rel = path.relative_to(root).as_posix()
        return printable(rel or ".")
    return printable(str(path))


def path_permissions(permission: str, raws: list[str], ctx: ToolContext) -> list[PermissionRequest]:
    """The permission requests for touching `raws`: one `permission` request, plus
    `external_directory` for those that resolve outside the roots.

    Raises:
        ToolInputError: a path that cannot be one (empty, NUL, lone surrogate).
        PolicyDeniedError: the policy refuses a path: the call fails before anyone is asked.
    """
    inside: list[str] = []
    outside: list[str] = []
    reading = permission in _READ_ONLY_PERMISSIONS
    roots = readable_roots(ctx) if reading else ctx.roots
    for raw in raws:
        path = absolute_path(raw, ctx)
        check_policy(path, "read" if reading else "write", raw, ctx)
        inside.append(display_path(path, ctx))
        if not is_inside(path, roots):
            outside.append(printable(str(path.parent if not path.is_dir() else path)))
    requests = [PermissionRequest(permission=permission, patterns=inside)]
    if outside:
        requests.append(PermissionRequest(permission="external_directory", patterns=outside))
    return requests
