"""The cost of the sandbox per bash call: `true` through bubblewrap against `true` run directly.

Both sides go through the same process machinery (`run_process`: new session, cwd pipe, rlimits,
group kill), so the difference is what bubblewrap adds, less the orphan watch that only the direct
side starts (one subshell fork; bubblewrap's `--die-with-parent` does that job). Prints JSON lines:
`{"name", "value", "reference", "ratio"}` with milliseconds per call, and the ms added.

    /work/venv/bin/python bench/bench_sandbox.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent.sandbox.base import Sandbox
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.unsandboxed import UnsandboxedRunner
from bench._figures import emit


async def _call_ms(sandbox: Sandbox, cwd: Path) -> float:
    started = time.perf_counter()
    result = await sandbox.run("true", cwd=cwd, timeout_s=30)
    assert result.exit_code == 0, result.output
    return (time.perf_counter() - started) * 1000


async def main(n: int) -> None:
    """Alternate the two runners call by call, so background load hits both alike."""
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        direct_runner, boxed_runner = UnsandboxedRunner(), BwrapSandbox(workspace)
        direct: list[float] = []
        boxed: list[float] = []
        for i in range(n + 1):
            d, b = await _call_ms(direct_runner, workspace), await _call_ms(boxed_runner, workspace)
            if i:  # the first round warms caches
                direct.append(d)
                boxed.append(b)
    ref, value = statistics.median(direct), statistics.median(boxed)
    emit("bash true, bwrap sandbox (median ms/call)", value, ref, unit="ms",
         reference_name="the same call without the sandbox", digits=2)
    emit("ms added per call by the sandbox", value - ref, 15.0, unit="ms", reference_name="the aim",
         aim="<= 1", digits=2)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
