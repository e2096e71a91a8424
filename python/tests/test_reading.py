"""``run(dict)`` reads the dict straight into the model's ``Scenario``; whatever that reading
does, the answer must be the one the binary gives the dict's JSON line. This mutates the
conformance vectors' scenarios anywhere, with any JSON value, and compares."""

from __future__ import annotations

import copy
import json
from typing import Any, List, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

import bits_helper_token as bht

from conftest import VECTORS

Path = Tuple[Any, ...]


def paths(value: Any, prefix: Path = ()) -> List[Path]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, prefix + (i,))
    return out


def outcome(f: Any) -> Tuple[str, Any]:
    try:
        return ("answer", f())
    except bht.ScenarioError as e:
        return ("error", (str(e), e.answer, e.line, e.column, e.step))


NAMES = ["S-1-5-20", "s-1-5-18", "S-1-5-21-1-2-3-500", "alice", "svc", "h1", "resume", "download",
         "win10_1607", "pre_bits4", "E_FAIL", "0x80070005", "query_interface", "identify", "",
         "local_system", "administrator", "enabled", "deny_only"]
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(NAMES),
    st.text(max_size=4),
)
values = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from(NAMES + ["op", "user", "caller", "handle", "flags"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=1500, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_run_answers_a_mutated_scenario_as_the_binary_answers_its_line(data) -> None:
    vector = data.draw(st.sampled_from(VECTORS))
    scenario = copy.deepcopy(vector["scenario"])
    path = data.draw(st.sampled_from(paths(scenario)[1:]))
    parent = scenario
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) or not isinstance(parent, dict):
        parent[path[-1]] = data.draw(values)
    else:  # a field beside it
        parent[data.draw(st.sampled_from(NAMES + ["level", "groups", "attributes"]))] = data.draw(values)
    by_dict = outcome(lambda: bht.run(scenario))
    by_line = outcome(lambda: json.loads(bht.run_line(bht.scenario_line(scenario))))
    assert by_dict == by_line


def test_a_tuple_reads_as_a_list_and_big_ints_as_the_line_has_them() -> None:
    v = VECTORS[0]["scenario"]
    as_tuple = {**v, "steps": tuple(v["steps"])}
    assert bht.run(as_tuple) == bht.run(v)
    big = copy.deepcopy(v)
    big["steps"] = [{"op": "query_interface", "caller": big["job"]["owner"], "handle": 2**64}]
    assert outcome(lambda: bht.run(big)) == outcome(lambda: json.loads(bht.run_line(bht.scenario_line(big))))


def test_shorthand_tokens_and_named_attributes_read_as_written_out() -> None:
    # docs/oracle.md: a shorthand is its constructor's token; attributes by name are the number.
    everyone = [{"sid": "S-1-1-0", "attributes": 7}]
    people = [{"sid": "S-1-5-32-545", "attributes": 7}, {"sid": "S-1-5-4", "attributes": 7}, {"sid": "S-1-5-11", "attributes": 7}]
    admin = {"user": "S-1-5-21-1-2-3-500", "groups": everyone + [{"sid": "S-1-5-32-544", "attributes": 15}] + people}
    long = {
        "tokens": {
            "svc": {"user": "S-1-5-20", "groups": everyone + [{"sid": "S-1-5-32-545", "attributes": 7}, {"sid": "S-1-5-6", "attributes": 7}, {"sid": "S-1-5-11", "attributes": 7}]},
            "admin": admin,
            "alice": {"user": "S-1-5-21-1-2-3-1001", "groups": everyone + people},
            "low": {"user": "S-1-5-21-1-2-3-1001", "groups": [{"sid": "S-1-16-4096", "attributes": 96}]},
        },
        "job": {"owner": "svc"},
        "steps": [
            {"op": "query_interface", "caller": "svc", "handle": 1},
            {"op": "set_helper_token", "handle": 1, "impersonating": "admin"},
            {"op": "set_helper_token", "handle": 1, "impersonating": "alice"},
            {"op": "get_helper_token_sid", "handle": 1},
            {"op": "query_interface", "caller": "low", "handle": 2},
        ],
    }
    short = copy.deepcopy(long)
    short["tokens"].update(
        svc="network_service",
        admin={"administrator": "S-1-5-21-1-2-3-500"},
        alice={"standard_user": "S-1-5-21-1-2-3-1001"},
        low={"user": "S-1-5-21-1-2-3-1001", "groups": [{"sid": "S-1-16-4096", "attributes": ["integrity_enabled", "integrity"]}]},
    )
    answer = bht.run(short)
    assert answer == bht.run(long)
    assert json.loads(bht.run_line(json.dumps(short))) == answer
    assert [r["rule"] for r in answer["results"][:2]] == ["A-1", "A-7"]  # the administrator is vetoed
    assert answer["results"][3]["value"] == "S-1-5-21-1-2-3-1001"
