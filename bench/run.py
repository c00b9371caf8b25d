#!/usr/bin/python3
"""Speed benchmark of brine against CPython's pickle.loads and pickle.dumps (issue "Read any
Python pickle" §7; issue #3 part 4 for writing).

Run with the system CPython (it must have the C accelerator, _pickle):

    /usr/bin/python3 bench/run.py --build build/bench

It builds the payloads at run time with this CPython (pickle.dumps, protocols 4 and 5), writes
them to a temporary directory, times pickle.loads on each in this process, runs the C++ harness
(bench/brine_bench.cpp) on the same files, checks that both sides built the same value graph,
measures peak memory of each side in fresh processes, and prints the loads table. Then, per
payload, it times pickle.dumps(obj, 4) on the object CPython loaded and brine::dumps on the
document brine loaded (brine's bytes must be CPython's), and brine's typed encoding of a
std::vector of structs against pickle.dumps of the equivalent list of dicts, and prints the
dumps tables. See bench/README.md for what exactly is measured.
"""
import argparse
import gc
import json
import math
import os
import pickle
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time

MASK64 = (1 << 64) - 1

# ---------------------------------------------------------------------------------------------
# Payloads (deterministic: fixed seeds)
# ---------------------------------------------------------------------------------------------

# pyperformance's bm_pickle data (Collin Winter's "real world-representative objects").
def _pyperf_objects():
    import datetime
    DICT = {
        'ads_flags': 0, 'age': 18, 'birthday': datetime.date(1980, 5, 7),
        'bulletin_count': 0, 'comment_count': 0, 'country': 'BR',
        'encrypted_id': 'G9urXXAJwjE', 'favorite_count': 9, 'first_name': '',
        'flags': 412317970704, 'friend_count': 0, 'gender': 'm',
        'gender_for_display': 'Male', 'id': 302935349,
        'is_custom_profile_icon': 0, 'last_name': '', 'locale_preference': 'pt_BR',
        'member': 0, 'tags': ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
        'profile_foo_id': 827119638, 'secure_encrypted_id': 'Z_xxx2dYx3t4YAdnmfgyKw',
        'session_number': 2, 'signup_id': '201-19225-223', 'status': 'A', 'theme': 1,
        'time_created': 1225237014, 'time_updated': 1233134493,
        'unread_message_count': 0, 'user_group': '0', 'username': 'collinwinter',
        'play_count': 9, 'view_count': 7, 'zip': ''}
    TUPLE = ([265867233, 265868503, 265252341, 265243910, 265879514,
              266219766, 266021701, 265843726, 265592821, 265246784,
              265853180, 45526486, 265463699, 265848143, 265863062,
              265392591, 265877490, 265823665, 265828884, 265753032], 60)

    def mutate_dict(orig, rs):  # as pyperformance: every value becomes str(random float)
        new = dict(orig)
        for key in new:
            new[key] = type(key)(rs.random() * sys.maxsize)
        return new

    return DICT, TUPLE, mutate_dict


def make_pyperf_small():
    """pyperformance's DICT, exactly: one small pickle (per-call overhead dominates)."""
    DICT, _, _ = _pyperf_objects()
    return DICT


def make_pyperf_mixed():
    """pyperformance-style mixed dict/list data, scaled up: 3000 entries, each a DICT with
    fresh values of the same types, a TUPLE with fresh ints, and a DICT_GROUP of 3 mutated
    DICTs (all-str values, as pyperformance's mutate_dict makes them). Keys are the literal's
    str objects, shared by every dict, as in real code (so the pickle memoizes them)."""
    DICT, TUPLE, mutate_dict = _pyperf_objects()
    rng = random.Random(5)
    out = []
    for _ in range(3000):
        d = {}
        for k, v in DICT.items():
            if type(v) is int:
                v = rng.randrange(0, 1 << rng.choice((7, 15, 31, 40)))
            elif type(v) is str and v:
                v = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_0123456789')
                            for _ in range(len(v)))
            elif type(v) is list:
                v = list(v)
            d[k] = v
        t = ([rng.randrange(10**7, 3 * 10**8) for _ in TUPLE[0]], TUPLE[1])
        group = [mutate_dict(DICT, rng) for _ in range(3)]
        out.append([d, t, group])
    return out


