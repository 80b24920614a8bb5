"""`subagent mcp`: serve the runtime as MCP tools over stdio (docs/editors.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.app import app
from agent.cli.main import exit_now


@app.command("mcp")
def mcp_command(
    script: Path | None = typer.Option(
        None, "--script", help="Replies of the scripted model instead of the API (demo, tests)."
    ),
    trust: bool = typer.Option(
        False, "--trust", help="Trust the workspace of every task this server runs (see `subagent trust`)."
    ),
) -> None:
    """Run as an MCP server on stdin/stdout (an MCP client starts this; it is not interactive)."""
    from agent.cli._options import own_mount_namespace

    own_mount_namespace()  # first: only a single-threaded process can
    import logging
    import os
    import sys

    from agent.acp.stdio import ClaimedStdio
    from agent.acp.stdio_front import start_front
    from agent.errors import ConfigError

    # The SDK moves the protocol off fd 1 when it starts serving; until then only logs may print.
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("SUBAGENT_LOG_LEVEL", "WARNING").upper())
    model_client = None
    if script is not None:
        from agent.model.scripted import ScriptedModel

        try:
            model_client = ScriptedModel.from_file(script)
        except ConfigError as exc:
            from agent.terminal.safe_text import for_terminal

            print(f"error: {for_terminal(str(exc))}", file=sys.stderr)
            raise typer.Exit(2) from exc
    # `initialize` and `tools/list` are answered from here while the SDK (a second of imports)
    # loads below; the SDK then serves fd 0 and 1, which are pipes to the front.
    client = ClaimedStdio(os.dup(0), os.dup(1))
    front = start_front("mcp", client, "agent.mcp.server", "mcp", lambda: exit_now(0))
    os.dup2(front.sdk.input_fd, 0)
    os.dup2(front.sdk.output_fd, 1)
    from agent.mcp.server import serve_mcp

    try:
        serve_mcp(model_client=model_client, trust=trust)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        front.finish()
