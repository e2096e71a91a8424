"""``run`` answers every conformance vector as the vectors and the binary do."""

from __future__ import annotations

import json

import pytest

import bits_helper_token as bht

from conftest import VECTORS


def test_there_are_vectors() -> None:
    # tests/vectors/{lifecycle,methods,routing,v3}.json: hundreds of scenarios.
    assert len(VECTORS) > 300
    assert {v["file"] for v in VECTORS} >= {"lifecycle", "methods", "routing"}


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['file']}:{v['name']}" for v in VECTORS])
def test_run_answers_the_vector(vector) -> None:
    assert bht.run(vector["scenario"]) == vector["expected"]


def test_run_and_run_line_answer_as_the_binary_on_every_vector(oracle) -> None:
    differ = []
    asked = oracle.lines
    for v in VECTORS:
        line = json.dumps(v["scenario"])
        binary = oracle.ask(line)
        # run_line: the binary's answer line, byte for byte.
        if bht.run_line(line) != binary:
            differ.append((v["name"], "run_line"))
        # run: the same answer as a dict, also for the dict's own compact line.
        if bht.run(v["scenario"]) != json.loads(binary):
            differ.append((v["name"], "run"))
        if oracle.ask(bht.scenario_line(v["scenario"])) != binary:
            differ.append((v["name"], "scenario_line"))
    assert differ == []
    assert oracle.lines - asked == 2 * len(VECTORS)


def test_run_returns_fresh_plain_objects() -> None:
    v = VECTORS[0]
    a, b = bht.run(v["scenario"]), bht.run(v["scenario"])
    assert a == b and a is not b
    assert type(a) is dict and type(a["results"]) is list
    a["results"].clear()  # the caller's to change
    assert bht.run(v["scenario"]) == v["expected"]


def test_run_line_takes_bytes_and_a_byte_order_mark() -> None:
    v = VECTORS[0]
    line = json.dumps(v["scenario"])
    expected = bht.run_line(line)
    assert bht.run_line(line.encode()) == expected
    assert bht.run_line(b"\xef\xbb\xbf" + line.encode()) == expected
    assert bht.run_line("\ufeff" + line) == expected


def test_run_from_several_threads_at_once() -> None:
    # The GIL is released while the model runs; each thread gets the same answers.
    from concurrent.futures import ThreadPoolExecutor

    chunk = VECTORS[:60]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda v: bht.run(v["scenario"]), chunk * 4))
    assert answers == [v["expected"] for v in chunk] * 4
