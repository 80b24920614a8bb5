"""cap_output: whole lines only, a marker that counts what was shown, the full text saved."""

from __future__ import annotations

from pathlib import Path

from agent.tool import OutputLimits
from agent.tool_output import cap_output


def test_char_cap_cuts_at_a_line_boundary(tmp_path: Path) -> None:
    text = "".join(f"line {i:03d} " + "x" * 20 + "\n" for i in range(100))  # 30 chars a line
    capped = cap_output(text, OutputLimits(max_lines=50, max_chars=100), tmp_path, label="grep")
    body, marker = capped.text.rsplit("\n", 1)
    assert body.split("\n") == text.split("\n")[:3]  # 3 whole lines, no stub
    assert marker.startswith("[grep truncated: showed 3 of 100 lines; the full grep is in")
    assert capped.saved_path is not None and capped.saved_path.read_text() == text


def test_line_cap_and_untouched_text() -> None:
    text = "".join(f"{i}\n" for i in range(20))
    capped = cap_output(text, OutputLimits(max_lines=5), None)
    assert capped.text == "0\n1\n2\n3\n4\n[output truncated: showed 5 of 20 lines]"
    assert cap_output("a\nb\n", OutputLimits(max_lines=5), None).text == "a\nb\n"


def test_one_line_longer_than_the_cap_is_cut_with_a_marker() -> None:
    capped = cap_output("y" * 500 + "\nshort\n", OutputLimits(max_chars=100), None)
    assert capped.text == (
        "y" * 100 + "\n[output truncated: showed the first 100 of 501 characters of line 1, of 2 lines]"
    )


def test_head_tail_keeps_whole_lines_at_both_ends() -> None:
    text = "".join(f"out {i:03d}\n" for i in range(1000))  # 8 chars a line
    capped = cap_output(text, OutputLimits(max_chars=100), None, keep="head_tail", label="bash")
    head = "".join(f"out {i:03d}\n" for i in range(6))
    tail = "".join(f"out {i:03d}\n" for i in range(994, 1000))
    assert capped.text == f"{head}[... 988 lines ({988 * 8} characters) of bash omitted ...]\n{tail}"


def test_head_tail_of_one_huge_line() -> None:
    text = "a" * 300 + "b" * 300
    capped = cap_output(text, OutputLimits(max_chars=100), None, keep="head_tail")
    assert capped.text == "a" * 50 + "\n[... 500 characters of output omitted ...]\n" + "b" * 50
