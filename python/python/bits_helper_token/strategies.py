"""Hypothesis strategies for the oracle's scenarios (contract 3, ``docs/oracle.md``).

Every scenario drawn from :func:`scenarios` is one the model accepts: ``run`` answers it with
a transcript, never with ``ScenarioError`` (the package's tests check this on thousands of
draws). The vocabularies (releases, knobs and their values, levels, states, schemes,
accesses, logons…) are read from the scenario JSON Schema that ships with the model
(:func:`bits_helper_token.schemas`), so they follow the contract; what a schema cannot say
(which token may own a job, which errors a job in ERROR may hold, that a handle must be
defined before it is used, that a download takes one file) is written here from the
contract, and cited.

>>> from hypothesis import given
>>> import bits_helper_token as bht
>>> from bits_helper_token import strategies as bst
>>> @given(bst.scenarios())
... def test_my_bits(scenario):
...     assert my_bits(scenario) == bht.run(scenario)   # doctest: +SKIP

The strategies, from the smallest:

- :func:`releases`, :func:`knobs`, :func:`environments`: the scenario's profile;
- :func:`sids`, :func:`groups`, :func:`tokens`: one token (``{"user", "groups"?, …}``);
- :func:`token_maps`: ``{"name": token}`` with at least one token that may own a job;
- :func:`jobs`: the ``job`` object for given tokens (a new job, or one mid-life);
- :func:`steps`: a list of steps valid for given tokens and job (handles defined before
  use; every call, event and route of the contract);
- :func:`scenarios`: whole scenarios; ``max_steps``, ``max_tokens``, ``ops`` (the step ops
  to draw from) and ``explain`` steer them.

Shrinking goes toward few tokens, few steps, the default release and knobs and a new job.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from hypothesis import strategies as st

from . import schemas

__all__ = [
    "ALL_OPS",
    "environments",
    "groups",
    "jobs",
    "knobs",
    "releases",
    "scenarios",
    "sids",
    "steps",
    "token_maps",
    "tokens",
]

_SCHEMA = schemas()["scenario"]
_DEFS = _SCHEMA["$defs"]


def _enum(node: Mapping[str, Any]) -> List[Any]:
    """The values of a schema node's ``enum`` (following one ``$ref``)."""
    if "$ref" in node:
        node = _DEFS[node["$ref"].rsplit("/", 1)[1]]
    return list(node["enum"])


def _prefer(values: Sequence[Any], first: Any) -> List[Any]:
    """The values with `first` first (Hypothesis shrinks toward the first)."""
    return [first] + [v for v in values if v != first]


_STEP_SCHEMAS: Dict[str, Mapping[str, Any]] = {
    s["properties"]["op"]["const"]: s for s in _DEFS["step"]["oneOf"]
}
#: Every step op of the contract, as the schema lists them.
ALL_OPS: List[str] = list(_STEP_SCHEMAS)

_RELEASES = _enum(_SCHEMA["properties"]["release"])
_LEVELS = _prefer(_enum(_DEFS["level"]), "impersonate")
_INTEGRITY = _enum(_DEFS["integrity"])
_LOGONS = _enum(_DEFS["logon"])
_SCHEMES = _enum(_DEFS["scheme"])
_TARGETS = _enum(_DEFS["target"])
_CREDENTIALS = _enum(_DEFS["credential"])
_PROXY_USAGES = _enum(_DEFS["proxy_usage"])
_STATES = _prefer(_enum(_DEFS["job_state"]), "suspended")
_ACCESSES = _enum(_STEP_SCHEMAS["route"]["properties"]["access"])
_TO = _enum(_STEP_SCHEMAS["start_transfer"]["properties"]["to"])
_JOB = _DEFS["job"]["properties"]
_JOB_TYPES = _enum(_JOB["type"])
_REMOTES = _prefer(_enum(_JOB["remote"]), "https")
_JOB_PROXIES = _enum(_JOB["proxy"])
_IE_SETTINGS = _enum(_JOB["ie_settings"])
_FAILURE_NAMES = [
    name for name in _enum(_DEFS["failure_hresult_in"]["anyOf"][1]) if name.startswith(("E_", "BG_E_", "CO_E_", "ERROR_"))
]

