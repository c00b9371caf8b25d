#!/usr/bin/python3
"""Generate the test vectors of tests/test_dis.cpp from the real CPython's pickletools.

Run as:   PYTHONHASHSEED=0 /usr/bin/python3 tests/data/dis/gen_vectors.py
(CPython 3.11). Writes vectors.txt next to this script: for every case, the pickle bytes and
exactly what pickletools.dis(pickle, out) printed, plus the exception it raised, if any.

Cases:
  * values pickled by pickle.dumps at protocols 0-5 (the pure-Python pickler writes the same
    bytes): every builtin type, big ints, floats, str with escapes and non-BMP text,
    bytes, recursive and shared structures, instances (REDUCE/NEWOBJ/NEWOBJ_EX/BUILD),
    persistent ids, extension codes, out-of-band buffers, and a list of 262 strings so memo
    indices reach 256 (LONG_BINPUT / LONG_BINGET, at protocol 2);
  * hand-made pickles: every text opcode with odd but valid arguments (INT bools, PUT 00,
    quoted STRINGs with escapes, UNICODE escapes, FLOAT forms), INST/OBJ/DUP/POP/POP_MARK,
    several FRAMEs, nested MARKs;
  * hand-made malformed pickles: memo misuse, stack underflow, missing MARK, a MARK popped as
    an item (IndexError), truncated arguments of every kind, bad quoting and escapes, bad UTF-8,
    int digit limits, unknown opcodes, items left after STOP;
  * 170 deterministic random cases (odd text arguments, short random opcode sequences);
  * every pickle of ../shared/corpus/cpython-pickletester/{good,bad}.json.

File format (byte-exact; all counts are decimal):
  case <name>\n
  indent <n>\n                    pickletools' indentlevel
  in <hex>\n                      the pickle
  out <len>\n<len bytes>\n        UTF-8 text pickletools printed (before raising, if it raised)
  err <off> <len>\n<len bytes>\n  off = byte offset of the offending opcode; the bytes are
                                  "<ExceptionType>: <message>"; "err - 0" when none was raised
"""
import codecs
import collections
import copyreg
import datetime
import decimal
import io
import json
import os
import pickle
import pickletools
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', '..', '..', '..', 'shared', 'corpus', 'cpython-pickletester')

assert sys.version_info[:2] == (3, 11), sys.version


class _Pos(io.BytesIO):
    """BytesIO that remembers the last tell(): genops calls it once per opcode."""
    last = 0

    def tell(self):
        self.last = super().tell()
        return self.last


def run_dis(data, indent=4):
    f = _Pos(data)
    out = io.StringIO()
    err = None
    try:
        pickletools.dis(f, out, None, indent)
    except Exception as e:  # record what pickletools raised
        err = (f.last, '%s: %s' % (type(e).__name__, e))
    return out.getvalue(), err


cases = []
seen = set()


def add(name, data, indent=4):
    assert '\n' not in name
    key = (bytes(data), indent)
    if key in seen:
        return
    seen.add(key)
    cases.append((name, bytes(data), indent))


# ---------------------------------------------------------------------------------------------
# values

class Plain:
    def __init__(self):
        self.a = 1
        self.b = [2, 3]


class Slots:
    __slots__ = ('x', 'y')

    def __init__(self):
        self.x = 1
        self.y = 'two'


class KwNew:
    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, a, *, b):
        self.a = a
        self.b = b

    def __getnewargs_ex__(self):
        return (self.a,), {'b': self.b}


class Ext1:
    pass


class Ext2:
    pass


class Ext4:
    pass


copyreg.add_extension(__name__, 'Ext1', 0x41)
copyreg.add_extension(__name__, 'Ext2', 0x1234)
copyreg.add_extension(__name__, 'Ext4', 0x12345678)

Point = collections.namedtuple('Point', 'x y')

rec_list = []
rec_list.append(rec_list)
rec_dict = {}
rec_dict['self'] = rec_dict
rec_tuple = ([],)
rec_tuple[0].append(rec_tuple)
shared = [1, 2]

