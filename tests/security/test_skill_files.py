"""The `skill` tool reads a skill's files as the runtime, without the file tools' policy (a skill
in HOME must be readable), so it must read only inside the skill's folder, and what it opens
must be what it checked. A repository ships `.claude/skills/notes` as a link to `src/notes`, a
folder bash may write; the model's bash then swaps the skill's files for links to HOME (the
control: the same link, read as the user, gives the key) and calls the skill tool."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from agent.trust.confine import read_resolved
from tests.security.attacker import SECRET_CANARY, Call, Site

SKILL = "---\nname: notes\ndescription: NOTES-DESC\n---\nNOTES-BODY-17\n"


def _plant(site: Site) -> None:
    site.write("project/src/notes/SKILL.md", SKILL)
    site.write("project/src/notes/howto.md", "HOWTO-5\n")
    (site.workspace / ".claude" / "skills").mkdir(parents=True)
    (site.workspace / ".claude" / "skills" / "notes").symlink_to("../../src/notes")
    site.own(site.workspace / ".claude")
    assert site.shell("git add -A && git commit -qm skills").returncode == 0


@pytest.mark.bwrap
def test_a_skills_files_swapped_for_links_to_home_are_never_read(site: Site) -> None:
    _plant(site)
    key = site.home / ".ssh" / "id_rsa"
    swap = f"ln -sf {key} src/notes/SKILL.md && ln -sf {key} src/notes/howto.md && ls -l src/notes"
    turns = [
        [Call("skill", {"name": "notes"})],  # the control that the skill loads and reads as it is
        [Call("bash", {"command": swap})],
        [Call("skill", {"name": "notes"}), Call("skill", {"name": "notes", "file": "howto.md"})],
    ]

    done = site.run(turns, mode="bypass")

    first, swapped, body, howto = done.results
    assert "NOTES-BODY-17" in first.text and not first.is_error, first.text
    assert "id_rsa" in swapped.text, swapped.text  # bash did plant the links
    assert SECRET_CANARY not in done.everything_the_model_saw()
    assert body.is_error and howto.is_error, (body.text, howto.text)
    control = site.shell("cat src/notes/SKILL.md")
    assert SECRET_CANARY in control.stdout


def test_a_folder_swapped_for_a_link_after_the_check_is_not_read_through(tmp_path: Path) -> None:
    (tmp_path / "ws" / "d").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    (tmp_path / "ws" / "d" / "notes.md").write_text("the checked file\n")
    (tmp_path / "home" / "notes.md").write_text(SECRET_CANARY)
    real = (tmp_path / "ws" / "d" / "notes.md").resolve()
    assert read_resolved(real, 100) == (b"the checked file\n", 17)

    (tmp_path / "ws" / "d").rename(tmp_path / "ws" / "d.old")
    (tmp_path / "ws" / "d").symlink_to(tmp_path / "home")  # by name, `real` now leads to HOME
    assert SECRET_CANARY in real.read_text()  # the control: a read by name follows it

    with pytest.raises(OSError) as refused:
        read_resolved(real, 100)
    assert refused.value.errno == errno.ELOOP
    (tmp_path / "ws" / "d").unlink()
    (tmp_path / "ws" / "d.old" / "notes.md").rename(tmp_path / "ws" / "d.old" / "n")
    (tmp_path / "ws" / "d.old" / "notes.md").symlink_to(tmp_path / "home" / "notes.md")
    (tmp_path / "ws" / "d.old").rename(tmp_path / "ws" / "d")
    with pytest.raises(OSError) as linked:  # the file itself made a link
        read_resolved(real, 100)
    assert linked.value.errno == errno.ELOOP
