"""No cyclic garbage collection while a one-shot command starts: `hold()` in `agent.cli.main`,
`release()` at the run's first event (`agent.api.run_events`).

Start-up allocates tens of thousands of objects that live as long as the process (modules,
classes, pydantic's validators) and almost no garbage. The collector nonetheless walked them
over and over while they were made: about a hundred young collections and a full one before the
first request, 10 to 15 % of the CPU a run spent to get there (docs/BENCHMARKS.md). At the first
event everything start-up made is moved out of the collector's sight (`gc.freeze`), and
collection resumes as before for what the run makes from then on.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Stop cyclic collection until `release()`, unless something else already stopped it."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Freeze what exists (never collected, never walked again) and collect as usual from now on;
    does nothing unless `hold()` stopped collection."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