VALUES = [
    ('none', None), ('true', True), ('false', False),
    ('ints', [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, -2**31 - 1,
              2**63, -2**63 - 1, 10**20, -(10**50)]),
    ('int_2e2000', 2**2000, (0, 2)), ('int_neg_2e3000', -2**3000, (1, 3)),
    ('floats', [0.0, -0.0, 1.5, -2.25, 1e16, 1e-5, 1e300, 5e-324, float('inf'),
                float('-inf'), float('nan'), 0.1, 123456789.123, 1e22]),
    ('strs', ['', 'abc', "it's", 'say "hi"', 'both \' and "', 'tab\tnl\nbs\\ cr\r',
              '\x00\x07\x1f\x7f', '\x80\x9f\xa0\xad\xe9\xff', 'ü€\u2028\u0378\ufeff',
              '\ud800', '\udfff x', '😀\U0010ffff\U000e0001', 'a' * 300, '\\u0041 \\x41']),
    ('bytes', [b'', b'abc', b'\x00\xff\x7f\x80', b"'", b'"\'', b'\\\t\n\r', bytes(range(0, 256, 3)),
               b'z' * 300]),
    ('bytearray', bytearray(b'ba\x00\xff')),
    ('tuples', [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((), ((),))]),
    ('containers', [[], [1], {}, {'a': 1, 2: 'b'}, set(), {1, 2, 3}, frozenset(),
                    frozenset({'x'})]),
    ('nested', [[[[[[['deep']]]]]], {'k': [(1, {2: {3}})]}]),
    ('recursive_list', rec_list), ('recursive_dict', rec_dict), ('recursive_tuple', rec_tuple),
    ('shared', [shared, shared, (shared, shared)]),
    ('slots', Slots()),
    ('objects', [Plain(), Point(1, 2), complex(1, -2),
                 datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(1999, 12, 31),
                 decimal.Decimal('1.5'), collections.OrderedDict(a=1), range(1, 10, 2),
                 slice(1, None, 2), Ellipsis, NotImplemented, type(None), len, KwNew(1, b=2)]),
    ('ext', [Ext1, Ext2, Ext4]),
    ('memo260', [('%x' % i) for i in range(260)] + ['103', '0'], (2,)),
]


class PersPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, str) and obj.startswith('pid:'):
            return obj[4:]
        if isinstance(obj, int) and obj == 4242:
            return ('tuple', 1)
        return None


for name, value, *protos in VALUES:
    for proto in (protos[0] if protos else range(6)):
        try:
            add('%s/p%d' % (name, proto), pickle.dumps(value, proto))
        except (TypeError, pickle.PicklingError):
            pass  # e.g. __slots__ without __getstate__ below protocol 2

for proto in range(6):
    buf = io.BytesIO()
    PersPickler(buf, proto).dump(['pid:abc', 4242, 'plain'])
    add('persid/p%d' % proto, buf.getvalue())

# protocol 5 out-of-band buffers
for ro in (False, True):
    data = bytearray(b'oob') if not ro else b'oob'
    pb = pickle.PickleBuffer(data)
    add('oob/readonly=%s' % ro, pickle.dumps([pb], 5, buffer_callback=lambda b: None))
    add('inband/readonly=%s' % ro, pickle.dumps([pb], 5))

# ---------------------------------------------------------------------------------------------
# hand-made pickles (valid for pickletools, whatever the unpickler thinks)

def frame(body):
    return b'\x95' + struct.pack('<Q', len(body)) + body


