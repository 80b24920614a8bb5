"""Which tree a subagent of its own gets: copy-on-write where this process may mount, else a checkout.

Both kinds hold the same files (the checkpoint the child starts from), give the child a path at
once and fill it while the child's first model turn is in flight, snapshot into the workspace's
shadow repository and are removed when the child ends. An overlay tree is made in milliseconds
on a base checkout built once per snapshot (`bases`); a checkout writes every file. The choice is
`defaults.worktrees` (`auto`, `checkout`) and what `mountns` found; `subagent_started` events and
`subagent doctor` say which it was.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Literal

from agent import paths
from agent.orchestrator import bases, mountns
from agent.orchestrator.overlay import OverlayTree
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo

TreeKind = Literal["overlay", "checkout"]
ChildTree = Worktree | OverlayTree


def tree_kind(choice: Literal["auto", "checkout"]) -> tuple[TreeKind, str]:
    """The kind a child's tree gets here, and why, in a sentence."""
    if choice == "checkout":
        return "checkout", "the config asks for checkouts (`defaults.worktrees: checkout`)"
    rights = mountns.rights()
    if not rights.ok:
        return "checkout", rights.how
    for folder in (paths.worktrees_home(), paths.bases_home()):
        if not mountns.mountable(folder):
            return "checkout", f"{folder} holds `,`, `:` or `\\`, which an overlay's options cannot name"
    return "overlay", f"copy-on-write overlays, in the runtime's own {rights.how}"


def reserve(kind: TreeKind, repo: ShadowRepo, commit: str, name: str) -> ChildTree:
    """An empty tree of `kind` for snapshot `commit`, its path known at once."""
    if kind == "overlay":
        return OverlayTree.reserve(repo, commit, name)
    return Worktree.reserve(repo, commit, name)


async def populate(link: Any, repo: ShadowRepo, tree: ChildTree) -> None:
    """Fill `tree`: mount it on the shared base (built or refreshed once for all siblings), or
    check it out (objects packed once for all siblings)."""
    if isinstance(tree, OverlayTree):
        finding = asyncio.ensure_future(link.base(repo, tree.base))
        try:
            lower = await asyncio.shield(finding)
        except asyncio.CancelledError:  # the base is still being found: hand it back once it is
            finding.add_done_callback(functools.partial(_give_back, tree))
            raise
        await asyncio.to_thread(tree.populate, lower)
        return
    await link.packed(repo)
    await tree.populate_async()


def _give_back(tree: OverlayTree, found: asyncio.Future[bases.Base]) -> None:
    """A base found for a tree whose populating was cancelled: the tree takes it and lets it go."""
    if found.cancelled() or found.exception() is not None:
        return
    tree.adopt(found.result())
