#!/usr/bin/python3
"""Generate the test vectors of tests/test_pytext.cpp from the real CPython 3.11.

    /usr/bin/python3 tests/data/pytext/gen_vectors.py            # (re)write the vector files
    /usr/bin/python3 tests/data/pytext/gen_vectors.py --dump NAME BATCH   # print one batch's items

Every check is an "op" applied to an input byte string, producing an item (bytes). The C++ test
implements the same ops with brine::detail and must produce byte-identical items.

Files (tab-separated, one record per line, '#' comments):
  cases.tsv    op <TAB> input <TAB> expected
               input = ','-separated segments, each "HEX" or "HEX*COUNT" (repeated);
               expected = HEX of the item, or "#" + FNV-1a-64 (hex) of the item for long ones.
  random.tsv   families of pseudo-random inputs regenerated identically by the C++ test
               (splitmix64), checked by one FNV-1a-64 hash per batch:
                 family NAME GEN OP SEED COUNT BATCH PARAM
                 piece NAME HEX           (pieces the "pieces" generator concatenates)
                 cprange NAME LO HI       (code point ranges of the "codepoints" generator)
                 hash NAME BATCHINDEX HEX
               batch hash = FNV-1a-64 over, for each item of the batch, u32le(len(input)) input
               u32le(len(item)) item.
  unicode.tsv  printable LO HI (inclusive ranges where str.isprintable()), space CP, decimal ZERO_CP

Items per op (all ASCII unless noted):
  repr_str      input UTF-8 (surrogatepass) -> repr(s) as UTF-8 (surrogatepass)
  repr_bytes    -> repr(b)
  repr_float    8 bytes big-endian IEEE bits -> repr(x)
  py_float      float(str)   -> "ok BITS REPR" | "invalid"
  py_float_b    float(bytes) -> same
  c_float       pickle.loads(b'F' + input + b'\\n.') -> "ok BITS" | "invalid" | "overflow"
  bigint        little-endian two's complement -> "DECIMAL NDIGITS(|v|)"
  strtol        libc strtol(input, &end, 0) -> "VALUE CONSUMED ERANGE(0/1)"
  pylong:B      ctypes PyLong_FromString(input, NULL, B), int_max_str_digits 4300 -> INT | "invalid" | "toomany"
  pylong_nolimit:B  same with int_max_str_digits 0
  int_str:B     int(input.decode(utf-8, surrogatepass), B) -> same
  int_bytes:B   int(input, B) -> same
                INT = "ok DECIMAL X" with X = pickle.encode_long(v).hex() if v does not fit int64, else "-"
  escape_decode codecs.escape_decode -> "ok HEX" | "trailing POS" | "badx POS"
  rue_decode    codecs.raw_unicode_escape_decode -> "ok HEX(utf-8 surrogatepass)" | "tu POS" | "tU POS" | "range POS"
  rue_encode    input UTF-8 str -> the payload of pickle.dumps(s, 0) between b'V' and b'\\n' (bytes)
  utf8          input bytes -> "ok NCODEPOINTS" | "bad START" (decode('utf-8', 'surrogatepass'))
  latin1        input bytes -> input.decode('latin-1').encode('utf-8') (bytes)
  pk_int pk_long pk_float pk_string pk_unicode
                pickle.loads(b'I'|b'L'|b'F'|b'S'|b'V' + input + b'\\n.', encoding='bytes') ->
                "bool True|False" | "int DECIMAL" | "ok BITS" | "ok HEX" | "error KIND"
"""
import codecs
import ctypes
import decimal
import locale
import math
import os
import pickle
import struct
import sys
import warnings

if sys.version_info[:2] != (3, 11):
    sys.exit("run me with CPython 3.11 (/usr/bin/python3)")
if sys.implementation.name != "cpython":
    sys.exit("run me with CPython")

warnings.simplefilter("ignore")  # escape_decode's DeprecationWarnings for unknown escapes
locale.setlocale(locale.LC_ALL, "C")  # strtol's isspace(): the C locale
HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


# ---- PRNG + hash, mirrored in tests/test_pytext.cpp ----------------------------------------------
class Rng:
    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


class Fnv:
    def __init__(self):
        self.h = 0xCBF29CE484222325

    def update(self, data):
        h = self.h
        for b in data:
            h = ((h ^ b) * 0x100000001B3) & MASK
        self.h = h

    def item(self, data):
        self.update(len(data).to_bytes(4, "little"))
        self.update(data)


def fnv_hex(data):
    f = Fnv()
    f.update(data)
    return "%016x" % f.h


# ---- ops -----------------------------------------------------------------------------------------
def fbits(d):
    return struct.pack(">d", d).hex()


def u8(s):
    return s.encode("utf-8", "surrogatepass")


def op_repr_str(inp, arg):
    return u8(repr(inp.decode("utf-8", "surrogatepass")))


