"""bash cannot take more disk or memory than the config gives a call.

The limits come from the workspace's config (`sandbox:` keys, which only tighten). The control
shows the same writes succeed for the same user outside the runtime.
"""

from __future__ import annotations

import pytest

from tests.security._bash import MODES, answers, bash_run
from tests.security.attacker import Site

LIMITS = {"tmp_size_mb": 16, "max_file_mb": 8}
FILL = "for i in 1 2 3 4 5 6; do head -c 6M /dev/zero > {dir}/fill$i; done; du -sm {dir} | cut -f1"


@pytest.mark.parametrize("mode", MODES)
def test_tmp_shm_and_file_size_are_capped(site: Site, mode: str) -> None:
    scratch = site.root / "scratch"
    control = site.shell(
        f"mkdir -p {scratch} && {FILL.format(dir=scratch)} && head -c 20M /dev/zero > "
        f"{scratch}/big && stat -c %s {scratch}/big"
    )
    used, size = control.stdout.split()
    assert int(used) >= 36 and int(size) == 20 * 1024 * 1024, control.stderr
    outcome = bash_run(
        site,
        [
            FILL.format(dir="/tmp"),
            FILL.format(dir="/dev/shm"),
            "head -c 20M /dev/zero > big; echo status=$?; stat -c %s big; rm -f big",
        ],
        mode,
        sandbox=LIMITS,
    )
    tmp, shm, big = answers(outcome)
    assert "No space left on device" in tmp.text and int(tmp.text.split("\n")[-2]) <= 16
    assert "No space left on device" in shm.text and int(shm.text.split("\n")[-2]) <= 16
    assert "File size limit exceeded" in big.text and f"\n{8 * 1024 * 1024}\n" in big.text
