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
         "win10_1607", "pre_bits4", "E_FAIL", "0x80070005", "query_interface", "identify", ""]
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
