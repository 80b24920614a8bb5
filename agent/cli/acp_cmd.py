"""`subagent acp`: serve the Agent Client Protocol over stdio, for editors (docs/editors.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.app import app
from agent.cli.main import exit_now


@app.command("acp")
def acp_command(
    agent: str | None = typer.Option(
        None, "--agent", help="The mode new sessions start in (default: orchestrator)."
    ),
    script: Path | None = typer.Option(
        None, "--script", help="Replies of the scripted model instead of the API (demo, tests)."
    ),
    trust: bool = typer.Option(
        False,
        "--trust",
        help="Trust the workspaces of every session this server runs (see `subagent trust`).",
    ),
) -> None:
    """Run as an ACP agent on stdin/stdout (an editor starts this; it is not interactive)."""
    from agent.cli._options import own_mount_namespace

    own_mount_namespace()  # first: only a single-threaded process can
    from agent.acp.stdio import claim_stdio
    from agent.acp.stdio_front import start_front

    claimed = claim_stdio()  # before anything else can write to stdout
    import asyncio
    import sys

    from agent.errors import ConfigError

    model_client = None
    if script is not None:
        from agent.model.scripted import ScriptedModel

        try:
            model_client = ScriptedModel.from_file(script)
        except ConfigError as exc:
            from agent.terminal.safe_text import for_terminal

            print(f"error: {for_terminal(str(exc))}", file=sys.stderr)
            raise typer.Exit(2) from exc
    # `initialize` is answered from here while the SDK (seconds of imports) loads below.
    front = start_front("acp", claimed, "agent.acp.server", "agent-client-protocol", lambda: exit_now(0))
    from agent.acp.server import AcpServer, serve_acp  # the SDK's schema takes seconds to import

    try:
        server = AcpServer(default_agent=agent, model_client=model_client, trust=trust)
        asyncio.run(serve_acp(server, front.sdk))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        front.finish()
