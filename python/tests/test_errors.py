"""Errors: ``ScenarioError`` with the binary's message, never a panic; a dict that is not
JSON is refused with its place."""

from __future__ import annotations

import json
import math
import re
import subprocess
from typing import List

import pytest

import bits_helper_token as bht

OK = '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [{"op": "resume"}]}'

BAD_LINES = {
    "not JSON": "nope",
    "truncated": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [',
    "an array": '["latest", {}, {}, {}, {}, []]',
    "a duplicate field": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [], "steps": []}',
    "a duplicate token": '{"tokens": {"a": {"user": "S-1-5-20"}, "a": {"user": "S-1-5-19"}}, "job": {"owner": "a"}, "steps": []}',
    "an unknown field": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [], "extra": 1}',
    "an unknown step field": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [{"op": "resume"}, {"op": "resume", "extra": 1}]}',
    "a bad SID": '{"tokens": {"a": {"user": "S-1-5-X"}}, "job": {"owner": "a"}, "steps": []}',
    "a SID with a leading zero": '{"tokens": {"a": {"user": "S-1-5-020"}}, "job": {"owner": "a"}, "steps": []}',
    "an unknown name": '{"release": "win11", "tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": []}',
    "a float for a DWORD": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [{"op": "query_interface", "caller": "a", "handle": 1}, {"op": "set_helper_token_flags", "handle": 1, "flags": 2.0}]}',
    "an unknown token shorthand": '{"tokens": {"a": "root"}, "job": {"owner": "a"}, "steps": []}',
    "a person's shorthand without its SID": '{"tokens": {"a": "administrator"}, "job": {"owner": "a"}, "steps": []}',
    "a person's shorthand beside a field": '{"tokens": {"a": {"administrator": "S-1-5-21-1-2-3-500", "logon": "batch"}}, "job": {"owner": "a"}, "steps": []}',
    "an unknown group attribute": '{"tokens": {"a": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544", "attributes": ["enabled", "deny"]}]}}, "job": {"owner": "a"}, "steps": []}',
    "a group attribute twice": '{"tokens": {"a": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544", "attributes": ["owner", "owner"]}]}}, "job": {"owner": "a"}, "steps": []}',
    "a group without attributes": '{"tokens": {"a": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544"}]}}, "job": {"owner": "a"}, "steps": []}',
    "an unknown token": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "b"}, "steps": []}',
    "an unknown handle": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [{"op": "resume"}, {"op": "get_helper_token_flags", "handle": 7}]}',
    "a job the model cannot reach": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a", "owner_logged_on": false}, "steps": []}',
    "a second file on a download": '{"tokens": {"a": {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": [{"op": "add_file"}]}',
}


def binary_answers(oracle_bin: str, lines: List[str]) -> List[str]:
    """The binary's answer lines to `lines`, in one process (line numbers from 1)."""
    out = subprocess.run(
        [oracle_bin], input="".join(l + "\n" for l in lines), capture_output=True, text=True
    )
    return out.stdout.splitlines()


@pytest.mark.parametrize("name", list(BAD_LINES))
def test_run_line_raises_the_binarys_error(name, oracle_bin) -> None:
    line = BAD_LINES[name]
    # The line third in the binary's input, and third for run_line: the same "line 3".
    answers = binary_answers(oracle_bin, [OK, OK, line])
    error = json.loads(answers[2])["error"]
    assert error.startswith("line 3")
    with pytest.raises(bht.ScenarioError) as caught:
        bht.run_line(line, 3)
    e = caught.value
    assert str(e) == error
    assert e.answer == answers[2]
    assert e.line == 3
    assert isinstance(e, ValueError)
    # One position only: never serde's " at line L column C" after the binary's own.
    assert re.findall(r"\bline \d+", str(e)) == ["line 3"]
    assert str(e).count("column") <= 1
    if e.column is not None:
        assert str(e).startswith(f"line 3, column {e.column}: invalid scenario: ")
    else:
        assert str(e).startswith("line 3: ")


def test_the_errors_say_where() -> None:
    def error(name):
        with pytest.raises(bht.ScenarioError) as caught:
            bht.run_line(BAD_LINES[name])
        return caught.value

    e = error("an unknown step field")
    assert (e.line, e.step) == (1, None)
    assert "step 2: unknown field `extra`" in str(e) and e.column == 119
    e = error("an unknown token shorthand")
    assert (e.line, e.column, e.step) == (1, 23, None)
    assert str(e).startswith('line 1, column 23: invalid scenario: tokens."a": unknown token shorthand "root"; expected ')
    assert '"local_system"' in str(e) and '{"filtered_administrator": SID}' in str(e)
    e = error("a group attribute twice")
    assert 'group 1: group attribute "owner" is named twice' in str(e) and e.column is not None
    e = error("an unknown handle")
    assert (e.line, e.column, e.step) == (1, None, 2)
    assert str(e) == "line 1: step 2: handle 7 is not defined by an earlier query_interface"
    e = error("a bad SID")
    assert str(e) == (
        "line 1, column 35: invalid scenario: tokens.\"a\": at byte 6: unexpected character 'X', "
        "expected an ASCII decimal digit"
    )
    assert (e.column, e.step) == (35, None)
    e = error("a duplicate field")
    assert str(e) == "line 1, column 83: invalid scenario: duplicate field `steps`"