HAND = [
    ('int_bools', b'(I00\nI01\nI1\nI-0\nI+5\nI 12 \nI1_000\nI007\nl.'),
    ('long_text', b'(L123L\nL-5\nL' + b'9' * 40 + b'L\nL0\nl.'),
    ('float_text', b'(F1.5\nF-0.0\nF1e999\nF-1e999\nFnan\nF-inf\nFinfinity\nF 2.5 \nF1_0.5\nF.5\nF5.\nl.'),
    ('string_quotes', b"(S'abc'\nS\"abc\"\nS'it\\'s'\nS\"q'q\"\nS''\nS'\nS\"\nl."),
    ('string_escapes', b"(S'a\\n\\t\\\\b\\x00c\\x7f'\nS'\\101\\0\\777'\nS'\\q\\u1234'\nS'\\\n'\nl."),
    ('unicode_text', b'(Vabc\nV\\u00e9\\U0001F600\nV\xe9\xff\nV\\\\u0041\nV\\x41\nVa\\\nV\\u20ac\\ud800\nl.'),
    ('global_text', b'(cmod\nname\nc\\x41\nB\\n\nc__builtin__\nset\nl.'),
    ('persid_text', b'Pabc\\x41\n.'),
    ('inst', b'(i__main__\nPlain\n.'),
    ('inst_args', b'(K\x01K\x02i__main__\nPlain\n.'),
    ('obj', b'(c__main__\nPlain\nK\x01o.'),
    ('dup_pop', b'N2000N.'),
    ('pop_mark', b'N(NNN1.'),
    ('pop_mark_item', b'N(0.'),
    ('put_get_text', b'Np0\n0g0\np00\n0g00\n0g0\n.'),
    ('put_get_bool', b'Np01\n0g1\n.'),
    ('put_get_big', b'Np99999999999999999999999\n0g99999999999999999999999\n.'),
    ('put_get_neg', b'Np-1\n0g-1\n.'),
    ('long_binput', b'\x80\x02Nr\x00\x01\x00\x000j\x00\x01\x00\x00.'),
    ('memoize_after_put', b'\x80\x04Nq\x00\x94\x94.'),
    ('frames', b'\x80\x04' + frame(b']\x94(K\x01K\x02') + frame(b'e.')),
    ('proto9', b'\x80\x09N.'),
    ('proto0_with_proto4_op', b'\x8f.'),
    ('deep_marks', b'(' * 12 + b'N' + b't' * 12 + b'.'),
    ('trailing_data', b'N.garbage'),
    ('empty_args', b'(U\x00T\x00\x00\x00\x00C\x00B\x00\x00\x00\x00\x8e' + b'\x00' * 8 +
     b'\x96' + b'\x00' * 8 + b'\x8c\x00X\x00\x00\x00\x00\x8d' + b'\x00' * 8 + b'\x8a\x00\x8b\x00\x00\x00\x00l.'),
    ('long_nonminimal', b'(\x8a\x03\x01\x00\x00\x8a\x02\xff\xff\x8a\x01\x80\x8b\x04\x00\x00\x00\xff\xff\xff\x7fl.'),
    ('binstring_latin1', b'(U\x03\xe9\xa0\xadT\x02\x00\x00\x00\x00\xffl.'),
    ('ints_binary', b'(K\xffM\xff\xffJ\xff\xff\xff\xffJ\x00\x00\x00\x80l.'),
    ('ext_codes', b'\x80\x02(\x82\x01\x83\xff\xff\x84\xff\xff\xff\xffl.'),
    ('surrogates_utf8', b'\x8c\x06\xed\xa0\x80\xed\xbf\xbf.'),
    ('stack_global', b'\x80\x04\x8c\x01a\x8c\x01b\x93.'),
    ('newobj_ex', b'\x80\x04N)}\x92.'),
    ('next_buffer', b'\x80\x05\x97\x98.'),
    # repr(bytearray) escapes ' even between double quotes, unlike repr(bytes)
    ('bytearray_quotes', b'(' + b''.join(b'\x96' + struct.pack('<Q', len(x)) + x for x in
                                          (b"'", b'\'"', b'"', b'\\\'\t', b'\x00\x7f\x80')) + b'l.'),
]
for name, data in HAND:
    add('hand/' + name, data)

# int digit limits: 4300 digits print, 4301 raise (at parse for text, at repr for LONG4)
add('limit/int_4300', b'I' + b'9' * 4300 + b'\n.')
add('limit/int_4301', b'I' + b'9' * 4301 + b'\n.')
add('limit/int_4301_junk', b'I' + b'1' * 4301 + b'x\n.')
add('limit/long_4301_leading_zeros', b'L' + b'0' * 4301 + b'L\n.')


def long4(v):
    body = pickle.encode_long(v)
    return b'\x8b' + struct.pack('<i', len(body)) + body


