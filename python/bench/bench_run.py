"""Scenarios per second: the model in process (``bits_helper_token``) against the
line-by-line oracle process, on the same scenarios.

    BITS_HELPER_TOKEN_ORACLE=target/release/bits-helper-token-oracle \\
        python python/bench/bench_run.py [--rounds 20] [--generated 500 [--no-vectors]]

The scenarios are every conformance vector's (``tests/vectors/*.json``) plus, with
``--generated N``, N scenarios from ``bits_helper_token.strategies`` (fixed seed). Each
path answers each scenario once per round, one at a time:

- ``run(dict)``: a dict in, a dict out (what a Python test does);
- ``run_line(str)``: the JSON line in, the answer line out;
- the oracle, one long-running ``bits-helper-token-oracle`` process fed one line at a time
  (write, flush, read the answer line: the way a Python test drives it), two ways: from
  the dict (``json.dumps``, the pipe, ``json.loads``; compare with ``run``) and from the
  line made beforehand (the pipe alone; compare with ``run_line``).

Every answer of every path is checked to be the oracle's. Then it splits ``run``'s time
into its stages (``_native._profile``): reading the dict into the model's ``Scenario``,
the model (running it and writing its answer line), and the answer line into dicts.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import bits_helper_token as bht
from bits_helper_token import _native

ROOT = Path(__file__).resolve().parents[2]


def vector_scenarios() -> List[Dict[str, Any]]:
    out = []
    for path in sorted(glob.glob(str(ROOT / "tests" / "vectors" / "*.json"))):
        with open(path, encoding="utf-8") as f:
            out.extend(v["scenario"] for v in json.load(f))
    return out


def generated_scenarios(n: int) -> List[Dict[str, Any]]:
    from hypothesis import HealthCheck, given, seed, settings

    from bits_helper_token import strategies

    out: List[Dict[str, Any]] = []

    @seed(20261205)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategies.scenarios())
    def collect(s: Dict[str, Any]) -> None:
        out.append(s)

    collect()
    return out[:n]


def best_of(rounds: int, body: Callable[[], None]) -> float:
    """The fastest of `rounds` runs of body, in seconds (the least disturbed by the other
    users of the machine)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--generated", type=int, default=0)
    parser.add_argument("--no-vectors", action="store_true", help="only the generated scenarios")
    parser.add_argument("--oracle", default=os.environ.get("BITS_HELPER_TOKEN_ORACLE"))
    args = parser.parse_args()
    if not args.oracle:
        sys.exit("give --oracle or set BITS_HELPER_TOKEN_ORACLE to a bits-helper-token-oracle")

    scenarios = [] if args.no_vectors else vector_scenarios()
    if args.generated:
        scenarios += generated_scenarios(args.generated)
    lines = [json.dumps(s) for s in scenarios]
    n = len(scenarios)

    oracle = subprocess.Popen(
        [args.oracle],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        bufsize=1,
    )
    assert oracle.stdin is not None and oracle.stdout is not None
    stdin, stdout = oracle.stdin, oracle.stdout

    def ask(line: str) -> Dict[str, Any]:
        stdin.write(line + "\n")
        stdin.flush()
        return json.loads(stdout.readline())

    # The same answers everywhere, first.
    expected = [ask(line) for line in lines]
    for s, line, want in zip(scenarios, lines, expected):
        assert bht.run(s) == want, line
        assert json.loads(bht.run_line(line)) == want, line

    def oracle_line_round() -> None:
        for line in lines:
            stdin.write(line + "\n")
            stdin.flush()
            stdout.readline()

    def oracle_dict_round() -> None:
        for s in scenarios:
            ask(json.dumps(s))

    def run_round() -> None:
        for s in scenarios:
            bht.run(s)

    def run_line_round() -> None:
        for line in lines:
            bht.run_line(line)

    t_oracle_line = best_of(max(3, args.rounds // 2), oracle_line_round)
    t_oracle_dict = best_of(max(3, args.rounds // 2), oracle_dict_round)
    stdin.close()
    oracle.wait()
    t_run = best_of(args.rounds, run_round)
    t_run_line = best_of(args.rounds, run_line_round)
    stages = None
    for _ in range(args.rounds):
        got = _native._profile(scenarios)
        stages = got if stages is None else [(k, min(a, b)) for (k, a), (_, b) in zip(stages, got)]

    mean_line = sum(map(len, lines)) / n
    mean_answer = sum(len(bht.run_line(line)) for line in lines) / n
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{n} scenarios (mean line {mean_line:.0f} bytes, mean answer {mean_answer:.0f} bytes), "
          f"best of {args.rounds} rounds")
    print(f"{'path':52} {'scenarios/s':>12} {'us/scenario':>12}")
    for name, t in [
        ("oracle process: dict (json.dumps, pipe, json.loads)", t_oracle_dict),
        ("oracle process: line (write, flush, readline)", t_oracle_line),
        ("run(dict) -> dict, in process", t_run),
        ("run_line(str) -> str, in process", t_run_line),
    ]:
        print(f"{name:52} {n / t:12.0f} {t / n * 1e6:12.2f}")
    print(f"in process vs the oracle process: run(dict) {t_oracle_dict / t_run:.1f}x, "
          f"run_line(str) {t_oracle_line / t_run_line:.1f}x")
    print("where run(dict)'s time goes (us per scenario):")
    assert stages is not None
    for name, t in stages:
        print(f"  {name:66} {t:6.2f}")


if __name__ == "__main__":
    main()
