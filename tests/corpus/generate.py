#!/usr/bin/python3
"""Generate brine's CPython pickle corpus into tests/corpus/gen/.

Run:  PYTHONHASHSEED=0 /usr/bin/python3 tests/corpus/generate.py

Deterministic: the same interpreter (CPython 3.11) produces byte-identical files on every run
(sets of str/bytes are ordered by the hash seed, hence PYTHONHASHSEED=0; the script re-executes
itself with it if needed). Old *.pkl files in gen/ are removed first.

File names say what a file holds:
  p<N>_<what>.pkl   pickle.dumps(value, protocol=N) made by CPython's C pickler, N = 0..5
                    (p3_/p5_ only where they differ from p2_/p4_ beyond the PROTO byte)
  py2_<what>.pkl    Python-2-style pickles written byte by byte (STRING opcodes, __builtin__, ...)
  raw_<what>.pkl    other hand-written pickles (protocol-0 text oddities, memo indices, ...)
  deep_<what>.pkl   hand-written very deep nesting (deeper than CPython 3.11 can pickle)
  multi_<what>.pkl  several pickles (or trailing bytes) in one file
  bad_<what>.pkl    pickles CPython and/or pickletools reject

The checker (check.py) never stores expectations: it recomputes them with CPython at test time.
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import collections
import copyreg
import dataclasses
import datetime
import decimal
import enum
import io
import pickle
import random
import struct
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "gen")
PROTOCOLS = range(0, 6)

written = {}


def write(name, data):
    assert name not in written, name
    assert isinstance(data, bytes)
    written[name] = data


def dump_all(name, value, protocols=PROTOCOLS, pickler=None):
    """Pickle `value` at each protocol (skipping protocols where CPython refuses).

    A protocol 3 (5) pickle that is byte-identical to the protocol 2 (4) one apart from the
    PROTO byte is not written: it would only repeat the same opcodes."""
    made = {}
    for p in protocols:
        try:
            if pickler is None:
                data = pickle.dumps(value, protocol=p)
            else:
                f = io.BytesIO()
                pickler(f, p).dump(value)
                data = f.getvalue()
        except (pickle.PicklingError, TypeError, ValueError, AttributeError, RecursionError):
            continue
        made[p] = data
        if p in (3, 5) and p - 1 in made and made[p - 1][2:] == data[2:]:
            continue
        write("p%d_%s" % (p, name), data)


# ---------------------------------------------------------------------------------------------
# Classes and functions the pickles refer to (as __main__.<name>; the checker never imports them)


class Plain:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Empty:
    pass


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


class SlottedWithDict:
    __slots__ = ("a", "__dict__")

    def __init__(self):
        self.a = 1
        self.z = 2


@dataclasses.dataclass
class DC:
    x: int
    y: str = "why"
    z: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class FrozenDC:
    a: int
    b: tuple


Point = collections.namedtuple("Point", "x y")


class Color(enum.Enum):
    RED = 1
    GREEN = "g"
    BLUE = (3, 4)


class Num(enum.IntEnum):
    ONE = 1
    BIG = 2**40


class Perm(enum.IntFlag):
    R = 4
    W = 2
    X = 1


def make_custom(a, b):
    return Custom(a, b)


class Custom:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __reduce__(self):
        return (make_custom, (self.a, self.b))


class FullReduce:
    """__reduce__ with state, listitems and dictitems."""

    def __reduce__(self):
        return (FullReduce, (), {"s": 1}, iter([1, 2, 3]), iter([("k", "v"), ("k2", [1])]))


def set_state(obj, state):
    obj.__dict__.update(state)


class WithStateSetter:
    def __reduce__(self):
        return (WithStateSetter, (), {"a": 1}, None, None, set_state)


class Singleton:
    def __reduce__(self):
        return "SINGLETON"


SINGLETON = Singleton()


class KwNew:
    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, a, b=0):
        self.a, self.b = a, b

    def __getnewargs_ex__(self):
        return ((self.a,), {"b": self.b})


class ArgsNew:
    def __new__(cls, *args):
        return super().__new__(cls)

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __getnewargs__(self):
        return (self.a, self.b)


class MyDict(dict):
    pass


class MyList(list):
    pass


class MySet(set):
    pass


class MyInt(int):
    pass


class MyStr(str):
    pass


class MyError(Exception):
    pass


class Outer:
    class Inner:
        def __init__(self):
            self.v = 1


class Node:
    def __init__(self, nxt):
        self.next = nxt


def helper():
    return None


def default_factory():
    return 0


# ---------------------------------------------------------------------------------------------
# Builtin values

INT_EDGES = [0, 1, 2, 127, 128, 254, 255, 256, 257, 65534, 65535, 65536, 65537,
             -1, -2, -127, -128, -129, -255, -256, -257, -32768, -32769, -65535, -65536, -65537,
             2**31 - 2, 2**31 - 1, 2**31, 2**31 + 1, -2**31 + 1, -2**31, -2**31 - 1,
             2**32 - 1, 2**32, 2**32 + 1, 2**63 - 1, 2**63, 2**63 + 1, -2**63 + 1, -2**63, -2**63 - 1,
             2**64 - 1, 2**64, 10**20, -10**20, 2**127, -2**127, 2**128 - 1]
# two's complement byte-count edges of LONG1
for k in range(2, 10):
    INT_EDGES += [2**(8 * k - 1) - 1, 2**(8 * k - 1), -2**(8 * k - 1), -2**(8 * k - 1) - 1]

# LONG1 / LONG4 boundary: 255 bytes vs 256 bytes of two's complement
LONG4_EDGES = [2**2039 - 1, 2**2039, -2**2039, -2**2039 - 1, -2**2039 + 1, 2**2040, -2**2040]

rng = random.Random(20240101)


def random_doubles(n):
    out = []
    while len(out) < n:
        (d,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if d == d:
            out.append(d)
    return out


FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, -1.5, 0.1, 1 / 3, 2 / 3, 100.0, 123456789.125, 1e15, 1e16,
          1e17, 1e22, 1e23, 9007199254740993.0, 1e-4, 1e-5, 1.5e-5, 1e-7, 5e-324, 1e-323,
          2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
          float("inf"), float("-inf"), float("nan"), 3.141592653589793, 2.718281828459045,
          1.0000000000000002, 0.30000000000000004, 4.35, 0.001, 1e300, 12345678901234567.0]

COMPLEX = [1 + 2j, -1.5 - 0.5j, 1j, -1j, complex(0.0, -0.0), complex(-0.0, 0.0),
           complex(-0.0, -0.0), complex(float("inf"), float("nan")), complex(1e300, 1e-300),
           complex(float("-inf"), 0), 0j]

STR_QUOTES = ["'", '"', "'\"", "it's", 'say "hi"', "both ' and \"", "\\", "\\'", '\\"',
              "a\\nb", "back\\slash", "''", '""']
STR_CONTROL = [chr(c) for c in range(0, 0x21)] + [chr(c) for c in range(0x7F, 0xA1)] + \
              ["tab\there", "new\nline", "cr\rlf\n", "\x1a", "\x00\x00", "mixed\x00\t\x7f\x9f"]
STR_UNICODE = ["\u200b", "\u0085", "\ue000", "\U0010ffff", "\U0010fffe", "\uffff", "\ufffe",
               "\ufeff", "\u00a0", "\u00ad", "\u2028", "\u2029", "\u3000", "\u1680", "\u061c",
               "\U000e0001", "\U000e0100", "\u0378", "\U0001f600", "\U0001f468\u200d\U0001f469",
               "\U00020000", "\u4e16\u754c", "\u05e9\u05dc\u05d5\u05dd", "\u0627\u0644",
               "e\u0301", "\u0301", "a\u0300\u0301\u0302", "\u0e01\u0e49", "\U0001d400",
               # assigned in Unicode 15 (not in Python 3.11's 14.0 database: not printable)
               "\u0cf3", "\U0001f6dc", "\U0001fae8", "\U00031350", "\U00011f00",
               "caf\u00e9", "\u00ff", "\u0100", "\u07ff", "\u0800", "\U00010000"]
STR_SURROGATES = ["\ud800", "\udfff", "\udc80", "a\ud800b", "\ud83d\ude00", "\ude00\ud83d",
                  "\udbff\udfff", "x\udcffy\ud7ff\ue000"]


def printable_edges():
    edges = set()
    prev = None
    for cp in range(0x110000):
        p = chr(cp).isprintable()
        if p != prev:
            edges.add(cp)
            if cp:
                edges.add(cp - 1)
        prev = p
    return "".join(chr(c) for c in sorted(edges))


class Only:
    """A value pickled only at some protocols (to keep the corpus small)."""

    def __init__(self, value, protocols):
        self.value, self.protocols = value, protocols


def builtin_values():
    v = {}
    v["none"] = None
    v["true"] = True
    v["bools_none_list"] = [None, True, False, (None, True, False)]
    v["int_2pow31"] = 2**31
    v["int_10pow20"] = 10**20
    v["ints_opcode_edges"] = INT_EDGES
    v["ints_long1_long4_edges"] = LONG4_EDGES
    v["int_3000_digits"] = int("7" * 3000)
    v["int_neg_4300_digits"] = -int("9" * 4300)
    v["floats"] = FLOATS
    v["float_neg_zero"] = -0.0
    v["float_nan"] = float("nan")
    v["floats_random"] = random_doubles(60)
    v["complex"] = COMPLEX
    v["str_empty"] = ""
    v["str_short"] = ["x", "it's", 'say "hi"', "'\"", "\u00e9", "\U0001f600"]
    v["str_quotes"] = STR_QUOTES
    v["str_control_chars"] = STR_CONTROL
    v["str_unicode_edges"] = STR_UNICODE
    v["str_lone_surrogates"] = STR_SURROGATES
    v["str_len255_len256"] = ["a" * 255, "b" * 256, "\u00e9" * 127 + "a", "\u00e9" * 128]
    v["str_astral_and_combining"] = "\U0001f600\U0001f3fb e\u0301 \u0915\u094d\u0937 \U000e0041"
    v["bytes_empty"] = b""
    v["bytes_all_256"] = bytes(range(256))
    v["bytes_misc"] = [b"'", b'"', b"'\"", b"it's", b'"x"', b"\\", b"\x00\x7f\x80\xff",
                       b"x" * 255, b"y" * 256, b""]
    v["bytearrays"] = [bytearray(), bytearray(range(256)), bytearray(b"ab'c\x00")]
    v["tuples_len0_to_4"] = [tuple(range(1, n + 1)) for n in range(5)]
    v["tuple_len1"] = ("one",)
    v["tuple_len1000"] = tuple(range(1000))
    v["tuples_nested"] = ((), ((),), ((1,), (2, (3,))), ("a", ("b", ("c", ()))))
    v["lists_small"] = [[], [1], [1, "two", 3.0, None, [4], (5,)]]
    v["dicts_small"] = [{}, {"a": 1}, {"a": 1, 2: "b", (3, 4): [5], None: None, 1.5: {}, b"k": True, "": ""},
                        {"z": 1, "a": 2, "m": 3, 10: 4, -1: 5}]
    v["sets_small"] = [set(), {1}, frozenset(), frozenset({"x"})]
    for n in (1000, 1001, 2000):
        protos = PROTOCOLS if n != 2000 else (1, 4)
        v["list_%d" % n] = Only([i % 251 for i in range(n)], protos)
        v["dict_%d" % n] = Only({i: i % 7 for i in range(n)}, protos)
        v["set_%d" % n] = Only({(i * 7919) % 100003 for i in range(n)}, protos)
        v["frozenset_%d" % n] = Only(frozenset((i * 104729) % 65521 - 30000 for i in range(n)), protos)
    v["nested_mixed"] = {"list": [1, [2, [3, [4]]]], "tuple": (1, (2, {"x": {3}})),
                         "set": {frozenset({1, 2}), (1, 2)}, "deep": [[[[[[[]]]]]]]}
    return v


def set_values():
    v = {}
    v["set_ints"] = {5, 3, 1000, -1, -2, 2**61, 1, 2**61 - 1, 2**62, -2**61, 17, 33, 65}
    v["set_hash_collisions"] = {1, 2**61, 2**62 + 1, -1, -2, 2**61 + 1, 2}
    v["set_floats"] = {0.5, 1.5, -0.0, 2.25, 1e100, float("inf"), float("-inf"), 3.0, 1e-300}
    v["set_int_float_bool_dedup"] = {1, 2.0, 3, True, 0, False, 0.0}
    v["set_strs"] = {"a", "b", "c", "hello", "", "\u00e9", "\U0001f600", "longer string here"}
    v["set_bytes"] = {b"a", b"b", b"", b"\xff", b"hello"}
    v["set_tuples"] = {(1, 2), (2, 1), (), ("a",), (1, (2, 3)), (None,), (1.5, "x")}
    v["set_mixed"] = {1, "1", b"1", 1.5, (1,), frozenset({1}), 2**70, -3, "", (), True and 7}
    v["set_none_alone"] = {None}
    v["frozenset_strs"] = frozenset({"x", "y", "z", "alpha", "beta", "gamma", "delta"})
    v["frozenset_nested"] = frozenset({frozenset(), frozenset({1}), frozenset({frozenset({2})})})
    v["frozenset_mixed"] = frozenset({0, "0", 0.5, (0,), b"0", -1})
    v["set_strs_sizes_5_8_9_50"] = [{"s%d_%d" % (n, i) for i in range(n)} for n in (5, 8, 9, 50)]
    r = random.Random(7)
    v["set_random_strs_1001"] = {"".join(r.choice("abcdefghij") for _ in range(6)) for _ in range(1001)}
    v["set_of_sets_in_list"] = [{1, 2}, {"a"}, frozenset({3.5}), set(), frozenset()]
    return v


def library_values():
    utc = datetime.timezone.utc
    cet = datetime.timezone(datetime.timedelta(hours=1), "CET")
    v = {}
    v["ordereddict_items"] = collections.OrderedDict([("b", 1), ("a", 2), (3, [4])])
    v["ordereddicts_empty_nested"] = [collections.OrderedDict(), collections.OrderedDict(
        [("inner", collections.OrderedDict([("x", 1)])), ("empty", collections.OrderedDict())])]
    v["ordereddict_1001"] = Only(collections.OrderedDict((i, i % 3) for i in range(1001)), (1, 2, 4))
    v["defaultdict_list"] = collections.defaultdict(list, {"a": [1], "b": []})
    v["defaultdicts"] = [collections.defaultdict(int, {"x": 3}), collections.defaultdict(None, {}),
                         collections.defaultdict(None, {1: 2}),
                         collections.defaultdict(default_factory, {"k": 0})]
    v["counter_abracadabra"] = collections.Counter("abracadabra")
    v["counters"] = [collections.Counter(), collections.Counter({"x": 1, "y": 3, "z": 1, "w": -2, "v": 3}),
                     collections.Counter({"a": 0.5, "b": 2.5})]
    v["deque_items"] = collections.deque([1, "two", (3,)])
    v["deques"] = [collections.deque(), collections.deque(maxlen=5),
                   collections.deque([1, 2, 3, 4], maxlen=2), collections.deque(maxlen=0)]
    v["date"] = datetime.date(2024, 1, 2)
    v["dates_min_max"] = [datetime.date.min, datetime.date.max, datetime.date(2000, 2, 29)]
    v["times"] = [datetime.time(3, 4, 5, 6), datetime.time(), datetime.time(23, 59, 59, 999999),
                  datetime.time(12, tzinfo=utc), datetime.time(1, 2, tzinfo=cet), datetime.time(1, fold=1)]
    v["datetime_utc"] = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=utc)
    v["datetimes"] = [datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
                      datetime.datetime(2020, 6, 30, 12, 0, tzinfo=cet),
                      datetime.datetime(2021, 11, 7, 1, 30, fold=1),
                      datetime.datetime.min, datetime.datetime.max,
                           datetime.datetime(1999, 12, 31, 23, 59, 59),
                           datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(
                               datetime.timedelta(hours=-5, minutes=-30))),
                           datetime.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=utc, fold=1)]
    v["timedeltas"] = [datetime.timedelta(0), datetime.timedelta(-1), datetime.timedelta(microseconds=1),
                       datetime.timedelta(days=1, seconds=2, microseconds=3),
                       datetime.timedelta(days=-1, seconds=5), datetime.timedelta(seconds=-1),
                       datetime.timedelta.max, datetime.timedelta.min,
                       datetime.timedelta(weeks=1000, microseconds=-7)]
    v["timezones"] = [utc, cet, datetime.timezone(datetime.timedelta(0)),
                      datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                      datetime.timezone(datetime.timedelta(hours=-8), "PST"),
                      datetime.timezone.min, datetime.timezone.max,
                      datetime.timezone(datetime.timedelta(seconds=1, microseconds=5)),
                      datetime.timezone(datetime.timedelta(hours=2), "it's \"quoted\"")]
    v["decimals"] = [decimal.Decimal("1.50"), decimal.Decimal("NaN"), decimal.Decimal("-0"),
                     decimal.Decimal("1E+3"), decimal.Decimal("sNaN"), decimal.Decimal("-Infinity"),
                     decimal.Decimal("0E-1000"), decimal.Decimal("-NaN123"),
                     decimal.Decimal("3.14159265358979323846264338327950288419716939937510"),
                     decimal.Decimal(10) ** 30]
    v["decimal_one"] = decimal.Decimal("1.50")
    v["uuids"] = [uuid.UUID("12345678-1234-5678-1234-567812345678"),
                  uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    v["ranges"] = [range(10), range(0, 10, 2), range(-5), range(10, 0, -3), range(2**70),
                   range(-2**64, 2**64, 2**63), range(0)]
    v["exceptions"] = [ValueError(), ValueError("bad"), KeyError("k"), KeyError(),
                       Exception("a", 2, None), RuntimeError(("tuple",)), StopIteration(5),
                       UnicodeEncodeError("ascii", "x\u00e9", 1, 2, "ordinal not in range"),
                       UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
                       OSError(2, "No such file", "/tmp/x"), OSError("plain"), SystemExit(1),
                       ZeroDivisionError("division by zero"), Warning("w"),
                       ExceptionGroup("grp", [ValueError(1), TypeError(2)])]
    e = ValueError("with attrs")
    e.extra = [1, 2]
    e.add_note("a note")
    v["exception_with_state"] = e
    v["classes_and_functions"] = [int, str, list, dict, set, frozenset, tuple, bytes, bytearray,
                                  float, complex, bool, object, type, range, slice, ValueError,
                                  len, getattr, print, Ellipsis, NotImplemented,
                                  collections.OrderedDict, collections.Counter, collections.deque,
                                  collections.defaultdict, datetime.datetime, datetime.date,
                                  datetime.timedelta, datetime.timezone, datetime.time,
                                  decimal.Decimal, uuid.UUID]
    v["none_ellipsis_notimplemented_types"] = [type(None), type(Ellipsis), type(NotImplemented)]
    v["slices"] = [slice(1, 2, None), slice(None), slice("a", [1], (2,))]
    v["library_in_containers"] = {"when": datetime.date(2024, 5, 6),
                                  "d": collections.OrderedDict(a=collections.deque([1])),
                                  "amount": decimal.Decimal("9.99"), 7: range(3)}
    return v


def object_values():
    v = {}
    v["obj_plain"] = Plain(x=1, y="two", z=[3])
    v["obj_empty"] = Empty()
    v["obj_slots"] = Slotted(1, [2])
    v["obj_slots_and_dict"] = SlottedWithDict()
    v["obj_dataclass"] = DC(1, "a", [1, 2])
    v["obj_frozen_dataclass"] = FrozenDC(1, (2, 3))
    v["obj_namedtuple"] = Point(1, 2)
    v["obj_namedtuples"] = [Point("a", Point(1, 2)), Point(None, ())]
    v["obj_enum"] = [Color.RED, Color.GREEN, Color.BLUE]
    v["obj_intenum"] = [Num.ONE, Num.BIG]
    v["obj_intflag"] = [Perm.R | Perm.W, Perm.X, Perm(0)]
    v["obj_custom_reduce"] = Custom(1, "x")
    v["obj_full_reduce"] = FullReduce()
    v["obj_state_setter"] = WithStateSetter()
    v["obj_reduce_string"] = SINGLETON
    v["obj_getnewargs_ex"] = KwNew(1, b=2)
    v["obj_getnewargs"] = ArgsNew(1, (2,))
    d = MyDict(a=1, b=[2])
    d.extra = "x"
    v["obj_dict_subclass"] = d
    lst = MyList([1, 2, 3])
    lst.extra = {"e": 1}
    v["obj_list_subclass"] = lst
    v["obj_set_subclass"] = MySet([1, 2, 3])
    v["obj_int_subclass"] = MyInt(5)
    v["obj_str_subclass"] = MyStr("s")
    v["obj_user_exception"] = MyError("boom", 1)
    v["obj_nested_class"] = Outer.Inner()
    v["obj_functions"] = [helper, default_factory, Plain, Outer.Inner, Color, make_custom]
    v["obj_methods"] = [str.upper, collections.OrderedDict.fromkeys, dict.fromkeys]
    v["obj_in_containers"] = {"a": [Plain(v=1), Empty()], "t": (Point(0, 0),)}
    chain = None
    for _ in range(150):
        chain = Node(chain)
    v["obj_chain_150"] = chain
    return v


def shared_values():
    v = {}
    x = [1]
    v["shared_list_twice"] = [x, x]
    d = {"a": 1}
    v["shared_dict_two_places"] = {"p": d, "q": [d], "r": (d,)}
    s = "hello world, shared"
    v["shared_str_twice"] = [s, s, (s,)]
    b = b"shared bytes"
    v["shared_bytes_twice"] = [b, b]
    t = (1, [2])
    v["shared_tuple_with_list"] = [t, t]
    a, c = [], []
    v["shared_label_order"] = [a, c, c, a, [a]]
    v["shared_set"] = (lambda st: [st, {"k": st}])({1, 2})
    fs = frozenset({1, 2})
    v["shared_frozenset"] = [fs, fs]
    ba = bytearray(b"ba")
    v["shared_bytearray"] = [ba, ba]
    big = 10**30
    v["shared_bigint"] = [big, big]
    rec = []
    rec.append(rec)
    v["recursive_list"] = rec
    rec2 = [1]
    rec2.append([rec2, 2])
    v["recursive_list_indirect"] = rec2
    rd = {}
    rd["self"] = rd
    v["recursive_dict"] = rd
    rt = ([],)
    rt[0].append(rt)
    v["recursive_tuple_via_list"] = rt
    rt2 = ([], [])
    rt2[0].append(rt2)
    rt2[1].append(rt2)
    v["recursive_tuple_via_two_lists"] = rt2
    o = Plain()
    o.me = o
    v["recursive_object"] = o
    p, q = Plain(name="p"), Plain(name="q")
    p.other, q.other = q, p
    v["recursive_object_pair"] = [p, q]
    lo = Plain(items=[])
    lo.items.append(lo)
    v["recursive_object_via_list"] = lo
    ob = Plain(k=1)
    v["shared_object"] = [ob, ob, {"o": ob}]
    od = collections.OrderedDict()
    od["self"] = od
    v["recursive_ordereddict"] = od
    dq = collections.deque()
    dq.append(dq)
    v["recursive_deque"] = dq
    dd = collections.defaultdict(list)
    dd["self"] = dd
    v["recursive_defaultdict"] = dd
    od2 = collections.OrderedDict(a=1)
    v["shared_ordereddict"] = [od2, od2]
    e = ValueError("shared")
    v["shared_exception"] = [e, e]
    dt = datetime.datetime(2024, 1, 1)
    v["shared_datetime"] = [dt, dt]
    dec = decimal.Decimal("1.1")
    v["shared_decimal"] = [dec, dec]
    many = [1, 2, 3]
    v["shared_list_100_refs"] = [many] * 100
    dl = DC(1)
    dl.z.append(dl)
    v["recursive_dataclass"] = dl
    ml = MyList()
    ml.append(ml)
    v["recursive_list_subclass"] = ml
    return v


# ---------------------------------------------------------------------------------------------
# Persistent ids


class PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Plain) and hasattr(obj, "pid"):
            return obj.pid
        return None


def persistent_values():
    out = []
    out.append(("pid_str", [Plain(pid="tag123"), 1], PROTOCOLS))
    out.append(("pid_tuple", {"w": Plain(pid=("storage", "key", 3)), "n": 2}, range(1, 6)))
    out.append(("pid_int_twice", (Plain(pid=7), Plain(pid=7)), range(1, 6)))
    return out


# ---------------------------------------------------------------------------------------------
# Hand-written pickles


def hand_written():
    w = {}
    # ---- Python 2 style ----
    w["py2_p0_str_ascii"] = b"S'hello'\np0\n."
    w["py2_p0_str_nonascii_escaped"] = b"S'caf\\xc3\\xa9'\np0\n."
    w["py2_p0_str_quote_escapes"] = b"(lp0\nS'it\\'s'\np1\naS\"dq \\\"x\\\"\"\np2\naS'a\\x00\\n\\t\\\\b'\np3\na."
    w["py2_p0_str_double_quoted"] = b'S"it\'s"\n.'
    w["py2_p1_binstring_nonascii"] = b"T\x05\x00\x00\x00caf\xc3\xa9q\x00."
    w["py2_p1_short_binstring_nonascii"] = b"U\x04caf\xe9q\x00."
    w["py2_p2_short_binstring_bytes_all"] = b"\x80\x02U\xff" + bytes(range(1, 256)) + b"q\x00."
    w["py2_p2_dict_str_keys"] = (b"\x80\x02}q\x00(U\x01aq\x01K\x01U\x03\xe9t\xe9q\x02K\x02U\x00q\x03"
                                 b"X\x02\x00\x00\x00\xc3\xa9q\x04u.")
    w["py2_p0_unicode_escapes"] = b"V\\u00e9\\U0001f600caf\xe9 \\u20ac\np0\n."
    w["py2_p0_unicode_backslash"] = b"(lp0\nVa\\u005cb\np1\naV\\u000a\\u000d\np2\na."
    w["py2_p2_binunicode"] = b"\x80\x02X\x05\x00\x00\x00caf\xc3\xa9q\x00."
    w["py2_p0_builtin_set"] = b"c__builtin__\nset\np0\n((lp1\nI1\naI2\naI3\natp2\nRp3\n."
    w["py2_p2_builtin_set_frozenset"] = (b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03"
                                         b"c__builtin__\nfrozenset\nq\x04]q\x05U\x01aq\x06a\x85q\x07Rq\x08\x86q\t.")
    w["py2_p2_xrange"] = b"\x80\x02c__builtin__\nxrange\nq\x00K\x00K\nK\x02\x87q\x01Rq\x02."
    w["py2_p0_unicode_long_int_globals"] = (b"(lp0\nc__builtin__\nunicode\np1\nac__builtin__\nlong\np2\n"
                                            b"ac__builtin__\nobject\np3\nac__builtin__\nreduce\np4\n"
                                            b"acexceptions\nValueError\np5\nacUserDict\nUserDict\np6\na"
                                            b"citertools\nizip\np7\na.")
    w["py2_p0_codecs_encode_latin1"] = b"c_codecs\nencode\np0\n(Vab\xe9\\u00ff\np1\nVlatin1\np2\ntp3\nRp4\n."
    w["py2_p2_codecs_encode_variants"] = (b"\x80\x02(c_codecs\nencode\nq\x00X\x03\x00\x00\x00\xc3\xa9\x00q\x01"
                                          b"X\x05\x00\x00\x00utf-8q\x02\x86q\x03Rq\x04h\x00X\x02\x00\x00\x00abq\x05"
                                          b"X\x05\x00\x00\x00asciiq\x06\x86q\x07Rq\x08h\x00X\x01\x00\x00\x00xq\t\x85q\n"
                                          b"Rq\x0bt.")
    w["py2_p0_inst_old_style"] = b"(i__main__\nOld\np0\n(dp1\nS'x'\np2\nI1\nsS'y'\np3\n(lp4\nI2\nasb."
    w["py2_p0_inst_with_args"] = b"(I1\nS'two'\np0\ni__main__\nOldArgs\np1\n."
    w["py2_p1_obj_old_style"] = b"(c__main__\nOld\nq\x00o}q\x01U\x01xK\x01sb."
    w["py2_p1_obj_with_args"] = b"(c__main__\nOld\nq\x00K\x01K\x02oq\x01."
    w["py2_p0_copy_reg_reconstructor"] = (b"ccopy_reg\n_reconstructor\np0\n(c__main__\nNewStyle\np1\n"
                                          b"c__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'a'\np6\nI1\nsb.")
    w["py2_p2_newobj"] = b"\x80\x02c__main__\nNewStyle\nq\x00)\x81q\x01}q\x02U\x01aK\x01sb."
    w["py2_p0_ordereddict"] = (b"ccollections\nOrderedDict\np0\n((lp1\n(lp2\nS'a'\np3\naI1\naa(lp4\nS'b'\np5\n"
                               b"aI2\naatp6\nRp7\n.")
    w["py2_p2_ordereddict"] = (b"\x80\x02ccollections\nOrderedDict\nq\x00]q\x01(]q\x02(U\x01bq\x03K\x01e]q\x04"
                               b"(U\x01aq\x05K\x02ee\x85q\x06Rq\x07.")
    w["py2_p2_defaultdict"] = (b"\x80\x02ccollections\ndefaultdict\nq\x00c__builtin__\nlist\nq\x01\x85q\x02Rq\x03"
                               b"U\x01kq\x04]q\x05K\x01as.")
    w["py2_p0_datetime_latin1_state"] = (b"cdatetime\ndatetime\np0\n(S'\\x07\\xe8\\x01\\x02\\x03\\x04\\x05\\x00\\x00\\x06'\n"
                                         b"p1\ntp2\nRp3\n.")
    w["py2_p2_datetime_latin1_state"] = (b"\x80\x02cdatetime\ndatetime\nq\x00U\n\x07\xe8\x01\x02\x03\x04\x05\x00\x00\x06"
                                         b"q\x01\x85q\x02Rq\x03.")
    w["py2_p2_date_ascii_state"] = b"\x80\x02cdatetime\ndate\nq\x00U\x04\x00d\x0c\x1fq\x01\x85q\x02Rq\x03."
    w["py2_p2_date_nonascii_state"] = b"\x80\x02cdatetime\ndate\nq\x00U\x04\x07\xe8\x01\x02q\x01\x85q\x02Rq\x03."
    w["py2_p2_time_state"] = b"\x80\x02cdatetime\ntime\nq\x00U\x06\x03\x04\x05\x00\x00\x06q\x01\x85q\x02Rq\x03."
    w["py2_p2_timedelta"] = b"\x80\x02cdatetime\ntimedelta\nq\x00K\x01K\x02K\x03\x87q\x01Rq\x02."
    w["py2_p0_decimal"] = b"cdecimal\nDecimal\np0\n(S'1.50'\np1\ntp2\nRp3\n."
    w["py2_p0_exception"] = b"cexceptions\nValueError\np0\n(S'bad'\np1\ntp2\nRp3\n."
    w["py2_p0_long"] = b"(lp0\nL12345678901234567890L\naL-5L\naL0L\na."
    w["py2_p2_long1"] = b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00\x8a\x01\xff\x8a\x00\x87q\x00."
    w["py2_p0_bools"] = b"(I01\nI00\ntp0\n."
    w["py2_p2_mixed_dict"] = (b"\x80\x02}q\x00(U\x03strq\x01U\x05bytesq\x02X\x03\x00\x00\x00uniq\x03X\x03"
                              b"\x00\x00\x00\xe2\x82\xacq\x04U\x04listq\x05]q\x06(K\x01G?\xf8\x00\x00\x00\x00"
                              b"\x00\x00\x88\x89NeU\x04longq\x07\x8a\x05\x00\x00\x00\x00\x01u.")
    # ---- protocol-0 text oddities ----
    w["raw_int_I01_I00"] = b"(I01\nI00\nI1\nI0\nt."
    w["raw_int_hex_I0x10"] = b"I0x10\n."
    w["raw_int_octal_I010"] = b"I010\n."
    w["raw_int_leading_space"] = b"I 5\n."
    w["raw_int_trailing_space"] = b"I5 \n."
    w["raw_int_plus_sign"] = b"I+7\n."
    w["raw_int_underscore"] = b"I1_000\n."
    w["raw_int_overflow_to_long"] = b"I99999999999999999999999\n."
    w["raw_int_negative_zero"] = b"I-0\n."
    # load_int: a 2-character argument whose value is 0 or 1 is a bool, whatever its spelling
    w["raw_int_bool_quirks"] = b"(I-0\nI+1\nI 1\nI00\nI01\nI0\nI1\nI-1\nI001\nt."
    w["raw_long_with_L"] = b"L123L\n."
    w["raw_long_without_L"] = b"L123\n."
    w["raw_long_negative_hex"] = b"L-0x10L\n."
    w["raw_long_huge_text"] = b"L" + b"9" * 4300 + b"L\n."
    w["raw_float_inf_nan"] = b"(Finf\nF-inf\nFnan\nF-nan\nFInfinity\nt."
    w["raw_float_forms"] = b"(F1e16\nF1E-5\nF.5\nF5.\nF-0.0\nF007.50\nF1e-320\nt."
    w["raw_float_underscore"] = b"F1_0.5\n."
    w["raw_float_hex"] = b"F0x1p3\n."
    w["raw_float_leading_space"] = b"F 1.5\n."
    w["raw_float_overflow"] = b"F1e500\n."
    w["raw_put_get_big_index"] = b"((lp100000\ng100000\nt."
    w["raw_put_get_leading_zeros"] = b"((lp007\ng7\nt."
    w["raw_binput_255_long_binput"] = b"(]q\xffh\xff]r\x00\x01\x00\x00j\x00\x01\x00\x00]r\x70\x11\x01\x00j\x70\x11\x01\x00t."
    w["raw_memoize_after_sparse_put"] = b"\x80\x04(]r\x10'\x00\x00]\x94j\x10'\x00\x00h\x01t."
    w["raw_put_overwrite"] = b"((lp0\n(dp0\ng0\nt."
    w["raw_dup_pop_popmark"] = b"(K\x012K\x020(K\x03K\x041t."
    w["raw_proto_in_middle"] = b"(K\x01\x80\x02\x88\x80\x04\x8c\x01xt."
    w["raw_stop_with_extra_stack"] = b"NN."
    w["raw_stop_with_mark_open"] = b"(N."
    w["raw_dict_duplicate_keys"] = b"\x80\x02}(K\x01U\x01aG?\xf0\x00\x00\x00\x00\x00\x00U\x01b\x88U\x01cu."
    w["raw_set_duplicate_elements"] = b"\x80\x04\x8f(K\x01G?\xf0\x00\x00\x00\x00\x00\x00\x88K\x00\x89G\x00\x00\x00\x00\x00\x00\x00\x00\x90."
    w["raw_frozenset_duplicates"] = b"\x80\x04(\x8c\x01a\x8c\x01a\x8c\x01b\x91."
    w["raw_dict_setitem_on_list"] = b"\x80\x02](K\x01K\x02eK\x00U\x01xs."
    w["raw_additems_on_set_twice"] = b"\x80\x04\x8f(K\x01K\x02\x90(K\x02K\x03\x90."
    w["raw_appends_empty_mark"] = b"](e(K\x01e."
    w["raw_setitems_empty_mark"] = b"}(u."
    w["raw_empty_frame"] = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00N."
    w["raw_two_frames"] = b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00](\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01e."
    w["raw_binbytes8_bytearray8_unicode8"] = (b"\x80\x05(\x8e\x02\x00\x00\x00\x00\x00\x00\x00ab\x96\x01\x00\x00"
                                              b"\x00\x00\x00\x00\x00c\x8d\x02\x00\x00\x00\x00\x00\x00\x00\xc3\xa9t.")
    w["raw_stack_global_dotted"] = b"\x80\x04\x8c\x08builtins\x8c\tstr.upper\x93."
    w["raw_global_unknown_module"] = b"\x80\x02cno.such.module\nThing\nq\x00)\x81q\x01}q\x02U\x01aK\x01sb."
    w["raw_build_twice"] = b"\x80\x02c__main__\nX\n)\x81}U\x01aK\x01sb}U\x01bK\x02sb."
    w["raw_reduce_result_as_callable"] = b"\x80\x02c__main__\nfactory\nK\x01\x85R)R."
    w["raw_newobj_ex_empty_kwargs"] = b"\x80\x04\x8c\x08__main__\x8c\x01C\x93)}\x92."
    w["raw_newobj_ex_kwargs"] = b"\x80\x04\x8c\x08__main__\x8c\x01C\x93K\x01\x85}\x8c\x01kK\x02s\x92."
    w["raw_copyreg_newobj_reduce"] = b"\x80\x02ccopyreg\n__newobj__\nc__main__\nC\nK\x01\x86R."
    w["raw_items_and_state_on_object"] = b"\x80\x02c__main__\nC\n)\x81(K\x01K\x02e(U\x01kK\x03u}U\x01sK\x04sb."
    w["raw_builtin_reduce_folds"] = (b"\x80\x02(c__builtin__\nint\n)Rc__builtin__\nfloat\n)Rc__builtin__\nstr\n)R"
                                     b"c__builtin__\nlist\n)Rc__builtin__\ndict\n)Rc__builtin__\ntuple\n)R"
                                     b"c__builtin__\nbytearray\n)Rc__builtin__\nfrozenset\n)Rc__builtin__\nbool\n)Rt.")
    w["raw_builtin_newobj_folds"] = (b"\x80\x02(cbuiltins\nlist\n)\x81cbuiltins\ndict\n)\x81cbuiltins\nset\n)\x81"
                                     b"cbuiltins\nint\n)\x81t.")
    w["raw_ellipsis_notimplemented"] = b"\x80\x04(\x8c\x08builtins\x8c\x08Ellipsis\x93\x8c\x08builtins\x8c\x0eNotImplemented\x93t."
    w["raw_persid_proto0"] = b"(Pabc\nPfile:1\nt."
    w["raw_binpersid_list"] = b"\x80\x02]q\x00(K\x01K\x02eQ."
    # ---- invalid (CPython and/or pickletools reject them) ----
    w["bad_truncated_list"] = b"\x80\x02](K\x01K\x02"
    w["bad_truncated_binunicode"] = b"\x80\x03X\x10\x00\x00\x00abc"
    w["bad_unknown_opcode_midway"] = b"\x80\x02](K\x01K\x02\xffK\x03e."
    w["bad_empty_file"] = b""
    w["bad_no_stop"] = b"\x80\x02N"
    w["bad_get_missing_memo"] = b"\x80\x02]h\x05."
    w["bad_stack_underflow"] = b"\x80\x02a."
    w["bad_mark_not_found"] = b"\x80\x02K\x01t."
    w["bad_proto_6"] = b"\x80\x06N."
    w["bad_dict_odd_items"] = b"(K\x01d."
    w["bad_unhashable_key"] = b"\x80\x02}]K\x01s."
    w["bad_string_not_quoted"] = b"Sabc\n."
    w["bad_string_mismatched_quotes"] = b"S'abc\"\n."
    w["bad_out_of_band_buffer"] = b"\x80\x05\x97."
    w["bad_ext1_unregistered"] = b"\x80\x02\x82\x01."
    w["bad_long4_negative_count"] = b"\x80\x02\x8b\xff\xff\xff\xff."
    w["bad_int_text_garbage"] = b"Iabc\n."
    w["bad_negative_put"] = b"Np-1\n."
    w["bad_stack_global_non_str"] = b"\x80\x04K\x01K\x02\x93."
    w["bad_newobj_not_a_type"] = b"\x80\x02K\x01)\x81."
    w["bad_build_on_int"] = b"\x80\x02K\x01}b."
    w["bad_append_on_int"] = b"\x80\x02K\x01K\x02a."
    w["bad_frame_too_long"] = b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N."
    return w


def deep_pickles():
    w = {}
    for n in (2000, 10000):
        w["deep_p2_list_%d" % n] = b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b"."
    w["deep_p0_list_2000"] = b"(l" * 2000 + b"a" * 1999 + b"."
    w["deep_p2_dict_2000"] = b"\x80\x02" + b"}K\x00" * 2000 + b"N" + b"s" * 2000 + b"."
    w["deep_p2_tuple_2000"] = b"\x80\x02)" + b"\x85" * 2000 + b"."
    w["deep_p0_tuple_100"] = b"(" * 100 + b"(t" + b"t" * 100 + b"."
    # list -> dict -> tuple -> list -> ...  (2000 levels of each kind, ~6000 total)
    w["deep_p4_mixed_2000"] = (b"\x80\x04" + (b"]}\x8c\x01k" * 2000) + b"N" + (b"\x85sa" * 2000) + b".")
    # an object chain: __main__.Node(state={'next': __main__.Node(...)}) 2000 deep
    w["deep_p2_object_chain_2000"] = (b"\x80\x02c__main__\nNode\nq\x00" + b"0" +
                                      (b"h\x00)\x81}U\x04next" * 2000) + b"N" + (b"sb" * 2000) + b".")
    # shared list referenced from 2000 nesting levels
    w["deep_p2_list_with_shared_leaf"] = (b"\x80\x02]q\x00K\x07a0" + (b"]h\x00a" * 2000) + b"N" + (b"a" * 2000) + b".")
    return w


def multi_pickles():
    w = {}
    w["multi_two_pickles"] = pickle.dumps([1, 2], 2) + pickle.dumps({"a": 1}, 4)
    w["multi_three_protocols"] = pickle.dumps("first", 0) + pickle.dumps("second", 3) + pickle.dumps(3, 5)
    w["multi_trailing_garbage"] = pickle.dumps((1, "x"), 4) + b"\xff\xfe garbage"
    w["multi_first_is_bad_string"] = b"S'caf\xe9'\n." + pickle.dumps(1, 2)
    return w


def main():
    os.makedirs(OUT, exist_ok=True)
    for table in (builtin_values(), set_values(), library_values(), object_values(), shared_values()):
        for name, value in table.items():
            if isinstance(value, Only):
                dump_all(name, value.value, value.protocols)
            else:
                dump_all(name, value)
    # deep structures CPython itself can still pickle (3.11: about recursionlimit/2 levels)
    deep = []
    for _ in range(400):
        deep = [deep]
    dump_all("nested_list_400", deep)
    deep = {}
    for _ in range(300):
        deep = {"k": deep}
    dump_all("nested_dict_300", deep)
    # bigger payloads only where they matter (framing: >= 64 KiB is written unframed)
    for p in (3, 4, 5):
        write("p%d_str_66000_chars" % p, pickle.dumps("\u00e9" + "s" * 65999, p))
        write("p%d_bytes_70000" % p, pickle.dumps(b"\x00" + b"b" * 69999, p))
    write("p5_bytearray_70000", pickle.dumps(bytearray(b"c" * 70000), 5))
    write("p4_list_of_strs_frames", pickle.dumps(["item%05d" % i for i in range(9000)], 4))
    for p in (0, 3, 4):
        write("p%d_str_printable_edges" % p, pickle.dumps(printable_edges(), p))
    # ints CPython refuses to convert to/from text (more than 4300 digits)
    huge = 10**4300 + 12345
    for p in (2, 4):
        write("p%d_int_4301_digits" % p, pickle.dumps(huge, p))
        write("p%d_int_neg_10000_digits" % p, pickle.dumps(-(7 * 10**9999 + 1), p))
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    write("p0_int_4301_digits_text_rejected", pickle.dumps(huge, 0))
    sys.set_int_max_str_digits(old)
    for name, value, protos in persistent_values():
        dump_all(name, value, protos, pickler=PidPickler)
    for table in (hand_written(), deep_pickles(), multi_pickles()):
        for name, data in table.items():
            write(name, data)

    for f in os.listdir(OUT):
        if f.endswith(".pkl"):
            os.remove(os.path.join(OUT, f))
    total = 0
    for name in sorted(written):
        with open(os.path.join(OUT, name + ".pkl"), "wb") as fh:
            fh.write(written[name])
        total += len(written[name])
    print("wrote %d files, %d bytes, into %s" % (len(written), total, OUT))


if __name__ == "__main__":
    main()
