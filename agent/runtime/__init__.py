"""Assembling a run: what `run_agent` builds around the loop, and the seam its parts come through.

`assembly` is `run_agent`: registry and spec, model, tools and their context, sandbox, gate,
session store and checkpoints, then the loop. `parts` is `RuntimeParts`, the factories for those
collaborators (the only way the runtime reaches the built-in tools), replaceable by tests and
embedders.
"""