# The users of the tokens: the three service accounts (L-11: always logged on), an
# administrator and two standard users (T-2 SIDs, as written by the contract's examples).
_SERVICE_ACCOUNTS = ["S-1-5-18", "S-1-5-19", "S-1-5-20"]
_USERS = ["S-1-5-21-1-2-3-1001", "S-1-5-21-1-2-3-1002", "S-1-5-21-1-2-3-500"] + _SERVICE_ACCOUNTS
# Groups the rules look at: Administrators (T-5), Users, Authenticated Users, Interactive,
# the integrity labels S-1-16-<rid> (T-8), and the users themselves.
_GROUP_SIDS = [
    "S-1-5-32-544",
    "S-1-5-32-545",
    "S-1-5-11",
    "S-1-5-4",
    "S-1-16-4096",
    "S-1-16-8192",
    "S-1-16-12288",
    "S-1-16-16384",
]
# SE_GROUP_* attributes (T-4): the usual 0x7 and 0xF (mandatory, enabled by default,
# enabled, owner), enabled alone, deny-only 0x10, an integrity label 0x20 and 0x60, none.
_ATTRIBUTES = [0x7, 0xF, 0x4, 0x10, 0x20, 0x60, 0x0]
# The same flags by name (``["enabled", "deny_only"]``), as the schema lists them.
_ATTRIBUTE_NAMES = _enum(_DEFS["group_attribute"])
# The errors a rule puts a job in ERROR with (L-5, L-6, X-1, X-3, X-4): the contract refuses
# any other in a scenario's `job`.
_ERRORS_IN_ERROR = [
    "BG_E_TOKEN_REQUIRED",
    "BG_E_HTTP_ERROR_401",
    "BG_E_HTTP_ERROR_407",
    "0x80072F9A",
    "0x80072F0C",
]
# TRANSIENT_ERROR takes any failure code (L-13's BG_E_NETWORK_DISCONNECTED first).
_TRANSIENT_ERRORS = _prefer(_FAILURE_NAMES, "BG_E_NETWORK_DISCONNECTED") + ["0x80040001", "0xC0000022"]
# The job states in which a job may hold no file (contract 3: SUSPENDED, ERROR, CANCELLED,
# ACKNOWLEDGED).
_FILELESS_STATES = {"suspended", "error", "cancelled", "acknowledged"}
_HANDLE_OPS = {
    "set_helper_token_flags",
    "get_helper_token_flags",
    "set_helper_token",
    "clear_helper_token",
    "get_helper_token_sid",
}


def releases() -> st.SearchStrategy[str]:
    """A release (A-3), shrinking toward the latest."""
    return st.sampled_from(_prefer(_RELEASES, _RELEASES[-1]))


def knobs() -> st.SearchStrategy[Dict[str, Any]]:
    """A ``knobs`` object (SPEC §6): any subset of the knobs, each with a value of the
    schema; ``denial`` a failure HRESULT (Q-5)."""
    optional: Dict[str, st.SearchStrategy[Any]] = {}
    for name, node in _DEFS["knobs"]["properties"].items():
        if name == "denial":
            optional[name] = st.sampled_from(_prefer(_FAILURE_NAMES, "E_ACCESSDENIED") + ["0x80004005"])
        else:
            optional[name] = st.sampled_from(_enum(node))
    return st.fixed_dictionaries({}, optional=optional)


def environments() -> st.SearchStrategy[Dict[str, Any]]:
    """An ``environment`` object (R-3, R-6, L-13): any subset of its fields."""
    props = _DEFS["environment"]["properties"]
    return st.fixed_dictionaries(
        {},
        optional={
            "use_lm_compat": st.integers(props["use_lm_compat"]["minimum"], props["use_lm_compat"]["maximum"]),
            "lm_compatibility_level": st.integers(
                props["lm_compatibility_level"]["minimum"], props["lm_compatibility_level"]["maximum"]
            ),
            "kerberos": st.booleans(),
            "network": st.sampled_from(_enum(props["network"])),
        },
    )


