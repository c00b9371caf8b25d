"""Checks brine's typed mapping against CPython, in one process (tests/test_mapping.cpp).

usage: roundtrip.py DIR

DIR/manifest.json holds
  "check": [{"file": F, "expr": E}, ...]  pickles brine wrote: pickle.load(F) must equal eval(E),
                                          with the same types all the way down
  "make":  [{"name": N, "expr": E}, ...]  pickles for brine to read: DIR/N.p<protocol>.pkl =
                                          pickle.dumps(eval(E), protocol) for protocols 0..5
Prints {"failures": [...], "checked": n, "made": n} as JSON; exit status 0 if no failure.
"""
import collections
import dataclasses
import datetime
import json
import math
import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytypes  # noqa: E402

ENV = {"datetime": datetime, "collections": collections, "pytypes": pytypes, "math": math}


def same(a, b):
    """a == b, and every part has exactly the same type (so [1] != (1,), {1} != frozenset({1}),
    1 != 1.0 != True); NaN equals NaN; -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        keys_b = {k: k for k in b}
        for k, v in a.items():
            if k not in keys_b or not same(k, keys_b[k]) or not same(v, b[k]):
                return False
        return True
    if isinstance(a, (set, frozenset)):
        if a != b:
            return False
        elems_b = {x: x for x in b}
        return all(same(x, elems_b[x]) for x in a)
    if isinstance(a, datetime.datetime):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold
    if dataclasses.is_dataclass(a):
        return same(vars(a), vars(b))
    return a == b


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    failures = []
    checked = made = 0
    for c in manifest.get("check", []):
        path = os.path.join(d, c["file"])
        try:
            with open(path, "rb") as f:
                got = pickle.load(f)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{c['file']}: pickle.load failed: {type(e).__name__}: {e}")
            continue
        expected = eval(c["expr"], ENV)  # noqa: S307 - test expressions written by the test
        checked += 1
        if not same(got, expected):
            failures.append(f"{c['file']}: got {got!r}, expected {expected!r} ({c['expr']})")
    for c in manifest.get("make", []):
        obj = eval(c["expr"], ENV)  # noqa: S307
        for proto in range(6):
            with open(os.path.join(d, f"{c['name']}.p{proto}.pkl"), "wb") as f:
                f.write(pickle.dumps(obj, protocol=proto))
            made += 1
    json.dump({"failures": failures, "checked": checked, "made": made}, sys.stdout)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
