"""grep and glob run ripgrep inside the sandbox; an rg installed where the policy hides HOME (a
pipx or user venv under `~`) must stay reachable there, and nothing else of that folder."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.security.attacker import SECRET_CANARY, Call, Site


def test_an_rg_installed_in_a_hidden_part_of_home_still_searches(site: Site) -> None:
    rg = shutil.which("rg") or str(Path(sys.executable).parent / "rg")
    venv_bin = site.home / ".venvs" / "tools" / "bin"
    venv_bin.mkdir(parents=True)
    shutil.copy2(rg, venv_bin / "rg")
    site.write(".venvs/tools/bin/secret.txt", f"{SECRET_CANARY}\n")
    site.write("project/notes.md", "needle in the workspace\n")
    site.own(site.home / ".venvs")
    path = f"{venv_bin}:{Path(sys.executable).parent}:/usr/bin:/bin"
    control = site.as_attacker(["rg", "needle", "."], PATH=path)
    assert control.returncode == 0 and "notes.md" in control.stdout  # this rg is the one on PATH

    outcome = site.run(
        [
            [Call("grep", {"pattern": "needle"}), Call("glob", {"pattern": "*.md"})],
            [Call("read", {"file_path": str(venv_bin / "secret.txt")})],
        ],
        PATH=path,
    )
    grep, glob, read = outcome.results
    assert "notes.md" in grep.text and not grep.is_error, grep.text
    assert "notes.md" in glob.text and not glob.is_error, glob.text
    assert read.is_error and SECRET_CANARY not in outcome.everything_the_model_saw()
