#!/usr/bin/python3
"""Round trips through `brine convert`, checked against live CPython.

    /usr/bin/python3 tests/corpus/roundtrip.py --brine PATH_TO_BRINE [--only PATTERN] [--keep DIR]

Inputs: every pickle of tests/corpus/gen/ (generate.py) and extra cases made here, now, by
CPython from the values of roundtrip_classes.extra_values() at protocols 0-5. Each input is
converted by brine to protocols 0..5 (one `brine convert --batch` process per chunk of jobs), and
for Python 2 pickles also with --encoding latin1/bytes/utf8, and for some with --no-fix-imports.

For each conversion to protocol P, with ORIG = pickle.loads(input) (real classes: those of
roundtrip_classes, generate.py's classes as __main__.*, stand-ins for the hand-written names):
  - builtin-only values (None/bool/int/float/complex/str/bytes/bytearray/tuple/list/dict/set/
    frozenset, persistent IDs): brine's bytes == pickle.dumps(ORIG, P), byte for byte
    (PYTHONHASHSEED=0: brine emulates CPython's set order under that seed);
  - other values: pickle.loads(brine's bytes) is equal to ORIG (same types, same values, same
    __dict__ and __slots__ state, same sharing of mutable objects, recursively); where brine's
    bytes differ from pickle.dumps(ORIG, P) that is reported as a difference, not a failure;
  - every output: pickletools.dis accepts it, its PROTO is P (none below 2), no opcode newer
    than P;
  - where CPython refuses pickle.dumps(ORIG, P) brine must fail too (and write nothing);
  - inputs CPython cannot load with real classes are loaded with check.py's oracle (nothing
    imported); brine's output must give the same record. If the oracle fails as well (invalid
    pickles), brine must fail;
  - copyreg._reconstructor instances (protocol 0/1) written at 2+: NEWOBJ (+ BUILD where
    CPython writes one), no _reconstructor;
  - without --protocol, the output equals the one at the input's protocol.
Plus `convert` itself: OUT == IN, '-' for stdin/stdout, and failures (unreadable input,
unpicklable at the target protocol, OUT a directory or in a missing one) leave an existing OUT
unchanged and no temporary file behind.

Exit status 0 only if every check passed. Each failure names the input, the target protocol,
the first differing byte and `pickletools.dis` of both around it.
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse
import collections
import concurrent.futures
import datetime
import decimal
import enum
import fnmatch
import functools
import io
import math
import pickle
import pickletools
import re
import shutil
import subprocess
import tempfile
import threading
import time
import types
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree for the modules imported below

import check as oracle_mod  # noqa: E402  (check.py: the no-import oracle, run_with_big_stack)
import generate as generate_mod  # noqa: E402  (its classes: the corpus's __main__.* globals)
import roundtrip_classes as rc  # noqa: E402

PROTOCOLS = range(0, 6)
# brine --encoding -> pickle.loads(encoding=)
ENCODINGS = {"ascii": "ASCII", "latin1": "latin1", "bytes": "bytes", "utf8": "utf-8"}
# inputs also converted with --no-fix-imports (where Python 2 names matter)
NO_FIX_PATTERN = re.compile(r"^(py2_|x:p[0-2]_)|(set|bytes|bytearray|plain|ordereddict|defaultdict|exception|"
                            r"classes_and_functions|o_globals|l_)")

# ---------------------------------------------------------------------------------------------
# CPython side


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        return rc.PidRef(pid)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if type(obj) is rc.PidRef else None


def py_load(data, encoding="ASCII", fix_imports=True):
    return _Unpickler(io.BytesIO(data), encoding=encoding, fix_imports=fix_imports).load()


def py_dump(value, protocol, fix_imports=True):
    f = io.BytesIO()
    _Pickler(f, protocol, fix_imports=fix_imports).dump(value)
    return f.getvalue()


def exc_text(e):
    s = "%s: %s" % (type(e).__name__, e)
    return s if len(s) < 300 else s[:300] + "..."


def is_import_failure(e):
    return isinstance(e, (ModuleNotFoundError, ImportError)) or (
        isinstance(e, AttributeError) and "Can't get attribute" in str(e))


EXACT_TYPES = {type(None), bool, int, float, complex, str, bytes, bytearray, tuple, list, dict, set,
               frozenset, rc.PidRef}


def builtin_only(value):
    """True if every value reachable from `value` is of a builtin value type (exactly)."""
    seen = set()
    work = [value]
    while work:
        v = work.pop()
        t = type(v)
        if t not in EXACT_TYPES:
            return False
        if t in (list, tuple, set, frozenset):
            if id(v) in seen:
                continue
            seen.add(id(v))
            work.extend(v)
        elif t is dict:
            if id(v) in seen:
                continue
            seen.add(id(v))
            for k, x in v.items():
                work.append(k)
                work.append(x)
        elif t is rc.PidRef:
            work.append(v.pid)
    return True


class no_int_digit_limit:
    """pickletools turns protocol-0 INT/LONG text into int: a brine output may hold ints of more
    than 4300 digits (reported separately); parse them anyway."""

    def __enter__(self):
        self.old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)

    def __exit__(self, *exc):
        sys.set_int_max_str_digits(self.old)


def first_pickle_info(data):
    """(declared protocol or -1, highest opcode protocol, set of opcode names, error or None) of
    the first pickle in `data`."""
    declared, highest, names = -1, 0, set()
    try:
        with no_int_digit_limit():
            ops = list(pickletools.genops(data))
        for op, arg, pos in ops:
            names.add(op.name)
            highest = max(highest, op.proto)
            if op.name == "PROTO" and declared < 0:
                declared = arg
    except Exception as e:
        return declared, highest, names, exc_text(e)
    return declared, highest, names, None


OPCODE_PROTO = {op.name: op.proto for op in pickletools.opcodes}


def input_protocol(data):
    declared, highest, _, err = first_pickle_info(data)
    if err is not None:
        return None
    return declared if declared >= 2 else highest


# ---------------------------------------------------------------------------------------------
# Comparing two object graphs


class Mismatch(Exception):
    pass


IMMUTABLE = (tuple, frozenset, int, float, complex, str, bytes, range, slice, datetime.date,
             datetime.time, datetime.timedelta, datetime.tzinfo, decimal.Decimal, uuid.UUID)
CALLABLE_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                  types.MethodDescriptorType, types.ClassMethodDescriptorType,
                  types.WrapperDescriptorType, types.MethodWrapperType)


def _qual(t):
    return "%s.%s" % (t.__module__, t.__qualname__)


def _same_float(a, b):
    if a != a or b != b:
        return a != a and b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _slot_names(t):
    names = []
    for k in t.__mro__:
        s = k.__dict__.get("__slots__", ())
        if isinstance(s, str):
            s = (s,)
        for n in s:
            if n in ("__dict__", "__weakref__"):
                continue
            if n.startswith("__") and not n.endswith("__"):
                n = "_%s%s" % (k.__name__.lstrip("_"), n)
            names.append(n)
    return names


_MISSING = object()


class Comparer:
    """Deep comparison of `expected` (ORIG) and `got` (what CPython loads from brine's bytes):
    types, values, __dict__/__slots__ state, and sharing (an object shared in one graph must be
    shared in the other). Sharing differences of immutable values are only noted (`soft`)."""

    def __init__(self):
        self.pairs = {}
        self.rev = {}
        self.path = ["$"]
        self.soft = []

    def fail(self, msg):
        raise Mismatch("at %s: %s" % ("".join(self.path), msg))

    def compare(self, a, b):
        self.eq(a, b)

    def _sub(self, step, a, b):
        self.path.append(step)
        self.eq(a, b)
        self.path.pop()

    def _track(self, a, b):
        """True if (a, b) were compared already (or are being compared: cycles)."""
        pb = self.pairs.get(id(a))
        if pb is not None:
            if pb[0] is b:
                return True
            if isinstance(a, IMMUTABLE):
                self.soft.append("%s: a shared %s is a separate copy in brine's output"
                                 % ("".join(self.path), type(a).__name__))
                return False
            self.fail("sharing differs: this %s is shared in the original, brine's output has a "
                      "different object here" % type(a).__name__)
        pa = self.rev.get(id(b))
        if pa is not None and pa[0] is not a:
            if isinstance(a, IMMUTABLE):
                self.soft.append("%s: brine's output shares a %s that the original has as separate objects"
                                 % ("".join(self.path), type(a).__name__))
                return False
            self.fail("sharing differs: brine's output shares this %s with another place; the "
                      "original does not" % type(a).__name__)
        self.pairs[id(a)] = (b, a)  # keep both alive while ids are in use
        self.rev[id(b)] = (a, b)
        return False

    def eq(self, a, b):
        ta, tb = type(a), type(b)
        if oracle_mod.is_stub(a) or oracle_mod.is_stub(b):
            return self._eq_stub(a, b)
        if ta is not tb:
            self.fail("type %s in the original, %s in brine's output (%s vs %s)"
                      % (_qual(ta), _qual(tb), _short(a), _short(b)))
        if ta in (type(None), bool, int, str, bytes):
            if a != b:
                self.fail("%s vs %s" % (_short(a), _short(b)))
            return
        if ta is float:
            if not _same_float(a, b):
                self.fail("%r vs %r" % (a, b))
            return
        if ta is complex:
            if not (_same_float(a.real, b.real) and _same_float(a.imag, b.imag)):
                self.fail("%r vs %r" % (a, b))
            return
        if ta is rc.PidRef or ta is oracle_mod.PersistentRef:
            return self._sub(".pid", a.pid, b.pid)
        if isinstance(a, (type, enum.Enum) + CALLABLE_TYPES) or a is Ellipsis or a is NotImplemented:
            if a is b:
                return
            try:
                same = a == b
            except Exception:
                same = False
            if not same:
                self.fail("%s vs %s" % (_short(a), _short(b)))
            return
        if self._track(a, b):
            return
        if isinstance(a, (datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo)):
            if repr(a) != repr(b):
                self.fail("%r vs %r" % (a, b))
            return
        if ta is decimal.Decimal:
            if str(a) != str(b):
                self.fail("%r vs %r" % (a, b))
            return
        if ta is range:
            if (a.start, a.stop, a.step) != (b.start, b.stop, b.step):
                self.fail("%r vs %r" % (a, b))
            return
        if ta is slice:
            self._sub(".start", a.start, b.start)
            self._sub(".stop", a.stop, b.stop)
            self._sub(".step", a.step, b.step)
            return
        if ta is functools.partial:
            self._sub(".func", a.func, b.func)
            self._sub(".args", a.args, b.args)
            self._sub(".keywords", a.keywords, b.keywords)
            return
        if isinstance(a, BaseException):
            self._sub(".args", a.args, b.args)
        # builtin bases
        if isinstance(a, dict):
            ka, kb = list(a.keys()), list(b.keys())
            if len(ka) != len(kb):
                self.fail("dict of %d items vs %d" % (len(ka), len(kb)))
            for i, (x, y) in enumerate(zip(ka, kb)):
                self._sub("<key %d>" % i, x, y)
                self._sub("[%s]" % _short(x, 40), dict.__getitem__(a, x), dict.__getitem__(b, y))
            if isinstance(a, collections.defaultdict):
                self._sub(".default_factory", a.default_factory, b.default_factory)
        elif isinstance(a, (list, tuple)):
            if len(a) != len(b):
                self.fail("%s of %d items vs %d" % (ta.__name__, len(a), len(b)))
            for i in range(len(a)):
                self._sub("[%d]" % i, a[i], b[i])
        elif isinstance(a, (set, frozenset)):
            self._eq_set(a, b)
        elif isinstance(a, collections.deque):
            if a.maxlen != b.maxlen:
                self.fail("deque maxlen %r vs %r" % (a.maxlen, b.maxlen))
            if len(a) != len(b):
                self.fail("deque of %d items vs %d" % (len(a), len(b)))
            for i, (x, y) in enumerate(zip(a, b)):
                self._sub("[%d]" % i, x, y)
        elif isinstance(a, (bytes, bytearray)):
            if bytes(a) != bytes(b):
                self.fail("%s vs %s" % (_short(a), _short(b)))
        elif isinstance(a, str):
            if str.__str__(a) != str.__str__(b):
                self.fail("%s vs %s" % (_short(a), _short(b)))
        elif isinstance(a, bool):
            pass
        elif isinstance(a, int):
            if int(a) != int(b):
                self.fail("%s vs %s" % (int(a), int(b)))
        elif isinstance(a, float):
            if not _same_float(float(a), float(b)):
                self.fail("%r vs %r" % (float(a), float(b)))
        # object state
        da = getattr(a, "__dict__", _MISSING)
        db = getattr(b, "__dict__", _MISSING)
        if (da is _MISSING) != (db is _MISSING):
            self.fail("__dict__ present on one side only")
        if da is not _MISSING and not isinstance(da, types.MappingProxyType):
            self._sub(".__dict__", da, db)
        for n in _slot_names(ta):
            va, vb = getattr(a, n, _MISSING), getattr(b, n, _MISSING)
            if (va is _MISSING) != (vb is _MISSING):
                self.fail("slot %s set on one side only" % n)
            if va is not _MISSING:
                self._sub("." + n, va, vb)
        if ta is uuid.UUID and a.int != b.int:
            self.fail("%r vs %r" % (a, b))

    def _eq_set(self, a, b):
        if len(a) != len(b):
            self.fail("%s of %d items vs %d" % (type(a).__name__, len(a), len(b)))
        try:
            same = a == b
        except Exception:
            same = False
        if same:
            bmap = {y: y for y in b}
            for i, x in enumerate(a):
                self._sub("{%s}" % _short(x, 40), x, bmap[x])
            return
        # NaN, or elements hashed by identity: compare in iteration order
        for i, (x, y) in enumerate(zip(a, b)):
            self._sub("{#%d}" % i, x, y)

    def _eq_stub(self, a, b):
        if not (oracle_mod.is_stub(a) and oracle_mod.is_stub(b)):
            self.fail("oracle record vs real value (%s vs %s)" % (_short(a), _short(b)))
        ia, ib = a.__dict__["_stub"], b.__dict__["_stub"]
        if isinstance(ia, oracle_mod.GlobalInfo) or isinstance(ib, oracle_mod.GlobalInfo):
            if a is not b:
                self.fail("global %s vs %s" % (_short(a), _short(b)))
            return
        if self._track(a, b):
            return
        self._sub("<callable>", ia.callable, ib.callable)
        self._sub("<args>", ia.args, ib.args)
        self._sub("<kwargs>", ia.kwargs, ib.kwargs)
        self._sub("<list items>", ia.litems or [], ib.litems or [])
        self._sub("<dict items>", [tuple(p) for p in ia.ditems or []], [tuple(p) for p in ib.ditems or []])
        self._sub("<states>", ia.states, ib.states)


def _short(v, n=80):
    try:
        if oracle_mod.is_stub(v):
            s = oracle_mod.render(v).text
        else:
            s = repr(v)
    except Exception as e:
        s = "<%s, repr failed: %s>" % (type(v).__name__, type(e).__name__)
    return s if len(s) <= n else s[:n] + "..."


# ---------------------------------------------------------------------------------------------
# Reporting


def first_diff(a, b):
    n = min(len(a), len(b))
    i = 0
    step = 4096
    while i < n and a[i:i + step] == b[i:i + step]:
        i += step
    while i < n and a[i] == b[i]:
        i += 1
    return i


def op_at(data, offset):
    """Name of the opcode that covers byte `offset` (or '<end>' / '?')."""
    last = None
    try:
        with no_int_digit_limit():
            ops = list(pickletools.genops(data))
        for op, arg, pos in ops:
            if pos > offset:
                break
            last = op.name
    except Exception:
        return last or "?"
    if offset >= len(data):
        return "<end>"
    return last or "?"


def dis_excerpt(data, offset, before=5, after=5):
    buf = io.StringIO()
    err = None
    try:
        with no_int_digit_limit():
            pickletools.dis(data, out=buf)
    except Exception as e:
        err = exc_text(e)
    lines = buf.getvalue().splitlines()
    idx = None
    for i, ln in enumerate(lines):
        head = ln.split(":", 1)[0].strip()
        if head.isdigit():
            if int(head) <= offset:
                idx = i
            else:
                break
    if idx is None:
        idx = 0
    out = []
    lo, hi = max(0, idx - before), min(len(lines), idx + after + 1)
    if lo:
        out.append("          ...")
    for i in range(lo, hi):
        text = lines[i]
        if len(text) > 150:
            text = text[:150] + "..."
        out.append("        %s %s" % (">" if i == idx else " ", text))
    if hi < len(lines):
        out.append("          ...")
    if err:
        out.append("        (pickletools.dis raised %s)" % err)
    return "\n".join(out)


def _ops(data):
    """[(pos, name, arg)] of the first pickle, FRAME left out (its length differs whenever the
    content does); stops quietly at what pickletools cannot parse."""
    out = []
    try:
        with no_int_digit_limit():
            for op, arg, pos in pickletools.genops(data):
                if op.name != "FRAME":
                    out.append((pos, op.name, arg))
    except Exception:
        pass
    return out


def op_diff(exp, got):
    """(pos in exp, pos in got, name in exp, name in got) of the first differing opcode or
    argument, FRAME ignored; None if the opcode streams agree."""
    oe, og = _ops(exp), _ops(got)
    for k in range(max(len(oe), len(og))):
        a = oe[k] if k < len(oe) else (len(exp), "<end>", None)
        b = og[k] if k < len(og) else (len(got), "<end>", None)
        if a[1:] != b[1:]:
            return a[0], b[0], a[1], b[1]
    return None


def _dis_fails(data):
    try:
        with no_int_digit_limit():
            pickletools.dis(data, out=io.StringIO())
        return False
    except Exception:
        return True


def diff_signature(exp, got):
    d = op_diff(exp, got)
    if d is None:
        i = first_diff(exp, got)
        return "CPython %s vs brine %s" % (op_at(exp, i), op_at(got, i))
    return "CPython %s vs brine %s" % (d[2], d[3])


def bytes_diff_text(exp, got, exp_name="CPython", got_name="brine"):
    i = first_diff(exp, got)
    text = "    first difference at byte %d (%s: %d bytes, %s: %d bytes): %s %s vs %s %s\n" % (
        i, exp_name, len(exp), got_name, len(got), exp_name, op_at(exp, i), got_name, op_at(got, i))
    pe = pg = i
    if op_at(exp, i) == "FRAME" or op_at(got, i) == "FRAME":
        d = op_diff(exp, got)
        if d is not None:
            pe, pg = d[0], d[1]
            text += ("    (a FRAME length; the first differing opcode is %s's %s at byte %d, %s's %s at byte %d)\n"
                     % (exp_name, d[2], pe, got_name, d[3], pg))
    text += "    %s, pickletools.dis around byte %d:\n%s\n    %s, around byte %d:\n%s" % (
        exp_name, pe, dis_excerpt(exp, pe), got_name, pg, dis_excerpt(got, pg))
    return text


_NUM = re.compile(r"\d+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def generalize(msg):
    """A failure message with the specifics taken out (to group failures into classes)."""
    msg = _QUOTED.sub("'…'", msg)
    msg = _NUM.sub("N", msg)
    return msg[:160]


# Documented limitations of brine (docs/write.md): reported as differences, not failures.
KNOWN_LIMITATIONS = []


class Report:
    def __init__(self):
        self.failures = []      # (category, label, text, signature)
        self.differences = []   # (category, label, text, signature)
        self.passed = 0
        self.notes = []
        self.skipped_nofix = 0
        self.identical = 0
        self.unwritable = {}  # CPython's error -> extra cases it cannot write

    def ok(self):
        self.passed += 1

    def fail(self, category, label, text, signature=""):
        for pattern, why in KNOWN_LIMITATIONS:
            if pattern in label:
                self.differ("known limitation: " + why, label, text, signature)
                return
        self.failures.append((category, label, text, signature))

    def differ(self, category, label, text, signature=""):
        self.differences.append((category, label, text, signature))


# ---------------------------------------------------------------------------------------------
# Running brine


class Job:
    __slots__ = ("case", "variant", "protocol", "out", "status", "message")

    def __init__(self, case, variant, protocol, out):
        self.case, self.variant, self.protocol, self.out = case, variant, protocol, out
        self.status = None   # "ok" | "error" | "crash"
        self.message = ""

    def argv(self):
        a = [self.case.path, self.out]
        if self.protocol is not None:
            a += ["--protocol", str(self.protocol)]
        return a + self.variant.args()

    def command(self):
        return "brine convert " + " ".join(self.argv())


class Brine:
    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.calls = 0
        self.problems = []  # batch processes that ended badly after their last job
        self.lock = threading.Lock()

    def run(self, args, stdin=None):
        self.calls += 1
        try:
            p = subprocess.run([self.path] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.timeout)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            return "timeout", e.stdout or b"", e.stderr or b""

    def batch(self, jobs, listdir, tag):
        """Runs the jobs with `convert --batch`; a crash or time-out marks the job that was running
        and the rest run again."""
        while jobs:
            listfile = os.path.join(listdir, "batch-%s.txt" % tag)
            with open(listfile, "w", encoding="utf-8") as f:
                for j in jobs:
                    f.write("\t".join(j.argv()) + "\n")
            rc_, out, err = self.run(["convert", "--batch", listfile])
            lines = out.decode("utf-8", "backslashreplace").split("\n")
            done = 0
            for ln, j in zip(lines, jobs):
                if ln.startswith("ok: "):
                    j.status = "ok"
                elif ln.startswith("error: "):
                    j.status = "error"
                    j.message = ln[len("error: "):].rsplit("\t", 1)[0]
                else:
                    break
                done += 1
            if done == len(jobs):
                if rc_ not in (0, 1):  # e.g. a sanitizer's report at exit (leaks)
                    with self.lock:
                        self.problems.append("%s after all %d jobs of %s; stderr ends: %s" % (
                            oracle_mod.status_text(rc_, b""), len(jobs), listfile,
                            err.decode("utf-8", "replace")[-1500:]))
                return
            # the job after the last reported one crashed or hung
            j = jobs[done]
            j.status = "crash"
            j.message = oracle_mod.status_text(rc_, err) if rc_ != 0 else "batch output ended early"
            jobs = jobs[done + 1:]


# ---------------------------------------------------------------------------------------------
# Cases


class Variant:
    __slots__ = ("encoding", "fix_imports")

    def __init__(self, encoding="ascii", fix_imports=True):
        self.encoding, self.fix_imports = encoding, fix_imports

    def args(self):
        a = []
        if self.encoding != "ascii":
            a += ["--encoding", self.encoding]
        if not self.fix_imports:
            a.append("--no-fix-imports")
        return a

    def tag(self):
        return (self.encoding if self.encoding != "ascii" else "") + ("" if self.fix_imports else "nofix")

    def label(self):
        return " ".join(self.args())

    def is_default(self):
        return self.encoding == "ascii" and self.fix_imports


class Case:
    __slots__ = ("name", "path", "data", "variants", "reconstructor_check")

    def __init__(self, name, path, data):
        self.name, self.path, self.data = name, path, data
        self.variants = [Variant()]
        self.reconstructor_check = False


def matches(name, pattern):
    if pattern is None:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def gen_cases(only):
    cases = []
    for f in sorted(os.listdir(GEN)):
        if not f.endswith(".pkl") or not matches(f[:-4], only):
            continue
        path = os.path.join(GEN, f)
        with open(path, "rb") as fh:
            cases.append(Case(f[:-4], path, fh.read()))
    return cases


def extra_cases(srcdir, only, report):
    cases = []
    for name, value in rc.extra_values().items():
        made = {}
        for p in PROTOCOLS:
            try:
                data = py_dump(value, p)
            except Exception as e:
                report.unwritable.setdefault(exc_text(e), []).append("%s@%d" % (name, p))
                continue
            made[p] = data
            if p in (3, 5) and p - 1 in made and made[p - 1][2:] == data[2:]:
                continue  # same opcodes as the protocol below
            case = "x:p%d_%s" % (p, name)
            if not matches(case, only):
                continue
            path = os.path.join(srcdir, "p%d_%s.pkl" % (p, name))
            with open(path, "wb") as fh:
                fh.write(data)
            c = Case(case, path, data)
            c.reconstructor_check = p < 2 and name in rc.RECONSTRUCTOR_CASES
            cases.append(c)
    for name, data in rc.raw_pickles().items():
        case = "x:" + name
        if not matches(case, only):
            continue
        path = os.path.join(srcdir, name + ".pkl")
        with open(path, "wb") as fh:
            fh.write(data)
        cases.append(Case(case, path, data))
    return cases


def add_variants(case):
    names = first_pickle_info(case.data)[2]
    if names & {"STRING", "BINSTRING", "SHORT_BINSTRING"}:
        for enc in ("latin1", "bytes", "utf8"):
            case.variants.append(Variant(enc))
    if NO_FIX_PATTERN.search(case.name):
        case.variants.append(Variant("ascii", False))


def case_kind(case):
    """The value's name without the protocol prefix: x:p0_o_plain -> o_plain."""
    n = case.name.split(":")[-1]
    return re.sub(r"^(p\d_|py2_p\d_)", "", n)


def safe_name(s):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", s)


# ---------------------------------------------------------------------------------------------
# Checking one case


class Checker:
    def __init__(self, report):
        self.report = report

    def label(self, case, variant, protocol):
        s = "%s -> protocol %s" % (case.name, "(default)" if protocol is None else protocol)
        if not variant.is_default():
            s += " [%s]" % variant.label()
        return s

    def check_case(self, case, jobs_by_variant):
        for variant in case.variants:
            jobs = jobs_by_variant[variant.tag()]
            try:
                self.check_variant(case, variant, jobs)
            except Exception as e:  # a bug here must not hide the other results
                import traceback
                self.report.fail("checker error", "%s [%s]" % (case.name, variant.label()),
                                 "    %s\n%s" % (exc_text(e), traceback.format_exc()))

    def check_variant(self, case, variant, jobs):
        enc = ENCODINGS[variant.encoding]
        mode = "real"
        try:
            orig = py_load(case.data, enc, variant.fix_imports)
        except Exception as e:
            real_err = e
            if not variant.fix_imports:
                # Python 2 names (copy_reg, __builtin__) without fix_imports: CPython cannot
                # import them; brine keeps them as inert globals. The oracle always fixes
                # imports, so there is nothing to compare with.
                self.report.skipped_nofix += 1
                return
            ok, value = oracle_mod.oracle_load(case.data, enc) if variant.fix_imports else (False, exc_text(e))
            if not ok:
                return self.expect_failures(case, variant, jobs, value)
            mode = "oracle"
            orig = value
            if not is_import_failure(real_err):
                self.report.notes.append("%s%s: CPython with real classes fails (%s); compared through the oracle"
                                         % (case.name, "" if variant.is_default() else " [%s]" % variant.label(),
                                            exc_text(real_err)))
        exact = mode == "real" and builtin_only(orig)
        if not exact and re.match(r"x:(p\d_|raw_)b_", case.name):
            self.report.fail("checker error", case.name, "    a b_ case holds more than builtin values")
        outputs = {}
        for job in jobs:
            if job.protocol is None:
                continue
            got = self.check_job(case, variant, job, orig, mode, exact)
            if got is not None:
                outputs[job.protocol] = got
        for job in jobs:
            if job.protocol is None:
                self.check_default(case, variant, job, outputs)

    def expect_failures(self, case, variant, jobs, why):
        for job in jobs:
            label = self.label(case, variant, job.protocol)
            if job.status == "crash":
                self.report.fail("brine crashed", label, "    %s\n    command: %s" % (job.message, job.command()))
            elif job.status == "ok":
                self.report.fail("converted an invalid pickle", label,
                                 "    CPython (and the oracle) cannot load the input: %s\n    command: %s"
                                 % (why, job.command()))
            elif os.path.exists(job.out):
                self.report.fail("failed conversion left OUT", label, "    %s exists" % job.out)
            else:
                self.report.ok()

    def check_job(self, case, variant, job, orig, mode, exact):
        p = job.protocol
        label = self.label(case, variant, p)
        cmd = "    command: " + job.command()
        exp = exp_err = None
        if mode == "real":
            try:
                exp = py_dump(orig, p, variant.fix_imports)
            except Exception as e:
                exp_err = exc_text(e)
        if job.status == "crash":
            self.report.fail("brine crashed", label, "    %s\n%s" % (job.message, cmd))
            return None
        if job.status != "ok":
            if os.path.exists(job.out):
                self.report.fail("failed conversion left OUT", label, "    %s exists\n%s" % (job.out, cmd))
            elif exp_err is not None:
                self.report.ok()  # both refuse
            else:
                self.report.fail("brine failed", label, "    brine: %s\n%s" % (job.message, cmd),
                                 generalize(job.message.split(": ", 1)[-1]))
            return None
        with open(job.out, "rb") as fh:
            got = fh.read()
        ok = self.check_output_form(label, got, p, cmd, exp)
        if exp_err is not None:
            self.report.fail("CPython refuses, brine wrote", label,
                             "    pickle.dumps(ORIG, %d) raises %s\n    brine wrote %d bytes\n%s"
                             % (p, exp_err, len(got), cmd), generalize(exp_err))
            ok = False
        if exact:
            if exp is None:
                return got  # CPython refuses (reported above)
            if got != exp:
                self.report.fail("bytes differ", label, bytes_diff_text(exp, got) + "\n" + cmd,
                                 diff_signature(exp, got))
                return got
            if ok:
                self.report.ok()
                self.report.identical += 1
            return got
        # objects: load brine's bytes and compare
        try:
            if mode == "real":
                back = py_load(got, "ASCII", variant.fix_imports)
            else:
                ok2, back = oracle_mod.oracle_load(got, "ASCII")
                if not ok2:
                    raise RuntimeError(back)
        except Exception as e:
            text = "    %s cannot load brine's output: %s\n" % ("CPython" if mode == "real" else "the oracle", exc_text(e))
            if exp is not None:
                text += bytes_diff_text(exp, got) + "\n"
            self.report.fail("CPython cannot load output", label, text + cmd, generalize(exc_text(e)))
            return got
        # The reference: what CPython's own protocol-P pickle of ORIG loads as (CPython's pickles
        # lose some things at low protocols, e.g. datetime's fold below 4); ORIG if CPython
        # cannot write P or in oracle mode. Equal to ORIG but not to it: noted, not a failure.
        ref, ref_name = orig, "ORIG"
        if exp is not None:
            try:
                ref, ref_name = py_load(exp, "ASCII", variant.fix_imports), "pickle.loads(pickle.dumps(ORIG, %d))" % p
            except Exception as e:
                self.report.notes.append("%s: CPython cannot load its own protocol %d pickle (%s)" % (label, p, exc_text(e)))
        cmp = Comparer()
        try:
            cmp.compare(ref, back)
        except Mismatch as m:
            kept_more = False
            if ref is not orig:
                try:
                    Comparer().compare(orig, back)
                    kept_more = True
                except (Mismatch, RecursionError):
                    pass
            if kept_more:
                self.report.differ("keeps what CPython's protocol loses", label,
                                   "    equal to ORIG, but CPython's protocol %d pickle loads as something else: %s\n"
                                   % (p, m) + cmd, generalize(str(m).split(": ", 1)[-1]))
            else:
                text = "    loaded value differs from %s %s\n" % (ref_name, m)
                if exp is not None:
                    text += bytes_diff_text(exp, got) + "\n"
                self.report.fail("unequal after load", label, text + cmd, generalize(str(m).split(": ", 1)[-1]))
                ok = False
        except RecursionError as e:
            self.report.fail("checker error", label, "    comparison: %s" % exc_text(e))
            ok = False
        for s_ in cmp.soft:
            self.report.differ("immutable sharing not kept", label, "    " + s_, generalize(s_.split(": ", 1)[-1]))
        if exp is not None and got != exp:
            self.report.differ("object bytes differ from CPython", label,
                               lambda exp=exp, got=got, cmd=cmd: bytes_diff_text(exp, got) + "\n" + cmd,
                               "%s: %s" % (case_kind(case), diff_signature(exp, got)))
        if mode == "real" and p >= 2 and exp is not None:
            ok = self.check_reconstructor(case, label, exp, got, cmd) and ok
        if ok:
            self.report.ok()
        return got

    def check_output_form(self, label, got, p, cmd, exp):
        declared, highest, names, err = first_pickle_info(got)
        problems = []
        if err is not None and exp is not None and first_pickle_info(exp)[3] is not None:
            # pickletools cannot parse CPython's own bytes either (e.g. a non-ASCII GLOBAL at
            # protocol 3, which CPython writes in UTF-8): not brine's fault
            err = None
        if err is not None:
            problems.append("pickletools cannot parse it: " + err)
        if p >= 2 and declared != p:
            problems.append("PROTO is %s, expected %d" % (declared if declared >= 0 else "missing", p))
        if p < 2 and declared >= 0:
            problems.append("PROTO %d in a protocol %d pickle" % (declared, p))
        if highest > p:
            newer = sorted(n for n in names if OPCODE_PROTO[n] > p)
            # (CPython writes some itself: TUPLE2 for a __reduce__ state_setter call at every protocol)
            cpython_too = set(first_pickle_info(exp)[2]) if exp is not None else set()
            newer = [n for n in newer if n not in cpython_too]
            if newer:
                problems.append("opcodes newer than protocol %d: %s" % (p, ", ".join(newer)))
        if err is None and not problems:
            buf = io.StringIO()
            try:
                with no_int_digit_limit():
                    pickletools.dis(got, out=buf)
            except Exception as e:
                if exp is None or not _dis_fails(exp):
                    problems.append("pickletools.dis rejects it: " + exc_text(e))
        if problems:
            self.report.fail("malformed output", label, "    " + "\n    ".join(problems) + "\n" + cmd,
                             generalize(problems[0]))
            return False
        return True

    def check_reconstructor(self, case, label, exp, got, cmd):
        # A tuple subclass read from protocol 0/1 keeps its _reconstructor(cls, tuple, state) form:
        # the record cannot tell a namedtuple (NEWOBJ with its fields) from another tuple subclass
        # (NEWOBJ with the tuple), and _reconstructor rebuilds both exactly.
        tuple_base = b"\ntuple\n" in got or b"\x8c\x05tuple" in got
        if b"_reconstructor" in got and b"_reconstructor" not in exp and not tuple_base:
            self.report.fail("_reconstructor at protocol >= 2", label,
                             "    CPython writes no copyreg._reconstructor here; brine does\n"
                             + bytes_diff_text(exp, got) + "\n" + cmd, "value " + case_kind(case))
            return False
        if case.reconstructor_check:
            with no_int_digit_limit():
                names_got = [op.name for op, _, _ in pickletools.genops(got)]
                names_exp = [op.name for op, _, _ in pickletools.genops(exp)]
            if "NEWOBJ" not in names_got or names_got.count("BUILD") != names_exp.count("BUILD"):
                self.report.fail("plain instance not NEWOBJ + BUILD", label,
                                 "    CPython: %d NEWOBJ, %d BUILD; brine: %d NEWOBJ, %d BUILD, %d REDUCE\n"
                                 % (names_exp.count("NEWOBJ"), names_exp.count("BUILD"), names_got.count("NEWOBJ"),
                                    names_got.count("BUILD"), names_got.count("REDUCE"))
                                 + bytes_diff_text(exp, got) + "\n" + cmd)
                return False
        return True

    def check_default(self, case, variant, job, outputs):
        label = self.label(case, variant, None)
        want = input_protocol(case.data)
        if job.status == "crash":
            self.report.fail("brine crashed", label, "    %s\n    command: %s" % (job.message, job.command()))
            return
        if want not in outputs:
            return  # the explicit conversion failed (reported there)
        if job.status != "ok":
            self.report.fail("default protocol", label, "    fails (%s) where --protocol %d works\n    command: %s"
                             % (job.message, want, job.command()))
            return
        with open(job.out, "rb") as fh:
            got = fh.read()
        if got != outputs[want]:
            self.report.fail("default protocol", label,
                             "    without --protocol the output differs from --protocol %d (the input's protocol)\n"
                             % want + bytes_diff_text(outputs[want], got, "--protocol %d" % want, "default")
                             + "\n    command: " + job.command())
        else:
            self.report.ok()


# ---------------------------------------------------------------------------------------------
# convert itself: same path, stdin/stdout, failures leave OUT alone


def atomic_tests(brine, tmp, report):
    d = os.path.join(tmp, "atomic")
    os.makedirs(d)
    label_n = [0]

    def fresh_dir():
        label_n[0] += 1
        sub = os.path.join(d, "t%d" % label_n[0])
        os.makedirs(sub)
        return sub

    def listing(path):
        return sorted(os.listdir(path))

    def run(args, stdin=None):
        rc_, out, err = brine.run(["convert"] + args, stdin)
        return rc_, out, err

    def fail(what, text):
        report.fail("convert: atomicity / stdio", what, "    " + text, what.split(":")[0])

    sample = {"p4_dicts_small": 2, "p4_bytes_70000": 2, "p0_obj_plain": 4, "p2_sets_small": 5}
    # 1. OUT is IN (a small file, read into memory, and a 70 KB one, memory-mapped)
    for name, p in sample.items():
        src = os.path.join(GEN, name + ".pkl")
        if not os.path.exists(src):
            report.notes.append("atomic: %s missing" % src)
            continue
        sub = fresh_dir()
        path = os.path.join(sub, "same.pkl")
        shutil.copyfile(src, path)
        with open(src, "rb") as fh:
            data = fh.read()
        rc_, out, err = run([path, path, "--protocol", str(p)])
        if rc_ != 0:
            fail("OUT == IN: %s -> %d" % (name, p), "brine: %s" % oracle_mod.status_text(rc_, err))
            continue
        with open(path, "rb") as fh:
            got = fh.read()
        try:
            expected_value = py_load(data)
            value = py_load(got)
            Comparer().compare(expected_value, value)
            declared = first_pickle_info(got)[0]
            if p >= 2 and declared != p:
                raise Mismatch("PROTO %d, expected %d" % (declared, p))
        except Exception as e:
            fail("OUT == IN: %s -> %d" % (name, p), "the rewritten file is wrong: %s" % exc_text(e))
            continue
        if listing(sub) != ["same.pkl"]:
            fail("OUT == IN: %s -> %d" % (name, p), "directory holds %s" % listing(sub))
            continue
        report.ok()

    # 2. '-' as IN and as OUT
    src = os.path.join(GEN, "p4_dicts_small.pkl")
    if os.path.exists(src):
        with open(src, "rb") as fh:
            data = fh.read()
        sub = fresh_dir()
        ref = os.path.join(sub, "ref.pkl")
        rc1, _, err1 = run([src, ref, "--protocol", "3"])
        rc2, out2, err2 = run(["-", "-", "--protocol", "3"], stdin=data)
        rc3, _, err3 = run(["-", os.path.join(sub, "from_stdin.pkl"), "--protocol", "3"], stdin=data)
        rc4, out4, err4 = run([src, "-", "--protocol", "3"])
        if rc1 != 0:
            fail("stdio", "file -> file fails: %s" % oracle_mod.status_text(rc1, err1))
        else:
            with open(ref, "rb") as fh:
                want = fh.read()
            problems = []
            if rc2 != 0 or out2 != want:
                problems.append("'- -' (stdin -> stdout): %s, %d bytes vs %d" % (
                    oracle_mod.status_text(rc2, err2), len(out2), len(want)))
            if rc3 != 0:
                problems.append("'- FILE': %s" % oracle_mod.status_text(rc3, err3))
            else:
                with open(os.path.join(sub, "from_stdin.pkl"), "rb") as fh:
                    if fh.read() != want:
                        problems.append("'- FILE' wrote other bytes than 'FILE FILE'")
                # a new OUT gets the mode a plain open() would give it (not a temporary file's 0600)
                umask = os.umask(0)
                os.umask(umask)
                mode = os.stat(os.path.join(sub, "from_stdin.pkl")).st_mode & 0o777
                if mode != 0o666 & ~umask:
                    problems.append("new OUT has mode %o, expected %o (0666 & ~umask)" % (mode, 0o666 & ~umask))
            if rc4 != 0 or out4 != want:
                problems.append("'FILE -': %s, %d bytes vs %d" % (oracle_mod.status_text(rc4, err4), len(out4), len(want)))
            if problems:
                fail("stdio", "; ".join(problems))
            else:
                report.ok()

    # 3. failures leave an existing OUT unchanged and no temporary file
    sentinel = b"existing OUT, must survive\n"
    # an instance of mod.café (brine keeps it inert); below protocol 3 CPython writes global
    # names in ASCII and refuses this one
    nonascii_global = b"\x80\x04\x8c\x03mod\x8c\x05caf\xc3\xa9\x93)\x81\x94."
    failing = [
        ("unreadable input (truncated pickle)", b"\x80\x02](K\x01K\x02", ["--protocol", "4"], False),
        ("unreadable input (not a pickle)", b"hello world\n", [], False),
        ("protocol 0 with a non-ASCII global name", nonascii_global, ["--protocol", "0"], True),
        ("protocol 2 with a non-ASCII global name", nonascii_global, ["--protocol", "2"], True),
        ("missing input file", None, ["--protocol", "4"], False),
    ]
    for what, data, args, _is_write_failure in failing:
        sub = fresh_dir()
        inp = os.path.join(sub, "in.pkl")
        out = os.path.join(sub, "out.pkl")
        if data is not None:
            with open(inp, "wb") as fh:
                fh.write(data)
        with open(out, "wb") as fh:
            fh.write(sentinel)
        before = listing(sub)
        rc_, o, err = run([inp, out] + args)
        with open(out, "rb") as fh:
            after_out = fh.read()
        problems = []
        if rc_ == 0:
            problems.append("brine succeeded (exit 0)")
        elif rc_ != 1:
            problems.append("exit status %s" % oracle_mod.status_text(rc_, err))
        if not err.strip():
            problems.append("no error message")
        if after_out != sentinel:
            problems.append("OUT was changed (%d bytes now)" % len(after_out))
        if listing(sub) != before:
            problems.append("directory was %s, is %s" % (before, listing(sub)))
        # the same to stdout: nothing on stdout
        rc2, o2, err2 = run([inp, "-"] + args)
        if rc2 == 0 or o2:
            problems.append("to stdout: exit %s, %d bytes on stdout" % (rc2, len(o2)))
        if problems:
            fail("failing conversion: " + what, "; ".join(problems) + "\n    stderr: %s"
                 % err.decode("utf-8", "replace").strip())
        else:
            report.ok()

    # 4. OUT cannot be written: a directory, a missing directory
    src = os.path.join(GEN, "p4_dicts_small.pkl")
    if os.path.exists(src):
        sub = fresh_dir()
        outdir = os.path.join(sub, "a_directory")
        os.makedirs(outdir)
        with open(os.path.join(outdir, "keep"), "wb") as fh:
            fh.write(b"x")
        before = listing(sub)
        rc_, o, err = run([src, outdir, "--protocol", "2"])
        problems = []
        if rc_ != 1 or not err.strip():
            problems.append("OUT a directory: %s" % oracle_mod.status_text(rc_, err))
        if listing(sub) != before or listing(outdir) != ["keep"]:
            problems.append("OUT a directory: directory now %s / %s" % (listing(sub), listing(outdir)))
        rc_, o, err = run([src, os.path.join(sub, "missing", "out.pkl"), "--protocol", "2"])
        if rc_ != 1 or not err.strip():
            problems.append("OUT in a missing directory: %s" % oracle_mod.status_text(rc_, err))
        if listing(sub) != before:
            problems.append("OUT in a missing directory: directory now %s" % listing(sub))
        if problems:
            fail("unwritable OUT", "; ".join(problems))
        else:
            report.ok()


# ---------------------------------------------------------------------------------------------


def print_report(report, args, brine, t0, ncases, njobs):
    fails = sorted(report.failures, key=lambda f: (f[0], f[1]))
    for i, (cat, label, text, sig) in enumerate(fails):
        if i >= args.max_shown:
            print("... %d more failures not shown (--max-shown)" % (len(fails) - i))
            break
        print("FAIL [%s] %s" % (cat, label))
        print(text)
    if report.differences and args.show_differences:
        diffs = sorted(report.differences, key=lambda f: (f[0], f[1]))
        print()
        print("=== differences from CPython that are not failures ===")
        for i, (cat, label, text, sig) in enumerate(diffs):
            if i >= args.show_differences:
                print("... %d more differences not shown (--show-differences)" % (len(diffs) - i))
                break
            print("DIFF [%s] %s" % (cat, label))
            print(text() if callable(text) else text)
    for n in report.notes:
        print("note: " + n)
    for err, names in report.unwritable.items():
        print("note: extra cases CPython cannot write (so not inputs): %s: %s" % (", ".join(names), err))
    if report.skipped_nofix:
        print("note: %d --no-fix-imports inputs not checked: CPython cannot import their Python 2 names "
              "(copy_reg, __builtin__, ...) without fix_imports" % report.skipped_nofix)

    def classes(items, title):
        if not items:
            return
        print()
        print(title)
        groups = collections.OrderedDict()
        for cat, label, text, sig in sorted(items, key=lambda f: (f[0], f[3], f[1])):
            groups.setdefault((cat, sig), []).append(label)
        for (cat, sig), labels in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
            print("  %4d  [%s] %s" % (len(labels), cat, sig))
            print("          e.g. %s" % labels[0])

    classes(report.failures, "failure classes (count, category, signature, one example):")
    classes(report.differences, "differences from CPython's own bytes, not failures (count, category, signature, one example):")
    print()
    by_cat = collections.Counter(f[0] for f in report.failures)
    for cat, n in sorted(by_cat.items()):
        print("  %-40s %d" % (cat, n))
    by_cat = collections.Counter(f[0] for f in report.differences)
    for cat, n in sorted(by_cat.items()):
        print("  %-40s %d (not failures)" % (cat, n))
    print("roundtrip: %d inputs, %d conversions; %d checks passed (%d of them byte-identical to CPython), "
          "%d failed, %d differences from CPython noted"
          % (ncases, njobs, report.passed, report.identical, len(report.failures), len(report.differences)))
    print("%d brine invocations, %.1f s" % (brine.calls, time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brine", required=True, help="path to the brine executable")
    ap.add_argument("--only", help="only inputs whose name contains PATTERN (glob if it has * ? [); "
                                   "extra cases are named x:p<N>_<name>")
    ap.add_argument("--jobs", type=int, default=2, help="brine processes at a time")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per brine process")
    ap.add_argument("--max-shown", type=int, default=100, help="failures printed in full")
    ap.add_argument("--show-differences", type=int, default=0, metavar="N",
                    help="print N differences from CPython's bytes for objects in full (default 0)")
    ap.add_argument("--keep", metavar="DIR", help="keep inputs and outputs in DIR (default: a temporary directory)")
    ap.add_argument("--no-atomic", action="store_true", help="skip the OUT == IN / stdio / failure tests")
    args = ap.parse_args()

    if sys.version_info[:2] != (3, 11):
        print("warning: expectations are defined by CPython 3.11; this is %s" % sys.version.split()[0])
    brine_path = os.path.abspath(args.brine)
    if not os.access(brine_path, os.X_OK):
        print("error: brine executable not found: %s" % brine_path)
        return 2
    clashes = rc.install_main_names(sys.modules["__main__"], generate_mod)
    report = Report()
    clashes = [c for c in clashes if c != "main"]  # generate.main is not a pickled name
    if clashes:
        report.notes.append("names not installed in __main__ (clash with roundtrip.py): %s" % ", ".join(clashes))
    brine = Brine(brine_path, args.timeout)
    t0 = time.time()
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        os.makedirs(args.keep)
        tmp_ctx = None
        tmp = args.keep
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="brine-roundtrip-")
        tmp = tmp_ctx.name
    try:
        srcdir = os.path.join(tmp, "in")
        outdir = os.path.join(tmp, "out")
        os.makedirs(srcdir)
        os.makedirs(outdir)
        cases = gen_cases(args.only) + extra_cases(srcdir, args.only, report)
        jobs = []
        per_case = []
        for i, case in enumerate(cases):
            add_variants(case)
            by_variant = {}
            for v in case.variants:
                lst = []
                targets = list(PROTOCOLS) + ([None] if v.is_default() else [])
                for p in targets:
                    out = os.path.join(outdir, "%05d_%s%s.p%s.pkl" % (
                        i, safe_name(case.name), ("." + v.tag()) if v.tag() else "", "d" if p is None else p))
                    lst.append(Job(case, v, p, out))
                by_variant[v.tag()] = lst
                jobs.extend(lst)
            per_case.append((case, by_variant))
        # brine: a few big batches in parallel
        nchunks = max(1, args.jobs * 4)
        size = max(1, -(-len(jobs) // nchunks))
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futs = [pool.submit(brine.batch, jobs[k:k + size], tmp, str(k)) for k in range(0, len(jobs), size)]
            for f in futs:
                f.result()
        t_brine = time.time() - t0
        for prob in brine.problems:
            report.fail("brine crashed", "convert --batch", "    " + prob)
        ck = Checker(report)
        for case, by_variant in per_case:
            ck.check_case(case, by_variant)
        if not args.no_atomic and args.only is None:
            atomic_tests(brine, tmp, report)
        report.notes.append("brine conversions took %.1f s of the total" % t_brine)
        print_report(report, args, brine, t0, len(cases), len(jobs))
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    return 1 if report.failures else 0


def run_with_big_stack(fn):
    """fn() in a thread with a 1 GiB stack and a high recursion limit: CPython's pickler, repr and
    this script's comparison recurse once per nesting level (the corpus nests 10,000 deep). The
    stack size must be in force when the thread starts."""
    result = []

    def target():
        sys.setrecursionlimit(1000000)
        result.append(fn())

    threading.stack_size(1024 * 1024 * 1024)
    try:
        t = threading.Thread(target=target)
        t.start()
    finally:
        threading.stack_size(0)
    t.join()
    return result[0] if result else 3


if __name__ == "__main__":
    sys.exit(run_with_big_stack(main))
