"""Classes for tests/corpus/roundtrip.py, importable by the pickles it makes and checks.

Two parts:
  - classes and values of the extra round-trip cases (`extra_values()`), pickled by CPython
    under the name `roundtrip_classes.<qualname>`;
  - `install_main_names()`: real stand-ins for the `__main__.<name>` globals of the committed
    corpus (tests/corpus/gen/), so CPython can load those pickles with real classes. The classes
    of generate.py itself are taken from generate.py; the names only its hand-written pickles
    use (Old, OldArgs, NewStyle, X, C, factory, no.such.module.Thing) are defined here.

Nothing here is needed by brine: brine never imports anything a pickle names.
"""
import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import sys
import types
import uuid


# ---------------------------------------------------------------------------------------------
# Persistent IDs: what pickle.loads(persistent_load=...) gives, and what the Pickler writes back.


class PidRef:
    """A persistent ID read from a pickle (the checker's persistent_load returns one)."""
    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid

    def __repr__(self):
        return "PidRef(%r)" % (self.pid,)


# ---------------------------------------------------------------------------------------------
# Classes of the extra cases


class Plain:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Empty:
    pass


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a=None, b=None):
        self.a = a
        self.b = b


class SlottedChild(Slotted):
    __slots__ = ("c", "__secret")

    def __init__(self):
        super().__init__(1, [2])
        self.c = "c"
        self.__secret = 3


class SlottedPartial:
    __slots__ = ("set_", "unset")

    def __init__(self):
        self.set_ = 1


class SlottedWithDict:
    __slots__ = ("a", "__dict__")

    def __init__(self):
        self.a = 1
        self.z = {"k": [1]}


@dataclasses.dataclass
class DC:
    x: int
    y: str = "why"
    z: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class FrozenDC:
    a: int
    b: tuple


@dataclasses.dataclass(slots=True)
class SlotsDC:
    p: float
    q: object = None


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


class Shape(enum.Flag):
    ROUND = enum.auto()
    SQUARE = enum.auto()


class WithGetState:
    """__getstate__/__setstate__ with a non-dict state."""

    def __init__(self, a=0, b=0):
        self.a, self.b = a, b

    def __getstate__(self):
        return (self.a, self.b)

    def __setstate__(self, st):
        self.a, self.b = st


class FalseState:
    """A falsy state: CPython writes no BUILD at all."""

    def __getstate__(self):
        return {}


class NoneStateWithSlots:
    __slots__ = ()


def make_custom(a, b):
    return Custom(a, b)


class Custom:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __reduce__(self):
        return (make_custom, (self.a, self.b))


class ReduceWithItems(list):
    """A list subclass with attributes: __reduce_ex__ gives listitems and a state."""


class DictWithAttrs(dict):
    pass


class SetSub(set):
    pass


class IntSub(int):
    pass


class StrSub(str):
    pass


class BytesSub(bytes):
    pass


class TupleSub(tuple):
    pass


class FloatSub(float):
    pass


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


class Outer:
    class Inner:
        def __init__(self):
            self.v = 1


class AppError(Exception):
    pass


class Node:
    def __init__(self, nxt=None):
        self.next = nxt


def module_function():
    return None


# ---------------------------------------------------------------------------------------------
# The extra cases


def _shared_builtin_values():
    v = {}
    s = "a shared string"
    b = b"shared bytes"
    t = (1, "t")
    lst = [1, 2]
    v["b_shared_str_bytes_tuple_list"] = [s, b, t, lst, s, b, t, lst, {"s": s, "t": t}, (lst, s)]
    key = "key"
    v["b_shared_keys_across_dicts"] = [{key: 1, "other": 2}, {key: 3}, {(key,): key}]
    fs = frozenset({1, 2})
    v["b_shared_frozenset_in_set"] = [{fs, (fs,)}, fs, [fs]]
    rec = {"list": []}
    rec["list"].append(rec)
    rec["self"] = rec
    v["b_recursive_dict_list"] = rec
    t2 = ([],)
    t2[0].append(t2)
    v["b_recursive_tuple_in_dict"] = {"t": t2, "again": t2}
    nested_set = {(1, (2, 3)), (4,), ()}
    v["b_set_in_list_shared"] = [nested_set, nested_set, frozenset(nested_set)]
    v["b_one_char_strings"] = ["a", "a", "\u00e9", "\u00e9", "\u0100", "\u0100", "", "", "ab", "ab"]
    v["b_small_bytes"] = [b"", b"", b"x", b"x", b"xy"]
    v["b_empty_containers"] = [(), (), [], [], {}, {}, set(), set(), frozenset(), frozenset(),
                               bytearray(), bytearray(), "", b""]
    v["b_floats_and_ints_repeated"] = [1.5, 1.5, 10**30, 10**30, -1, -1, 2**31, 2**31]
    return v


