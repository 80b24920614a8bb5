"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One import per command group, in the order `subagent --help` lists them.
from agent.cli import sessions_cmd  # noqa: F401, I001  `subagent sessions list|show|export`
from agent.cli import undo_cmd  # noqa: F401  `subagent undo`