def make_ints():
    """1M ints of mixed sizes: BININT1 (0..255), BININT2 (256..65535), BININT (other 32-bit
    signed values) and LONG1 (beyond 32 bits) in equal shares, shuffled."""
    rng = random.Random(1)
    out = []
    for _ in range(1_000_000):
        c = rng.randrange(4)
        if c == 0:
            v = rng.randrange(256)
        elif c == 1:
            v = rng.randrange(256, 65536)
        elif c == 2:
            v = rng.randrange(-(1 << 31), 1 << 31)
            if 0 <= v < 65536:
                v = -v - 1
        else:
            v = rng.randrange(1 << 31, 1 << 62) * rng.choice((1, -1))
        out.append(v)
    return out


def make_floats():
    """1M floats (BINFLOAT) of varied magnitudes and signs."""
    rng = random.Random(2)
    return [rng.uniform(-1.0, 1.0) * 10.0 ** rng.randrange(-8, 12) for _ in range(1_000_000)]


def make_strings():
    """200k distinct short strs (3-20 chars; about 5% contain non-ASCII characters)."""
    rng = random.Random(3)
    ascii_chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. '
    extra = 'éüßñøçå€中文ж'
    out = []
    for i in range(200_000):
        n = rng.randrange(3, 21)
        s = ''.join(rng.choice(ascii_chars) for _ in range(n))
        if rng.random() < 0.05:
            p = rng.randrange(n)
            s = s[:p] + rng.choice(extra) + s[p + 1:]
        out.append(s)
    return out


def make_records():
    """100k JSON-like records: dicts of 8 str keys (the same key objects in every record, as
    literal keys are in real code) with int, float, str, bool, None and list values."""
    rng = random.Random(4)
    tags = ('alpha', 'beta', 'gamma', 'delta', 'prod', 'dev', 'eu', 'us')
    out = []
    for i in range(100_000):
        out.append({
            'id': i,
            'name': 'user%d' % i,
            'email': 'user%d@example.com' % rng.randrange(10**6),
            'score': rng.random() * 100.0,
            'active': rng.random() < 0.5,
            'tags': [rng.choice(tags) for _ in range(rng.randrange(4))],
            'parent': None if rng.random() < 0.3 else rng.randrange(i + 1),
            'balance': rng.randrange(-10**6, 10**9),
        })
    return out


def make_bytes():
    """One 50 MB bytes object (BINBYTES)."""
    return random.Random(6).randbytes(50 * 1024 * 1024)


def make_typed():
    """The typed-encoding payload: 100k dicts with the fields of brine_bench.cpp's Record (int64
    id, str name, float score, bool active, list of int tags, str-or-None note, int count, float
    weight), literal (shared) keys in the struct's field order."""
    rng = random.Random(7)
    words = ('ok', 'late', 'refund', 'vip', 'check address', 'gift', 'fragile', 'élan')
    out = []
    for i in range(100_000):
        out.append({
            'id': i * 7919 + 13,
            'name': 'item-%05d-%s' % (i, rng.choice(words)),
            'score': rng.random() * 1000.0,
            'active': rng.random() < 0.7,
            'tags': [rng.randrange(-1000, 1 << rng.choice((7, 15, 31, 40))) for _ in range(rng.randrange(6))],
            'note': None if rng.random() < 0.6 else rng.choice(words) + ' %d' % rng.randrange(100),
            'count': rng.randrange(0, 1 << 20),
            'weight': rng.uniform(0.0, 50.0),
        })
    return out


TYPED = 'typed_100k'

PAYLOADS = [
    # name, builder, description for the README
    ('pyperf_mixed', make_pyperf_mixed, 'pyperformance-style dict/list mix, 3000 entries'),
    ('ints_1M', make_ints, '1M ints, mixed sizes'),
    ('floats_1M', make_floats, '1M floats'),
    ('strs_200k', make_strings, '200k short strs'),
    ('records_100k', make_records, '100k JSON-like records'),
    ('bytes_50MB', make_bytes, 'one 50 MB bytes'),
    ('pyperf_DICT', make_pyperf_small, "pyperformance's DICT alone (1 small pickle)"),
]

# ---------------------------------------------------------------------------------------------
# Graph signature (the same walk as bench/brine_bench.cpp)
# ---------------------------------------------------------------------------------------------