def _set_values():
    v = {}
    v["b_set_strs_seeded"] = {"w%d" % i for i in range(40)}
    v["b_set_bytes_seeded"] = {b"k%d" % i for i in range(40)}
    v["b_frozenset_strs_seeded"] = frozenset({"alpha", "beta", "gamma", "\u00e9t\u00e9", "\U0001f600"})
    v["b_dict_of_sets"] = {"s%d" % n: {"e%d" % i for i in range(n)} for n in (0, 1, 4, 5, 9, 33)}
    v["b_set_mixed_hashes"] = {1, -1, -2, 2**61 - 1, 2**61, 1.5, float("inf"), "x", b"x", (1, "x"),
                               None, True and 3, frozenset({"q"})}
    v["b_set_1001_and_1002"] = [set(range(1001)), frozenset(range(1002))]
    return v


def _size_values():
    v = {}
    v["b_list_999_1000_1001"] = [list(range(999)), list(range(1000)), list(range(1001))]
    v["b_dict_1000_1001"] = [{i: str(i) for i in range(1000)}, {str(i): i for i in range(1001)}]
    v["b_tuple_sizes"] = [tuple(range(n)) for n in (0, 1, 2, 3, 4, 5, 1000)]
    # payloads around the 64 KiB frame target
    v["b_frames_strings"] = ["x" * n for n in (1, 255, 256, 65535, 65536, 65537, 70000)]
    v["b_frames_bytes"] = [b"y" * n for n in (255, 256, 65535, 65536, 65537)]
    v["b_frames_bytearray"] = [bytearray(b"z" * 70000), bytearray(b"w")]
    v["b_many_small_strings"] = ["item-%05d" % i for i in range(12000)]
    v["b_int_edges"] = [0, 255, 256, 65535, 65536, -1, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**63,
                        -2**63 - 1, 2**64, 10**100, -10**100, 2**2040, -2**2040 - 1]
    v["b_floats"] = [0.0, -0.0, 1e-310, 1e308, float("inf"), float("-inf"), 0.1, 1 / 3]
    v["b_complex"] = [1j, complex(-0.0, 0.0), complex(1.5, -2.5)]
    v["b_str_non_ascii_and_escapes"] = ["\\", "\n", "\r\n", "\x00", "\u20ac", "\U0001f600",
                                        "\ud800", "back\\slash u\\u0041", "\x7f\x80\xff", "\u0100"]
    v["b_bytes_all"] = [bytes(range(256)), bytes(range(255, -1, -1)), b"\x80", b"\xff" * 3]
    deep = []
    for i in range(300):
        deep = [deep, {"k": (i,)}] if i % 2 else {"d": deep}
    v["b_deep_mixed_300"] = deep
    return v


