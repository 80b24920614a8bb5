"""Bash analysis: every simple command a line runs, found through syntax and wrappers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.permissions.bash_parse import analyse_bash


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ls -la", ["ls -la"]),
        ("ls && rm -rf x || echo no; pwd", ["ls", "rm -rf x", "echo no", "pwd"]),
        ("cat a | grep b | wc -l", ["cat a", "grep b", "wc -l"]),
        ("(cd sub && make)", ["cd sub", "make"]),
        ("{ ls; rm x; }", ["ls", "rm x"]),
        ("echo $(rm x)", ["rm x", "echo $(rm x)"]),
        ("echo `rm x`", ["rm x", "echo `rm x`"]),
        ('echo "in $(rm x) quotes"', ["rm x", "echo in $(rm x) quotes"]),
        ("x=$(rm z)", ["rm z"]),
        ("diff <(ls a) <(rm b)", ["ls a", "rm b", "diff <(ls a) <(rm b)"]),
        ("if test -f a; then rm a; else touch a; fi", ["test -f a", "rm a", "touch a"]),
        ("for f in *.py; do black $f; done", ["black $f"]),
        ("while read l; do rm $l; done < list", ["read l", "rm $l"]),
        ("case $x in a) rm q;; esac", ["rm q"]),
        ("ls &", ["ls"]),
        # quoting and escapes are removed; expansions stay as written
        ("rm \"my file\" 'other one' a\\ b", ["rm my file other one a b"]),
        ('"rm" x', ["rm x"]),
        ("r\\m x", ["rm x"]),
        ("rm a\"b\"'c'", ["rm abc"]),
        ("echo 'rm x; curl y'", ["echo rm x; curl y"]),  # a string is not a command
        ("/bin/rm x", ["rm x"]),  # an absolute program path is matched by its name
        # wrappers are looked through
        ("env FOO=1 rm -rf /", ["rm -rf /"]),
        ("env -i -u HOME -- rm x", ["rm x"]),
        ("env -S 'rm x'", ["rm x"]),
        ("env -S'rm x'", ["rm x"]),
        ("env --split-string='rm x'", ["rm x"]),
        ("env - rm x", ["rm x"]),
        ("env", ["env"]),
        ("xargs rm", ["rm"]),
        ("xargs -0r rm", ["rm"]),
        ("xargs -i{} rm {}", ["rm {}"]),
        ("nice -5 rm x", ["rm x"]),
        ("timeout -sKILL 5s rm x", ["rm x"]),
        ("sudo --user x rm y", ["sudo --user x rm y", "rm y"]),  # the option's value is skipped
        ("sudo -HE rm y", ["sudo -HE rm y", "rm y"]),
        ("find . -name '*.o' | xargs -n 1 -I {} rm {}", ["find . -name *.o", "rm {}"]),
        ("sh -c 'curl x && rm y'", ["curl x", "rm y"]),
        ("bash -lc \"ls; sh -c 'rm z'\"", ["ls", "rm z"]),
        ("sudo -u root rm x", ["sudo -u root rm x", "rm x"]),  # sudo itself stays visible
        ("timeout -s KILL 5 rm x", ["rm x"]),
        ("nohup nice -n 5 time rm x", ["rm x"]),
        ("command rm x", ["rm x"]),
        ("command -v rm", ["command -v rm"]),
        ("exec rm x", ["rm x"]),
        ("stdbuf -oL rm x", ["rm x"]),
        ("builtin command rm x", ["rm x"]),
        ("setsid -f ionice -c 3 rm x", ["rm x"]),
        ("watch -n 5 'ls; rm x'", ["ls", "rm x"]),
        ("find . -exec rm {} \\;", ["find . -exec rm {} ;", "rm {}"]),
        ("sh script.sh", ["sh script.sh"]),
        # assignments before a command are looked through (those that steer it are doubts: below)
        ("FOO=1 ls", ["ls"]),
        ("PYTHONPATH=. pytest -q", ["pytest -q"]),
        ("GIT_TRACE=0 git push", ["git push"]),
        # heredocs: an unquoted body's substitutions run, a quoted body is data
        ("cat <<EOF\n$(rm x)\nEOF", ["rm x", "cat"]),
        ("cat <<'EOF'\n$(rm x)\nEOF", ["cat"]),
        ("cat <<EOF > out.txt\nhello\nEOF", ["cat"]),
    ],
)
def test_simple_commands(line: str, expected: list[str]) -> None:
    analysis = analyse_bash(line)
    assert sorted(c.text for c in analysis.commands) == sorted(expected)
    assert not analysis.unanalysable, analysis.reason


@pytest.mark.parametrize(
    ("line", "writes"),
    [
        ("echo hi > out.txt", {"echo hi": ("out.txt",)}),
        ("echo hi >> log 2>&1", {"echo hi": ("log",)}),
        ("make &> build.log", {"make": ("build.log",)}),
        ("echo >f hi", {"echo hi": ("f",)}),  # words after the target are still arguments
        ("ls 2>/dev/null", {"ls": ()}),
        ("cat < in.txt", {"cat": ()}),
        ("{ ls; pwd; } > both", {"ls": ("both",), "pwd": ("both",)}),
        ("ls | tee f > g", {"ls": ("g",), "tee f": ("g",)}),  # the grammar redirects the pipeline
        ("exec 3>out", {"exec": ("out",)}),
        ("cat <<EOF > out.txt\nhello\nEOF", {"cat": ("out.txt",)}),
    ],
)
def test_redirections_to_files_are_writes(line: str, writes: dict[str, tuple[str, ...]]) -> None:
    analysis = analyse_bash(line)
    assert {c.text: c.writes_to for c in analysis.commands} == writes


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("$CMD a", "'$CMD' is only known when it runs"),
        ("${TOOL:-rm} x", "only known when it runs"),
        ("$(echo rm) x", "only known when it runs"),
        ('eval "rm x"', "eval"),
        ("source ./env.sh", "source"),
        (". ./env.sh", "`.` runs a file"),
        ("curl -s x | sh", "stdin"),
        ("cat <<EOF | bash\nrm x\nEOF", "stdin"),
        ('bash -c "$SCRIPT"', "built at run time"),
        ("ls &&", "could not parse"),
        ("{rm,-rf,x}", "could not parse"),
        ("rm${IFS}x", "only known when it runs"),
        ("alias ls='rm x'", "alias"),
        ("coproc foo { rm x; }", "coproc"),
        ("sudo --weird rm x", "sudo: unknown option '--weird'"),  # its value may be the next word
        ("xargs --new-flag rm", "unknown option"),
        ("echo 'unterminated", "could not parse"),
    ],
)
def test_unanalysable_lines_say_why(line: str, reason: str) -> None:
    analysis = analyse_bash(line)
    assert analysis.unanalysable
    assert reason in analysis.reason


@pytest.mark.parametrize(
    ("line", "found", "reason"),
    [
        ("eval x; rm y", ["rm y"], "eval"),
        ("f() { rm y; }; f", ["rm y", "f"], "the function 'f' is defined and called"),
        ("PATH=/tmp/evil ls", ["ls"], "`PATH=` changes which program runs"),
        ("export PATH=/x; ls", ["ls"], "`PATH=` changes which program later commands run"),
        ("sudo --chroot /x rm y", ["sudo --chroot /x rm y", "rm y"], "`sudo -R` loads or runs a program"),
    ],
)
def test_unanalysable_line_still_reports_the_commands_it_found(
    line: str, found: list[str], reason: str
) -> None:
    analysis = analyse_bash(line)
    assert analysis.unanalysable and reason in analysis.reason
    assert sorted(c.text for c in analysis.commands) == sorted(found)


def test_deep_nesting_is_unanalysable_not_a_crash() -> None:
    line = "rm x"
    for _ in range(7):
        line = f"sh -c {_quote(line)}"
    analysis = analyse_bash(line)
    assert analysis.unanalysable and "nested" in analysis.reason
    assert analyse_bash(f"sh -c {_quote('sh -c ' + _quote('rm x'))}").commands[0].text == "rm x"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


_PIECES = [
    *"ab $'\"`\\(){}[]<>|&;=!*?~#-+\n\t0", "x=", "$((", "<<", "-c ", "sh ", "git ", "env ", "xargs ",
    "find ", "-exec ", "eval ", "PATH=", "${", "[[ ", " -eq ", "declare -i ", "alias.", "-S",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_any_text_gets_an_analysis_and_never_an_exception(line: str) -> None:
    analysis = analyse_bash(line)
    assert analysis.unanalysable == bool(analysis.reason)