def signature(root):
    c = dict(none=0, bool=0, int=0, int_sum=0, float=0, float_xor=0, str=0, str_bytes=0,
             bytes=0, bytes_len=0, list=0, tuple=0, dict=0, seq_items=0, dict_items=0, other=0)
    stack = [root]
    pack, unpack = struct.pack, struct.unpack
    while stack:
        v = stack.pop()
        t = type(v)
        if v is None:
            c['none'] += 1
        elif t is bool:
            c['bool'] += 1
        elif t is int:
            c['int'] += 1
            if -(1 << 63) <= v < (1 << 63):
                c['int_sum'] = (c['int_sum'] + v) & MASK64
        elif t is float:
            c['float'] += 1
            c['float_xor'] ^= unpack('<Q', pack('<d', v))[0]
        elif t is str:
            c['str'] += 1
            c['str_bytes'] += len(v.encode('utf-8', 'surrogatepass'))
        elif t is bytes:
            c['bytes'] += 1
            c['bytes_len'] += len(v)
        elif t is list or t is tuple:
            c['list' if t is list else 'tuple'] += 1
            c['seq_items'] += len(v)
            stack.extend(v)
        elif t is dict:
            c['dict'] += 1
            c['dict_items'] += len(v)
            for k, x in v.items():
                stack.append(k)
                stack.append(x)
        else:
            c['other'] += 1
    return ' '.join('%s=%s' % (k, ('%016x' % v) if k == 'float_xor' else v) for k, v in c.items())

# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------