add('limit/long4_4300', long4(10**4300 - 1) + b'.')
add('limit/long4_neg_4300', long4(-(10**4300 - 1)) + b'.')
add('limit/long4_4301', long4(10**4300) + b'.')
add('limit/long4_big', b'(' + long4(7**6000) + b'.')
add('limit/long4_redundant_sign', b'\x8b' + struct.pack('<i', 2000) + b'\x05' + b'\x00' * 1999 + b'.')

# indentlevel
add('indent/0', pickle.dumps([[1, [2]], (3, 4)], 1), 0)
add('indent/2', pickle.dumps([[1, [2]], (3, 4)], 1), 2)
add('indent/7', pickle.dumps({'a': [1, {2: 3}]}, 0), 7)

# ---------------------------------------------------------------------------------------------
# malformed pickles

BAD = [
    ('empty', b''),
    ('proto_only', b'\x80\x02'),
    ('no_stop', b'N'),
    ('unknown_ff', b'\xff'), ('unknown_00', b'N\x00'), ('unknown_quote', b"'"),
    ('unknown_dquote', b'"'), ('unknown_backslash', b'\\'), ('unknown_A', b'A'),
    ('memo_never', b'\x80\x02h\x03.'), ('memo_never_long', b'j\x00\x01\x00\x00.'),
    ('memo_never_text', b'g7\n.'), ('memo_never_bool', b'g01\n.'),
    ('memo_twice', b'Nq\x01q\x01.'), ('memo_twice_text', b'Np1\np01\n.'),
    ('put_empty', b'q\x00N.'), ('put_mark', b'(q\x00.'), ('memoize_empty', b'\x94.'),
    ('memoize_mark', b'(\x94.'), ('memoize_defined', b'Nq\x01\x94\x94.'),
    ('append_empty', b'a.'), ('stop_empty', b'.'), ('tuple2_short', b'N\x86.'),
    ('setitem_short', b'}Ns.'), ('reduce_short', b'NR.'), ('build_short', b'b.'),
    ('tuple_no_mark', b'Nt.'), ('appends_no_mark', b']e.'), ('pop_mark_no_mark', b'1.'),
    ('dict_no_mark', b'd.'), ('inst_no_mark', b'ia\nb\n.'), ('obj_no_mark', b'o.'),
    ('frozenset_no_mark', b'\x91.'), ('additems_no_mark', b'\x8f\x90.'),
    ('mark_popped_tuple1', b'(\x85t.'), ('mark_popped_append', b'](a(t.'),
    ('appends_mark_no_list', b'(e.'),
    ('extra_after_stop', b'NN.'), ('extra_mark_after_stop', b'(N.'),
    ('extra_many', b'](}N\x88G\x00\x00\x00\x00\x00\x00\x00\x00.'),
    ('stack_global_short', b'\x8c\x01a\x93.'),
    # truncated arguments
    ('trunc_uint1', b'K'), ('trunc_uint2', b'M\x01'), ('trunc_int4', b'J\x01\x02'),
    ('trunc_uint4', b'j\x01'), ('trunc_uint8', b'\x95\x01'), ('trunc_float8', b'G\x00'),
    ('trunc_long1_len', b'\x8a'), ('trunc_long1', b'\x8a\x05\x01'),
    ('trunc_long4', b'\x8b\x05\x00\x00\x00'), ('neg_long4', b'\x8b\xff\xff\xff\xff'),
    ('trunc_string1', b'U\x05ab'), ('trunc_string4', b'T\x05\x00\x00\x00ab'),
    ('neg_string4', b'T\xff\xff\xff\xff'), ('trunc_bytes1', b'C\x05a'),
    ('trunc_bytes4', b'B\x05\x00\x00\x00a'), ('huge_bytes4', b'B\xff\xff\xff\xff.'),
    ('huge_bytes8', b'\x8e' + struct.pack('<Q', 2**62) + b'abc'),
    ('maxsize_bytes8', b'\x8e' + struct.pack('<Q', 2**63) + b'abc'),
    ('maxsize_bytearray8', b'\x96' + struct.pack('<Q', 2**64 - 1)),
    ('trunc_bytearray8', b'\x96' + struct.pack('<Q', 10) + b'abc'),
    ('trunc_unicode1', b'\x8c\x05ab'), ('trunc_unicode4', b'X\x05\x00\x00\x00'),
    ('huge_unicode8', b'\x8d' + struct.pack('<Q', 2**40)),
    ('maxsize_unicode8', b'\x8d' + struct.pack('<Q', 2**63 + 5)),
    ('nonl_int', b'I12'), ('nonl_long', b'L12L'), ('nonl_float', b'F1.5'),
    ('nonl_string', b"S'abc'"), ('nonl_unicode', b'Vabc'), ('nonl_global1', b'cmod'),
    ('nonl_global2', b'cmod\nname'), ('nonl_persid', b'Pabc'), ('nonl_get', b'g1'),
    ('nonl_put', b'Np1'), ('nonl_inst', b'(ia\nb'),
    # bad text arguments
    ('int_bad', b'Iabc\n.'), ('int_L', b'I1L\n.'), ('int_hex', b'I0x10\n.'),
    ('int_nul', b'I12\x00\n.'), ('int_empty', b'I\n.'), ('int_long_junk', b'I' + b'x' * 300 + b'\n.'),
    ('int_long_junk_escapes', b'I' + b'\xff' * 120 + b'\n.'), ('int_dunder', b'I1__0\n.'),
    ('long_LL', b'L12LL\n.'), ('long_empty', b'L\n.'), ('long_L_only', b'LL\n.'),
    ('float_bad', b'Fabc\n.'), ('float_empty', b'F\n.'), ('float_nul', b'F1.5\x00\n.'),
    ('float_hex', b'F0x1p3\n.'), ('float_quote', b"F1'\"\n."),
    ('string_noquotes', b'Sabc\n.'), ('string_empty', b'S\n.'), ('string_open_sq', b"S'abc\n."),
    ('string_open_dq', b'S"abc\'\n.'), ('string_cr', b"S'abc'\r\n."),
    ('string_trailing_bs', b"S'abc\\'\n."), ('string_bad_x', b"S'\\x4'\n."),
    ('string_bad_x2', b"S'ab\\xzz'\n."), ('string_nonascii', b"S'\xe9'\n."),
    ('string_nonascii_escaped', b"S'ab\\xe9'\n."), ('persid_nonascii', b'P\x80\n.'),
    ('persid_trailing_bs', b'Pab\\\n.'), ('global_bad_x', b'cmod\nna\\x\n.'),
    ('global_nonascii', b'cm\xc3\xa9\nx\n.'),
    ('unicode_trunc_u', b'V\\u12\n.'), ('unicode_trunc_u_nonhex', b'Vab\\u12x4\n.'),
    ('unicode_trunc_U', b'V\\U0011\n.'), ('unicode_U_range', b'V\\U00110000\n.'),
    ('unicode_u_end', b'V\\u\n.'),
    # bad UTF-8
    ('utf8_start', b'\x8c\x01\x80.'), ('utf8_c0', b'\x8c\x02\xc0\x80.'),
    ('utf8_surrogate_trunc', b'\x8c\x02\xed\xa0.'), ('utf8_surrogate_bad3', b'\x8c\x03\xed\xa0A.'),
    ('utf8_end2', b'\x8c\x02\xe4\xb8.'), ('utf8_cont3', b'\x8c\x03\xe4\xb8A.'),
    ('utf8_end3', b'\x8c\x03\xf0\x90\x80.'), ('utf8_cont4', b'\x8c\x04\xf0\x90\x80A.'),
    ('utf8_f5', b'\x8c\x01\xf5.'), ('utf8_f4_90', b'\x8c\x04\xf4\x90\x80\x80.'),
    ('utf8_e0_80', b'\x8c\x03\xe0\x80\x80.'), ('utf8_e0_end', b'\x8c\x02\xe0\x80.'),
    ('utf8_f0_end', b'\x8c\x01\xf0.'), ('utf8_later', b'X\x06\x00\x00\x00abc\xe9\x80\x00.'),
    ('utf8_after_surrogate', b'\x8d\x05\x00\x00\x00\x00\x00\x00\x00\xed\xb0\x80\xc3(.'),
]
for name, data in BAD:
    add('bad/' + name, data)

