"""`subagent -p ...` and `subagent --output-format ...`: the command line Claude Code's users and
the Claude Agent SDK pass, routed here by `agent.cli.main` when no subcommand is named. Imports nothing until
it runs: every command passes through `is_headless`."""

from __future__ import annotations

HEADLESS_FLAGS = frozenset({"-p", "--print", "--output-format", "--input-format"})


def is_headless(argv: list[str]) -> bool:
    """Whether argv is Claude Code's headless form: it starts with a flag (our subcommands come
    first), not `--help` or `--version`, and has `-p`, `--print`, `--output-format` or
    `--input-format` somewhere."""
    if not argv or not argv[0].startswith("-") or argv[0] in ("--help", "--version"):
        return False
    return any(arg.split("=", 1)[0] in HEADLESS_FLAGS for arg in argv)


def main(argv: list[str]) -> int:
    """Run the headless process; its exit code (2: a flag refused or a bad value)."""
    import asyncio
    import sys

    from agent.errors import ConfigError
    from agent.headless.flags import parse
    from agent.headless.session import serve
    from agent.terminal.safe_text import for_terminal

    try:
        opts = parse(argv)
    except ConfigError as exc:
        print(f"error: {for_terminal(str(exc))}", file=sys.stderr)
        return 2
    return asyncio.run(serve(opts))
