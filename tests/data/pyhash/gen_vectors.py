#!/usr/bin/python3
"""Generate the test vectors of tests/test_pyhash.cpp from the real CPython.

Run as:   PYTHONHASHSEED=0 /usr/bin/python3 tests/data/pyhash/gen_vectors.py
(CPython 3.11, 64-bit, siphash13). Writes, next to this script:

  hashes.txt     <hash> <expr>               hash(value) for many ints, floats, complex, str,
                 P <id> <hash>               bytes, tuples, frozensets; identity hashes of
                 N <id> <hash>               object() / NaN floats / complex NaNs, with the id
                 CN <id> <re> <im> <hash>    the C++ side feeds to py_hash_pointer & co.
  sets.txt       <n> <expr>*n ; <size> <m> <idx>*m
                 explicit sets: the n items are added one by one (as pickle.loads does);
                 <idx> lists, in iteration order, the insertion index of each element kept;
                 <size> is the final table size (mask + 1).
  sets_gen.txt   <family> <seed> <n> <dups> <distinct> <size> <digest>
                 procedural sets: the C++ test regenerates the n items from <seed> with the
                 same generator (see gen_set below) and compares an FNV-1a digest of the
                 order.

<expr> is a prefix token notation, tokens separated by one space:
  i:<hex>          int, minimal little-endian two's complement bytes (empty for 0)
  f:<hex16>        float, IEEE-754 bits as a big-endian hex number
  c:<hex16>:<hex16> complex (real bits, imag bits)
  s:<hex>          str as UTF-8 (lone surrogates as 3-byte sequences, 'surrogatepass')
  b:<hex>          bytes
  t<n>             tuple, followed by its n items
  z<n>             frozenset, followed by its n (distinct) items
bool values are written as ints (they hash and compare as 0/1).
"""
import math
import os
import pickle
import pickletools
import random
import struct
import sys

assert sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11), sys.version
assert sys.hash_info.width == 64 and sys.hash_info.algorithm == "siphash13", sys.hash_info
assert os.environ.get("PYTHONHASHSEED") == "0", "run with PYTHONHASHSEED=0"

HERE = os.path.dirname(os.path.abspath(__file__))
M = (1 << 61) - 1
MASK64 = (1 << 64) - 1

# ---- expression encoding -------------------------------------------------------------------------