def op_repr_bytes(inp, arg):
    return repr(inp).encode()


def op_repr_float(inp, arg):
    return repr(struct.unpack(">d", inp)[0]).encode()


def float_item(fn, x):
    try:
        d = fn(x)
    except ValueError:
        return b"invalid"
    return ("ok %s %r" % (fbits(d), d)).encode()


def op_py_float(inp, arg):
    return float_item(float, inp.decode("utf-8", "surrogatepass"))


def op_py_float_b(inp, arg):
    return float_item(float, inp)


def op_c_float(inp, arg):
    assert b"\n" not in inp
    try:
        d = pickle.loads(b"F" + inp + b"\n.")
    except OverflowError:
        return b"overflow"
    except Exception:
        return b"invalid"
    return ("ok " + fbits(d)).encode()


def op_bigint(inp, arg):
    v = int.from_bytes(inp, "little", signed=True)
    return with_limit(0, lambda: ("%d %d" % (v, len(str(abs(v))))).encode())


_libc = ctypes.CDLL(None, use_errno=True)
_strtol = _libc.strtol
_strtol.restype = ctypes.c_long
_strtol.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]


def op_strtol(inp, arg):
    buf = ctypes.create_string_buffer(inp)
    end = ctypes.c_void_p()
    ctypes.set_errno(0)
    v = _strtol(ctypes.addressof(buf), ctypes.byref(end), 0)
    err = ctypes.get_errno()
    consumed = end.value - ctypes.addressof(buf)
    return ("%d %d %d" % (v, consumed, 1 if err == 34 else 0)).encode()


def int_item(limit, fn):
    try:
        v = with_limit(limit, fn)
    except ValueError as e:
        return b"toomany" if "Exceeds the limit" in str(e) else b"invalid"
    big = "-" if INT64_MIN <= v <= INT64_MAX else pickle.encode_long(v).hex()
    return with_limit(0, lambda: ("ok %d %s" % (v, big)).encode())


_PyLong_FromString = ctypes.pythonapi.PyLong_FromString
_PyLong_FromString.restype = ctypes.py_object
_PyLong_FromString.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]


def with_limit(limit, fn):
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(limit)
    try:
        return fn()
    finally:
        sys.set_int_max_str_digits(old)


def op_pylong(inp, arg):
    return int_item(4300, lambda: _PyLong_FromString(inp, None, int(arg)))


def op_pylong_nolimit(inp, arg):
    return int_item(0, lambda: _PyLong_FromString(inp, None, int(arg)))


def op_int_str(inp, arg):
    s = inp.decode("utf-8", "surrogatepass")
    return int_item(4300, lambda: int(s, int(arg)))


def op_int_bytes(inp, arg):
    return int_item(4300, lambda: int(inp, int(arg)))


def op_escape_decode(inp, arg):
    try:
        r, _ = codecs.escape_decode(inp)
    except ValueError as e:
        msg = str(e)
        if msg == "Trailing \\ in string":
            return ("trailing %d" % (len(inp) - 1)).encode()
        prefix = "invalid \\x escape at position "
        assert msg.startswith(prefix), msg
        return ("badx " + msg[len(prefix):]).encode()
    return b"ok " + r.hex().encode()


def rue_error(e):
    kinds = {"truncated \\uXXXX escape": "tu", "truncated \\UXXXXXXXX escape": "tU",
             "\\Uxxxxxxxx out of range": "range"}
    return ("%s %d" % (kinds[e.reason], e.start)).encode()


def op_rue_decode(inp, arg):
    try:
        s, _ = codecs.raw_unicode_escape_decode(inp)
    except UnicodeDecodeError as e:
        return rue_error(e)
    return b"ok " + u8(s).hex().encode()


def op_rue_encode(inp, arg):
    s = inp.decode("utf-8", "surrogatepass")
    p = pickle.dumps(s, 0)
    assert p.startswith(b"V") and p.endswith(b"\np0\n."), p
    return p[1:-len(b"\np0\n.")]


def op_utf8(inp, arg):
    try:
        s = inp.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as e:
        return ("bad %d" % e.start).encode()
    return ("ok %d" % len(s)).encode()


def op_latin1(inp, arg):
    return inp.decode("latin-1").encode("utf-8")