def _object_values():
    utc = datetime.timezone.utc
    v = {}
    v["o_plain"] = Plain(x=1, y="two", z=[3], w={"n": None})
    v["o_empty"] = Empty()
    v["o_slots"] = Slotted(1, [2])
    v["o_slots_child"] = SlottedChild()
    v["o_slots_partial"] = SlottedPartial()
    v["o_slots_and_dict"] = SlottedWithDict()
    v["o_dataclass"] = DC(1, "a", [1, 2])
    v["o_frozen_dataclass"] = FrozenDC(1, (2, 3))
    v["o_slots_dataclass"] = SlotsDC(1.5, [SlotsDC(2.5)])
    v["o_namedtuple"] = [Point(1, 2), Point("a", Point(None, ()))]
    v["o_enums"] = [Color.RED, Color.GREEN, Color.BLUE, Num.ONE, Num.BIG, Perm.R | Perm.W,
                    Perm(0), Shape.ROUND | Shape.SQUARE, Shape.ROUND]
    v["o_getstate_tuple"] = WithGetState(1, [2])
    v["o_false_state"] = FalseState()
    v["o_none_state_slots"] = NoneStateWithSlots()
    v["o_custom_reduce"] = [Custom(1, "x"), Custom(2, None)]
    rl = ReduceWithItems([1, 2, 3])
    rl.attr = "x"
    v["o_list_subclass"] = rl
    dw = DictWithAttrs(a=1, b=[2])
    dw.extra = "x"
    v["o_dict_subclass"] = dw
    v["o_builtin_subclasses"] = [SetSub({1, 2}), IntSub(5), StrSub("s"), BytesSub(b"b"),
                                 TupleSub((1, 2)), FloatSub(2.5)]
    v["o_getnewargs_ex"] = KwNew(1, b=2)
    v["o_getnewargs"] = ArgsNew(1, (2,))
    v["o_nested_class"] = Outer.Inner()
    v["o_globals"] = [Plain, Outer.Inner, module_function, Color, len, collections.OrderedDict,
                      datetime.datetime, int, type(None)]
    v["o_exceptions"] = [ValueError("bad"), KeyError("k"), AppError("boom", 1),
                         OSError(2, "No such file", "/x")]
    p = Plain(name="p")
    q = Plain(name="q", other=p)
    p.other = q
    v["o_cycle_pair"] = [p, q]
    sh = Plain(k=1)
    v["o_shared"] = [sh, sh, {"o": sh}, (sh,)]
    o = Plain()
    o.me = o
    o.lst = [o]
    v["o_self_ref"] = o
    chain = None
    for _ in range(100):
        chain = Node(chain)
    v["o_chain_100"] = chain
    # library types
    v["l_ordereddict"] = collections.OrderedDict([("b", 1), ("a", [2]), (3, collections.OrderedDict())])
    od = collections.OrderedDict(a=1)
    od["self"] = od
    v["l_ordereddict_recursive"] = od
    v["l_defaultdicts"] = [collections.defaultdict(list, {"a": [1]}), collections.defaultdict(int),
                           collections.defaultdict(None, {1: 2}),
                           collections.defaultdict(module_function, {"k": 0})]
    v["l_counter"] = collections.Counter("abracadabra")
    v["l_deques"] = [collections.deque([1, "two", (3,)]), collections.deque(maxlen=3),
                     collections.deque([1, 2, 3], maxlen=2)]
    v["l_datetimes"] = [datetime.date(2024, 1, 2), datetime.time(3, 4, 5, 6),
                        datetime.time(12, tzinfo=utc), datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=utc),
                        datetime.datetime(2021, 11, 7, 1, 30, fold=1),
                        datetime.datetime(2020, 6, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1), "CET")),
                        datetime.timedelta(days=-1, seconds=5, microseconds=7),
                        datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))]
    dt = datetime.datetime(2024, 5, 6, 7, 8, 9)
    v["l_datetime_shared"] = [dt, dt]
    v["l_decimals"] = [decimal.Decimal("1.50"), decimal.Decimal("-0"), decimal.Decimal("NaN"),
                       decimal.Decimal("sNaN"), decimal.Decimal("-Infinity"), decimal.Decimal("1E+30")]
    v["l_uuid"] = [uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.UUID(int=0)]
    v["l_range_slice"] = [range(10), range(0, 10, 3), range(2**70), slice(1, None, -1), slice("a", [1], None)]
    v["l_fraction"] = fractions.Fraction(3, 7)
    v["l_partial"] = functools.partial(make_custom, 1, b=2)
    v["l_mixed"] = {"when": datetime.date(2024, 5, 6), "d": collections.OrderedDict(a=collections.deque([1])),
                    "amount": decimal.Decimal("9.99"), 7: range(3), "obj": Plain(v=[Color.RED])}
    v["l_simple_namespace"] = types.SimpleNamespace(a=1, b=[2])
    return v


def extra_values():
    """name -> value. Names starting with "b_" hold builtin values only (byte-identity checked);
    "o_" / "l_" hold objects of other classes (checked by loading and comparing)."""
    v = {}
    for part in (_shared_builtin_values(), _set_values(), _size_values(), _object_values()):
        v.update(part)
    return v


