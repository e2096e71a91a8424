"""A pytest + Hypothesis test of a toy BITS against the model — and the toy has a bug.

``ToyBits`` reimplements the five ``IBitsTokenOptions`` methods and ``QueryInterface`` for
Windows 10 1809 with the default knobs (SPEC A-1, A-5, A-7, A-8, A-9, A-11, Q-1), but it
forgets the administrator veto on ``SetHelperTokenFlags`` (A-6): a non-administrator may set
flags while an administrator's token is stored as the helper token. The test compares each
step's HRESULT with the model's (``bits_helper_token.run``) on scenarios drawn from
``bits_helper_token.strategies``, and **fails as intended**: Hypothesis finds the bug and
shrinks it to four steps (an administrator stores its own token, the owner sets flags).

    pip install './python[test]'
    pytest python/examples/test_toy.py       # fails: the shrunk scenario, and the model's why

The failure prints the scenario as one oracle line (``bits-helper-token-oracle`` answers it
as it is) and the model's explanation of the step the toy got wrong.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from hypothesis import given, settings
from hypothesis import strategies as st

import bits_helper_token as bht
from bits_helper_token import strategies as bst

# The toy knows these tokens only: two standard users, an administrator (elevated, High)
# and NetworkService (System integrity).
TOKENS = {
    "alice": {"user": "S-1-5-21-1-2-3-1001"},
    "bob": {"user": "S-1-5-21-1-2-3-1002"},
    "admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]},
    "svc": {"user": "S-1-5-20"},
}
OPS = [
    "query_interface",
    "set_helper_token_flags",
    "get_helper_token_flags",
    "set_helper_token",
    "clear_helper_token",
    "get_helper_token_sid",
]
S_OK, E_NOTIMPL, E_ACCESSDENIED = "0x00000000", "0x80004001", "0x80070005"
CO_E_FAILEDTOIMPERSONATE = "0x80010123"


class Who:
    """What the toy remembers of a caller (A-1): SID, administrator, elevated, integrity."""

    def __init__(self, name: str) -> None:
        token = TOKENS[name]
        self.sid = token["user"]
        self.admin = any(g["sid"] == "S-1-5-32-544" and g["attributes"] & 0x14 == 0x4 for g in token.get("groups", []))
        self.elevated = self.admin  # T-9
        self.integrity = 4 if self.sid == "S-1-5-20" else 3 if self.admin else 2  # T-8


class ToyBits:
    """A tiny BITS: one new job, its handles, its helper token and flags."""

    def __init__(self, owner: str) -> None:
        self.owner = Who(owner)
        self.handles: Dict[Any, Any] = {}  # handle -> Who, or the HRESULT QueryInterface refused with
        self.helper: Optional[Who] = None
        self.flags = 0

    def judge(self, caller: Who, level: str, changes: bool) -> Optional[str]:
        if level == "anonymous":
            return E_ACCESSDENIED
        if (changes and caller.integrity < self.owner.integrity) or (self.owner.elevated and not caller.elevated):
            return E_ACCESSDENIED  # the gate, A-11
        if not caller.admin and caller.sid != self.owner.sid:
            return E_ACCESSDENIED  # the owner rule, A-5
        return None

    def step(self, step: Dict[str, Any]) -> str:
        op, level = step["op"], step.get("level", "impersonate")
        if op == "query_interface":
            caller = Who(step["caller"])
            refused = self.judge(caller, level, changes=False)
            self.handles[step["handle"]] = refused or caller
            return refused or S_OK
        caller = self.handles[step["handle"]]
        if isinstance(caller, str):  # a refused handle repeats its refusal
            return caller
        if op == "set_helper_token" and "can_impersonate" in step:
            level = "impersonate" if step["can_impersonate"] else "identify"
        refused = self.judge(caller, level, changes=op not in ("get_helper_token_flags", "get_helper_token_sid"))
        if refused:
            return refused
        if op == "set_helper_token_flags":
            # BUG: the A-6 veto is missing — a non-administrator must be refused while the
            # stored helper token has the administrators SID enabled.
            if step["flags"] & ~3:
                return E_NOTIMPL
            self.flags = step["flags"]
        elif op == "set_helper_token":
            if level == "identify":
                return CO_E_FAILEDTOIMPERSONATE
            token = Who(step["impersonating"])
            if token.admin and not caller.admin:
                return E_ACCESSDENIED
            self.helper = token
        elif op == "clear_helper_token":
            self.helper = None
        return S_OK


@st.composite
def toy_scenarios(draw: st.DrawFn) -> Dict[str, Any]:
    """Scenarios the toy understands, built from the package's strategies."""
    job = {"owner": draw(st.sampled_from(list(TOKENS)))}
    return {"release": "win10_1809", "tokens": TOKENS, "job": job, "steps": draw(bst.steps(TOKENS, job, ops=OPS))}


@settings(max_examples=1000, derandomize=True, database=None, deadline=None)
@given(toy_scenarios())
def test_the_toy_answers_as_the_model(scenario: Dict[str, Any]) -> None:
    model = bht.run({**scenario, "explain": True})["results"]
    toy = ToyBits(scenario["job"]["owner"])
    for i, step in enumerate(scenario["steps"]):
        got = toy.step(step)
        want = model[i]
        assert got == want["hresult"], (
            f"step {i + 1} ({step['op']}): the toy says {got}, the model {want['hresult']} "
            f"({want.get('name')}, rule {want['rule']})\n"
            f"  because {want['explanation']}\n"
            f"  the scenario ({len(scenario['steps'])} steps) as an oracle line:\n"
            f"  {bht.scenario_line(scenario)}"
        )
