"""The seat itself: a run really is the unprivileged user's, and the control really reaches HOME."""

from __future__ import annotations

import os

from tests.security.attacker import SECRET_CANARY, Call, Site


def test_the_control_reads_the_users_secrets(site: Site) -> None:
    control = site.as_attacker(["cat", str(site.home / ".ssh/id_rsa")])
    assert SECRET_CANARY in control.stdout
    assert not str(site.home).startswith("/tmp")
    if os.getuid() == 0:
        assert site.as_attacker(["id", "-u"]).stdout.strip() == "65534"


def test_a_scripted_run_reads_a_workspace_file(site: Site) -> None:
    outcome = site.run([[Call("read", {"file_path": "app.py"})]])
    assert outcome.returncode == 0, outcome.stderr
    [answer] = outcome.results
    assert "print('hello')" in answer.text and not answer.is_error
    assert outcome.events[-1]["type"] == "result"
