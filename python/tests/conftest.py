"""Shared fixtures: the conformance vectors and a long-running oracle process.

The oracle binary is the one named by ``BITS_HELPER_TOKEN_ORACLE`` (``.ci/run`` builds it:
``cargo build --features cli --bin bits-helper-token-oracle``). Without it the tests that
compare with the binary are skipped, with that reason; ``.ci/run`` always sets it.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_vectors() -> List[Dict[str, Any]]:
    out = []
    for path in sorted(glob.glob(str(ROOT / "tests" / "vectors" / "*.json"))):
        with open(path, encoding="utf-8") as f:
            for v in json.load(f):
                out.append({"file": Path(path).stem, **v})
    return out


VECTORS = load_vectors()


def oracle_path() -> str:
    path = os.environ.get("BITS_HELPER_TOKEN_ORACLE")
    if not path:
        pytest.skip("BITS_HELPER_TOKEN_ORACLE is not set (the path of bits-helper-token-oracle)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"BITS_HELPER_TOKEN_ORACLE={path} is not an executable")
    return path


class Oracle:
    """One long-running ``bits-helper-token-oracle`` process, fed line by line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            [path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.lines = 0

    def ask(self, line: str) -> str:
        """The binary's answer line to `line` (one line, no newline in it)."""
        assert "\n" not in line
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self.lines += 1
        return self.proc.stdout.readline().rstrip("\n")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    o = Oracle(oracle_path())
    yield o
    o.close()


@pytest.fixture(scope="session")
def oracle_bin() -> str:
    return oracle_path()
