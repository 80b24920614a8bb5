"""Assembling a run: what `run_events` builds around the loop, and the seam its parts come through.

`assembly` is `run_events`: registry and spec, model, tools and their context, sandbox, gate,
session store and checkpoints, then the loop. `parts` is `RuntimeParts`, the factories for those
collaborators (the only way the runtime reaches the built-in tools, and the seam the
orchestrator's `task` tool comes in through), replaceable by tests and embedders.
"""
