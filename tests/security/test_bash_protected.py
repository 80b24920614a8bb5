"""bash cannot change what decides a later run's powers, or what git will execute on the host.

Each write is first done by the attacking user outside the runtime (the control: the file
changes, and for `commondir` git on the host then reads the planted config); then in a run, in
both modes, every one must leave the host as it was.
"""

from __future__ import annotations

import pytest

from tests.security._bash import MODES, answers, bash_run
from tests.security.attacker import Site

EVIL = "[core]\n\tfsmonitor = touch /var/tmp/pwned-by-fsmonitor\n"
WRITES = {
    ".git/config": "printf '[core]\\n\\tfsmonitor = evil\\n' >> .git/config",
    ".git/hooks/pre-commit": "printf '#!/bin/sh\\necho pwned\\n' > .git/hooks/pre-commit",
    ".husky/_/pre-commit": "printf '#!/bin/sh\\necho pwned\\n' > .husky/_/pre-commit",
    ".subagent/agents/backend-engineer.md": "mkdir -p .subagent/agents && "
    "echo pwned > .subagent/agents/backend-engineer.md",
    ".claude/settings.json": "mkdir -p .claude && echo '{\"hooks\": {}}' > .claude/settings.json",
    ".mcp.json": "echo '{\"mcpServers\": {}}' > .mcp.json",
    "agents.yaml": "echo 'version: 1' > agents.yaml",
}


def _prepare(site: Site, hooks: str = ".husky/_") -> None:
    """A repository whose core.hooksPath names `hooks` (husky's folder, made unless told not to)."""
    if hooks == ".husky/_":
        site.write("project/.husky/_/husky.sh", "# husky\n")
    done = site.shell(f"git config core.hooksPath {hooks}")
    assert done.returncode == 0, done.stderr


def _snapshot(site: Site) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for rel in WRITES:
        path = site.workspace / rel
        out[rel] = path.read_text() if path.is_file() else None
    return out


@pytest.mark.parametrize("mode", MODES)
def test_protected_paths_stay_as_they_were(site: Site, mode: str) -> None:
    _prepare(site)
    before = _snapshot(site)
    for rel, command in WRITES.items():  # the control: each write works for the same user
        control = site.shell(
            f"cp -a . /var/tmp/{site.root.name}-copy 2>/dev/null; cd /var/tmp/"
            f"{site.root.name}-copy && {command} && cat {rel}"
        )
        assert control.returncode == 0 and control.stdout, (rel, control.stderr)
    site.shell(f"rm -rf /var/tmp/{site.root.name}-copy")
    outcome = bash_run(site, list(WRITES.values()), mode)
    assert _snapshot(site) == before
    assert all(a.is_error or "undid" in a.text for a in answers(outcome))
    ok = bash_run(
        site, ["echo more >> app.py && git add app.py && git commit -qm work && git log --oneline"], mode
    )
    assert "work" in answers(ok)[0].text  # a commit still works: objects, refs, index, HEAD


@pytest.mark.parametrize("mode", MODES)
def test_commondir_cannot_redirect_host_git(site: Site, mode: str) -> None:
    plant = (
        f"mkdir -p evil && printf '{EVIL}' > evil/config && cp -r .git/objects .git/refs .git/HEAD "
        'evil/ && echo "$PWD/evil" > .git/commondir'
    )
    control = site.shell(f"cp -a . ../copy && cd ../copy && {plant} && git config --get core.fsmonitor")
    assert "pwned-by-fsmonitor" in control.stdout, control.stderr  # host git reads the planted config
    outcome = bash_run(site, [plant + "; git config --get core.fsmonitor; echo planted"], mode)
    assert "undid the change to .git/commondir" in answers(outcome)[0].text
    assert not (site.workspace / ".git" / "commondir").exists()
    after = site.shell("git config --get core.fsmonitor")
    assert "pwned" not in after.stdout and after.returncode == 1


@pytest.mark.parametrize("mode", MODES)
def test_renaming_git_away_does_not_free_its_hooks(site: Site, mode: str) -> None:
    _prepare(site)
    control = site.shell("cp -a . ../copy && cd ../copy && mv .git .git-old && mkdir -p .git/hooks")
    assert control.returncode == 0
    outcome = bash_run(
        site,
        [
            "mv .git .git-old && mkdir -p .git/hooks && echo pwned > .git/hooks/pre-commit",
            "mv .husky .husky-old && mkdir -p .husky/_ && echo pwned > .husky/_/pre-commit",
        ],
        mode,
    )
    assert all(a.is_error for a in answers(outcome))
    assert not (site.workspace / ".git-old").exists() and not (site.workspace / ".husky-old").exists()
    assert not (site.workspace / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.parametrize("mode", MODES)
def test_a_hooks_folder_that_does_not_exist_yet(site: Site, mode: str) -> None:
    _prepare(site, hooks="hooks-later")
    plant = "mkdir -p hooks-later && printf '#!/bin/sh\\necho pwned\\n' > hooks-later/pre-commit"
    control = site.shell(
        f"cp -a . ../copy && cd ../copy && {plant} && chmod +x hooks-later/pre-commit"
        " && git commit -q --allow-empty -m x"
    )
    assert "pwned" in control.stdout + control.stderr  # git runs it
    outcome = bash_run(site, [plant], mode)
    assert not (site.workspace / "hooks-later" / "pre-commit").exists(), answers(outcome)[0].text