def op_pk(inp, arg):
    assert b"\n" not in inp
    data = {"pk_int": b"I", "pk_long": b"L", "pk_float": b"F", "pk_string": b"S",
            "pk_unicode": b"V"}[arg] + inp + b"\n."
    try:
        v = with_limit(4300, lambda: pickle.loads(data, encoding="bytes"))
    except OverflowError:
        return b"error overflow"
    except UnicodeDecodeError as e:
        if arg == "pk_unicode":
            return b"error " + rue_error(e)
        # PyLong_FromString's error message decodes the text as UTF-8, which can fail first.
        return b"error value"
    except ValueError as e:
        msg = str(e)
        if "Exceeds the limit" in msg:
            return b"error toomany"
        if msg == "Trailing \\ in string":
            return b"error trailing"
        if msg.startswith("invalid \\x escape"):
            return b"error badx"
        return b"error value"
    except pickle.UnpicklingError as e:
        if "must be quoted" in str(e):
            return b"error quote"
        return b"error unpickling"
    if isinstance(v, bool):
        return ("bool %s" % v).encode()
    if isinstance(v, int):
        return with_limit(0, lambda: ("int %d" % v).encode())
    if isinstance(v, float):
        return ("ok " + fbits(v)).encode()
    if isinstance(v, bytes):
        return b"ok " + v.hex().encode()
    if isinstance(v, str):
        return b"ok " + u8(v).hex().encode()
    raise AssertionError(repr(v))


OPS = {
    "repr_str": op_repr_str, "repr_bytes": op_repr_bytes, "repr_float": op_repr_float,
    "py_float": op_py_float, "py_float_b": op_py_float_b, "c_float": op_c_float,
    "bigint": op_bigint, "strtol": op_strtol, "pylong": op_pylong,
    "pylong_nolimit": op_pylong_nolimit, "int_str": op_int_str, "int_bytes": op_int_bytes,
    "escape_decode": op_escape_decode, "rue_decode": op_rue_decode, "rue_encode": op_rue_encode,
    "utf8": op_utf8, "latin1": op_latin1,
    "pk_int": op_pk, "pk_long": op_pk, "pk_float": op_pk, "pk_string": op_pk, "pk_unicode": op_pk,
}


def run_op(op, inp):
    name, _, arg = op.partition(":")
    if name.startswith("pk_"):
        arg = name
    return OPS[name](inp, arg)


# ---- generators, mirrored in tests/test_pytext.cpp -----------------------------------------------
def generate(fam, rng, index):
    gen, param = fam["gen"], fam["param"]
    if gen == "u64":
        return rng.next().to_bytes(8, "big")
    if gen == "denormal":
        mant = rng.next() & ((1 << 52) - 1)
        sign = rng.next() & 1
        return ((sign << 63) | mant).to_bytes(8, "big")
    if gen == "u60int":
        return struct.pack(">d", float(rng.next() >> 4))
    if gen == "decimal":
        k = 1 + rng.below(20)
        digits = "".join(chr(48 + rng.below(10)) for _ in range(k))
        e = rng.below(700) - 360
        return ("%se%d" % (digits, e)).encode()
    if gen == "pow2":
        return struct.pack(">d", math.ldexp(1.0, index - 1074))
    if gen == "pow10":
        return ("1e%d" % (index - 340)).encode()
    if gen == "pieces":
        pieces = fam["pieces"]
        n = 1 + rng.below(param)
        return b"".join(pieces[rng.below(len(pieces))] for _ in range(n))
    if gen == "bytes":
        n = rng.below(param + 1)
        return bytes(rng.below(256) for _ in range(n))
    if gen == "bigbytes":
        n = 1 + rng.below(48) if rng.below(16) else 1 + rng.below(param)
        return bytes(rng.below(256) for _ in range(n))
    if gen == "codepoints":
        ranges = fam["cpranges"]
        n = rng.below(param + 1)
        out = []
        for _ in range(n):
            lo, hi = ranges[rng.below(len(ranges))]
            out.append(chr(lo + rng.below(hi - lo + 1)))
        return u8("".join(out))
    raise AssertionError(gen)


def family_items(fam):
    rng = Rng(fam["seed"])
    for i in range(fam["count"]):
        inp = generate(fam, rng, i)
        yield inp, run_op(fam["op"], inp)


# ---- family definitions --------------------------------------------------------------------------
INT_PIECES = [b"0", b"1", b"7", b"8", b"9", b"12", b"077", b"0x", b"0X", b"0o", b"0O", b"0b", b"0B",
              b"x", b"f", b"F", b"g", b"z", b"Z", b"_", b"__", b" ", b"\t", b"\x0b", b"\x0c", b"\r",
              b"\x1c", b"\xa0", b"+", b"-", b"\x00", b"L", b"e", b".",
              b"9223372036854775807", b"9223372036854775808", b"18446744073709551616",
              b"0x7fffffffffffffff", b"0x8000000000000000", b"01777777777777777777777",
              b"0777777777777777777777", b"02000000000000000000000", b"99999999999999999999",
              b"123456789", b"1_000", b"0_0", b"0x_f", b"0b_1"]
