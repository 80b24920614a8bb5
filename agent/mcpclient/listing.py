"""The last listing of each server's tools, kept so that a run's first request need not wait for
its servers to start.

A server's `tools/list` answer (and whether it offers resources or prompts) is saved each time it
is listed (by a run, `subagent mcp-servers list` or `subagent doctor`), under the data folder,
keyed by the workspace and the definition's fingerprint: a changed definition has no listing
until it is listed again. A listing that cannot be read counts as none.
"""

import hashlib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent._atomic_file import write_atomic
from agent.mcpclient.config import ServerDef
from agent.mcpclient.tools import ToolDef
from agent.paths import data_home, make_private_folder, read_private


class ServerListing(BaseModel):
    """What a server offered when it was last listed."""

    tools: list[ToolDef]
    offers_resources: bool = False


def listing_file(workspace: Path, server: ServerDef) -> Path:
    key = hashlib.sha256(f"{workspace.resolve()}\0{server.fingerprint()}".encode()).hexdigest()
    return data_home() / "mcp-listings" / f"{key[:32]}.json"


def cached_listing(workspace: Path, server: ServerDef) -> ServerListing | None:
    """The server's last listing in `workspace`; None when it was never listed (or the file is bad).

    Raises:
        ConfigError: the listing is where another user could have written it (`read_private`):
            what the model would be told of the server's tools.
    """
    try:
        text = read_private(
            listing_file(workspace, server), what="what the model is told of an MCP server's tools"
        )
        return None if text is None else ServerListing.model_validate_json(text)
    except (OSError, ValidationError):
        return None


def save_listing(workspace: Path, server: ServerDef, listing: ServerListing) -> None:
    """Keep `listing` for the next run (atomically; a failure to write is not the run's problem)."""
    path = listing_file(workspace, server)
    try:
        make_private_folder(path.parent)
        write_atomic(path, listing.model_dump_json(), mode=0o600, fsync=False)
    except OSError:
        pass
