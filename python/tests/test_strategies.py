"""The strategies draw scenarios the model accepts, in the contract's vocabulary."""

from __future__ import annotations

import copy
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


# The SE_GROUP_* flags by name and their values (docs/oracle.md, T-4), written here, not
# read from the model.
FLAG_VALUES = {
    "mandatory": 0x1,
    "enabled_by_default": 0x2,
    "enabled": 0x4,
    "owner": 0x8,
    "deny_only": 0x10,
    "integrity": 0x20,
    "integrity_enabled": 0x40,
    "resource": 0x20000000,
    "logon_id": 0xC0000000,
}


def as_numbers(scenario):
    """The scenario with every group's attributes written as the number."""
    out = copy.deepcopy(scenario)
    for token in out["tokens"].values():
        for group in token.get("groups", []):
            if isinstance(group["attributes"], list):
                group["attributes"] = sum(FLAG_VALUES[name] for name in group["attributes"])
    return out


def test_the_attribute_names_are_the_schemas() -> None:
    assert list(FLAG_VALUES) == bht.schemas()["scenario"]["$defs"]["group_attribute"]["enum"]


def test_named_attributes_answer_as_their_numbers() -> None:
    named = []

    @settings(SETTINGS, max_examples=300)
    @given(bst.scenarios(max_steps=12))
    def check(scenario) -> None:
        numeric = as_numbers(scenario)
        if numeric != scenario:
            named.append(scenario)
        assert bht.run(scenario) == bht.run(numeric)

    check()
    # The strategies draw the named form, and not only empty lists.
    assert any(
        g["attributes"]
        for s in named
        for t in s["tokens"].values()
        for g in t.get("groups", [])
        if isinstance(g["attributes"], list)
    )


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