INT_STR_PIECES = [p for p in INT_PIECES if p != b"\xa0"] + [u8(c) for c in "\u0661\uff11\U0001D7CE\u0e53\u3000\x85\xa0\u2028\xe9\ud800\x1f\u00b2"]
FLOAT_PIECES = [b"0", b"1", b"5", b"9", b"00", b"123", b".", b"e", b"E", b"+", b"-", b"e5", b"e-5",
                b"e+308", b"e309", b"e-330", b"e-324", b"e999", b"e-999", b"inf", b"INF",
                b"Infinity", b"iNfInItY", b"infinit", b"nan", b"NaN", b"nan(1)", b"x", b"0x10",
                b"_", b"1_0", b" ", b"\t", b"\x00", b"1.7976931348623157", b"1.7976931348623159",
                b"2.2250738585072014e-308", b"4.9406564584124654e-324", b"2.4703282292062328e-324",
                b"2.4703282292062327e-324", b"9007199254740993", b"0.1", b"1" * 30, b"0" * 30,
                b"e00000000001", b"e99999999999999", b"1" + b"0" * 800 + b"1",
                b"0." + b"0" * 300 + b"1"]
FLOAT_STR_PIECES = FLOAT_PIECES + [u8(c) for c in "\u0661\u3000\xa0\xe9\x85\uff15"]
BYTES_PIECES = [b"'", b'"', b"\\", b"a", b"\x00", b"\t", b"\n", b"\r", b"\x7f", b"\x80", b"\xff",
                b" ", b"~", b"\x1f"]
ESCAPE_PIECES = [b"\\", b"\\\\", b"\\'", b'\\"', b"\\a", b"\\b", b"\\f", b"\\n", b"\\r", b"\\t",
                 b"\\v", b"\\0", b"\\1", b"\\7", b"\\8", b"\\x", b"\\x4", b"\\x41", b"\\xfF",
                 b"\\xg0", b"\\q", b"\\\n", b"\\u1234", b"\\N{DASH}", b"0", b"7", b"8", b"a", b"f",
                 b"g", b"F", b"\n", b"'", b'"', b"\x80", b"\xff", b" ", b"x", b"\\400", b"\\777"]
STRING_PIECES = [p for p in ESCAPE_PIECES if b"\n" not in p] + [b"'", b'"', b"'", b'"']
RUE_PIECES = [b"\\", b"\\\\", b"\\u", b"\\U", b"u", b"U", b"0", b"00", b"0000", b"00010000",
              b"0010ffff", b"00110000", b"ffffffff", b"d800", b"DFFF", b"aB", b"g", b"x", b"\x80",
              b"\xe9", b"\xff", b"\x00", b"a", b" ", b"\x1a"]
UTF8_PIECES = [b"a", b"\xc2", b"\xc3\xa9", b"\xc0\xaf", b"\xc1", b"\xdf\xbf", b"\xe0", b"\xe0\xa0",
               b"\xe0\x80\x80", b"\xe0\xa0\x80", b"\xed\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
               b"\xee\x80\x80", b"\xef\xbf\xbf", b"\xf0", b"\xf0\x90\x80\x80", b"\xf0\x8f\xbf\xbf",
               b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\x80",
               b"\xbf", b"abcdefgh", b"abcdefghijklmnop", b"\x00", b"\xe4\xb8", b"\xf0\x9f\x98"]
CP_RANGES = [(0x20, 0x7E), (0x27, 0x27), (0x22, 0x22), (0x5C, 0x5C), (0x00, 0x1F), (0x7F, 0xA0),
             (0xA1, 0xFF), (0x100, 0x7FF), (0x800, 0xFFFF), (0xD800, 0xDFFF), (0x10000, 0x10FFFF),
             (0xE0000, 0xE01FF), (0x1F300, 0x1FAFF), (0x2000, 0x206F), (0xFFF0, 0xFFFF),
             (0x0A, 0x0D), (0x1A, 0x1A)]