def time_cpython(data, min_time, min_reps, max_reps, keep_gc, fn=pickle.loads):
    """Same scheme as brine_bench's measure(): a warm-up load sizes `number` (loads per sample,
    so that a sample lasts >= 1 ms); results are freed only after the clock stops. `fn` is
    pickle.loads (data: bytes) or pickle.dumps (data: the object; called with one argument, i.e.
    protocol=None, which is DEFAULT_PROTOCOL = 4: the same C path as pickle.dumps(obj, 4)
    without a second argument to pass)."""
    loads = fn
    clock = time.perf_counter
    gc_was_enabled = gc.isenabled()
    if not keep_gc:
        gc.disable()
    try:
        t0 = clock()
        r = loads(data)
        once = clock() - t0
        del r
        number = 1 if once >= 1e-3 else math.ceil(1e-3 / max(once, 1e-8))
        # with several loads per sample, a sample's results are freed after the next sample
        # (as brine_bench does: freeing a whole batch at once can let malloc trim the heap,
        # and the next sample then page-faults it in again)
        keeps = ([None] * number, [None] * number)
        rng = range(number)
        samples = []
        total = 0.0
        faults = 0
        while (total < min_time or len(samples) < min_reps) and len(samples) < max_reps:
            f0 = minflt()
            if number == 1:
                t0 = clock()
                r = loads(data)
                t1 = clock()
                del r
            else:
                keep, older = keeps[len(samples) % 2], keeps[1 - len(samples) % 2]
                t0 = clock()
                for i in rng:
                    keep[i] = loads(data)
                t1 = clock()
                for i in rng:
                    older[i] = None
            faults += minflt() - f0
            total += t1 - t0
            samples.append((t1 - t0) / number)
        samples.sort()
        n = len(samples)
        median = samples[n // 2] if n % 2 else (samples[n // 2 - 1] + samples[n // 2]) / 2
        return {'median_ms': median * 1e3, 'min_ms': samples[0] * 1e3, 'reps': n, 'number': number,
                'faults': faults / (n * number)}
    finally:
        if gc_was_enabled:
            gc.enable()


def minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def proc_status_kb(field):
    """A kB field of /proc/self/status (VmHWM, VmRSS)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError('no %s in /proc/self/status' % field)


def vm_hwm_kb():
    """Peak RSS of this process's address space (VmHWM). Not ru_maxrss: Linux carries the
    parent's peak over fork+exec into a child's ru_maxrss, VmHWM starts afresh with exec."""
    return proc_status_kb('VmHWM')


def peak_child(path):
    """Fresh process: peak RSS after reading the file and loading it, minus the peak before."""
    base = vm_hwm_kb()
    with open(path, 'rb') as f:
        data = f.read()
    r = pickle.loads(data)
    peak = vm_hwm_kb()
    print(json.dumps({'base_kb': base, 'peak_kb': peak, 'input_bytes': len(data),
                      'objects': len(r) if hasattr(r, '__len__') else 1}))


def reset_peak_rss():
    """VmHWM := VmRSS (Linux >= 4.0), to measure the peak of the dump after the load."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def vm_rss_kb():
    return proc_status_kb('VmRSS')


def peak_dump_child(path):
    """Fresh process: load the file (untimed), then the growth of the peak RSS during one
    pickle.dumps(obj, 4) (output + transients)."""
    with open(path, 'rb') as f:
        data = f.read()
    r = pickle.loads(data)
    del data
    gc.collect()
    reset_peak_rss()
    base = vm_rss_kb()
    out = pickle.dumps(r, 4)
    peak = vm_hwm_kb()
    print(json.dumps({'base_kb': base, 'peak_kb': peak, 'output_bytes': len(out)}))


def tracemalloc_child(path):
    """Fresh process: tracemalloc's peak of reading the file plus loading it."""
    import tracemalloc
    tracemalloc.start()
    with open(path, 'rb') as f:
        data = f.read()
    r = pickle.loads(data)
    peak = tracemalloc.get_traced_memory()[1]
    del r, data
    print(json.dumps({'peak_bytes': peak}))


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def find_harness(build):
    for cand in (build, os.path.join(build, 'bench', 'brine_bench'), os.path.join(build, 'brine_bench')):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    sys.exit('brine_bench not found under %r: build it first (see bench/README.md)' % build)

# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default='build/bench', help='CMake build dir (or the brine_bench binary)')
    ap.add_argument('--only', action='append', help='run only this payload (repeatable)')
    ap.add_argument('--min-time', type=float, default=1.0, help='seconds of samples per measurement')
    ap.add_argument('--min-reps', type=int, default=7)
    ap.add_argument('--max-reps', type=int, default=500)
    ap.add_argument('--payload-dir', help='write the payloads here and keep them (default: a temp dir)')
    ap.add_argument('--no-memory', action='store_true', help='skip the peak-memory measurements')
    ap.add_argument('--json', help='also write all raw results to this file')
    ap.add_argument('--peak-child', help=argparse.SUPPRESS)
    ap.add_argument('--tracemalloc-child', help=argparse.SUPPRESS)
    ap.add_argument('--peak-dump-child', help=argparse.SUPPRESS)
    ap.add_argument('--no-dumps', action='store_true', help='skip the dumps and typed-encoding benchmarks')
    args = ap.parse_args()

    if args.peak_child:
        return peak_child(args.peak_child)
    if args.peak_dump_child:
        return peak_dump_child(args.peak_dump_child)
    if args.tracemalloc_child:
        return tracemalloc_child(args.tracemalloc_child)

    import _pickle
    if pickle.loads is not _pickle.loads or pickle.dumps is not _pickle.dumps:
        sys.exit('this CPython has no C accelerator for pickle; run with /usr/bin/python3')
    if pickle.DEFAULT_PROTOCOL != 4:  # time_cpython calls pickle.dumps(obj) for dumps(obj, 4)
        sys.exit('this CPython\'s pickle.DEFAULT_PROTOCOL is not 4')
    harness = find_harness(args.build)

    tmp = None
    if args.payload_dir:
        os.makedirs(args.payload_dir, exist_ok=True)
        pdir = args.payload_dir
    else:
        tmp = tempfile.TemporaryDirectory(prefix='brine-bench-')
        pdir = tmp.name

    print('CPython %s (%s), pickle C accelerator; harness %s' %
          (sys.version.split()[0], sys.executable, harness), flush=True)
    results = []
    dump_results = []
    bench_args = ['--min-time', str(args.min_time), '--min-reps', str(args.min_reps),
                  '--max-reps', str(args.max_reps)]
    for name, build, desc in PAYLOADS:
        if args.only and name not in args.only:
            continue
        obj = build()
        p4 = pickle.dumps(obj, protocol=4)
        p5 = pickle.dumps(obj, protocol=5)
        # For these payloads protocols 4 and 5 write the same opcodes (protocol 5 only adds
        # out-of-band buffers and BYTEARRAY8); check it, and time both if they ever differ.
        variants = [('p4/p5', p5)] if p4[2:] == p5[2:] else [('p4', p4), ('p5', p5)]
        sig_py = signature(obj)
        del obj, p5
        for proto, data in variants:
            path = os.path.join(pdir, '%s.%s.pkl' % (name, proto.replace('/', '')))
            with open(path, 'wb') as f:
                f.write(data)
            r = {'payload': name, 'desc': desc, 'protocol': proto, 'size': len(data)}
            sig_loaded = signature(pickle.loads(data))
            if sig_loaded != sig_py:
                sys.exit('%s: pickle.loads does not give back the object?' % name)
            r['cpython'] = time_cpython(data, args.min_time, args.min_reps, args.max_reps, False)
            r['cpython_gc'] = time_cpython(data, args.min_time, args.min_reps, args.max_reps, True)
            del data
            b = run_json([harness, 'time', path, '--min-time', str(args.min_time),
                          '--min-reps', str(args.min_reps), '--max-reps', str(args.max_reps)])
            r['brine'] = b
            r['graph_ok'] = b['signature'] == sig_py
            if not r['graph_ok']:
                print('!! %s: brine graph signature differs\n   CPython: %s\n   brine:   %s'
                      % (name, sig_py, b['signature']), flush=True)
            if not args.no_memory:
                py = run_json([sys.executable, os.path.abspath(__file__), '--peak-child', path])
                tm = run_json([sys.executable, os.path.abspath(__file__), '--tracemalloc-child', path])
                br = run_json([harness, 'peak', path])
                r['mem'] = {'cpython_kb': py['peak_kb'] - py['base_kb'],
                            'cpython_tracemalloc': tm['peak_bytes'],
                            'brine_kb': br['maxrss_peak_kb'] - br['maxrss_base_kb'],
                            'brine_input_plus_arena': br['input_bytes'] + br['bytes_allocated']}
            results.append(r)
            print('.. %-13s %s done' % (name, proto), flush=True)
        if not args.no_dumps:
            dump_results.append(bench_dumps(name, p4, pdir, harness, bench_args, args))
            print('.. %-13s dumps done' % name, flush=True)
        del p4
    typed = None
    if not args.no_dumps and (not args.only or TYPED in args.only):
        typed = bench_typed(pdir, harness, bench_args, args)
        print('.. %-13s done' % TYPED, flush=True)
    if tmp:
        tmp.cleanup()

    print()
    if results:
        print_table(results, not args.no_memory, args.min_time)
    if dump_results or typed:
        print()
        print_dump_tables(dump_results, typed, not args.no_memory, args.min_time)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'loads': results, 'dumps': dump_results, 'typed': typed}, f, indent=1)


