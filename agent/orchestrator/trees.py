"""Which tree a subagent of its own gets: an overlay where this process may mount, else a reflinked
copy where the file system shares extents, else a checkout.

Every kind holds the same files (the checkpoint the child starts from), gives the child a path at
once and is filled while the child's first model turn is in flight, snapshots into the workspace's
shadow repository and is removed when the child ends. An overlay tree is made in milliseconds on a
base checkout built once per snapshot (`bases`); a reflinked tree clones that base's files
(`reflink`: metadata only, no content); a checkout writes every file. The choice is
`defaults.worktrees` (`auto`, `reflink`, `checkout`) and what `mountns` and `reflink` found;
`subagent_started` events and `subagent doctor` say which it was, and why.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Literal

from agent import paths
from agent.orchestrator import bases, mountns, reflink
from agent.orchestrator.overlay import OverlayTree
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo

TreeKind = Literal["overlay", "reflink", "checkout"]
ChildTree = Worktree | OverlayTree


def tree_kind(choice: Literal["auto", "reflink", "checkout"]) -> tuple[TreeKind, str]:
    """The kind a child's tree gets here, and why, in a sentence."""
    if choice == "checkout":
        return "checkout", "the config asks for checkouts (`defaults.worktrees: checkout`)"
    no_overlay = (
        _no_overlay() if choice == "auto" else "the config asks for reflinks (`defaults.worktrees: reflink`)"
    )
    if no_overlay is None:
        return "overlay", f"copy-on-write overlays, in the runtime's own {mountns.rights().how}"
    no_reflink = reflink.support()
    if no_reflink is None:
        return "reflink", f"reflinked copies of a cached base checkout ({_lower_first(no_overlay)})"
    return "checkout", f"{no_overlay}; and {_lower_first(no_reflink)}"


def _no_overlay() -> str | None:
    rights = mountns.rights()
    if not rights.ok:
        return rights.how
    for folder in (paths.worktrees_home(), paths.bases_home()):
        if not mountns.mountable(folder):
            return f"{folder} holds `,`, `:` or `\\`, which an overlay's options cannot name"
    return None


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


PENDING = ""
"""The commit of a tree reserved before its checkpoint is taken: `starts_at` names it, before
`populate`."""


def reserve(kind: TreeKind, repo: ShadowRepo, commit: str, name: str) -> ChildTree:
    """An empty tree of `kind` for snapshot `commit` (or `PENDING`), its path known at once."""
    if kind == "overlay":
        return OverlayTree.reserve(repo, commit, name)
    return Worktree.reserve(repo, commit, name, kind)


async def populate(link: Any, repo: ShadowRepo, tree: ChildTree) -> None:
    """Fill `tree`: mount it on, or reflink it from, the shared base (built or refreshed once for
    all siblings), or check it out (objects packed once for all siblings)."""
    if tree.kind == "checkout":
        assert isinstance(tree, Worktree)
        await link.packed(repo)
        await tree.populate_async()
        return
    finding = asyncio.ensure_future(link.base(repo, tree.base))
    try:
        lower = await asyncio.shield(finding)
    except asyncio.CancelledError:  # the base is still being found: hand it back once it is
        finding.add_done_callback(functools.partial(_give_back, tree))
        raise
    if isinstance(tree, OverlayTree):
        await asyncio.to_thread(tree.populate, lower)
    else:
        await asyncio.to_thread(reflink.populate, tree, lower)


def _give_back(tree: ChildTree, found: asyncio.Future[bases.Base]) -> None:
    """A base found for a tree whose populating was cancelled: the tree takes it and lets it go
    (a reflinked tree never keeps one)."""
    if found.cancelled() or found.exception() is not None:
        return
    if isinstance(tree, OverlayTree):
        tree.adopt(found.result())
    else:
        bases.detach(found.result())