def sids() -> st.SearchStrategy[str]:
    """A SID string (T-2) from the users and groups the rules look at."""
    return st.sampled_from(_USERS + _GROUP_SIDS)


def groups() -> st.SearchStrategy[Dict[str, Any]]:
    """One group ``{"sid", "attributes"}`` (T-4): a usual attribute set, any DWORD, or a
    list of the flags' names (each at most once), which the model reads as their number."""
    return st.fixed_dictionaries(
        {
            "sid": st.sampled_from(_GROUP_SIDS + _USERS),
            "attributes": st.one_of(
                st.sampled_from(_ATTRIBUTES),
                st.integers(0, 2**32 - 1),
                st.lists(st.sampled_from(_ATTRIBUTE_NAMES), unique=True, max_size=4),
            ),
        }
    )


def tokens(*, restricted: bool = True) -> st.SearchStrategy[Dict[str, Any]]:
    """One token: ``user`` and any of ``groups``, ``elevated``, ``integrity``, ``logon``,
    ``restricting_sids`` (T-11; a SID at most once). With ``restricted=False`` the token
    has no restricting SIDs, so it may own a job (A-14)."""
    optional: Dict[str, st.SearchStrategy[Any]] = {
        "groups": st.lists(groups(), max_size=4),
        "elevated": st.booleans(),
        "integrity": st.sampled_from(_INTEGRITY),
        "logon": st.sampled_from(_LOGONS),
    }
    if restricted:
        optional["restricting_sids"] = st.lists(st.sampled_from(_GROUP_SIDS + _USERS), max_size=2, unique=True)
    return st.fixed_dictionaries({"user": st.sampled_from(_USERS)}, optional=optional)


_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank"]


@st.composite
def token_maps(draw: st.DrawFn, max_tokens: int = 4) -> Dict[str, Dict[str, Any]]:
    """``tokens``: 1 to `max_tokens` named tokens; the first may own the job (it is not
    restricted, A-14)."""
    n = draw(st.integers(1, max(1, min(max_tokens, len(_NAMES)))))
    out = {_NAMES[0]: draw(tokens(restricted=False))}
    for name in _NAMES[1:n]:
        out[name] = draw(tokens())
    return out


def _is_service_account(sid: str) -> bool:
    return sid.upper() in _SERVICE_ACCOUNTS