def bench_dumps(name, p4, pdir, harness, bench_args, args):
    """pickle.dumps(obj, 4) on the object CPython loaded from a protocol-4 pickle, and
    brine::dumps at protocol 4 on the document brine loaded from the same file (which checks
    that its bytes are the file's, i.e. what CPython writes for the object it loaded)."""
    obj = pickle.loads(p4)
    ref = pickle.dumps(obj, 4)
    r = {'payload': name, 'protocol': 4, 'size': len(ref), 'redump': ref != p4}
    if ref == p4:
        path = os.path.join(pdir, '%s.p4.pkl' % name)
    else:
        # The loaded object is not the built one: pickle.loads gives CPython's shared
        # one-character strs where the builder made fresh ones (pyperf_mixed's mutated values),
        # so the memo differs. Both sides then start from CPython's pickle of the *loaded*
        # object, which is a fixed point (checked).
        path = os.path.join(pdir, '%s.p4-loaded.pkl' % name)
        obj = pickle.loads(ref)
        if pickle.dumps(obj, 4) != ref:
            sys.exit('%s: pickle.dumps(pickle.loads(x), 4) is not a fixed point' % name)
    if not os.path.exists(path):
        with open(path, 'wb') as f:
            f.write(ref)
    del ref
    r['cpython'] = time_cpython(obj, args.min_time, args.min_reps, args.max_reps, False, pickle.dumps)
    del obj
    b = run_json([harness, 'dump', path, '--protocol', '4'] + bench_args)
    r['brine'] = b
    if b['identical'] is not True:
        print('!! %s: WRITER BUG: brine::dumps(protocol 4) of the loaded document differs from '
              'CPython\'s pickle.dumps(obj, 4) (first difference at byte %s; %d bytes vs %d)'
              % (name, b['first_diff'], b['output_bytes'], r['size']), flush=True)
    if not args.no_memory:
        py = run_json([sys.executable, os.path.abspath(__file__), '--peak-dump-child', path])
        br = run_json([harness, 'peak-dump', path, '--protocol', '4'])
        r['mem'] = {'cpython_kb': py['peak_kb'] - py['base_kb'], 'brine_kb': br['peak_kb'] - br['base_kb']}
    return r