FAMILIES = [
    # name, gen, op, seed, count, batch, param, pieces
    ("float_bits", "u64", "repr_float", 1, 30000, 1000, 0, None),
    ("float_denormal", "denormal", "repr_float", 2, 5000, 1000, 0, None),
    ("float_u60int", "u60int", "repr_float", 3, 5000, 1000, 0, None),
    ("float_decimal", "decimal", "py_float", 4, 30000, 1000, 0, None),
    ("float_decimal_c", "decimal", "c_float", 4, 5000, 1000, 0, None),
    ("float_pow2", "pow2", "repr_float", 0, 2098, 1000, 0, None),
    ("float_pow10", "pow10", "py_float", 0, 661, 1000, 0, None),
    ("c_float_pieces", "pieces", "c_float", 5, 12000, 1000, 4, FLOAT_PIECES),
    ("py_float_pieces", "pieces", "py_float", 6, 12000, 1000, 4, FLOAT_STR_PIECES),
    ("py_float_b_pieces", "pieces", "py_float_b", 7, 4000, 1000, 4, FLOAT_PIECES),
    ("pk_float_pieces", "pieces", "pk_float", 8, 3000, 1000, 4, FLOAT_PIECES),
    ("repr_str", "codepoints", "repr_str", 9, 20000, 1000, 12, None),
    ("rue_encode", "codepoints", "rue_encode", 10, 10000, 1000, 12, None),
    ("repr_bytes_random", "bytes", "repr_bytes", 11, 5000, 1000, 16, None),
    ("repr_bytes_pieces", "pieces", "repr_bytes", 12, 5000, 1000, 8, BYTES_PIECES),
    ("bigint", "bigbytes", "bigint", 13, 4000, 500, 3000, None),
    ("strtol", "pieces", "strtol", 14, 10000, 1000, 5, INT_PIECES),
    ("pylong0", "pieces", "pylong:0", 15, 10000, 1000, 5, INT_PIECES),
    ("pylong10", "pieces", "pylong:10", 16, 10000, 1000, 5, INT_PIECES),
    ("pylong16", "pieces", "pylong:16", 17, 3000, 1000, 5, INT_PIECES),
    ("pylong36", "pieces", "pylong:36", 18, 3000, 1000, 5, INT_PIECES),
    ("pylong7", "pieces", "pylong:7", 19, 3000, 1000, 5, INT_PIECES),
    ("int_str0", "pieces", "int_str:0", 20, 6000, 1000, 5, INT_STR_PIECES),
    ("int_str10", "pieces", "int_str:10", 21, 6000, 1000, 5, INT_STR_PIECES),
    ("int_str2", "pieces", "int_str:2", 22, 2000, 1000, 5, INT_STR_PIECES),
    ("int_bytes0", "pieces", "int_bytes:0", 23, 3000, 1000, 5, INT_PIECES),
    ("pk_int", "pieces", "pk_int", 24, 6000, 1000, 4, INT_PIECES),
    ("pk_long", "pieces", "pk_long", 25, 6000, 1000, 4, INT_PIECES),
    ("escape_decode", "pieces", "escape_decode", 26, 10000, 1000, 6, ESCAPE_PIECES),
    ("pk_string", "pieces", "pk_string", 27, 6000, 1000, 6, STRING_PIECES),
    ("rue_decode", "pieces", "rue_decode", 28, 10000, 1000, 6, RUE_PIECES),
    ("pk_unicode", "pieces", "pk_unicode", 29, 5000, 1000, 6, [p for p in RUE_PIECES if b"\n" not in p]),
    ("utf8", "pieces", "utf8", 30, 10000, 1000, 8, UTF8_PIECES),
    ("utf8_random", "bytes", "utf8", 31, 3000, 1000, 24, None),
    ("latin1", "bytes", "latin1", 32, 2000, 1000, 40, None),
]


def build_families():
    fams = []
    for name, gen, op, seed, count, batch, param, pieces in FAMILIES:
        fams.append({"name": name, "gen": gen, "op": op, "seed": seed, "count": count,
                     "batch": batch, "param": param, "pieces": pieces, "cpranges": CP_RANGES})
    return fams


