"""The example (examples/test_toy.py) fails as intended: Hypothesis finds the toy's missing
A-6 veto and shrinks it to a short scenario, printed as a runnable oracle line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import bits_helper_token as bht

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "test_toy.py"


def test_the_toy_example_fails_with_a_short_shrunk_counterexample(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1, text  # 1: tests ran and failed
    assert "1 failed" in text, text
    assert "Falsifying example" in text or "Failing test case" in text, text
    found = re.search(
        r"step (\d+) \(set_helper_token_flags\): the toy says 0x00000000, the model 0x80070005 "
        r"\(E_ACCESSDENIED, rule A-6\)",
        text,
    )
    assert found, text
    steps = int(re.search(r"the scenario \((\d+) steps\) as an oracle line:", text).group(1))
    assert steps <= 6, text  # shrunk: at least 4 are needed
    assert int(found.group(1)) == steps  # nothing after the disagreement
    # The printed line runs as it is, and the model answers A-6 at that step.
    line = re.search(r"as an oracle line:\s*\n\s*(?:E\s+)?(\{.*\})\s*$", text, re.M).group(1)
    answer = json.loads(bht.run_line(line))
    assert answer["results"][steps - 1]["rule"] == "A-6"
    assert len(text.splitlines()) < 120, text  # a short report