@st.composite
def jobs(
    draw: st.DrawFn,
    token_map: Mapping[str, Mapping[str, Any]],
    release: Optional[str] = None,
) -> Dict[str, Any]:
    """A ``job`` for the tokens of `token_map` on `release` (default: the latest): its
    owner a token that is not restricted (A-14), and, as the contract requires, a service
    account never said to be logged off (L-11), ``use_stored_credentials`` only from BITS
    4.0 on (A-2), an upload-reply job over SMB only without its file (T-7), an error exactly
    in ERROR (one a rule produces there) and TRANSIENT_ERROR, no file only in SUSPENDED,
    ERROR, CANCELLED or ACKNOWLEDGED, flags of known bits only, implicit credentials only
    for NTLM and Negotiate (R-3)."""
    owners = [n for n, t in token_map.items() if not t.get("restricting_sids")]
    if not owners:
        raise ValueError("jobs(): every token is restricted, and a restricted token cannot own a job (A-14)")
    owner = draw(st.sampled_from(owners))
    job: Dict[str, Any] = {"owner": owner}
    names = list(token_map)

    def maybe(key: str, strategy: st.SearchStrategy[Any]) -> None:
        if draw(st.booleans()):
            job[key] = draw(strategy)

    maybe("owner_elevated", st.booleans())
    maybe("owner_integrity", st.sampled_from(_INTEGRITY))
    maybe("type", st.sampled_from(_JOB_TYPES))
    maybe("remote", st.sampled_from(_REMOTES))
    maybe("client_certificate", st.booleans())
    maybe("proxy", st.sampled_from(_JOB_PROXIES))
    maybe("ie_settings", st.sampled_from(_IE_SETTINGS))
    maybe(
        "challenges",
        st.fixed_dictionaries(
            {},
            optional={t: st.lists(st.sampled_from(_SCHEMES), unique=True, max_size=3) for t in _TARGETS},
        ),
    )
    maybe("server_requests_certificate", st.booleans())
    if (release or _RELEASES[-1]) != "pre_bits4":
        maybe("use_stored_credentials", st.booleans())
    if _is_service_account(token_map[owner]["user"]):
        maybe("owner_logged_on", st.just(True))
    else:
        maybe("owner_logged_on", st.booleans())
    # The job as it is now (mid-life).
    maybe("state", st.sampled_from(_STATES))
    state = job.get("state", "suspended")
    if state == "error":
        job["error"] = draw(st.sampled_from(_ERRORS_IN_ERROR))
    elif state == "transient_error":
        job["error"] = draw(st.sampled_from(_TRANSIENT_ERRORS))
    elif draw(st.booleans()):
        job["error"] = None
    upload_reply_smb = job.get("type") == "upload_reply" and job.get("remote") == "smb"
    if upload_reply_smb:
        if state not in _FILELESS_STATES:
            job["state"] = state = "suspended"
            job.pop("error", None)
        job["files"] = 0
    elif state in _FILELESS_STATES:
        maybe("files", st.sampled_from([1, 0]))
    maybe("flags", st.integers(0, 3))
    maybe("helper_token", st.one_of(st.none(), st.sampled_from(names)))
    maybe(
        "credentials",
        st.fixed_dictionaries({}, optional={t: _scheme_credentials() for t in _TARGETS}),
    )
    return job


# Implicit credentials (a NULL user name and password, R-3 (i)) exist only for NTLM and
# Negotiate: SetCredentials refuses them for the other schemes (E_INVALIDARG), so a job
# cannot hold them.
_IMPLICIT_SCHEMES = {"ntlm", "negotiate"}


def _scheme_credentials() -> st.SearchStrategy[Dict[str, str]]:
    return st.lists(st.sampled_from(_SCHEMES), unique=True, max_size=3).flatmap(
        lambda schemes: st.fixed_dictionaries(
            {
                s: st.sampled_from(_CREDENTIALS if s in _IMPLICIT_SCHEMES else ["explicit"])
                for s in schemes
            }
        )
    )


