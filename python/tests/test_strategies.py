"""The strategies draw scenarios the model accepts, in the contract's vocabulary."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bits_helper_token as bht
from bits_helper_token import strategies as bst

# Deterministic in CI (a fixed derandomized search), and quick.
SETTINGS = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(bst.scenarios(explain=None))
def test_generated_scenarios_are_never_refused(scenario) -> None:
    answer = bht.run(scenario)  # a ScenarioError here fails the test
    assert "error" not in answer
    assert len(answer["results"]) == len(scenario["steps"])
    if scenario.get("explain"):
        assert all("explanation" in r for r in answer["results"])


@settings(SETTINGS, max_examples=300)
@given(bst.scenarios(max_steps=20, max_tokens=6))
def test_generated_scenarios_answer_as_the_binary(oracle, scenario) -> None:
    line = json.dumps(scenario)
    binary = oracle.ask(line)
    assert bht.run_line(line) == binary
    assert bht.run(scenario) == json.loads(binary)


@SETTINGS
@given(st.data())
def test_each_strategy_draws_what_the_contract_accepts(data) -> None:
    token_map = data.draw(bst.token_maps())
    release = data.draw(bst.releases())
    job = data.draw(bst.jobs(token_map, release))
    scenario = {
        "release": release,
        "knobs": data.draw(bst.knobs()),
        "environment": data.draw(bst.environments()),
        "tokens": token_map,
        "job": job,
        "steps": data.draw(bst.steps(token_map, job)),
    }
    bht.run(scenario)
    # A group names its SID and attributes; a token names its user.
    for token in token_map.values():
        for group in token.get("groups", []):
            assert set(group) == {"sid", "attributes"}
    assert not token_map[job["owner"]].get("restricting_sids")


@SETTINGS
@given(bst.scenarios(ops=["query_interface", "set_helper_token", "get_helper_token_sid"]))
def test_ops_narrow_the_steps(scenario) -> None:
    assert {s["op"] for s in scenario["steps"]} <= {"query_interface", "set_helper_token", "get_helper_token_sid"}
    defined = set()
    for step in scenario["steps"]:
        if step["op"] == "query_interface":
            defined.add(step["handle"])
        else:
            assert step["handle"] in defined  # a handle is defined before it is used
    bht.run(scenario)


def test_the_vocabulary_is_the_schemas() -> None:
    defs = bht.schemas()["scenario"]["$defs"]
    assert bst.ALL_OPS == [s["properties"]["op"]["const"] for s in defs["step"]["oneOf"]]
    assert len(bst.ALL_OPS) == 26


def test_every_op_is_drawn() -> None:
    seen = set()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(bst.scenarios(max_steps=15))
    def collect(scenario) -> None:
        seen.update(s["op"] for s in scenario["steps"])

    collect()
    assert seen == set(bst.ALL_OPS)


def test_unknown_ops_are_refused() -> None:
    @settings(max_examples=1, database=None)
    @given(bst.scenarios(ops=["frobnicate"]))
    def draw(scenario) -> None:
        pass

    with pytest.raises(ValueError, match="unknown ops"):
        draw()