# ---- explicit cases ------------------------------------------------------------------------------
def explicit_cases():
    cases = []  # (op, input bytes)

    def add(op, *inputs):
        for x in inputs:
            cases.append((op, x if isinstance(x, bytes) else u8(x)))

    # repr(str)
    add("repr_str", "", "a", "'", '"', "'\"", "it's", 'say "hi"', "both ' and \"", "\\", "\t\n\r",
        "\x00\x01\x1f\x7f", "\x80\x9f\xa0\xad\xff", "é", "\u2028\u2029", "\u200b\ufeff", "\ue000",
        "\ud800", "\udfff", "a\udcffb", "\U0001F600", "\U000E0001", "\U0010FFFF", "\U000F0000",
        "\u0378", "\u3000", "\u00a0", "\u1680", "日本語", "\x1b[0m", "\\x41", "Ꙃ", "\U0001D7CE")
    # repr(bytes)
    add("repr_bytes", b"", b"'", b'"', b"'\"", b"\\", b"\t\n\r\x0b\x0c", bytes(range(256)),
        b"it's", b'say "hi"')
    # repr(float)
    for d in [0.0, -0.0, 1.0, -1.0, 0.1, 0.2 + 0.1, 1 / 3, 100.0, 1e16, 1e15, 9999999999999998.0,
              1e-4, 1e-5, 0.0001234, 1.5e-05, 123456789012345678.0, 5e-324, -5e-324, 1e-323,
              2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
              float("inf"), float("-inf"), float("nan"), -float("nan"), 1e22, 1e23, 2 ** 53,
              2 ** 53 + 2, 0.5, 1e100, 1.2345678901234567e-300, 4.35, 0.3, 2.675, 1e21, 1e-7,
              12345.678, 9.999999999999999e15, 1e300 * 10, 123e-20]:
        add("repr_float", struct.pack(">d", d))
    # load_float's parser (brief examples first)
    add("c_float", b"1e999", b"1e-999", b"+1.5", b" 1.5", b"1_0", b"nan(1)", b"Infinity", b".5", b"5.",
        b"0x10", b"", b"-", b"+", b".", b"e5", b"1e", b"1e+", b"1e-", b"1.5\x00junk", b"\x00",
        b"-0", b"-0.0e0", b"1e999x", b"-1e999", b"inf", b"-inf", b"+INF", b"nan", b"-nan", b"NAN",
        b"infinity", b"infinityx", b"infx", b"infinit", b"nanx", b"in", b"1.5 ", b"1.5\t", b"01",
        b"00.5", b"1e0000000000000000000000000001", b"1e-99999999999999999999999",
        b"0e99999999999999999", b"1" * 400 + b"e+", b"1" * 400 + b"e-", b"1" * 310,
        b"1" * 308, b"1.7976931348623157e308", b"1.7976931348623158e308",
        b"1.7976931348623159e308", b"2.4703282292062327e-324", b"2.4703282292062328e-324",
        b"4.9406564584124654e-324", b"1e-400", b"-1e-400", b"0." + b"0" * 400 + b"1e400",
        b"1" + b"0" * 1000 + b"e-1000", b"9" * 1000 + b"e-1000")
    # exact halfway points between adjacent doubles (round-half-even) and just above/below
    decimal.getcontext().prec = 2000
    rng = Rng(99)
    picks = [5e-324, 1e-320, 2.2250738585072014e-308, 1.0, 0.1, 1e22, 9007199254740992.0,
             1.7976931348623155e308, 123.456, 1e-300]
    for _ in range(6):
        picks.append(struct.unpack(">d", (rng.next() & ((1 << 63) - 1)).to_bytes(8, "big"))[0])
    for d in picks:
        if math.isinf(d) or math.isnan(d):
            continue
        nxt = math.nextafter(d, math.inf)
        mid = (decimal.Decimal(d) + decimal.Decimal(nxt)) / 2
        tiny = decimal.Decimal(10) ** (mid.adjusted() - 900)
        for v in (mid, mid + tiny, mid - tiny):
            add("c_float", format(v, "f").encode() if abs(v.adjusted()) < 40 else format(v, "e").encode())
    d0 = decimal.Decimal(5e-324) / 2  # halfway between 0 and the smallest denormal
    add("py_float", format(d0, "e"), format(d0 + decimal.Decimal(10) ** -1100, "e"))
    # float(str)
    add("py_float", " 1.5 ", "\t1.5\n", "1_0", "1_0.5_5e1_0", "_1", "1_", "1__0", "1._5", "1_.5",
        "1e_5", "1.5e5_", "", " ", "\x1c1.5", "1.5\x1c", "\u30001.5\u3000", "\xa01\x85",
        "\u0661\u0662.\u0665", "١_٢", "1_\u0662", "\uff11e\uff15", "1\x00", "nan", " -nan ",
        "-iNF", "infinity ", "1e999", "-1e999", "1e-999", "0x10", "1.5j", "\ud800", "1\ud800",
        "é", "1?", "+", "-.5", "5.", ".", "1 2")
    add("py_float_b", b" 1.5 ", b"1_0", b"\xa01", b"\xef\xbc\x91", b"1\x00", b"nan")
    # str(int) and digit counts
    for v in [0, 1, -1, 127, 128, -128, -129, 255, 256, 2 ** 31, -2 ** 31, 2 ** 63 - 1, -2 ** 63,
              2 ** 63, -2 ** 63 - 1, 2 ** 64, 10 ** 18, 10 ** 19, 10 ** 19 - 1, -10 ** 19,
              10 ** 20 - 1, 10 ** 20, 10 ** 38, 2 ** 127, -2 ** 127, 10 ** 50 + 1]:
        add("bigint", pickle.encode_long(v))
    add("bigint", b"\x00" * 12, b"\xff" * 12, b"\x01" + b"\x00" * 15, b"\x00" * 15 + b"\x80")
    for k in [100, 300, 1000, 4299, 4300, 4301]:
        for v in (10 ** k - 1, 10 ** k, -(10 ** k), -(10 ** k) + 1):
            add("bigint", pickle.encode_long(v))
    # strtol
    add("strtol", b"", b" ", b"0", b"-0", b"+7", b"  -12", b"0x", b"0x1g", b"0X1F", b"-0x10",
        b"010", b"08", b"0b1", b"1_0", b"9223372036854775807", b"9223372036854775808",
        b"-9223372036854775808", b"-9223372036854775809", b"99999999999999999999999x",
        b"0x8000000000000000", b"-0x8000000000000000", b"\x0b\x0c\r\n\t 5", b"\x1c5", b"+-5", b"- 5",
        b"12\x0034")
    # PyLong_FromString (C string) base 0 / 10
    for b in (0, 10):
        add("pylong:%d" % b, b"0", b"-0", b"+0", b"00", b"0_0", b"07", b"0_7", b"010", b"0x10",
            b"0X1f", b"0o17", b"0O17", b"0b101", b"0B1", b"0x", b"0x_", b"0x_1", b"0x__1",
            b"0x1_", b"1_000_000", b"1__0", b"_1", b"1_", b" 12 ", b"\t\n12\r\x0b\x0c",
            b"\x1c12", b"12\x1c", b"- 1", b"+-1", b"12\x00junk", b"\x00", b"", b" ",
            b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
            b"-9223372036854775809", b"123abc", b"0xfg", b"1e5", b"1.0", b"\xa012")
    for n in (640, 641, 4300, 4301):
        add("pylong:10", b"1" * n, b"0" * n)
        add("pylong:0", b"1" * n, b"0" * n, b"0x" + b"f" * n)
        add("pylong_nolimit:10", b"1" * n)
    add("pylong:10", b"1" * 5000 + b"x", b"1" * 5000 + b"__", b"1" * 5000 + b"_", b"_" + b"1" * 5000,
        b"-" + b"1" * 5000, b"1_" * 4301 + b"1", b"1_" * 4299 + b"1")
    add("pylong:0", b"0" + b"1" * 5000, b"0b" + b"1" * 20000)
    add("pylong_nolimit:10", b"7" * 20000, b"-" + b"9" * 12000)
    # int(str, base), int(bytes, base)
    for b in (0, 2, 8, 10, 16, 36):
        add("int_str:%d" % b, "0", "10", " -0b11 ", "0x1F", "0o17", "zz", "1_0", "\u0661\u0660",
            "\u3000 12 \u3000", "12\x00", "\uff11\uff12", "1\u00b2", "\x85 7")
    add("int_str:10", "1" * 5000 + "\xe9", "\u0661" * 4301, "1" * 4300)
    add("int_bytes:10", b"12", b" 12 ", b"12\x00", b"\xa012", b"1_2")
    # escape_decode
    add("escape_decode", b"", b"abc", b"\\", b"a\\", b"\\\\", b"\\'\\\"", b"\\a\\b\\f\\n\\r\\t\\v",
        b"\\0", b"\\00", b"\\000", b"\\0000", b"\\101", b"\\1011", b"\\8", b"\\9", b"\\400",
        b"\\777", b"\\x", b"\\x4", b"\\x41", b"\\x4g", b"ab\\x4g", b"\\xZZ", b"\\xaF", b"\\q",
        b"\\u1234", b"\\N{DASH}", b"a\\\nb", b"\\\r\n", b"\xff\\\xff", b"\\x41\\")
    # raw-unicode-escape
    add("rue_decode", b"", b"abc", b"\\", b"a\\", b"\\\\", b"\\x41", b"\\u0041", b"\\\\u0041",
        b"\\\\\\u0041", b"\\u004", b"\\u004g", b"\\U00000041", b"\\U0010ffff", b"\\U00110000",
        b"\\Uffffffff", b"\\U0000004", b"\\ud800\\udc00", b"\\U0001F600", b"\xe9\xff\x80",
        b"\\u00e9", b"\\uABCD", b"\\n", b"\\")
    add("rue_encode", "", "abc", "\\", "\x00\n\r\x1a", "\x1b\x7f\x80\xff", "\u0100", "\u20ac",
        "\ud800", "\U0001F600", "a\\u0041", "\t'\"")
    # UTF-8 validation
    add("utf8", b"", b"abc", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0", b"\xed\xa0\x41",
        b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf4\x90\x80\x80", b"\xf5",
        b"abcdefgh\x80", b"abcdefghijklmnopqrstuvwxyz\xff", b"\xe4\xb8\xad\xe6\x96\x87",
        b"\xe4\xb8", b"\xf0\x9f\x98\x80", b"\xf0\x9f\x98")
    add("latin1", b"", b"abc", bytes(range(256)))
    # the unpickler's text opcodes
    add("pk_int", b"12\x00zz", b"\x00", b"010", b"0x10", b"00", b"01", b"-0", b"+0", b"+01", b"02",
        b"0b1", b"1_0", b" 1_0 ", b"99999999999999999999", b"-99999999999999999999", b"0x",
        b"0x8000000000000000", b"010000000000000000000000", b"12L", b"", b" ", b"1" * 5000)
    add("pk_long", b"12", b"12L", b"12\x00zz", b"0x_1L", b"00L", b"07L", b"L", b"", b"-5L",
        b"1_000L", b"12LL", b" 12 L", b"1" * 4300 + b"L", b"1" * 4301 + b"L")
    add("pk_float", b"1e999", b"1e-999", b"+1.5", b" 1.5", b"1_0", b"nan(1)", b"Infinity", b".5",
        b"5.", b"0x10", b"1.5\x00zz", b"", b"-nan", b"1e999x")
    add("pk_string", b"''", b"'a'", b"\"a\"", b"'a\"", b"'", b"", b"a", b"'\\'", b"'\\x4'",
        b"'ab\\x4g'", b"'\\q'", b"'\\777'", b"'\\''", b"'''", b"\"'\"")
    add("pk_unicode", b"", b"\\u00e9\\\\u0041", b"\\U00110000", b"\\u12", b"\\", b"\\x", b"\xe9",
        b"\\ud800")
    return cases