def raw_pickles():
    """name -> hand-written pickle bytes, for object identities CPython's own pickler never
    writes: equal values as separate objects, which CPython's unpickler may or may not share
    (one-character latin-1 str and the empty str/bytes are singletons in CPython; longer
    strings, one-byte bytes, empty frozensets are not)."""
    w = {}
    w["raw_b_separate_one_char_strs"] = (b"\x80\x04](\x8c\x01a\x94\x8c\x01a\x94\x8c\x02\xc3\xa9\x94"
                                         b"\x8c\x02\xc3\xa9\x94\x8c\x02\xc4\x80\x94\x8c\x02\xc4\x80\x94e.")
    w["raw_b_separate_empty_strs_bytes"] = b"\x80\x04](\x8c\x00\x94\x8c\x00\x94C\x00\x94C\x00\x94e."
    w["raw_b_separate_one_byte_bytes"] = b"\x80\x03](C\x01xq\x00C\x01xq\x01e."
    w["raw_b_separate_equal_strs"] = b"\x80\x02](X\x02\x00\x00\x00abq\x00X\x02\x00\x00\x00abq\x01e."
    w["raw_b_separate_empty_frozensets"] = b"\x80\x04](\x28\x91\x94\x28\x91\x94e."
    w["raw_b_separate_empty_tuples"] = b"\x80\x02]())(t(te."
    w["raw_b_unmemoized_str_twice"] = b"\x80\x04](\x8c\x05hello\x8c\x05hellon."[:-2] + b"e."
    w["raw_b_p0_one_char_and_empty"] = b"(lp0\nVa\np1\naVa\np2\naV\np3\naV\np4\na."
    w["raw_b_py2_one_char_str"] = b"\x80\x02](U\x01aq\x00U\x01aq\x01U\x01\xe9q\x02U\x01\xe9q\x03e."
    w["raw_b_dict_separate_keys"] = (b"\x80\x04](}\x94\x8c\x03key\x94K\x01s}\x94\x8c\x03key\x94K\x02se.")
    return w


# Plain instances read from protocol 0/1 pickles (copyreg._reconstructor) and written at 2+ must
# use NEWOBJ + BUILD, as CPython does.
RECONSTRUCTOR_CASES = ("o_plain", "o_empty", "o_dataclass", "o_cycle_pair", "o_shared", "o_self_ref")


# ---------------------------------------------------------------------------------------------
# Stand-ins for the __main__ globals of the committed corpus


class Old:
    """py2 old-style class: INST/OBJ with and without arguments."""

    def __init__(self, *args):
        if args:
            self.args = args


class OldArgs(Old):
    pass


class NewStyle:
    pass


class X:
    pass


class C:
    """NEWOBJ/NEWOBJ_EX with arguments, APPENDS/SETITEMS and BUILD on one object."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        if args or kwargs:
            self.new_args = (args, kwargs)
        return self

    def append(self, x):
        self.__dict__.setdefault("list_items", []).append(x)

    def extend(self, xs):
        self.__dict__.setdefault("list_items", []).extend(xs)

    def __setitem__(self, k, x):
        self.__dict__.setdefault("dict_items", {})[k] = x


class Made:
    def __init__(self, n):
        self.n = n


def factory(n):
    return functools.partial(Made, n)


class Thing:
    pass


_MAIN_NAMES = {"Old": Old, "OldArgs": OldArgs, "NewStyle": NewStyle, "X": X, "C": C,
               "factory": factory, "Made": Made}


def install_main_names(main_module, generate_module):
    """Makes the `__main__.<name>` globals of tests/corpus/gen/ resolvable in this process:
    generate.py's classes and functions (re-labelled as __main__'s, so CPython writes the same
    names back), the hand-written pickles' names, and a module `no.such.module` with `Thing`.
    Returns the names that could not be installed because `main_module` already defines them."""
    clashes = []
    items = []
    for name, obj in vars(generate_module).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, (type, types.FunctionType)) and getattr(obj, "__module__", None) == generate_module.__name__:
            items.append((name, obj))
        elif name == "SINGLETON":
            items.append((name, obj))
    items += list(_MAIN_NAMES.items())
    for name, obj in items:
        existing = main_module.__dict__.get(name)
        if existing is not None and existing is not obj:
            clashes.append(name)
            continue
        _relabel(obj, main_module.__name__)
        setattr(main_module, name, obj)
    # no.such.module.Thing
    for mod in ("no", "no.such", "no.such.module"):
        if mod not in sys.modules:
            sys.modules[mod] = types.ModuleType(mod)
    sys.modules["no"].such = sys.modules["no.such"]
    sys.modules["no.such"].module = sys.modules["no.such.module"]
    Thing.__module__ = "no.such.module"
    sys.modules["no.such.module"].Thing = Thing
    return clashes


def _relabel(obj, module_name):
    if isinstance(obj, (type, types.FunctionType)):
        try:
            obj.__module__ = module_name
        except (AttributeError, TypeError):
            return
        if isinstance(obj, type):
            for sub in vars(obj).values():
                if isinstance(sub, type) and sub.__qualname__.startswith(obj.__qualname__ + "."):
                    _relabel(sub, module_name)