# ---------------------------------------------------------------------------------------------
# a few deterministic random cases: odd text arguments and short random opcode sequences

rng = random.Random(20240611)
ALPHA = [b'0', b'1', b'5', b'8', b'_', b'+', b'-', b'.', b'e', b'x', b'L', b' ', b'\t', b'\x0b',
         b'\r', b'\x00', b'i', b'n', b'f', b'a', b"'", b'"', b'\\', b'u', b'U', b'\x80', b'\xe9', b'\xc3']


def rand_line():
    body = b''.join(rng.choice(ALPHA) for _ in range(rng.choice([0, 1, 2, 3, 5, 8])))
    q = rng.choice([b"'", b'"', b''])
    return q + body + (q if rng.random() < 0.9 else b'')


for i in range(100):
    op = rng.choice([b'I', b'L', b'F', b'S', b'V', b'P', b'c', b'g', b'p'])
    data = op + rand_line() + b'\n'
    if op == b'c':
        data += rand_line() + b'\n'
    if op == b'p':
        data = b'N' + data
    add('random/text/%d' % i, data + b'.')

SMALL_ARGS = {'uint1': lambda: bytes([rng.choice([0, 1, 2, 255])]),
              'uint2': lambda: struct.pack('<H', rng.choice([0, 1, 65535])),
              'int4': lambda: struct.pack('<i', rng.choice([0, 1, -1, 3])),
              'uint4': lambda: struct.pack('<I', rng.choice([0, 1, 2, 300])),
              'uint8': lambda: struct.pack('<Q', rng.choice([0, 1, 2**64 - 1])),
              'float8': lambda: struct.pack('>d', rng.choice([0.5, -0.0, 1e300]))}