def bench_typed(pdir, harness, bench_args, args):
    """brine::encode(std::vector<Record>, 4) against pickle.dumps(list_of_dicts, 4)."""
    objs = make_typed()
    data = pickle.dumps(objs, 4)
    path = os.path.join(pdir, '%s.p4.pkl' % TYPED)
    out_path = os.path.join(pdir, '%s.brine-encode.pkl' % TYPED)
    with open(path, 'wb') as f:
        f.write(data)
    r = {'payload': TYPED, 'protocol': 4, 'size': len(data)}
    r['cpython'] = time_cpython(objs, args.min_time, args.min_reps, args.max_reps, False, pickle.dumps)
    # brine decodes the file into std::vector<Record> (untimed), times encode and its halves
    b = run_json([harness, 'typed', path, '--protocol', '4', '--out', out_path] + bench_args)
    r['brine'] = b
    with open(out_path, 'rb') as f:
        out = f.read()
    back = pickle.loads(out)
    # == alone would take 1 for True: the signature (counts per type) tells bool from int
    r['loads_equal'] = back == objs and signature(back) == signature(objs)
    r['same_bytes'] = out == data
    if not r['loads_equal']:
        print('!! %s: pickle.loads(brine::encode(records)) != the list of dicts' % TYPED, flush=True)
    del back, out, objs, data
    if not args.no_memory:
        py = run_json([sys.executable, os.path.abspath(__file__), '--peak-dump-child', path])
        br = run_json([harness, 'peak-typed', path, '--protocol', '4'])
        r['mem'] = {'cpython_kb': py['peak_kb'] - py['base_kb'], 'brine_kb': br['peak_kb'] - br['base_kb']}
    return r


def fmt_ms(ms):
    return '%.4g' % ms if ms >= 1e-3 else '%.2g' % ms


def fmt_ratio(x):
    return ('%.1f×' % x) if x < 1000 else ('%.3g×' % x)


def print_table(results, with_mem, min_time=1.0):
    hdr = ('| payload | proto | size MB | CPython ms | brine loads ms | ratio | brine load_file ms | ratio '
           '| CPython gc-on ms | graph ok |')
    print(hdr)
    print('|' + '---|' * (hdr.count('|') - 1))
    for r in results:
        c = r['cpython']['median_ms']
        bl = r['brine']['loads']['median_ms']
        bf = r['brine']['load_file']['median_ms']
        print('| %s | %s | %.2f | %s | %s | **%s** | %s | %s | %s | %s |' % (
            r['payload'], r['protocol'], r['size'] / 2**20, fmt_ms(c), fmt_ms(bl), fmt_ratio(c / bl),
            fmt_ms(bf), fmt_ratio(c / bf), fmt_ms(r['cpython_gc']['median_ms']),
            'yes' if r['graph_ok'] else 'NO'))
    if with_mem:
        print()
        hdr = ('| payload | input MB | CPython peak MB | brine peak MB | brine/CPython '
               '| CPython tracemalloc MB | brine input+arena MB | page faults/load CPython | brine |')
        print(hdr)
        print('|' + '---|' * (hdr.count('|') - 1))
        for r in results:
            m = r['mem']
            print('| %s | %.2f | %.1f | %.1f | %.2f | %.1f | %.1f | %.0f | %.0f |' % (
                r['payload'], r['size'] / 2**20, m['cpython_kb'] / 1024, m['brine_kb'] / 1024,
                m['brine_kb'] / max(m['cpython_kb'], 1), m['cpython_tracemalloc'] / 2**20,
                m['brine_input_plus_arena'] / 2**20, r['cpython']['faults'],
                r['brine']['loads']['faults']))
    print()
    print('Times: median per load over >= %g s of samples, results freed outside the clock; CPython '
          'with gc disabled (as timeit) unless "gc-on". ratio = CPython / brine. Peak MB: growth of '
          'the peak RSS (VmHWM) of a fresh process from before reading the file to after the load, '
          'i.e. input bytes + result + transients, on both sides. Page faults/load: minor faults '
          '(first touches of fresh memory) per timed load.' % min_time)