def int_bytes(v):
    if v == 0:
        return b""
    n = ((~v if v < 0 else v).bit_length() // 8) + 1
    return v.to_bytes(n, "little", signed=True)


def fbits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def enc(v, out):
    t = type(v)
    if t is bool or t is int:
        out.append("i:" + int_bytes(int(v)).hex())
    elif t is float:
        out.append("f:" + fbits(v))
    elif t is complex:
        out.append("c:%s:%s" % (fbits(v.real), fbits(v.imag)))
    elif t is str:
        out.append("s:" + v.encode("utf-8", "surrogatepass").hex())
    elif t is bytes:
        out.append("b:" + v.hex())
    elif t is tuple:
        out.append("t%d" % len(v))
        for x in v:
            enc(x, out)
    elif t is frozenset:
        out.append("z%d" % len(v))
        for x in v:
            enc(x, out)
    else:
        raise TypeError(t)
    return out


def expr(v):
    return " ".join(enc(v, []))


# ---- shared pseudo-random generator (mirrored in tests/test_pyhash.cpp) ---------------------------


class Rng:
    """splitmix64"""

    def __init__(self, seed):
        self.s = seed & MASK64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def to_signed(u):
    return u - (1 << 64) if u >> 63 else u


def gen_int64(r):
    f = r.below(6)
    v = r.next()
    if f == 0:
        return to_signed(v)
    if f == 1:
        return v >> (1 + r.below(63))
    if f == 2:
        return -(v >> (1 + r.below(63)))
    if f == 3:
        k = r.below(7)
        d = r.below(9)
        return (k - 3) * M + (d - 4)
    if f == 4:
        e = r.below(62)
        s = r.below(2)
        d = r.below(3)
        return (-1 if s else 1) * (1 << e) + (d - 1)
    return r.below(1000) - 500


def gen_bigint(r):
    nw = 1 + r.below(4)
    mag = 0
    for i in range(nw):
        mag |= r.next() << (64 * i)
    shift = r.below(64)
    neg = r.below(2)
    mag >>= shift
    return -mag if neg else mag


def gen_float(r):
    f = r.below(6)
    if f == 0:
        x = r.next() >> 11
        k = r.below(80)
        v = math.ldexp(float(x), -k)
        if r.below(2):
            v = -v
        return v
    if f == 1:
        return float(r.below(2000) - 1000)
    if f == 2:
        v = struct.unpack("<d", struct.pack("<Q", r.next()))[0]
        if math.isnan(v):
            v = math.copysign(math.inf, v)
        return v
    if f == 3:
        return (r.below(200) - 100) / 4.0
    if f == 4:
        x = r.next() >> 11
        k = r.below(2100)
        try:
            v = math.ldexp(float(x), k - 1100)
        except OverflowError:
            v = math.inf
        if r.below(2):
            v = -v
        return v
    return -0.0 if r.below(2) else 0.0


def gen_str(r):
    n = r.below(13)
    c = r.below(6)
    cps = []
    for _ in range(n):
        if c == 0:
            cp = 32 + r.below(95)
        elif c == 1:
            cp = r.below(256)
        elif c == 2:
            cp = r.below(0x10000)
        elif c == 3:
            cp = r.below(0x110000)
        elif c == 4:
            cp = 0xD800 + r.below(0x800) if r.below(4) == 0 else 97 + r.below(26)
        else:
            cp = 0x10000 + r.below(0x100000) if r.below(8) == 0 else 97 + r.below(3)
        cps.append(cp)
    return "".join(map(chr, cps))


def gen_bytes(r):
    n = r.below(8)
    return bytes(r.below(256) for _ in range(n))


def gen_tuple(r, depth):
    n = r.below(4)
    items = []
    for _ in range(n):
        k = r.below(5 if depth < 2 else 4)
        if k == 0:
            items.append(r.below(20) - 5)
        elif k == 1:
            items.append(gen_str(r))
        elif k == 2:
            items.append(gen_float(r))
        elif k == 3:
            items.append(r.below(2) == 1)
        else:
            items.append(gen_tuple(r, depth + 1))
    return tuple(items)


def gen_frozenset(r):
    n = r.below(5)
    cur = r.below(50) - 10
    items = []
    for _ in range(n):
        items.append(cur)
        cur += 1 + r.below(4)
    return frozenset(items)


def gen_complex(r):
    f = r.below(3)
    if f == 0:
        return complex(float(r.below(40) - 20), 0.0)
    if f == 1:
        re = gen_float(r)
        im = gen_float(r)
        return complex(re, im)
    return complex(0.0, float(r.below(10)))


def gen_mixed(r):
    k = r.below(12)
    if k == 0:
        return r.below(64) - 16
    if k == 1:
        return gen_int64(r)
    if k == 2:
        return gen_bigint(r)
    if k == 3:
        return gen_float(r)
    if k == 4:
        return gen_str(r)
    if k == 5:
        return gen_bytes(r)
    if k == 6:
        return gen_tuple(r, 0)
    if k == 7:
        return float(r.below(64) - 16)
    if k == 8:
        return gen_complex(r)
    if k == 9:
        return r.below(2) == 1
    if k == 10:
        return gen_frozenset(r)
    return chr(97 + r.below(4))


FAMILIES = ["smallint", "negint", "strided", "int64", "bigint", "float", "str", "bytes",
            "tuple", "mixed"]


def gen_set(family, seed, n, dups):
    r = Rng(seed)
    dup_pct = [0, 10, 30, 60][r.below(4)] if dups else 0
    span = 1 + r.below(4 * n + 8)
    stride_shift = r.below(40)
    items = []
    for _ in range(n):
        if items and dup_pct and r.below(100) < dup_pct:
            items.append(items[r.below(len(items))])
            continue
        if family == "smallint":
            v = r.below(span) - span // 4
        elif family == "negint":
            v = -1 - r.below(span)
        elif family == "strided":
            v = (r.below(span) - span // 4) << stride_shift
        elif family == "int64":
            v = gen_int64(r)
        elif family == "bigint":
            v = gen_bigint(r)
        elif family == "float":
            v = gen_float(r)
        elif family == "str":
            v = gen_str(r)
        elif family == "bytes":
            v = gen_bytes(r)
        elif family == "tuple":
            v = gen_tuple(r, 0)
        else:
            v = gen_mixed(r)
        items.append(v)
    return items


# ---- building sets the way pickle.loads does --------------------------------------------------------

SET_BASE_SIZEOF = set().__sizeof__()


def table_size(s):
    extra = s.__sizeof__() - SET_BASE_SIZEOF  # (mask + 1) * sizeof(setentry) once off smalltable
    return 8 if extra == 0 else extra // 16


def norm(x):
    """Type and value, with frozensets' own (history-dependent) order factored out."""
    if type(x) is tuple:
        return "(" + ",".join(map(norm, x)) + ")"
    if type(x) is frozenset:
        return "{" + ",".join(sorted(map(norm, x))) + "}"
    return type(x).__name__ + ":" + repr(x)


def key_list(s):
    return [norm(x) for x in s]


def additems_pickle(items):
    """A protocol-4 pickle that unpickles with EMPTY_SET + MARK items ADDITEMS (the list pickle
    with its opcodes swapped)."""
    data = bytearray(pickle.dumps(list(items), protocol=4))
    first = True
    for op, _arg, pos in pickletools.genops(bytes(data)):
        if op.name == "EMPTY_LIST" and first:
            data[pos] = 0x8F  # EMPTY_SET
            first = False
        elif op.name == "APPENDS":
            data[pos] = 0x90  # ADDITEMS
        elif op.name == "APPEND":
            return None
    return bytes(data)


def build(items, check_pickle=True):
    """The set after adding items one by one from empty; returns (set, order indices)."""
    s = set()
    for x in items:
        s.add(x)
    first = {}
    for i, x in enumerate(items):
        first.setdefault(x, i)
    order = [first[x] for x in s]
    for x, i in zip(s, order):
        assert x is items[i]
    if check_pickle:
        want = key_list(s)
        # set(list) -- what protocols 0-3 do through __reduce__ -- and frozenset(tuple).
        assert key_list(set(list(items))) == want
        assert key_list(frozenset(tuple(items))) == want
        # EMPTY_SET + ADDITEMS (protocol 4+).
        p = additems_pickle(items)
        if p is not None:
            assert key_list(pickle.loads(p)) == want
        # Re-pickling the set and loading it again: the loader adds in iteration order.
        for proto in (2, 4):
            again = pickle.loads(pickle.dumps(s, protocol=proto))
            assert key_list(again) == key_list(build(list(s), False)[0])
            # frozenset(s) copies through set_merge (pre-sized table, slot-order re-insertion),
            # so its order may differ from s; its pickle lists its own order.
            fs = frozenset(s)
            again = pickle.loads(pickle.dumps(fs, protocol=proto))
            assert key_list(again) == key_list(build(list(fs), False)[0])
    return s, order


def fnv(order):
    h = 0xCBF29CE484222325
    for i in order:
        h ^= i
        h = (h * 0x100000001B3) & MASK64
    return h


# ---- hash vectors -------------------------------------------------------------------------------------


def hash_values(rnd):
    vals = []
    # ints
    ints = {0, 1, -1, 2, -2, 3, -3, 255, 256, -256, -257, 2**31, -2**31, 2**63 - 1, -2**63,
            2**63, -2**63 - 1, 2**64 - 1, 2**64, -2**64, 10**20, -10**20, 10**100, -10**100}
    for k in range(0, 260, 7):
        for d in (-1, 0, 1):
            ints.add(2**k + d)
            ints.add(-(2**k) + d)
    for j in (1, 2, 3, 4, 5, 7, 2**61, 12345678901234567, 2**100 + 3):
        for d in (-2, -1, 0, 1, 2):
            ints.add(j * M + d)
            ints.add(-(j * M) + d)
    for bits in list(range(1, 130, 2)) + [200, 333, 500, 1000, 2000]:
        for _ in range(1):
            v = rnd.getrandbits(bits)
            ints.add(v)
            ints.add(-v)
    vals += sorted(ints)
    vals += [True, False]
    # floats
    fl = [0.0, -0.0, math.inf, -math.inf, 1.0, -1.0, 0.5, -0.5, 0.1, -0.1, 1 / 3, 2.5, 1e300,
          -1e300, 1e-300, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
          1.7976931348623157e308, -1.7976931348623157e308, float(M), float(2**61), float(2**62),
          float(2**63), float(-2**63), float(2**64), 3.141592653589793, 1e16, 1e22, 123456789.0,
          -2.0, 4503599627370496.5, 9007199254740993.0]
    for e in range(-1074, 1024, 13):
        fl.append(math.ldexp(1.0, e))
        fl.append(-math.ldexp(1.5, e) if e < 1023 else -math.ldexp(1.0, e))
    for i in range(-300, 301, 17):
        fl.append(float(i))
        fl.append(i / 8)
    for _ in range(150):
        v = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
        if not math.isnan(v):
            fl.append(v)
    for _ in range(50):
        fl.append(rnd.uniform(-1000, 1000))
    vals += fl
    # complex
    cs = [0j, 1 + 0j, -1 + 0j, 1j, -1j, complex(0.0, -0.0), complex(-0.0, 0.0), 1.5 + 2.5j,
          complex(math.inf, 1), complex(1, math.inf), complex(-math.inf, -math.inf),
          complex(1e300, 1e-300), complex(2**61, 1)]
    for _ in range(40):
        cs.append(complex(rnd.choice(fl), rnd.choice(fl)))
    vals += cs
    # str
    ss = ["", "a", "ab", "abc", "hello", "hello world", "\x00", "\x7f", "\x80", "\xe9", "\xff",
          "caf\xe9", "\u20ac", "\u4e2d\u6587", "\uffff", "\U0001f600", "\U0010ffff",
          "a\U0001f600b", "\ud800", "\udfff", "a\udc80", "\ud83d\ude00", "\ud83d\ude00\U0001f600",
          "\ud800\xe9", "\x00\ud800", "\xff\u0100", "\uffff\U00010000", "x" * 100, "\xe9" * 33,
          "\u0100" * 17, "\U00010000" * 9]
    for n in range(0, 41):
        ss.append("".join(chr(97 + (i * 7 + n) % 26) for i in range(n)))
    alphabets = [(32, 127), (0, 256), (0, 0x10000), (0, 0x110000), (0xD800, 0xE000)]
    for lo, hi in alphabets:
        for n in range(0, 30, 3):
            ss.append("".join(chr(rnd.randrange(lo, hi)) for _ in range(n)))
            ss.append("ab" + "".join(chr(rnd.randrange(lo, hi)) for _ in range(n)))
    vals += ss
    # bytes
    bs = [b"", b"a", b"abc", b"\x00", b"\xff", b"hello world"] + [bytes([i]) for i in range(256)]
    for n in range(0, 45):
        bs.append(bytes(rnd.getrandbits(8) for _ in range(n)))
    vals += bs
    # tuples
    ts = [(), (0,), (1,), (-1,), (-2,), ((),), ((), ()), (1, 2), (2, 1), (1, 2, 3), ("a",),
          (b"a",), (1.5,), (1, "a", 2.5, b"x", (3, (4, ()))), (frozenset(),),
          (frozenset({1, 2}), (0j,)), (True, False), (1.0, 1, True), tuple(range(50))]
    for i in range(60):
        ts.append(gen_tuple(Rng(1000 + i), 0))
    vals += ts
    # frozensets
    fs = [frozenset(), frozenset({0}), frozenset({1}), frozenset({-1}), frozenset({1, 2, 3}),
          frozenset({"a", "b"}), frozenset({(), (1,)}), frozenset({frozenset()}),
          frozenset({frozenset({1}), frozenset({2}), 3}), frozenset(range(100)),
          frozenset({1.5, "x", b"y", (1, 2)})]
    for i in range(30):
        fs.append(gen_frozenset(Rng(2000 + i)))
        fs.append(frozenset(gen_set("mixed", 3000 + i, i % 13, True)))
    vals += fs
    vals += minus_one_cases()
    for i in range(60):
        vals.append(gen_mixed(Rng(4000 + i)))
    return vals


XXP1, XXP2, XXP5 = 11400714785074694791, 14029467366897019727, 2870177450012600261


def minus_one_cases():
    """Values whose hash formula yields -1 (so CPython substitutes another value), found by
    running the mixing steps of tuplehash / frozenset_hash backwards."""
    out = [complex(3000008, -3)]  # 3000008 + 1000003 * -3 == -1 -> -2
    rotr31 = lambda x: ((x >> 31) | (x << 33)) & MASK64
    # tuplehash: (a, b) with acc + (2 ^ XXP5 ^ 3527539) == -1  ->  1546275796
    found = 0
    for a in range(-50, 5000):
        if found == 3:
            break
        acc = XXP5
        for lane in (hash(a),):
            acc = (acc + (lane & MASK64) * XXP2) & MASK64
            acc = ((acc << 31) | (acc >> 33)) & MASK64
            acc = (acc * XXP1) & MASK64
        final = (MASK64 - (2 ^ (XXP5 ^ 3527539))) & MASK64
        x = (final * pow(XXP1, -1, 1 << 64)) & MASK64
        x = rotr31(x)
        lane = ((x - acc) * pow(XXP2, -1, 1 << 64)) & MASK64
        b = lane - (1 << 64) if lane >> 63 else lane
        if -M < b < M and b != -1:
            t = (a, b)
            assert hash(t) == 1546275796, t
            out.append(t)
            found += 1
    # frozenset_hash: {a, b} whose mixed value is -1  ->  590923713
    def shuffle(h):
        return (((h ^ 89869747) ^ (h << 16)) * 3644798167) & MASK64

    def unshuffle(y):
        y = (y * pow(3644798167, -1, 1 << 64)) & MASK64
        y ^= 89869747  # now h ^ (h << 16) == y
        h = y
        for _ in range(4):
            h = (y ^ (h << 16)) & MASK64
        return h

    def unxorshift(y):  # inverse of h ^= (h >> 11) ^ (h >> 25)
        h = y
        for _ in range(8):
            h = y ^ (h >> 11) ^ (h >> 25)
        return h

    found = 0
    for a in range(-50, 5000):
        if found == 3:
            break
        target = ((MASK64 - 907133923) * pow(69069, -1, 1 << 64)) & MASK64
        h = unxorshift(target) ^ ((2 + 1) * 1927868237)
        lane = unshuffle(h ^ shuffle(hash(a) & MASK64))
        b = lane - (1 << 64) if lane >> 63 else lane
        if -M < b < M and b != -1 and b != a:
            f = frozenset((a, b))
            assert hash(f) == 590923713, f
            out.append(f)
            found += 1
    assert len(out) == 7, out
    return out


def write_hashes():
    rnd = random.Random(20240611)
    lines = []
    for v in hash_values(rnd):
        lines.append("%d %s" % (hash(v), expr(v)))
    # identity hashes: object(), NaN floats, complex with NaN parts
    keep = []
    for _ in range(20):
        o = object()
        keep.append(o)
        lines.append("P %d %d" % (id(o), hash(o)))
    for bits in (0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FF4000000000000):
        for _ in range(3):
            x = struct.unpack("<d", struct.pack("<Q", bits))[0]
            keep.append(x)
            lines.append("N %d %d" % (id(x), hash(x)))
    for re, im in ((math.nan, 0.0), (0.0, math.nan), (math.nan, math.nan), (1.5, -math.nan),
                   (math.inf, math.nan)):
        c = complex(re, im)
        keep.append(c)
        lines.append("CN %d %s %s %d" % (id(c), fbits(c.real), fbits(c.imag), hash(c)))
    with open(os.path.join(HERE, "hashes.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


# ---- explicit sets ---------------------------------------------------------------------------------


def explicit_sets(rnd):
    cases = [[], [0], [1], [-1], [-1, -2], [-2, -1], [-1, -2, -3, -4, -5, -6]]
    for n in range(1, 41):
        cases.append(list(range(n)))
        cases.append(list(range(n))[::-1])
        c = list(range(n))
        rnd.shuffle(c)
        cases.append(c)
    for shift in (3, 8, 20, 61, 64):
        for n in (5, 19, 77):
            cases.append([i << shift for i in range(n)])
            cases.append([-(i << shift) for i in range(n)])
    # equal hashes, unequal values: multiples of 2**61-1 all hash 0, etc.
    cases.append([j * M for j in range(-12, 13)])
    cases.append([j * M + 1 for j in range(-12, 13)])
    cases.append([j * M for j in range(40)] + list(range(40)))
    cases.append([2**61, 1, 2**122, 2**183, -(2**61), -1, -2])
    cases.append([float(2**61), 1, 1.0, 2**61, True])
    # cross-type equal numbers: the first added is kept
    cases.append([1, 1.0, True, 1 + 0j])
    cases.append([True, 1, 1.0, 1 + 0j])
    cases.append([1.0, True, 1 + 0j, 1])
    cases.append([1 + 0j, 1.0, 1, True])
    cases.append([0, 0.0, -0.0, False, 0j, complex(-0.0, -0.0)])
    cases.append([-0.0, 0.0, 0, False])
    cases.append([2.5, 5 / 2, complex(2.5, 0), complex(2.5, -0.0)])
    cases.append([float(i) for i in range(30)] + list(range(30)))
    cases.append(list(range(30)) + [float(i) for i in range(30)])
    # str vs bytes: same hash for ASCII text, never equal
    cases.append(["a", b"a", "ab", b"ab", "", b""])
    cases.append([b"a", "a", b"", ""])
    cases.append(["\ud800", "\udfff", "\ud83d\ude00", "\U0001f600", "\ud83d", "\ude00"])
    cases.append(["\xe9", "\u00e9", "e\u0301", "\U0001f600", "\u4e2d", "", "a"])
    cases.append([(), (1,), (1, 2), ((),), (frozenset(),), frozenset(), frozenset({()})])
    cases.append([(1, 2), (1.0, 2.0), (True, 2), (1, 2.0)])
    cases.append([frozenset({1, 2}), frozenset({2, 1}), frozenset({1.0, 2}), frozenset({1})])
    cases.append([math.inf, -math.inf, 314159, -314159, math.inf])
    # random medium sets of each kind
    for i, fam in enumerate(FAMILIES):
        for j in range(4):
            n = [7, 19, 40, 77][j]
            cases.append(gen_set(fam, 500000 + 100 * i + j, n, j % 2 == 1))
    return cases


def write_sets():
    rnd = random.Random(77)
    lines = []
    for items in explicit_sets(rnd):
        s, order = build(items)
        toks = [str(len(items))]
        for x in items:
            enc(x, toks)
        toks += [";", str(table_size(s)), str(len(order))] + [str(i) for i in order]
        lines.append(" ".join(toks))
    with open(os.path.join(HERE, "sets.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


# ---- procedural sets ------------------------------------------------------------------------------

# Table growth for sets built by adds: 8 -> 32 at 5 elements, -> 128 at 19, -> 512 at 77,
# -> 2048 at 307, -> 8192 at 1229, -> 32768 at 4915, -> 131072 at 19661, -> 262144 at 78643
# (used*2 above 50000), -> 524288 at 157286.
THRESHOLDS = [4, 5, 6, 18, 19, 20, 76, 77, 78, 306, 307, 308, 1228, 1229, 1230]
BIG = [4914, 4915, 4916, 19660, 19661, 19662, 78642, 78643, 78644, 157285, 157286, 157287,
       200000]


def proc_plan():
    plan = []  # (family, seed, n, dups)
    seed = 1
    for fi, fam in enumerate(FAMILIES):
        for rep in range(3):
            sizes = list(range(0, 41)) + THRESHOLDS
            r = Rng(fi * 1000 + rep)
            sizes += [41 + r.below(3000) for _ in range(6)]
            for n in sizes:
                distinct_family = fam not in ("smallint", "negint", "strided", "bytes")
                dups = not (n in THRESHOLDS and distinct_family and rep < 2)
                plan.append((fam, seed, n, dups))
                seed += 1
    for fam in ("int64", "str", "mixed"):
        for n in BIG:
            plan.append((fam, seed, n, False))
            seed += 1
    for fam in ("strided", "float", "tuple", "bigint"):
        plan.append((fam, seed, 200000, fam != "bigint"))
        seed += 1
    # Growing at fill*5 >= mask*3 rather than > differs only where mask*3 is a multiple of 5;
    # the first such table an add-built set reaches has 2**20 slots (at 629145 elements).
    # (bigint items do not depend on n, so take the shortest prefix with 629145 distinct values.)
    items = gen_set("bigint", seed, 660000, False)
    seen = set()
    for n, x in enumerate(items):
        seen.add(x)
        if len(seen) == 629145:
            break
    plan.append(("bigint", seed, n + 1, False))
    seed += 1
    return plan


def write_proc():
    lines = []
    total = 0
    for fam, seed, n, dups in proc_plan():
        items = gen_set(fam, seed, n, dups)
        s, order = build(items, check_pickle=n <= 5000 or (seed % 2 == 0 and n <= 200000))
        total += n
        lines.append("%s %d %d %d %d %d %016x" % (fam, seed, n, int(dups), len(order),
                                                  table_size(s), fnv(order)))
    with open(os.path.join(HERE, "sets_gen.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines), total


def main():
    assert hash("") == 0 and hash(-1) == -2 and hash((-1,)) != -1
    nh = write_hashes()
    ns = write_sets()
    npc, total = write_proc()
    print("hashes.txt: %d lines; sets.txt: %d sets; sets_gen.txt: %d sets (%d adds)"
          % (nh, ns, npc, total))


if __name__ == "__main__":
    main()
