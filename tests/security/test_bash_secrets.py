"""bash cannot read the user's credentials: HOME is an allowlist, not a list of known secrets.

Each file here was readable from the sandbox under the old denylist (it was not on it). The
control reads every one as the same user; the run, in both modes, must not see one byte of them,
by name or by searching HOME. Toolchain folders stay readable.
"""

from __future__ import annotations

import pytest

from tests.security._bash import MODES, answers, bash_run
from tests.security.attacker import API_KEY_CANARY, SECRET_CANARY, Site

MISSED_BY_THE_DENYLIST = (
    ".config/containers/auth.json",
    ".yarnrc.yml",
    ".config/sops/age/keys.txt",
    ".cache/huggingface/token",
    ".config/composer/auth.json",
    ".terraformrc",
    ".config/pip/pip.conf",
    ".gitconfig",
)


def _plant(site: Site) -> dict[str, str]:
    canaries = {}
    for index, rel in enumerate(MISSED_BY_THE_DENYLIST):
        canaries[rel] = f"CANARY-CREDENTIAL-{index}-{rel.replace('/', '_')}"
        site.write(rel, f"token = {canaries[rel]}\n", 0o600)
    site.write(".cargo/bin/cargo-tool", "#!/bin/sh\necho TOOLCHAIN-VISIBLE\n", 0o755)
    return canaries


@pytest.mark.parametrize("mode", MODES)
def test_credentials_in_home_are_out_of_reach(site: Site, mode: str) -> None:
    canaries = _plant(site)
    names = " ".join(f"~/{rel}" for rel in MISSED_BY_THE_DENYLIST)
    control = site.shell(f"cat {names} ~/.ssh/id_rsa")
    assert all(c in control.stdout for c in canaries.values()) and SECRET_CANARY in control.stdout
    outcome = bash_run(
        site,
        [
            f"cat {names} ~/.ssh/id_rsa",
            f"grep -r CANARY ~ {site.root} 2>/dev/null; find ~ -maxdepth 3 | head -50",
            "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -i anthropic; env",
            # by its absolute path: a command named through `~` is only known when it runs (asked)
            f"{site.home}/.cargo/bin/cargo-tool; echo scratch > ~/note && cat ~/note",
        ],
        mode,
    )
    seen = outcome.everything_the_model_saw()
    assert not [rel for rel, canary in canaries.items() if canary in seen]
    assert SECRET_CANARY not in seen and API_KEY_CANARY not in seen
    toolchain = answers(outcome)[3].text
    assert "TOOLCHAIN-VISIBLE" in toolchain and "scratch" in toolchain  # HOME is bash's own
    assert not (site.home / "note").exists()
