"""`subagent trust [PATH]`: the folders whose own config and personas may widen what yours grants.

Until a workspace is trusted, its `.subagent/config.yaml` and personas may only tighten the
built-in and user config (docs/security.md). Trusting it lifts that for every later run there;
`--revoke` takes it back, `--list` shows the trusted folders. Nothing here imports anthropic.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from agent.cli.app import app


@app.command("trust")
def trust_command(
    path: Path | None = typer.Argument(None, help="A folder in the workspace (default: the current one)."),
    revoke: bool = typer.Option(False, "--revoke", help="Stop trusting the workspace."),
    list_: bool = typer.Option(False, "--list", help="List the trusted folders."),
    as_json: bool = typer.Option(False, "--json", help="With --list: print JSON."),
) -> None:
    """Trust a workspace: its own config and personas may then widen what your config grants."""
    from agent.errors import ConfigError
    from agent.trust.store import read_trusted, set_trust

    if list_ and (revoke or path is not None):
        raise _fail("--list takes no PATH and no --revoke")
    try:
        if list_:
            _print_list(read_trusted().model_dump(mode="json")["folders"], as_json)
            return
        folder = _workspace(path)
        refused = [] if revoke else _refused_now(folder)
        changed = set_trust(folder, not revoke)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if revoke:
        typer.echo(f"{'no longer trusted' if changed else 'was not trusted'}: {folder}")
        return
    typer.echo(f"{'trusted' if changed else 'already trusted'}: {folder}")
    if refused:
        typer.echo("its config and personas now apply as written, including:")
        for line in refused:
            typer.echo(f"  {line}")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _workspace(path: Path | None) -> Path:
    from agent.registry.discovery import find_workspace

    folder = (path or Path.cwd()).expanduser()
    if not folder.is_dir():
        raise _fail(f"{folder} is not a folder")
    return find_workspace(folder)


def _refused_now(folder: Path) -> list[str]:
    """What the workspace's files ask for that is refused while it is untrusted (key and file)."""
    from agent.registry.discovery import load_registry_for

    registry = load_registry_for(folder)
    if registry.trusted:
        return []
    return [f"{r.key} ({r.path})" for r in registry.refusals if r.lifted_by_trust]


def _print_list(folders: dict[str, dict[str, str]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([{"folder": f, **info} for f, info in sorted(folders.items())], indent=2))
        return
    if not folders:
        typer.echo("no trusted folders; trust one with `subagent trust PATH`")
    for folder, info in sorted(folders.items()):
        typer.echo(f"{folder}  (since {info['trusted_at']})")
