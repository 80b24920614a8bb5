"""The runtime's per-user files are not read where another local user could have written them;
a group-writable folder counts as the owner's own only when its group is (OpenSSH's rule)."""

import grp
import os
import pwd
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.paths import read_private


def _private_and_shared_groups() -> tuple[int, int]:
    """The running user's own group (its primary group, no other member) and a group that is not."""
    me = pwd.getpwuid(os.geteuid())
    own = grp.getgrgid(me.pw_gid)
    assert not own.gr_mem or own.gr_mem == [me.pw_name], f"{own.gr_name} is not {me.pw_name}'s own group"
    shared = next(g for g in grp.getgrall() if g.gr_gid != me.pw_gid and g.gr_mem in ([], [me.pw_name]))
    return own.gr_gid, shared.gr_gid


@pytest.mark.root
def test_a_folder_writable_by_the_owners_own_group_is_read_and_by_another_group_is_not(
    tmp_path: Path,
) -> None:
    """Users whose umask is 002 with a private group (common on Debian and Ubuntu) have 0775
    folders: their files are read. The same folder in a group that is not theirs is refused, and
    a folder others can write is refused whatever its group."""
    if os.geteuid() != 0:
        pytest.skip("changing a folder's group to one the user is not in needs root")
    own, shared = _private_and_shared_groups()
    folder = tmp_path / "config"
    folder.mkdir()
    state = folder / "approvals.json"
    state.write_text("{}")
    folder.chmod(0o775)
    os.chown(folder, -1, own)
    assert read_private(state, what="the approvals") == b"{}"
    os.chown(folder, -1, shared)
    with pytest.raises(ConfigError, match=f"{folder} is writable by other users.*chmod go-w {folder}"):
        read_private(state, what="the approvals")
    os.chown(folder, -1, own)
    folder.chmod(0o757)
    with pytest.raises(ConfigError, match=f"chmod go-w {folder}"):
        read_private(state, what="the approvals")
