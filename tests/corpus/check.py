#!/usr/bin/python3
"""Compare the `brine` CLI against live CPython on real pickles.

    /usr/bin/python3 tests/corpus/check.py --brine PATH_TO_BRINE [--suite NAME]... [--only PATTERN]

Suites:
  generated    tests/corpus/gen/*.pkl (made by generate.py). Expectations are computed here, now,
               with this CPython: `brine show` against repr(pickle.loads(data)) (or the doc's
               constructor form, from an "oracle" unpickler that never imports anything named in
               a pickle), `brine show --refs` against the oracle's refs form, `brine dis` against
               pickletools.dis, `brine check` exit status.
  pickletester ../shared/corpus/cpython-pickletester/{good,bad}.json (stored CPython 3.11.7 results).
  serde        ../shared/corpus/serde-pickle/ (stored expected.json).
  gopickle     ../shared/corpus/gopickle/pickle/ (stored expected.json).

Exit status 0 only if every check passed. Every mismatch is printed with the first differing
character and both texts (an excerpt around the difference for long texts).

The oracle (class Oracle below) is a subclass of CPython's C Unpickler. Its find_class returns
the real object only for builtin value types, builtin exceptions, the library types the
documentation recognises and a few pickling helpers (whose behaviour it re-implements
without calling anything unknown); any other global becomes an inert stub class that records
how the pickle used it (call arguments, keyword arguments, BUILD states, APPEND/SETITEM/ADDITEMS
items). Nothing is imported and no function named in a pickle is called.
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    # Set iteration order of str/bytes depends on the hash seed; brine emulates seed 0.
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import _codecs
import _compat_pickle
import _pickle
import argparse
import builtins
import codecs
import collections
import concurrent.futures
import copyreg
import datetime
import decimal
import fnmatch
import io
import json
import pickletools
import subprocess
import tempfile
import threading
import time
import types
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))
GEN = os.path.join(HERE, "gen")
SUITES = ("generated", "pickletester", "serde", "gopickle")

# brine --encoding names -> the encoding= argument of pickle.loads
ENCODINGS = {"default": "ASCII", "ascii": "ascii", "latin1": "latin1", "bytes": "bytes", "utf8": "utf-8"}

# ---------------------------------------------------------------------------------------------
# pickletester good.json entries whose stored "canonical" text differs *by design* from what
# `brine show --refs` prints (see docs/show-format.md). For these, --refs is compared with the
# live oracle's refs form instead; every other good entry must equal "canonical" exactly.
CANONICAL_DIFFERS = {
    "test_compat_unpickle#1": "canonical names a builtin function by its __module__ "
                              "(<global _functools.reduce>); brine maps __builtin__.reduce through "
                              "fix_imports to functools.reduce and never imports it",
    "test_compat_unpickle#3": "canonical prints builtin exceptions in constructor form; "
                              "brine prints them as CPython's repr, Exception('ugh')",
    "test_compat_unpickle#4": "builtin exception: Exception('ugh') in brine",
    "test_unpickle_from_2x#0": "canonical prints sets as set({1, 2}); brine prints {1, 2}",
    "DATA_SET2#0": "canonical prints sets as set({3}); brine prints {3}",
    "test_unpickle_from_2x#2": "canonical shows the real SimpleCookie/Morsel after their "
                               "__setstate__ ran ('_key', no empty state); brine prints each BUILD's "
                               "state as the pickle gives it (state={'coded_value': ..., 'key': ...}, "
                               "state={})",
}
# test_load_classic_instance#0..#8: INST/OBJ followed by BUILD with an empty dict. canonical
# omits an empty __dict__ (__main__.C()); the doc prints every BUILD's state: __main__.C(state={}).
for _i in range(0, 9):
    CANONICAL_DIFFERS["test_load_classic_instance#%d" % _i] = (
        "BUILD of an empty dict: canonical omits it, brine prints state={}")
# test_unpickle_from_2x#3 .. #46 (builtin exceptions) differ for the same reason as #3 above.
for _i in range(3, 47):
    CANONICAL_DIFFERS["test_unpickle_from_2x#%d" % _i] = (
        "builtin exception in constructor form in canonical; brine prints CPython's repr")
# good.json loads_kwargs encodings the CLI contract does not offer (ascii|latin1|bytes|utf8).
UNSUPPORTED_ENCODING_OK = {
    "test_empty_bytestring#0": "loads(..., encoding='koi8-r') of an empty SHORT_BINSTRING: the value "
                               "is '' under any encoding, so the default one is used",
}

# ---------------------------------------------------------------------------------------------
# The oracle


class _Nothing:
    pass


NOTHING = _Nothing()


class GlobalInfo:
    __slots__ = ("module", "qualname", "value_repr", "fold")

    def __init__(self, module, qualname, value_repr, fold=None):
        self.module, self.qualname, self.value_repr, self.fold = module, qualname, value_repr, fold


class ObjectInfo:
    __slots__ = ("callable", "args", "kwargs", "litems", "ditems", "states", "setter")

    def __init__(self, callable_, args, kwargs):
        self.callable = callable_
        self.args = args
        self.kwargs = kwargs
        self.litems = None
        self.ditems = None
        self.states = []
        self.setter = None  # a __reduce__ state_setter called as setter(obj, state) (see oracle_load)


# Calls setter(obj, state) of a stub on a stub object that had no state yet: (result, setter,
# obj's info, state), in order. oracle_load keeps those whose result the pickle discarded.
_SETTER_CANDIDATES = []


class StubMeta(type):
    """Stubs are classes (so NEWOBJ accepts them); instances of StubMeta are globals or objects."""

    def __call__(cls, *args, **kwargs):  # REDUCE, INST/OBJ with arguments
        info = cls.__dict__["_stub"]
        if isinstance(info, GlobalInfo) and info.fold is not None:
            r = info.fold(args, kwargs)
            if r is not NOTHING:
                return r
        r = new_stub_object(cls, args, kwargs)
        if len(args) == 2 and not kwargs and is_stub(args[0]) and isinstance(args[0].__dict__["_stub"], ObjectInfo):
            tgt = args[0].__dict__["_stub"]
            if not tgt.states:
                _SETTER_CANDIDATES.append((r, cls, tgt, args[1]))
        return r

    def __setstate__(cls, state):  # BUILD
        info = cls.__dict__["_stub"]
        if not isinstance(info, ObjectInfo):
            raise TypeError("BUILD on a global")
        info.states.append(state)

    def append(cls, item):
        cls.extend([item])

    def extend(cls, items):  # APPEND / APPENDS
        info = cls.__dict__["_stub"]
        if not isinstance(info, ObjectInfo):
            raise TypeError("APPEND on a global")
        if info.litems is None:
            info.litems = []
        info.litems.extend(items)

    def add(cls, item):  # ADDITEMS
        cls.extend([item])

    def __setitem__(cls, key, value):  # SETITEM / SETITEMS
        info = cls.__dict__["_stub"]
        if not isinstance(info, ObjectInfo):
            raise TypeError("SETITEM on a global")
        if info.ditems is None:
            info.ditems = []
        info.ditems.append((key, value))


class StubBase(metaclass=StubMeta):
    _stub = None

    def __new__(cls, *args, **kwargs):  # NEWOBJ / NEWOBJ_EX / INST and OBJ without arguments
        return new_stub_object(cls, args, kwargs)


def is_stub(x):
    return type(x) is StubMeta and x is not StubBase


def new_stub_object(callable_, args, kwargs):
    return StubMeta("obj", (StubBase,), {"_stub": ObjectInfo(callable_, tuple(args), dict(kwargs))})


_global_cache = {}


def stub_global(module, qualname, value_repr=None, fold=None):
    key = (module, qualname)
    g = _global_cache.get(key)
    if g is None:
        if value_repr is None:
            value_repr = "<global %s.%s>" % (module, qualname)
        g = StubMeta(qualname.rpartition(".")[2] or "g", (StubBase,),
                     {"_stub": GlobalInfo(module, qualname, value_repr, fold)})
        _global_cache[key] = g
    return g


class PersistentRef:
    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


FOLDED_BUILTIN_TYPES = {"int", "float", "complex", "str", "bytes", "bytearray", "bool", "tuple",
                        "list", "dict", "set", "frozenset", "range", "slice"}
BUILTIN_CONSTANTS = {"None", "True", "False", "Ellipsis", "NotImplemented"}
LIBRARY = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("collections", "Counter"): collections.Counter,
    ("collections", "deque"): collections.deque,
    ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time,
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("decimal", "Decimal"): decimal.Decimal,
    ("uuid", "UUID"): uuid.UUID,
}
REAL_CLASSES = set(LIBRARY.values()) | {getattr(builtins, n) for n in FOLDED_BUILTIN_TYPES}


def _is_real_class(c):
    return c in REAL_CLASSES or (isinstance(c, type) and issubclass(c, BaseException)
                                 and builtins.__dict__.get(c.__name__) is c)


def _fold_reconstructor(args, kwargs):
    # copyreg._reconstructor(cls, base, state), what protocols 0 and 1 write for instances.
    # The doc: for (cls, object, None) "the class is cls and there are no args". For another
    # base (list/dict/int/str/tuple subclasses) the doc says nothing; brine prints the class cls
    # with args=(base, state), the same reading as __newobj__'s, and the oracle follows it (see
    # README: a documented ambiguity).
    if kwargs or len(args) != 3:
        return NOTHING
    cls, base, state = args
    plain = base is stub_global("builtins", "object") and state is None
    if is_stub(cls):
        return new_stub_object(cls, () if plain else (base, state), {})
    if plain and cls in REAL_CLASSES:
        return copyreg._reconstructor(cls, object, None)
    return NOTHING


def _fold_newobj(args, kwargs):
    # copyreg.__newobj__(cls, *args) == cls.__new__(cls, *args)
    if kwargs or not args:
        return NOTHING
    cls = args[0]
    if is_stub(cls):
        return new_stub_object(cls, args[1:], {})
    if cls in REAL_CLASSES:
        return cls.__new__(cls, *args[1:])
    return NOTHING


def _fold_newobj_ex(args, kwargs):
    if kwargs or len(args) != 3 or type(args[1]) is not tuple or type(args[2]) is not dict:
        return NOTHING
    cls, a, kw = args
    if is_stub(cls):
        return new_stub_object(cls, a, kw)
    if cls in REAL_CLASSES:
        return cls.__new__(cls, *a, **kw)
    return NOTHING


def _fold_codecs_encode(args, kwargs):
    # _codecs.encode(str, text_encoding[, 'strict']): how protocols 0-2 write bytes.
    if kwargs or not 1 <= len(args) <= 3 or type(args[0]) is not str:
        return NOTHING
    enc = args[1] if len(args) > 1 else "utf-8"
    errors = args[2] if len(args) > 2 else "strict"
    if type(enc) is not str or errors != "strict":
        return NOTHING
    try:
        if not codecs.lookup(enc)._is_text_encoding:
            return NOTHING
    except LookupError:
        return NOTHING
    return _codecs.encode(args[0], enc, errors)


def _fold_type(args, kwargs):
    # type(None), type(Ellipsis), type(NotImplemented): how CPython pickles these builtin types.
    if not kwargs and len(args) == 1 and any(args[0] is x for x in (None, Ellipsis, NotImplemented)):
        return type(args[0])
    return NOTHING


SPECIAL_GLOBALS = {
    ("copyreg", "_reconstructor"): _fold_reconstructor,
    ("copyreg", "__newobj__"): _fold_newobj,
    ("copyreg", "__newobj_ex__"): _fold_newobj_ex,
    ("_codecs", "encode"): _fold_codecs_encode,
}


def resolve_global(module, name):
    if module == "builtins":
        if name in FOLDED_BUILTIN_TYPES or name in BUILTIN_CONSTANTS:
            return getattr(builtins, name)
        obj = builtins.__dict__.get(name)  # a lookup in a dict; nothing is imported or called
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return obj
        if name == "type":
            return stub_global(module, name, "<class 'type'>", _fold_type)
        if isinstance(obj, type):
            return stub_global(module, name, "<class '%s'>" % name)
        if isinstance(obj, types.BuiltinFunctionType):
            return stub_global(module, name, "<built-in function %s>" % name)
        return stub_global(module, name)
    real = LIBRARY.get((module, name))
    if real is not None:
        return real
    fold = SPECIAL_GLOBALS.get((module, name))
    return stub_global(module, name, None, fold)


def scan_global_protos(data):
    """The protocol in force (last PROTO seen) at each GLOBAL/INST/STACK_GLOBAL of the first
    pickle, in stream order: C find_class applies fix_imports only when it is < 3."""
    return scan_opcodes(data)[1]


def scan_opcodes(data):
    """(set of opcode names, protos at each global) of the first pickle; stops at anything it
    cannot skip (lengths are read, values are not parsed)."""
    names = set()
    out = []
    proto = 0
    pos = 0
    n = len(data)
    code2op = pickletools.code2op
    while pos < n:
        op = code2op.get(chr(data[pos]))
        if op is None:
            break
        pos += 1
        name = op.name
        names.add(name)
        if name == "PROTO" and pos < n:
            proto = data[pos]
        if name in ("GLOBAL", "INST", "STACK_GLOBAL"):
            out.append(proto)
        if name == "STOP":
            break
        arg = op.arg
        if arg is None:
            continue
        k = arg.n
        if k >= 0:
            pos += k
        elif k == pickletools.UP_TO_NEWLINE:
            for _ in range(2 if name in ("GLOBAL", "INST") else 1):
                j = data.find(b"\n", pos)
                if j < 0:
                    return names, out
                pos = j + 1
        else:
            width = {pickletools.TAKEN_FROM_ARGUMENT1: 1, pickletools.TAKEN_FROM_ARGUMENT4: 4,
                     pickletools.TAKEN_FROM_ARGUMENT4U: 4, pickletools.TAKEN_FROM_ARGUMENT8U: 8}[k]
            length = int.from_bytes(data[pos:pos + width], "little", signed=(k == pickletools.TAKEN_FROM_ARGUMENT4))
            if length < 0:
                return names, out
            pos += width + length
    return names, out


class Oracle(_pickle.Unpickler):
    def __init__(self, data, encoding):
        super().__init__(io.BytesIO(data), fix_imports=True, encoding=encoding, errors="strict")
        self._protos = scan_global_protos(data)
        self._k = 0

    def find_class(self, module, name):
        if self._k < len(self._protos):
            proto = self._protos[self._k]
        else:
            proto = self._protos[-1] if self._protos else 0
        self._k += 1
        if proto < 3:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return resolve_global(module, name)

    def persistent_load(self, pid):
        return PersistentRef(pid)


def oracle_load(data, encoding="ASCII"):
    """(True, value) or (False, 'ExcType: message')."""
    del _SETTER_CANDIDATES[:]
    try:
        v = Oracle(data, encoding).load()
    except Exception as e:  # what CPython raises is the expected failure
        return False, "%s: %s" % (type(e).__name__, e)
    keep_state_setter_calls(v)
    return True, v


def keep_state_setter_calls(root):
    """What brine keeps of a __reduce__ state_setter call, setter(obj, state) whose result the pickle
    POPs (CPython's save_reduce): on obj, its state and the setter, when obj had no state before
    (a BUILD after it makes both plain states). Here: such a call whose result is not reachable."""
    if not _SETTER_CANDIDATES:
        return
    reachable = set()
    todo = [root]
    while todo:
        x = todo.pop()
        if id(x) in reachable:
            continue
        reachable.add(id(x))
        if is_stub(x):
            info = x.__dict__["_stub"]
            if isinstance(info, ObjectInfo):
                todo += [info.callable, info.args, info.kwargs] + list(info.litems or []) + \
                    [c for kv in (info.ditems or []) for c in kv] + list(info.states)
        elif isinstance(x, dict):
            todo += list(x.keys()) + list(x.values())
        elif isinstance(x, (list, tuple, set, frozenset, collections.deque)):
            todo += list(x)
    for result, setter, tgt, state in _SETTER_CANDIDATES:
        if id(result) in reachable or tgt.setter is not None:
            continue
        tgt.states.insert(0, state)
        if len(tgt.states) == 1:
            tgt.setter = setter


# ---------------------------------------------------------------------------------------------
# Printer: CPython's repr for real values, the doc's constructor form for stubs; iterative.

LEAF_TYPES = (type(None), bool, float, complex, str, bytes, range, datetime.date, datetime.time,
              datetime.timedelta, datetime.tzinfo, decimal.Decimal, uuid.UUID, type,
              types.BuiltinFunctionType, type(Ellipsis), type(NotImplemented))
MUTABLE_TYPES = (list, dict, set, bytearray, collections.OrderedDict, collections.defaultdict,
                 collections.Counter, collections.deque, BaseException)


class Rendered:
    __slots__ = ("text", "has_stub", "has_huge_int")


def _is_mutable(v):
    return is_stub(v) and isinstance(v.__dict__["_stub"], ObjectInfo) or isinstance(v, MUTABLE_TYPES)


def _recursion_marker(v):
    """Tokens CPython prints for a container reached again while it is being printed."""
    t = type(v)
    if t is list or t is collections.deque:
        return ["[...]"]
    if t is dict:
        return ["{...}"]
    if t is collections.defaultdict:
        # defdict_repr prints the factory, then dict_repr finds the recursion
        fac = v.default_factory
        return ["defaultdict(", "None" if fac is None else ("v", fac), ", {...})"]
    if t is tuple:
        return ["(...)"]
    return ["..."]


def _expand(v, info):
    """Tokens for one value: str (literal) or ('v', child). None for leaves (literal in info)."""
    t = type(v)
    if t is list:
        toks = ["["]
        for i, x in enumerate(v):
            if i:
                toks.append(", ")
            toks.append(("v", x))
        toks.append("]")
        return toks
    if t is tuple:
        if not v:
            return ["()"]
        toks = ["("]
        for i, x in enumerate(v):
            if i:
                toks.append(", ")
            toks.append(("v", x))
        toks.append(",)" if len(v) == 1 else ")")
        return toks
    if t is dict:
        return ["{"] + _dict_tokens(v.items()) + ["}"]
    if t is set or t is frozenset:
        if not v:
            return ["set()" if t is set else "frozenset()"]
        toks = ["{" if t is set else "frozenset({"]
        for i, x in enumerate(v):
            if i:
                toks.append(", ")
            toks.append(("v", x))
        toks.append("}" if t is set else "})")
        return toks
    if t is collections.OrderedDict:
        if not v:
            return ["OrderedDict()"]
        toks = ["OrderedDict(["]
        for i, (k, x) in enumerate(v.items()):
            toks += [", (" if i else "(", ("v", k), ", ", ("v", x), ")"]
        toks.append("])")
        return toks
    if t is collections.defaultdict:
        fac = v.default_factory
        return ["defaultdict(", "None" if fac is None else ("v", fac), ", {"] + \
            _dict_tokens(v.items()) + ["})"]
    if t is collections.Counter:
        if not v:
            return ["Counter()"]
        try:
            items = v.most_common()
        except TypeError:
            items = list(v.items())
        return ["Counter({"] + _dict_tokens(dict(items).items()) + ["})"]
    if t is collections.deque:
        toks = ["deque(["]
        for i, x in enumerate(v):
            if i:
                toks.append(", ")
            toks.append(("v", x))
        toks.append("])" if v.maxlen is None else "], maxlen=%d)" % v.maxlen)
        return toks
    if t is slice:
        return ["slice(", ("v", v.start), ", ", ("v", v.stop), ", ", ("v", v.step), ")"]
    if isinstance(v, BaseException) and builtins.__dict__.get(t.__name__) is t:
        if len(v.args) == 1:
            return [t.__name__ + "(", ("v", v.args[0]), ")"]
        return [t.__name__, ("v", v.args)]
    if t is PersistentRef:
        info.has_stub = True
        return ["persistent_id(", ("v", v.pid), ")"]
    if is_stub(v):
        info.has_stub = True
        s = v.__dict__["_stub"]
        if isinstance(s, GlobalInfo):
            return None
        toks = []
        c = s.callable
        if is_stub(c) and isinstance(c.__dict__["_stub"], GlobalInfo):
            g = c.__dict__["_stub"]
            toks.append("%s.%s" % (g.module, g.qualname))
        else:
            toks.append(("v", c))
        toks.append("(")
        parts = []
        if s.args:
            parts.append(["args=", ("v", s.args)])
        if s.kwargs:
            parts.append(["kwargs=", ("v", s.kwargs)])
        if s.litems:  # "only the parts that are present": no items= when none were added
            p = ["items=["]
            for i, x in enumerate(s.litems):
                if i:
                    p.append(", ")
                p.append(("v", x))
            p.append("]")
            parts.append(p)
        if s.ditems:
            parts.append(["items={"] + _dict_tokens(s.ditems) + ["}"])
        if s.setter is not None:
            parts.append(["state_setter=", ("v", s.setter)])
        for st in s.states:
            parts.append(["state=", ("v", st)])
        for i, p in enumerate(parts):
            if i:
                toks.append(", ")
            toks += p
        toks.append(")")
        return toks
    return None


def _dict_tokens(items):
    toks = []
    for i, (k, x) in enumerate(items):
        if i:
            toks.append(", ")
        toks += [("v", k), ": ", ("v", x)]
    return toks


def _leaf_text(v, info):
    t = type(v)
    if t is int:
        try:
            return repr(v)
        except ValueError:  # more than 4300 digits: the doc's hexadecimal form
            info.has_huge_int = True
            return hex(v)
    if is_stub(v):
        return v.__dict__["_stub"].value_repr
    if t is bytearray:
        return repr(v)
    if isinstance(v, LEAF_TYPES):
        return repr(v)
    raise TypeError("oracle printer: unexpected %s" % t.__qualname__)


def render(root, refs=False, limit=1 << 27):
    info = Rendered()
    info.has_stub = False
    info.has_huge_int = False
    counts = None
    if refs:
        counts = {}
        _walk(root, info, counts, None, limit)
    out = []
    _walk(root, info, counts, out, limit)
    info.text = "".join(out)
    return info


def _walk(root, info, counts, out, limit):
    """counts given and out None: counting pass (refs). out given: printing pass."""
    counting = out is None
    refs = counts is not None
    labels = {}
    in_progress = set()
    keep = []  # keeps token lists (and anything they reference) alive while ids are in use
    size = 0
    stack = [("v", root)]
    while stack:
        tok = stack.pop()
        if type(tok) is str:
            if not counting:
                out.append(tok)
                size += len(tok)
                if size > limit:
                    raise OverflowError("oracle output exceeds %d bytes" % limit)
            continue
        kind, v = tok
        if kind == "x":
            in_progress.discard(v)
            continue
        vid = id(v)
        if refs and _is_mutable(v):
            if counting:
                counts[vid] = counts.get(vid, 0) + 1
                if counts[vid] > 1:
                    continue
            elif counts[vid] > 1:
                if vid in labels:
                    stack.append("#%d#" % labels[vid])
                    continue
                labels[vid] = len(labels)
                out.append("#%d=" % labels[vid])
        elif vid in in_progress:
            stack.extend(reversed(_recursion_marker(v)))
            continue
        toks = _expand(v, info)
        if toks is None:
            text = _leaf_text(v, info)
            if not counting:
                stack.append(text)
            continue
        keep.append(toks)
        in_progress.add(vid)
        stack.append(("x", vid))
        stack.extend(reversed(toks))


def repr_checked(value):
    """("ok", repr(value)) or ("error", message). Deep values need the big stack that
    run_with_big_stack() gives the whole checker."""
    try:
        return "ok", repr(value)
    except Exception as e:
        return "error", "%s: %s" % (type(e).__name__, e)


def run_with_big_stack(fn):
    """Run fn() in a thread with a 512 MiB stack and a high recursion limit (repr() of values
    nested thousands deep recurses in C)."""
    result = []

    def target():
        sys.setrecursionlimit(1000000)
        result.append(fn())

    threading.stack_size(512 * 1024 * 1024)
    t = threading.Thread(target=target)
    threading.stack_size(0)
    t.start()
    t.join()
    return result[0] if result else 3


def expected_show(value):
    """(text, note). Builtin/recognised-only values: CPython's repr (checked against the printer);
    anything else: the printer's constructor form."""
    r = render(value)
    if r.has_stub or r.has_huge_int:
        return r.text, None
    status, text = repr_checked(value)
    if status != "ok":
        return r.text, "repr() failed (%s); printer form used" % text
    if text != r.text:
        return text, "ORACLE SELF-CHECK: printer differs from repr():\n" + diff_text(
            text.encode("utf-8", "surrogatepass"), r.text.encode("utf-8", "surrogatepass"))
    return text, None


def pickletools_dis(data):
    """(stdout text, error or None) of `python3 -m pickletools FILE`."""
    buf = io.StringIO()
    try:
        pickletools.dis(io.BytesIO(data), out=buf)
        return buf.getvalue(), None
    except Exception as e:
        return buf.getvalue(), "%s: %s" % (type(e).__name__, e)


def has_memo_get(data):
    return bool(scan_opcodes(data)[0] & {"GET", "BINGET", "LONG_BINGET"})


def py2_string_opcodes(data):
    """True if the first pickle uses STRING/BINSTRING/SHORT_BINSTRING (encoding-dependent)."""
    return bool(scan_opcodes(data)[0] & {"STRING", "BINSTRING", "SHORT_BINSTRING"})


# ---------------------------------------------------------------------------------------------
# Diffs and reporting


def _excerpt(b, i, width=160):
    s = b.decode("utf-8", "backslashreplace")
    # map byte index to char index approximately by decoding the prefix
    ci = len(b[:i].decode("utf-8", "backslashreplace"))
    lo, hi = max(0, ci - width), min(len(s), ci + width)
    ex = s[lo:hi].rstrip("\n")
    return ("…" if lo else "") + ex + ("…" if hi < len(s) else "")


def diff_text(expected, got):
    """Readable description of the first difference between two byte strings."""
    i = 0
    n = min(len(expected), len(got))
    while i < n and expected[i] == got[i]:
        i += 1
    lines = ["    first difference at byte %d (expected %d bytes, got %d bytes)" % (i, len(expected), len(got))]
    if b"\n" in expected[:-1] or b"\n" in got[:-1]:
        ln = expected[:i].count(b"\n")
        el = expected.split(b"\n")
        gl = got.split(b"\n")
        lines.append("    at line %d:" % (ln + 1))
        for j in range(max(0, ln - 2), ln + 3):
            e = el[j].decode("utf-8", "backslashreplace") if j < len(el) else "<none>"
            g = gl[j].decode("utf-8", "backslashreplace") if j < len(gl) else "<none>"
            mark = "!" if e != g else " "
            lines.append("   %s %5d expected: %s" % (mark, j + 1, e))
            lines.append("   %s %5d      got: %s" % (mark, j + 1, g))
    else:
        if len(expected) <= 400 and len(got) <= 400:
            lines.append("    expected: " + expected.decode("utf-8", "backslashreplace").rstrip("\n"))
            lines.append("         got: " + got.decode("utf-8", "backslashreplace").rstrip("\n"))
        else:
            lines.append("    expected (excerpt): " + _excerpt(expected, i))
            lines.append("         got (excerpt): " + _excerpt(got, i))
        lines.append("    " + " " * 14 + "first differing character: expected %r, got %r" % (
            expected[i:i + 1].decode("utf-8", "replace") if i < len(expected) else "<end>",
            got[i:i + 1].decode("utf-8", "replace") if i < len(got) else "<end>"))
    return "\n".join(lines)


LAST_COMMAND = threading.local()  # the brine command a worker thread ran last (for reports)


class Report:
    def __init__(self):
        self.failures = []
        self.notes = []
        self.count = collections.Counter()
        self.lock = threading.Lock()

    def ok(self, suite):
        with self.lock:
            self.count[suite, "pass"] += 1

    def fail(self, suite, category, case, text):
        argv = getattr(LAST_COMMAND, "argv", None)
        if argv:
            text += "\n    command: brine " + " ".join(argv)
        with self.lock:
            self.count[suite, "fail"] += 1
            self.failures.append((suite, category, case, text))

    def note(self, text):
        with self.lock:
            self.notes.append(text)


# ---------------------------------------------------------------------------------------------
# Running brine


class Brine:
    tmpdir = None  # files written from hex (pickletester) live here and vanish at exit

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.calls = 0

    def run(self, args):
        self.calls += 1
        LAST_COMMAND.argv = args
        try:
            p = subprocess.run([self.path] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.timeout)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            return "timeout", e.stdout or b"", e.stderr or b""


def status_text(rc, err):
    if rc == "timeout":
        return "timed out"
    if rc < 0:
        return "killed by signal %d" % -rc
    e = err.decode("utf-8", "backslashreplace").strip()
    return "exit %d%s" % (rc, (", stderr: " + e[:300]) if e else "")


def enc_args(enc):
    return [] if enc == "default" else ["--encoding", enc]


class Checker:
    def __init__(self, brine, report, jobs):
        self.brine = brine
        self.report = report
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        self.futures = []

    def submit(self, fn, *a):
        self.futures.append(self.pool.submit(self._guard, fn, *a))

    def _guard(self, fn, suite, case, *a):
        try:
            fn(suite, case, *a)
        except Exception as e:  # a bug in this script must not hide the other results
            self.report.fail(suite, "checker error", str(case)[:200], "    %s: %s" % (type(e).__name__, e))

    def wait(self):
        for f in self.futures:
            f.result()
        self.futures = []

    # -- individual checks (run in worker threads) --

    def show_ok(self, suite, case, path, enc, refs, expected):
        args = ["show"] + (["--refs"] if refs else []) + enc_args(enc) + [path]
        rc, out, err = self.brine.run(args)
        what = "show --refs" if refs else "show"
        label = "%s [%s%s]" % (case, what, "" if enc == "default" else " --encoding " + enc)
        exp = expected.encode("utf-8", "surrogatepass") + b"\n"
        if rc != 0:
            self.report.fail(suite, what + ": brine failed", label,
                             "    expected success, got %s\n    expected: %s" % (
                                 status_text(rc, err), _excerpt(exp, 0, 300)))
        elif out != exp:
            self.report.fail(suite, what + ": output differs", label, diff_text(exp, out))
        else:
            self.report.ok(suite)

    def show_fails(self, suite, case, path, enc, why):
        args = ["show"] + enc_args(enc) + [path]
        rc, out, err = self.brine.run(args)
        label = "%s [show%s]" % (case, "" if enc == "default" else " --encoding " + enc)
        if rc == 1 and err.strip():
            self.report.ok(suite)
        elif rc == 1:
            self.report.fail(suite, "show: failure without message", label, "    exit 1 but stderr is empty")
        else:
            self.report.fail(suite, "show: should fail" if rc == 0 else "show: crash/bad exit status", label,
                             "    CPython fails (%s); brine: %s\n    stdout: %s" % (
                                 why, status_text(rc, err), _excerpt(out, 0, 200)))

    def dis(self, suite, case, path, expected, error):
        rc, out, err = self.brine.run(["dis", path])
        label = "%s [dis]" % case
        exp = expected.encode("utf-8", "surrogatepass")
        if error is None:
            if rc != 0:
                self.report.fail(suite, "dis: brine failed", label,
                                 "    pickletools succeeds; brine: %s" % status_text(rc, err))
            elif out != exp:
                self.report.fail(suite, "dis: output differs", label, diff_text(exp, out))
            else:
                self.report.ok(suite)
        else:
            if rc != 1:
                self.report.fail(suite, "dis: should fail" if rc == 0 else "dis: crash/bad exit status", label,
                                 "    pickletools raises %s; brine: %s" % (error, status_text(rc, err)))
            elif out != exp:
                self.report.fail(suite, "dis: partial output differs", label,
                                 "    (pickletools raises %s)\n" % error + diff_text(exp, out))
            elif not err.strip():
                self.report.fail(suite, "dis: failure without message", label, "    exit 1 but stderr is empty")
            else:
                self.report.ok(suite)

    def dis_fails(self, suite, case, path, error):
        rc, out, err = self.brine.run(["dis", path])
        if rc == 1:
            self.report.ok(suite)
        else:
            self.report.fail(suite, "dis: should fail" if rc == 0 else "dis: crash/bad exit status",
                             case + " [dis]", "    pickletools: %s; brine: %s" % (error, status_text(rc, err)))

    def check_one(self, suite, case, path, should_load):
        rc, out, err = self.brine.run(["check", path])
        label = "%s [check]" % case
        if should_load and rc == 0:
            self.report.ok(suite)
        elif not should_load and rc == 1:
            self.report.ok(suite)
        elif rc == "timeout" or rc < 0 or rc > 1:
            self.report.fail(suite, "check: crash/bad exit status", label, "    brine: %s" % status_text(rc, err))
        else:
            self.report.fail(suite, "check: wrong verdict", label, "    expected %s, brine: %s" % (
                "success" if should_load else "rejection", status_text(rc, err)))

    def check_batch(self, suite, items):
        """items: [(case, path)] that must all load. One invocation per chunk; a failing chunk
        is bisected down to the failing files."""
        for i in range(0, len(items), 500):
            self.submit(self._check_chunk, suite, items[i:i + 500])

    def _check_chunk(self, suite, chunk):
        if len(chunk) == 1:
            self.check_one(suite, chunk[0][0], chunk[0][1], True)
            return
        rc, out, err = self.brine.run(["check"] + [p for _, p in chunk])
        if rc == 0:
            for _ in chunk:
                self.report.ok(suite)
            return
        # The per-file line format is not part of the contract; if every file has a line
        # "PATH: ok..." or "PATH: error...", re-run only the others singly, else bisect.
        verdict = {}
        for line in out.decode("utf-8", "replace").splitlines():
            for _, p in chunk:
                if line.startswith(p + ": "):
                    verdict[p] = line[len(p) + 2:].startswith("ok")
        if rc in (0, 1) and len(verdict) == len(chunk):
            for case, p in chunk:
                if verdict[p]:
                    self.report.ok(suite)
                else:
                    self.check_one(suite, case, p, True)
            return
        half = len(chunk) // 2
        self._check_chunk(suite, chunk[:half])
        self._check_chunk(suite, chunk[half:])


# ---------------------------------------------------------------------------------------------
# Suites


def matches(name, pattern):
    if pattern is None:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def suite_generated(ck, only):
    LAST_COMMAND.argv = None
    suite = "generated"
    files = sorted(f for f in os.listdir(GEN) if f.endswith(".pkl"))
    if not files:
        ck.report.fail(suite, "corpus missing", GEN, "    no .pkl files; run generate.py")
        return
    loadable = []
    for f in files:
        case = f[:-4]
        if not matches(case, only):
            continue
        path = os.path.join(GEN, f)
        with open(path, "rb") as fh:
            data = fh.read()
        encs = ["default"]
        if py2_string_opcodes(data):
            encs += ["ascii", "latin1", "bytes", "utf8"]
        default_ok = None
        for enc in encs:
            ok, value = oracle_load(data, ENCODINGS[enc])
            if enc == "default":
                default_ok = ok
            if not ok:
                ck.submit(ck.show_fails, suite, case, path, enc, value)
                continue
            try:
                text, note = expected_show(value)
            except Exception as e:
                ck.report.fail(suite, "oracle error", case, "    %s: %s" % (type(e).__name__, e))
                continue
            if note:
                ck.report.fail(suite, "oracle self-check", case, "    " + note)
            ck.submit(ck.show_ok, suite, case, path, enc, False, text)
            if enc == "default":
                refs_text = render(value, refs=True).text
                # --refs is checked wherever labels are expected or the memo is read back (GET),
                # on every hand-written file, and on the protocol 4 files of the rest (no spurious
                # labels), to keep the number of brine invocations down.
                if (refs_text != text or has_memo_get(data) or not case.startswith("p")
                        or case.startswith("p4_")):
                    ck.submit(ck.show_ok, suite, case, path, enc, True, refs_text)
        dis_text, dis_err = pickletools_dis(data)
        ck.submit(ck.dis, suite, case, path, dis_text, dis_err)
        if default_ok:
            loadable.append((case, path))
        else:
            ck.submit(ck.check_one, suite, case, path, False)
    ck.check_batch(suite, loadable)


def suite_pickletester(ck, only, tmp):
    suite = "pickletester"
    base = os.path.join(SHARED, "cpython-pickletester")
    with open(os.path.join(base, "good.json")) as f:
        good = json.load(f)
    with open(os.path.join(base, "bad.json")) as f:
        bad = json.load(f)
    known = {e["name"] for e in good}
    for name in list(CANONICAL_DIFFERS) + list(UNSUPPORTED_ENCODING_OK):
        if name not in known:
            ck.report.note("pickletester: listed entry %s is not in good.json" % name)
    loadable = []
    for i, e in enumerate(good):
        case = "good:" + e["name"]
        if not matches(case, only):
            continue
        data = bytes.fromhex(e["hex"])
        path = os.path.join(tmp, "good%03d.pkl" % i)
        with open(path, "wb") as fh:
            fh.write(data)
        enc = (e.get("loads_kwargs") or {}).get("encoding")
        if enc is None or e["name"] in UNSUPPORTED_ENCODING_OK:
            enc = "default"
        elif enc not in ENCODINGS:
            ck.report.fail(suite, "unsupported encoding", case, "    loads_kwargs %r" % e["loads_kwargs"])
            continue
        ok, value = oracle_load(data, ENCODINGS[enc])
        if not ok:
            ck.report.fail(suite, "oracle error", case, "    oracle cannot load a good entry: " + value)
            continue
        plain = render(value)
        if plain.has_stub or plain.has_huge_int:
            expected = plain.text  # constructor form from the live oracle
        else:
            expected = e["repr"]  # stored CPython 3.11.7 repr
            if plain.text != expected:
                ck.report.note("pickletester: oracle printer differs from stored repr for %s" % case)
        ck.submit(ck.show_ok, suite, case, path, enc, False, expected)
        refs_oracle = render(value, refs=True).text
        if e["name"] in CANONICAL_DIFFERS:
            ck.submit(ck.show_ok, suite, case, path, enc, True, refs_oracle)
        else:
            if refs_oracle != e["canonical"]:
                ck.report.note("pickletester: oracle refs form differs from canonical for %s "
                               "(not listed in CANONICAL_DIFFERS)" % case)
            ck.submit(ck.show_ok, suite, case, path, enc, True, e["canonical"])
        dis_text, dis_err = pickletools_dis(data)
        ck.submit(ck.dis, suite, case, path, dis_text, dis_err)
        if enc == "default":
            loadable.append((case, path))
    ck.check_batch(suite, loadable)
    for i, e in enumerate(bad):
        case = "bad:" + e["name"]
        if not matches(case, only):
            continue
        data = bytes.fromhex(e["hex"])
        path = os.path.join(tmp, "bad%03d.pkl" % i)
        with open(path, "wb") as fh:
            fh.write(data)
        ck.submit(ck.check_one, suite, case, path, False)


def is_import_failure(err):
    return err.startswith("AttributeError: Can't get attribute") or err.startswith("ModuleNotFoundError")


def suite_expected_json(ck, only, suite, folder):
    with open(os.path.join(folder, "expected.json")) as f:
        expected = json.load(f)
    for fname in sorted(expected):
        case = fname
        if not matches(case, only):
            continue
        path = os.path.join(folder, fname)
        with open(path, "rb") as fh:
            data = fh.read()
        exp = expected[fname]
        for enc in ("default", "latin1", "bytes"):
            r = exp[enc]
            ok, value = oracle_load(data, ENCODINGS[enc])
            if r["ok"]:
                if not ok:
                    ck.report.fail(suite, "oracle error", case, "    oracle fails where CPython loaded: " + value)
                    continue
                plain = render(value)
                if plain.has_stub or plain.has_huge_int:
                    text = plain.text
                else:
                    text = r["repr"]
                    if plain.text != text:
                        ck.report.note("%s: oracle printer differs from stored repr for %s [%s]" % (suite, case, enc))
                ck.submit(ck.show_ok, suite, case, path, enc, False, text)
            elif is_import_failure(r["error"]):
                # CPython stopped at a class it could not import; brine keeps such objects inert.
                # If the oracle (which has every class) then fails for another reason, CPython
                # would fail too once the class exists: brine must fail.
                if ok:
                    ck.submit(ck.show_ok, suite, case, path, enc, False, render(value).text)
                else:
                    ck.submit(ck.show_fails, suite, case, path, enc, value)
            else:
                ck.submit(ck.show_fails, suite, case, path, enc, r["error"])
            if enc == "default" and ok:
                ck.submit(ck.show_ok, suite, case, path, enc, True, render(value, refs=True).text)
        dis = exp["pickletools_dis"]
        if dis.startswith("ERROR "):
            # the stored text has no partial output; the live pickletools provides it
            live, live_err = pickletools_dis(data)
            if live_err is None:
                ck.report.fail(suite, "oracle error", case, "    live pickletools succeeds; stored: " + dis)
                continue
            ck.submit(ck.dis, suite, case, path, live, dis[len("ERROR "):])
        else:
            ck.submit(ck.dis, suite, case, path, dis, None)


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brine", required=True, help="path to the brine executable")
    ap.add_argument("--suite", action="append", choices=SUITES, help="suite(s) to run (default: all)")
    ap.add_argument("--only", help="only cases whose name contains PATTERN (glob if it has * ? [)")
    ap.add_argument("--jobs", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per brine invocation")
    ap.add_argument("--max-shown", type=int, default=200, help="mismatches printed in full")
    args = ap.parse_args()

    if sys.version_info[:2] != (3, 11):
        print("warning: expectations are defined by CPython 3.11; this is %s" % sys.version.split()[0])
    brine_path = os.path.abspath(args.brine)
    if not os.access(brine_path, os.X_OK):
        print("error: brine executable not found: %s" % brine_path)
        return 2
    suites = args.suite or list(SUITES)
    report = Report()
    ck = Checker(Brine(brine_path, args.timeout), report, args.jobs)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="brine-corpus-") as tmp:
        for s in suites:
            try:
                if s == "generated":
                    suite_generated(ck, args.only)
                elif s == "pickletester":
                    suite_pickletester(ck, args.only, tmp)
                elif s == "serde":
                    suite_expected_json(ck, args.only, "serde", os.path.join(SHARED, "serde-pickle"))
                elif s == "gopickle":
                    suite_expected_json(ck, args.only, "gopickle", os.path.join(SHARED, "gopickle", "pickle"))
            except OSError as e:
                report.fail(s, "corpus missing", s, "    %s" % e)
        ck.wait()
    ck.pool.shutdown()

    fails = sorted(report.failures, key=lambda f: (f[0], f[1], f[2]))
    for i, (suite, cat, case, text) in enumerate(fails):
        if i >= args.max_shown:
            print("... %d more mismatches not shown (--max-shown)" % (len(fails) - i))
            break
        print("FAIL [%s] %s: %s" % (suite, cat, case))
        print(text)
    for n in report.notes:
        print("note: " + n)
    print()
    by_cat = collections.Counter((f[0], f[1]) for f in fails)
    for (suite, cat), n in sorted(by_cat.items()):
        print("  %-13s %-40s %d" % (suite, cat, n))
    for s in suites:
        print("%-13s %6d checks passed, %5d failed" % (s, report.count[s, "pass"], report.count[s, "fail"]))
    print("%d brine invocations, %.1f s" % (ck.brine.calls, time.time() - t0))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(run_with_big_stack(main))