def encode_input(inp):
    # Compress long runs of one repeated chunk: "HEX*COUNT" segments.
    if len(inp) <= 64:
        return inp.hex()
    segs = []
    i = 0
    while i < len(inp):
        best = None
        for w in (1, 2):
            chunk = inp[i:i + w]
            n = 1
            while inp[i + n * w:i + (n + 1) * w] == chunk:
                n += 1
            if n * w >= 16 and (best is None or n * w > best[0] * best[1]):
                best = (n, w)
        if best:
            n, w = best
            segs.append("%s*%d" % (inp[i:i + w].hex(), n))
            i += n * w
        else:
            j = i + 1
            while j < len(inp) and not (j + 16 <= len(inp) and len(set(inp[j:j + 16])) == 1):
                j += 1
            segs.append(inp[i:j].hex())
            i = j
    return ",".join(segs)


def decode_input(text):
    out = b""
    for seg in text.split(","):
        if "*" in seg:
            h, n = seg.split("*")
            out += bytes.fromhex(h) * int(n)
        else:
            out += bytes.fromhex(seg)
    return out


def write_cases(path):
    lines = ["# op\tinput\texpected  (see gen_vectors.py; generated, do not edit)"]
    for op, inp in explicit_cases():
        item = run_op(op, inp)
        enc = encode_input(inp)
        assert decode_input(enc) == inp
        exp = item.hex() if len(item) <= 200 else "#" + fnv_hex(item)
        lines.append("%s\t%s\t%s" % (op, enc, exp))
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines) - 1


