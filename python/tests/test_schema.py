"""``schemas()`` and ``CONTRACT_VERSION`` are the binary's."""

from __future__ import annotations

import json
import subprocess

import bits_helper_token as bht


def test_schemas_equal_the_binarys_schema_option(oracle_bin) -> None:
    out = subprocess.run([oracle_bin, "--schema"], capture_output=True, text=True, check=True)
    assert bht.schemas() == json.loads(out.stdout)


def test_contract_version() -> None:
    assert bht.CONTRACT_VERSION == 3
    s = bht.schemas()
    assert set(s) == {"contract", "scenario", "answer"}
    assert s["contract"] == bht.CONTRACT_VERSION
    assert s["scenario"]["$schema"].endswith("2020-12/schema")
    # A fresh copy on each call.
    s["scenario"].clear()
    assert bht.schemas()["scenario"]["properties"]


def test_the_binary_names_the_contract(oracle_bin) -> None:
    out = subprocess.run([oracle_bin, "--version"], capture_output=True, text=True, check=True)
    assert f"contract {bht.CONTRACT_VERSION}" in out.stdout


def test_a_group_names_its_attributes_in_the_schema_and_the_parser() -> None:
    # docs/oracle.md: a group is {"sid": SID, "attributes": NUMBER}; both are required.
    group = bht.schemas()["scenario"]["$defs"]["group"]
    assert sorted(group["required"]) == ["attributes", "sid"]
    scenario = {
        "tokens": {"a": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544"}]}},
        "job": {"owner": "a"},
        "steps": [],
    }
    try:
        bht.run(scenario)
    except bht.ScenarioError as e:
        assert "missing field `attributes`" in str(e)
    else:
        raise AssertionError("a group without attributes was accepted")
