#!/usr/bin/env python3
"""Pipes generated scenarios through an installed bits-helper-token-oracle and checks every
answer line against schema/answer.schema.json (Python 3 standard library only).

    scripts/check-oracle.py ORACLE SCENARIOS.jsonl [SCHEMA]

ORACLE is the binary (e.g. ~/.cargo/bin/bits-helper-token-oracle), SCENARIOS.jsonl one
scenario per line (e.g. `cargo run -q --example scenarios --features proptest -- 1000`).
Checks: the oracle exits 0, gives exactly one answer per input line, every answer is one
JSON object that validates against the answer schema, none is an error (generated
scenarios are valid), and each transcript has one result per step of its scenario.
Prints a one-line summary; exits 1 on any failure, 2 on bad usage.

The validator implements the part of JSON Schema 2020-12 the answer schema uses: type,
enum, const, pattern, minimum, maximum, required, properties, additionalProperties, items,
oneOf, anyOf and local $ref into $defs. A keyword it does not know makes it fail, so the
check never passes by ignoring part of the schema.
"""

import json
import os
import re
import subprocess
import sys

KNOWN = {
    "$schema", "$id", "$comment", "$defs", "title", "description", "type", "enum", "const",
    "pattern",
    "minimum", "maximum", "required", "properties", "additionalProperties", "items",
    "oneOf", "anyOf", "$ref",
}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Validator:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported: {ref}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, schema, value, path="$"):
        """Yields (path, message) for every way `value` fails `schema`."""
        unknown = set(schema) - KNOWN
        if unknown:
            raise ValueError(f"unsupported keywords {sorted(unknown)} at {path}")
        if "$ref" in schema:
            yield from self.errors(self.resolve(schema["$ref"]), value, path)
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(TYPES[t](value) for t in types):
                yield path, f"expected {schema['type']}, got {json.dumps(value)[:60]}"
                return
        if "const" in schema and value != schema["const"]:
            yield path, f"expected {schema['const']!r}"
        if "enum" in schema and value not in schema["enum"]:
            yield path, f"{json.dumps(value)[:60]} is not one of the enum"
        if isinstance(value, str) and "pattern" in schema:
            if not re.search(schema["pattern"], value):
                yield path, f"{value!r} does not match {schema['pattern']}"
        if TYPES["number"](value):
            if "minimum" in schema and value < schema["minimum"]:
                yield path, f"{value} < {schema['minimum']}"
            if "maximum" in schema and value > schema["maximum"]:
                yield path, f"{value} > {schema['maximum']}"
        if isinstance(value, dict):
            for key in schema.get("required", []):
                if key not in value:
                    yield path, f"missing {key!r}"
            props = schema.get("properties", {})
            for key, item in value.items():
                if key in props:
                    yield from self.errors(props[key], item, f"{path}.{key}")
                elif schema.get("additionalProperties") is False:
                    yield path, f"unexpected field {key!r}"
                elif isinstance(schema.get("additionalProperties"), dict):
                    yield from self.errors(schema["additionalProperties"], item, f"{path}.{key}")
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                yield from self.errors(schema["items"], item, f"{path}[{i}]")
        if "oneOf" in schema:
            results = [list(self.errors(s, value, path)) for s in schema["oneOf"]]
            passing = sum(1 for r in results if not r)
            if passing == 0:
                # Say why the nearest alternative fails.
                yield from min(results, key=len)
            elif passing > 1:
                yield path, f"matches {passing} of oneOf's {len(results)} alternatives (needs exactly 1)"
        if "anyOf" in schema:
            if all(list(self.errors(s, value, path)) for s in schema["anyOf"]):
                yield path, "matches none of anyOf"


def main(argv):
    if len(argv) not in (3, 4):
        print("usage: scripts/check-oracle.py ORACLE SCENARIOS.jsonl [SCHEMA]", file=sys.stderr)
        return 2
    oracle, scenarios_path = argv[1], argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    schema_path = argv[3] if len(argv) == 4 else os.path.join(here, "..", "schema", "answer.schema.json")
    with open(schema_path, encoding="utf-8") as f:
        validator = Validator(json.load(f))
    with open(scenarios_path, "rb") as f:
        data = f.read()
    lines = [l for l in data.split(b"\n") if l.strip()]
    run = subprocess.run([oracle], input=data, capture_output=True, check=False)
    failures = []
    if run.returncode != 0:
        failures.append(f"the oracle exited {run.returncode}: {run.stderr.decode(errors='replace')[:300]}")
    answers = run.stdout.decode("utf-8").split("\n")
    if answers and answers[-1] == "":
        answers.pop()
    if len(answers) != len(lines):
        failures.append(f"{len(lines)} scenarios but {len(answers)} answers")
    valid = 0
    for number, (scenario, answer) in enumerate(zip(lines, answers), start=1):
        try:
            doc = json.loads(answer)
        except ValueError as e:
            failures.append(f"answer {number} is not JSON: {e}")
            continue
        errs = list(validator.errors(validator.root, doc))
        if errs:
            failures.append(f"answer {number}: " + "; ".join(f"{p}: {m}" for p, m in errs[:3]))
            continue
        if "error" in doc:
            failures.append(f"answer {number} is an error for a generated scenario: {doc['error']}")
            continue
        steps = len(json.loads(scenario)["steps"])
        if len(doc["results"]) != steps:
            failures.append(f"answer {number}: {len(doc['results'])} results for {steps} steps")
            continue
        valid += 1
    for f in failures[:20]:
        print("FAILED:", f)
    print(f"{len(lines)} scenarios, {len(answers)} answers, {valid} valid against {os.path.basename(schema_path)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