def write_random(path):
    lines = ["# pseudo-random families (see gen_vectors.py; generated, do not edit)"]
    total = 0
    for fam in build_families():
        lines.append("family\t%s\t%s\t%s\t%d\t%d\t%d\t%d" % (fam["name"], fam["gen"], fam["op"],
                                                           fam["seed"], fam["count"], fam["batch"],
                                                           fam["param"]))
        if fam["gen"] == "pieces":
            for p in fam["pieces"]:
                lines.append("piece\t%s\t%s" % (fam["name"], p.hex()))
        if fam["gen"] == "codepoints":
            for lo, hi in fam["cpranges"]:
                lines.append("cprange\t%s\t%x\t%x" % (fam["name"], lo, hi))
        h = None
        for i, (inp, item) in enumerate(family_items(fam)):
            if i % fam["batch"] == 0:
                h = Fnv()
            h.item(inp)
            h.item(item)
            if i % fam["batch"] == fam["batch"] - 1 or i == fam["count"] - 1:
                lines.append("hash\t%s\t%d\t%016x" % (fam["name"], i // fam["batch"], h.h))
        total += fam["count"]
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    return total


def write_unicode(path):
    lines = ["# str.isprintable() ranges, str.isspace() code points, decimal digit runs (CPython %s,"
             " Unicode %s)" % (sys.version.split()[0], __import__("unicodedata").unidata_version)]
    import unicodedata
    start = None
    for c in range(0x110001):
        p = c < 0x110000 and chr(c).isprintable()
        if p and start is None:
            start = c
        elif not p and start is not None:
            lines.append("printable\t%x\t%x" % (start, c - 1))
            start = None
    for c in range(0x110000):
        if chr(c).isspace():
            lines.append("space\t%x" % c)
    for c in range(0x110000):
        if unicodedata.decimal(chr(c), -1) == 0:
            lines.append("decimal\t%x" % c)
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def dump(name, batch):
    for fam in build_families():
        if fam["name"] != name:
            continue
        for i, (inp, item) in enumerate(family_items(fam)):
            if i // fam["batch"] == batch:
                print("%d\t%r\t%r" % (i, inp, item))
        return
    sys.exit("no family " + name)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--dump":
        dump(sys.argv[2], int(sys.argv[3]))
        return
    n_cases = write_cases(os.path.join(HERE, "cases.tsv"))
    n_random = write_random(os.path.join(HERE, "random.tsv"))
    write_unicode(os.path.join(HERE, "unicode.tsv"))
    print("cases.tsv: %d explicit cases; random.tsv: %d generated items" % (n_cases, n_random))


if __name__ == "__main__":
    main()