def test_invalid_utf8_and_blank_input(oracle_bin) -> None:
    with pytest.raises(bht.ScenarioError) as caught:
        bht.run_line(b'{"tokens": "\xff"}')
    assert str(caught.value) == "line 1: not valid UTF-8"
    out = subprocess.run([oracle_bin], input=b'{"tokens": "\xff"}\n', capture_output=True)
    assert out.stdout.decode().strip() == caught.value.answer
    with pytest.raises(TypeError):
        bht.run_line(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [n for n in BAD_LINES if n not in ("not JSON", "truncated", "an array", "a duplicate field", "a duplicate token")])
def test_run_refuses_a_dict_as_the_binary_refuses_its_line(name, oracle_bin) -> None:
    scenario = json.loads(BAD_LINES[name])
    # run(d) answers the compact line json.dumps writes for d, and says so.
    line = json.dumps(scenario, separators=(",", ":"), ensure_ascii=False)
    assert bht.scenario_line(scenario) == line
    (answer,) = binary_answers(oracle_bin, [line])
    with pytest.raises(bht.ScenarioError) as caught:
        bht.run(scenario)
    assert caught.value.answer == answer
    assert str(caught.value) == json.loads(answer)["error"]


def test_scenario_line_writes_what_json_dumps_writes() -> None:
    tricky = {
        "s": "quote \" backslash \\ newline \n tab \t bell \x07 del \x7f é 😀 \u2028",
        "n": [0, -1, 2**63, -(2**63) - 1, 2**70, 1.5, 1e16, 1e-7, -0.0, True, False, None],
        "t": (1, "two"),
        "nested": {"": {"k": []}},
    }
    assert bht.scenario_line(tricky) == json.dumps(tricky, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    "value, message",
    [
        ({1, 2}, "scenario[\"steps\"][0][\"x\"]: a set ({1, 2}) is not JSON"),
        (b"x", "scenario[\"steps\"][0][\"x\"]: a bytes (b'x') is not JSON"),
        (object, "scenario[\"steps\"][0][\"x\"]: a type"),
    ],
)
def test_run_refuses_what_is_not_json_and_says_where(value, message) -> None:
    scenario = {"tokens": {}, "job": {"owner": "a"}, "steps": [{"x": value}]}
    with pytest.raises(TypeError) as caught:
        bht.run(scenario)
    assert str(caught.value).startswith(message), str(caught.value)


def test_run_refuses_keys_that_are_not_str_and_floats_json_lacks() -> None:
    with pytest.raises(TypeError, match=r"scenario\[\"tokens\"\]: the key 1 \(int\) is not JSON"):
        bht.run({"tokens": {1: {"user": "S-1-5-20"}}, "job": {"owner": "a"}, "steps": []})
    for f in (math.nan, math.inf, -math.inf):
        with pytest.raises(TypeError, match=r"scenario\[\"explain\"\]: the float"):
            bht.run({"tokens": {}, "job": {"owner": "a"}, "steps": [], "explain": f})


def test_run_refuses_what_is_not_a_dict_and_a_dict_that_contains_itself() -> None:
    for not_a_dict in ([], "{}", None, 3):
        with pytest.raises(TypeError, match="a scenario is a dict"):
            bht.run(not_a_dict)  # type: ignore[arg-type]
    loop: dict = {"tokens": {}, "job": {"owner": "a"}, "steps": []}
    loop["job"]["self"] = loop
    with pytest.raises(bht.ScenarioError, match="nests deeper than"):
        bht.run(loop)
    deep: list = []
    cur = deep
    for _ in range(150):
        cur.append([])
        cur = cur[0]
    scenario = {"tokens": {}, "job": {"owner": "a"}, "steps": [{"op": "resume", "x": deep}]}
    # JSON can nest 150 deep; the model's reader stops at 128, and run says what the binary
    # says of the same line.
    with pytest.raises(bht.ScenarioError, match="recursion limit exceeded") as caught:
        bht.run(scenario)
    with pytest.raises(bht.ScenarioError) as line_caught:
        bht.run_line(bht.scenario_line(scenario))
    assert str(caught.value) == str(line_caught.value)