@st.composite
def steps(
    draw: st.DrawFn,
    token_map: Mapping[str, Mapping[str, Any]],
    job: Mapping[str, Any],
    max_steps: int = 10,
    ops: Optional[Sequence[str]] = None,
) -> List[Dict[str, Any]]:
    """Up to `max_steps` steps for these tokens and this job, drawn from `ops` (default
    :data:`ALL_OPS`). A handle step goes through a handle defined by an earlier
    ``query_interface`` (half the time one added just before it, by any token); ``caller`` is required on
    ``query_interface`` and ``take_ownership``, optional on the job methods, absent from the
    handle steps; ``level`` is optional on every call, and ``set_helper_token`` gives it or
    ``can_impersonate``, not both. ``add_file`` on a download that may already hold its
    file is left out: the contract calls a second file on a download outside the model
    (L-15), so a download that starts without its file gets at most one ``add_file``."""
    ops = list(ops if ops is not None else ALL_OPS)
    unknown = sorted(set(ops) - set(ALL_OPS))
    if unknown or not ops:
        raise ValueError(f"steps(): unknown ops {unknown}" if unknown else "steps(): no ops")
    names = list(token_map)
    name = st.sampled_from(names)
    download = job.get("type", "download") == "download"
    add_file_left = 1 if job.get("files", 1) == 0 else 0
    out: List[Dict[str, Any]] = []
    handles: List[Any] = []

    def call(step: Dict[str, Any], *, caller: Optional[bool]) -> Dict[str, Any]:
        # caller: True required, False absent, None optional.
        if caller or (caller is None and draw(st.booleans())):
            step["caller"] = draw(name)
        if draw(st.booleans()):
            step["level"] = draw(st.sampled_from(_LEVELS))
        return step

    def query_interface() -> Dict[str, Any]:
        handle = draw(st.sampled_from([len(handles) + 1, f"h{len(handles) + 1}"]))
        handles.append(handle)
        return call({"op": "query_interface", "handle": handle}, caller=True)

    n = draw(st.integers(0, max_steps))
    while len(out) < n:
        op = draw(st.sampled_from(ops))
        if op == "add_file" and download:
            if add_file_left == 0:
                continue
            add_file_left -= 1
        if op == "query_interface":
            out.append(query_interface())
        elif op in _HANDLE_OPS:
            # Half the time through a new handle, queried just before by any token: the
            # interesting sequences (one caller stores a token, another is vetoed) need
            # several callers, each with its handle.
            if not handles or draw(st.booleans()):
                out.append(query_interface())
                handle = handles[-1]
            else:
                handle = draw(st.sampled_from(handles))
            step: Dict[str, Any] = {"op": op, "handle": handle}
            if op == "set_helper_token_flags":
                step["flags"] = draw(st.one_of(st.integers(0, 3), st.integers(0, 2**32 - 1)))
            if op == "set_helper_token":
                step["impersonating"] = draw(name)
                if draw(st.booleans()):
                    step["can_impersonate"] = draw(st.booleans())
                    out.append(step)
                    continue
            out.append(call(step, caller=False))
        elif op == "take_ownership":
            out.append(call({"op": op}, caller=True))
        elif op in ("resume", "suspend", "cancel", "complete", "add_file"):
            out.append(call({"op": op}, caller=None))
        elif op in ("set_credentials", "remove_credentials"):
            step = {"op": op, "target": draw(st.sampled_from(_TARGETS)), "scheme": draw(st.sampled_from(_SCHEMES))}
            if op == "set_credentials":
                step["credential"] = draw(st.sampled_from(_CREDENTIALS))
            out.append(call(step, caller=None))
        elif op == "set_proxy_usage":
            out.append(call({"op": op, "usage": draw(st.sampled_from(_PROXY_USAGES))}, caller=None))
        elif op == "set_client_certificate":
            out.append(call({"op": op, "present": draw(st.booleans())}, caller=None))
        elif op == "set_job_property":
            out.append(call({"op": op, "property": "use_stored_credentials", "target": "proxy"}, caller=None))
        elif op == "start_transfer":
            step = {"op": op}
            if draw(st.booleans()):
                step["to"] = draw(st.sampled_from(_TO))
            out.append(step)
        elif op == "route":
            out.append({"op": op, "access": draw(st.sampled_from(_ACCESSES))})
        else:  # the events without fields
            out.append({"op": op})
    return out


@st.composite
def scenarios(
    draw: st.DrawFn,
    max_steps: int = 10,
    max_tokens: int = 4,
    ops: Optional[Sequence[str]] = None,
    explain: Optional[bool] = False,
) -> Dict[str, Any]:
    """A whole scenario the model accepts: a release, knobs and environment (each present
    or not), 1 to `max_tokens` tokens, a job (:func:`jobs`) and up to `max_steps` steps
    (:func:`steps`, from `ops`). ``explain``: ``False`` leaves it out, ``True`` sets it,
    ``None`` draws it."""
    scenario: Dict[str, Any] = {}
    release = None
    if draw(st.booleans()):
        release = scenario["release"] = draw(releases())
    if draw(st.booleans()):
        scenario["knobs"] = draw(knobs())
    if draw(st.booleans()):
        scenario["environment"] = draw(environments())
    token_map = scenario["tokens"] = draw(token_maps(max_tokens=max_tokens))
    job = scenario["job"] = draw(jobs(token_map, release))
    scenario["steps"] = draw(steps(token_map, job, max_steps=max_steps, ops=ops))
    if explain is None:
        scenario["explain"] = draw(st.booleans())
    elif explain:
        scenario["explain"] = True
    return scenario
