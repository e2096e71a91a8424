"""Type hints for the Rust extension ``bits_helper_token._native`` (re-exported by
``bits_helper_token``). Every answer is the model's: the extension calls
``bits_helper_token::scenario::answer_line``, the function that answers a line for the
``bits-helper-token-oracle`` binary."""

from typing import Any, Dict, Optional, Union

#: The version of the oracle's JSON-lines contract this model speaks (docs/oracle.md): 3.
CONTRACT_VERSION: int

class ScenarioError(ValueError):
    """A scenario the oracle answers with ``{"error": ...}``.

    ``str(e)`` is the binary's message, for example ``line 1, column 35: invalid scenario:
    tokens."a": at byte 6: unexpected character 'X', expected an ASCII decimal digit`` (a
    line that is not a scenario) or ``line 1: step 2: handle 7 is not defined by an earlier
    query_interface`` (a scenario the model refuses)."""

    #: The binary's whole answer line: ``{"error": "<str(e)>"}``.
    answer: str
    #: The line's number (1 for ``run``; ``number`` for ``run_line``).
    line: int
    #: For a line that is not a scenario: the column where reading stopped (from 1, in
    #: characters); else None.
    column: Optional[int]
    #: For a scenario the model refuses: the step (from 1); None when the job is at fault
    #: or the line is not a scenario.
    step: Optional[int]

def run(scenario: Dict[str, Any]) -> Dict[str, Any]:
    """The oracle's answer to a scenario, a dict in and a dict out: ``{"results": [...],
    "job": {...}}`` (contract 3, docs/oracle.md).

    The dict is written as the compact JSON line ``json.dumps(scenario, separators=(",",
    ":"), ensure_ascii=False)`` writes (see :func:`scenario_line`) and the model answers that
    line as the binary would, as line 1.

    Raises:
        ScenarioError: the binary's error for that line (an unknown field, a bad SID, an
            unknown token...), or a dict that nests deeper than 256 levels or contains
            itself.
        TypeError: ``scenario`` is not a dict, or holds something JSON cannot (a set, bytes,
            a non-str key, NaN or an infinity); the message names its place, as in
            ``scenario["steps"][0]["x"]: a set ({1, 2}) is not JSON``.
    """

def run_line(line: Union[str, bytes], number: int = 1) -> str:
    """The binary's answer line to one input line (without its newline), byte for byte:
    the transcript ``{"results":[...],"job":{...}}``. ``number`` is the line's number in the
    error messages, as the binary counts its input lines (from 1). A UTF-8 byte-order mark
    at the start is skipped.

    Raises:
        ScenarioError: the binary answers ``{"error": ...}``; ``e.answer`` is that line.
        TypeError: ``line`` is neither str nor bytes.
    """

def scenario_line(scenario: Dict[str, Any]) -> str:
    """The compact JSON line :func:`run` gives the model for ``scenario``: what
    ``json.dumps(scenario, separators=(",", ":"), ensure_ascii=False)`` writes, in the
    dict's key order. Feed it to ``bits-helper-token-oracle`` to replay a scenario.

    Raises:
        TypeError, ScenarioError: as :func:`run`, for a dict that is not JSON.
    """

def schemas_json() -> str:
    """What ``bits-helper-token-oracle --schema`` prints (``bits_helper_token.schemas()``
    reads it)."""