for i in range(70):
    data = b''
    for _ in range(rng.randint(1, 8)):
        op = rng.choice(pickletools.opcodes)
        if op.name == 'STOP':
            continue
        data += op.code.encode('latin-1')
        if op.arg is None:
            pass
        elif op.arg.name in SMALL_ARGS:
            data += SMALL_ARGS[op.arg.name]()
        elif op.arg.n == pickletools.UP_TO_NEWLINE:
            data += rand_line() + b'\n'
            if op.arg.name == 'stringnl_noescape_pair':
                data += rand_line() + b'\n'
        else:
            body = bytes(rng.choice(b'A\'"\\\x80\xc3\xa9\xed\xa0\x00') for _ in range(rng.randint(0, 3)))
            width = {pickletools.TAKEN_FROM_ARGUMENT1: 1, pickletools.TAKEN_FROM_ARGUMENT4: 4,
                     pickletools.TAKEN_FROM_ARGUMENT4U: 4, pickletools.TAKEN_FROM_ARGUMENT8U: 8}[op.arg.n]
            data += len(body).to_bytes(width, 'little') + body
    add('random/ops/%d' % i, data + b'.')

# ---------------------------------------------------------------------------------------------
# CPython's pickletester pickles

for fname in ('good.json', 'bad.json'):
    with open(os.path.join(CORPUS, fname)) as f:
        entries = json.load(f)
    for i, e in enumerate(entries):
        add('pickletester/%s/%d/%s' % (fname[:-5], i, e['name']), bytes.fromhex(e['hex']))

# ---------------------------------------------------------------------------------------------

def main():
    path = os.path.join(HERE, 'vectors.txt')
    with open(path, 'wb') as f:
        for name, data, indent in cases:
            text, err = run_dis(data, indent)
            t = text.encode('utf-8')
            f.write(b'case %s\nindent %d\nin %s\nout %d\n' % (name.encode(), indent, data.hex().encode(), len(t)))
            f.write(t + b'\n')
            if err is None:
                f.write(b'err - 0\n\n')
            else:
                m = err[1].encode('utf-8')
                f.write(b'err %d %d\n' % (err[0], len(m)) + m + b'\n')
    print('%d cases, %d bytes -> %s' % (len(cases), os.path.getsize(path), path))


main()
