#!/usr/bin/python3
"""Rebuilds the seed corpora fuzz/corpus/<target>/ from real pickles:

  examples/*.pkl, tests/corpus/gen/*.pkl (if present), ../shared/corpus/**/*.pkl|*.pickle and the
  hex entries of ../shared/corpus/cpython-pickletester/good.json and bad.json.

Inputs longer than the fuzzers' -max_len (4096) are cut to it. fuzz_reader_stream also gets
back-to-back pairs of pickles. With --build BUILD_DIR (a -DBRINE_BUILD_FUZZ=ON build), each corpus
is reduced with libFuzzer's -merge=1 to the inputs that add coverage (names stay readable).

Run:  python3 fuzz/make_corpus.py [--build build/fuzz] [--target NAME ...]
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "corpus")
MAX_LEN = 4096
TARGETS = ["fuzz_loads", "fuzz_reader_stream", "fuzz_dis", "fuzz_roundtrip"]


def clean(name):
    return re.sub(r"[^A-Za-z0-9_.#-]+", "_", name)


def singles():
    out = {}  # name -> bytes

    def add(name, data):
        out[clean(name)] = data[:MAX_LEN]

    for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.pkl"))):
        add("examples_" + os.path.basename(p), open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "gen", "*.pkl"))):
        add("gen_" + os.path.basename(p), open(p, "rb").read())
    for ext in ("pkl", "pickle"):
        for p in sorted(glob.glob(os.path.join(SHARED, "**", "*." + ext), recursive=True)):
            rel = os.path.relpath(p, SHARED).replace(os.sep, "_")
            add("shared_" + rel, open(p, "rb").read())
    for kind in ("good", "bad"):
        path = os.path.join(SHARED, "cpython-pickletester", kind + ".json")
        if os.path.exists(path):
            for e in json.load(open(path)):
                add("pickletester_%s_%s" % (kind, e["name"]), bytes.fromhex(e["hex"]))
    # drop duplicate contents (keep the first name)
    seen, uniq = set(), {}
    for name in sorted(out):
        h = hashlib.sha1(out[name]).digest()
        if h not in seen:
            seen.add(h)
            uniq[name] = out[name]
    return uniq


def pairs(seeds):
    names = [n for n in sorted(seeds) if "bad" not in n]
    out = {}
    for a, b in zip(names[::2], names[1::2]):
        data = seeds[a] + seeds[b]
        if len(data) <= MAX_LEN:
            out["pair_%s+%s" % (a[:40], b[:40])] = data
    return out


def minimize(binary, files):
    """Keeps the inputs libFuzzer's merge says add coverage; returns their names."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "src"), os.path.join(tmp, "dst")
        os.mkdir(src)
        os.mkdir(dst)
        by_sha = {}
        for name, data in files.items():
            with open(os.path.join(src, name), "wb") as f:
                f.write(data)
            by_sha.setdefault(hashlib.sha1(data).hexdigest(), name)
        subprocess.run([binary, "-merge=1", "-max_len=%d" % MAX_LEN, "-rss_limit_mb=2048", dst, src],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return sorted(by_sha[s] for s in os.listdir(dst) if s in by_sha)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", help="fuzz build directory (enables -merge minimization)")
    ap.add_argument("--target", action="append", choices=TARGETS,
                    help="rebuild only this target's corpus (repeatable; default: all)")
    args = ap.parse_args()
    seeds = singles()
    total = 0
    for target in args.target or TARGETS:
        files = dict(seeds)
        if target == "fuzz_reader_stream":
            files.update(pairs(seeds))
        keep = sorted(files)
        if args.build:
            keep = minimize(os.path.join(args.build, "fuzz", target), files)
        d = os.path.join(ROOT, "fuzz", "corpus", target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name in keep:
            with open(os.path.join(d, name), "wb") as f:
                f.write(files[name])
        size = sum(len(files[n]) for n in keep)
        total += size
        print("%s: %d inputs, %d bytes (of %d candidates)" % (target, len(keep), size, len(files)))
    print("total: %d bytes" % total)
    if total > 2 << 20:
        sys.exit("corpus larger than 2 MB")


if __name__ == "__main__":
    main()
