"""The BITS helper-token model (IBitsTokenOptions) inside Python.

Every answer comes from the Rust model, through the same function that answers a line for
the ``bits-helper-token-oracle`` binary (contract 3, ``docs/oracle.md``): this package
decides nothing itself.

>>> import bits_helper_token as bht
>>> answer = bht.run({"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"},
...                   "steps": [{"op": "query_interface", "caller": "svc", "handle": 1},
...                             {"op": "set_helper_token_flags", "handle": 1, "flags": 2}]})
>>> answer["results"][1]["rule"]
'A-5'
"""

from __future__ import annotations

import json as _json
from typing import Any, Dict

from ._native import (
    CONTRACT_VERSION,
    ScenarioError,
    run,
    run_line,
    scenario_line,
    schemas_json as _schemas_json,
)

__all__ = [
    "CONTRACT_VERSION",
    "ScenarioError",
    "run",
    "run_line",
    "scenario_line",
    "schemas",
]

__version__ = "0.1.0"


def schemas() -> Dict[str, Any]:
    """The JSON Schemas of both lines, as ``bits-helper-token-oracle --schema`` prints them:
    ``{"contract": 3, "scenario": {...}, "answer": {...}}`` (a fresh copy on each call)."""
    schemas: Dict[str, Any] = _json.loads(_schemas_json())
    return schemas