def print_dump_tables(results, typed, with_mem, min_time=1.0):
    if results:
        hdr = ('| payload | proto | output MB | CPython dumps ms | brine dumps(doc) ms | ratio | same bytes '
               '| brine dump(doc), reused buffer ms | ratio | brine dumps(doc.root()) ms | ratio '
               '| page faults/dump CPython | brine |')
        print(hdr)
        print('|' + '---|' * (hdr.count('|') - 1))
        for r in results:
            c = r['cpython']['median_ms']
            b = r['brine']['dumps']['median_ms']
            same = {True: 'yes', False: '**NO**', None: 'n/a'}[r['brine']['identical']]
            br = r['brine']['dump_reused']['median_ms']
            bv = r['brine']['dumps_value']['median_ms']
            print('| %s | p%d | %.2f | %s | %s | **%s** | %s | %s | %s | %s | %s | %.0f | %.0f |' % (
                r['payload'] + ('¹' if r.get('redump') else ''), r['protocol'], r['brine']['output_bytes'] / 2**20,
                fmt_ms(c), fmt_ms(b), fmt_ratio(c / b), same, fmt_ms(br), fmt_ratio(c / br),
                fmt_ms(bv), fmt_ratio(c / bv), r['cpython']['faults'], r['brine']['dumps']['faults']))
    if typed:
        print()
        hdr = ('| typed_100k: brine side | brine ms | CPython dumps(list of dicts) ms | ratio '
               '| output MB (CPython %.2f) | loads back equal | bytes = CPython\'s |' % (typed['size'] / 2**20))
        print(hdr)
        print('|' + '---|' * (hdr.count('|') - 1))
        c = typed['cpython']['median_ms']
        b = typed['brine']
        rows = [('**encode(vector<Record>, 4)**', b['encode'], b['output_bytes'],
                 'yes' if typed['loads_equal'] else '**NO**', 'yes' if typed['same_bytes'] else 'no'),
                ('value-graph path: to_value (Builder)', b['to_value'], None, '', ''),
                ('value-graph path: dumps of that graph', b['dumps'], None, '', ''),
                ('Builder by hand, shared key strs + dumps (reference)', b['builder_shared_keys'],
                 b['shared_keys_output_bytes'], '', 'yes' if b['shared_keys_same_bytes'] else 'no')]
        for label, st, size, eq, same in rows:
            print('| %s | %s | %s | %s | %s | %s | %s |' % (
                label, fmt_ms(st['median_ms']), fmt_ms(c), fmt_ratio(c / st['median_ms']),
                '%.2f' % (size / 2**20) if size is not None else '', eq, same))
    rows = [r for r in results + ([typed] if typed else []) if 'mem' in r]
    if with_mem and rows:
        print()
        hdr = '| payload | output MB | CPython dumps peak MB | brine peak MB | brine/CPython |'
        print(hdr)
        print('|' + '---|' * (hdr.count('|') - 1))
        for r in rows:
            m = r['mem']
            out = r['brine']['output_bytes']
            print('| %s | %.2f | %.1f | %.1f | %.2f |' % (
                r['payload'] + (' (encode)' if r is typed else ''), out / 2**20, m['cpython_kb'] / 1024,
                m['brine_kb'] / 1024, m['brine_kb'] / max(m['cpython_kb'], 1)))
    print()
    print('Dumps: median per dump over >= %g s of samples (same scheme as loads; the output bytes '
          'freed outside the clock), CPython\'s pickle.dumps(obj, 4) on the object it loaded, '
          'brine::dumps(doc, {.protocol = 4}) of the document it loaded (the reader tells the writer '
          'which values the pickle refers to more than once: only those need memo entries); '
          'ratio = CPython / brine; "dumps(doc.root())": the Value form, which memoizes every value. '
          '"same bytes": brine\'s output is CPython\'s pickle.dumps of the object it loaded '
          '(¹: not the original pickle: CPython loads one-character strs as its shared '
          'singletons, so both sides load and dump CPython\'s pickle of the loaded object). '
          '"reused buffer": brine::dump(doc, out) appending to one std::string cleared before '
          'each dump (no fresh output memory; for reference, CPython has no such call). Typed: brine::encode of a '
          'std::vector of a struct of 8 fields (written directly by the codecs through '
          'brine::detail::Emitter, no value graph) against pickle.dumps of the equivalent list of dicts '
          '(literal keys: one str per key); "value-graph path": brine::to_value into a fresh Document '
          'and brine::dumps of it, timed apart (what encode did before the direct writer; '
          'codecs without a direct write still go that way); "shared key strs": the same dicts built with '
          'brine::Builder with one str per key + dumps. Peak '
          'MB: growth of the peak RSS of a fresh process during one dump (after the load; '
          'VmHWM reset through /proc/self/clear_refs).' % min_time)


if __name__ == '__main__':
    main()
