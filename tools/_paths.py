"""THE path resolver: every tool turns a model-given path into a real path here.

Resolving in one place keeps the workspace boundary in one place: a symlink that points out of the
workspace is outside, whatever its own path says.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.errors import PathOutsideWorkspaceError, ToolInputError
from tools.base import PermissionRequest, ToolContext


def is_inside(path: Path, roots: tuple[Path, ...] | list[Path]) -> bool:
    """True when `path` (already resolved) is one of `roots` or below one of them."""
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if path == real_root or path.is_relative_to(real_root):
            return True
    return False


def absolute_path(raw: str, ctx: ToolContext) -> Path:
    """`raw` made absolute against the workspace and resolved (symlinks followed), without checks."""
    if not raw or not raw.strip():
        raise ToolInputError("path is empty; give a file path relative to the workspace or absolute")
    path = Path(os.path.expanduser(raw.strip()))
    if not path.is_absolute():
        path = ctx.workspace / path
    return Path(os.path.realpath(path))


def resolve_path(raw: str, ctx: ToolContext) -> Path:
    """Resolve a model-given path; outside the roots raises unless `ctx.allow_external`.

    Raises:
        PathOutsideWorkspaceError: the resolved path (symlinks included) leaves every root.
    """
    path = absolute_path(raw, ctx)
    if not ctx.allow_external and not is_inside(path, ctx.roots):
        raise PathOutsideWorkspaceError(raw, path)
    return path


def display_path(path: Path, ctx: ToolContext) -> str:
    """The workspace-relative form of `path` when inside the workspace, else the absolute one."""
    root = Path(os.path.realpath(ctx.workspace))
    if path.is_relative_to(root):
        rel = path.relative_to(root).as_posix()
        return rel or "."
    return str(path)


def path_permissions(permission: str, raws: list[str], ctx: ToolContext) -> list[PermissionRequest]:
    """The permission requests for touching `raws`: one `permission` request, plus
    `external_directory` for those that resolve outside the roots."""
    inside: list[str] = []
    outside: list[str] = []
    for raw in raws:
        try:
            path = absolute_path(raw, ctx)
        except ToolInputError:  # an empty path fails in run() with a clear message
            continue
        inside.append(display_path(path, ctx))
        if not is_inside(path, ctx.roots):
            outside.append(str(path.parent if not path.is_dir() else path))
    requests = [PermissionRequest(permission=permission, patterns=inside)]
    if outside:
        requests.append(PermissionRequest(permission="external_directory", patterns=outside))
    return requests
