"""The list of command modules; each registers its commands on `agent.cli.main.app`."""

# One import per command group, in the order `subagent --help` lists them.
from agent.cli import worker_cmd  # noqa: F401  (subagent worker: Temporal)
from agent.orchestrator.temporal import cli as temporal_cli  # noqa: F401  (subagent dispatch-remote)
