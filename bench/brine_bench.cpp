// brine's side of the speed benchmark (bench/run.py drives it; see bench/README.md).
//
//   brine_bench time FILE [--min-time SEC] [--min-reps N] [--max-reps N]
//       Times brine::loads (bytes already in memory, ReadOptions::borrow_input = true: the same
//       situation as CPython's pickle.loads(bytes)) and brine::load_file (mmap) on FILE.
//       Prints one JSON object: per-load median/min milliseconds of each, the graph signature,
//       the document's bytes_allocated.
//   brine_bench peak FILE [--load-file]
//       Loads FILE once in this (fresh) process and prints its peak RSS (VmHWM) before reading
//       the file and after the load (input + result + anything transient), plus the graph signature.
//   brine_bench walk FILE
//       Prints the graph signature only.
//   brine_bench dump FILE [--protocol N] [--min-time SEC] [--min-reps N] [--max-reps N]
//       Loads FILE once (untimed), then times brine::dumps(doc, {.protocol = N}) (N: the
//       pickle's own protocol by default). When N is the pickle's protocol, checks once that the
//       output is FILE's bytes: for a CPython-written pickle of builtin values brine must write
//       exactly what CPython wrote (a difference is a writer bug: reported on stderr and as
//       "identical": false, with the first differing offset). Also times, for reference,
//       brine::dump(doc, out) into one std::string reused (cleared) from dump to dump, and
//       brine::dumps(doc.root()) (the Value form: no knowledge of which values are shared).
//   brine_bench peak-dump FILE [--protocol N]
//       Loads FILE (untimed), resets the peak RSS (/proc/self/clear_refs), dumps once and prints
//       the growth of the peak RSS during the dump (output + anything transient).
//   brine_bench typed FILE [--protocol N] [--out OUT] [--min-time SEC] ...
//       The typed-encoding benchmark: FILE is a pickle of a list of record dicts (run.py's
//       typed_100k payload); it is decoded once (untimed) into a std::vector<Record> (a C++ struct
//       of 8 fields, BRINE_FIELDS), then brine::encode(records, N) (include/brine/mapping.hpp) is
//       timed, and for the breakdown its two halves: brine::to_value into a fresh Document
//       (Builder) and brine::dumps of that value. OUT receives encode's bytes (run.py loads them
//       with CPython and compares with its list of dicts). For reference it also times the same
//       list of dicts built by hand with brine::Builder with one str per key shared by all
//       records (as CPython's literal keys are) + dumps, and checks those bytes are FILE's.
//   brine_bench peak-typed FILE [--protocol N]
//       As peak-dump, for brine::encode of the decoded records.
//
// Timing scheme (the same as run.py uses for CPython): one untimed warm-up load picks `number`,
// the count of loads per sample, so that a sample lasts >= 1 ms; samples are taken until both
// --min-time seconds and --min-reps samples are reached (or --max-reps); the per-load time of a
// sample is its duration / number. Each load's result is kept alive until the sample's clock
// stops and destroyed afterwards (with number > 1: after the next sample), so neither side pays
// for freeing inside the timed region. The
// dump modes use the same scheme; their results are the output strings (CPython: bytes objects).
//
// The signature is a walk of the complete value graph (outside the timed region): counts per
// kind, the sum of the ints, the xor of the floats' bits, total UTF-8 bytes of the strs... run.py
// computes the same from CPython's result and checks that they agree, which proves brine built
// the whole graph.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "brine/brine.hpp"
#include "brine/mapping.hpp"
#include "brine/write.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Signature {
  std::uint64_t none = 0, boolean = 0, integer = 0, int_sum = 0, floating = 0, float_xor = 0,
                str = 0, str_bytes = 0, bytes = 0, bytes_len = 0, list = 0, tuple = 0, dict = 0,
                seq_items = 0, dict_items = 0, other = 0;

  std::string text() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "none=%" PRIu64 " bool=%" PRIu64 " int=%" PRIu64 " int_sum=%" PRIu64
                  " float=%" PRIu64 " float_xor=%016" PRIx64 " str=%" PRIu64 " str_bytes=%" PRIu64
                  " bytes=%" PRIu64 " bytes_len=%" PRIu64 " list=%" PRIu64 " tuple=%" PRIu64
                  " dict=%" PRIu64 " seq_items=%" PRIu64 " dict_items=%" PRIu64 " other=%" PRIu64,
                  none, boolean, integer, int_sum, floating, float_xor, str, str_bytes, bytes,
                  bytes_len, list, tuple, dict, seq_items, dict_items, other);
    return buf;
  }
};

// Visits every value reachable from the root (shared values once per reference, as a tree walk
// does; the benchmark payloads have no cycles).
Signature walk(const brine::Value& root) {
  Signature s;
  std::vector<brine::Value> todo{root};
  while (!todo.empty()) {
    brine::Value v = todo.back();
    todo.pop_back();
    switch (v.kind()) {
      case brine::Kind::none: ++s.none; break;
      case brine::Kind::boolean: ++s.boolean; break;
      case brine::Kind::integer: {
        ++s.integer;
        if (auto i = v.get<std::int64_t>()) s.int_sum += static_cast<std::uint64_t>(*i);
        break;
      }
      case brine::Kind::floating: {
        ++s.floating;
        double d = v.as<double>();
        std::uint64_t bits;
        std::memcpy(&bits, &d, 8);
        s.float_xor ^= bits;
        break;
      }
      case brine::Kind::str: ++s.str; s.str_bytes += v.size(); break;
      case brine::Kind::bytes: ++s.bytes; s.bytes_len += v.size(); break;
      case brine::Kind::list:
      case brine::Kind::tuple: {
        ++(v.kind() == brine::Kind::list ? s.list : s.tuple);
        auto e = v.elements();
        s.seq_items += e.size();
        todo.insert(todo.end(), e.begin(), e.end());
        break;
      }
      case brine::Kind::dict: {
        ++s.dict;
        auto items = v.items();
        s.dict_items += items.size();
        for (const brine::DictItem& it : items) {
          todo.push_back(it.key);
          todo.push_back(it.value);
        }
        break;
      }
      default: ++s.other; break;
    }
  }
  return s;
}

std::vector<std::byte> read_file(const char* path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) {
    std::fprintf(stderr, "brine_bench: cannot open %s\n", path);
    std::exit(2);
  }
  auto size = static_cast<std::size_t>(f.tellg());
  f.seekg(0);
  std::vector<std::byte> data(size);
  if (!f.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
    std::fprintf(stderr, "brine_bench: cannot read %s\n", path);
    std::exit(2);
  }
  return data;
}

brine::Document check(brine::Result<brine::Document> r) {
  if (!r) {
    std::fprintf(stderr, "brine_bench: load failed: %s\n", r.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

struct Stats {
  double median_ms = 0, min_ms = 0;
  std::size_t reps = 0, number = 0;
  double faults = 0;  // minor page faults per load (first touches of fresh memory)
};

long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

struct Config {
  double min_time = 1.0;
  std::size_t min_reps = 7;
  std::size_t max_reps = 500;
};

// `load` is any timed operation; its results are kept until the sample's clock stops.
template <class Load>
Stats measure(const Config& cfg, Load&& load) {
  std::vector<decltype(load())> keep;
  // Warm-up load, which also sizes `number`.
  auto t0 = Clock::now();
  keep.push_back(load());
  double once = std::chrono::duration<double>(Clock::now() - t0).count();
  keep.clear();
  std::size_t number = 1;
  if (once < 1e-3) number = static_cast<std::size_t>(std::ceil(1e-3 / std::max(once, 1e-8)));
  keep.reserve(number);

  // With several loads per sample, the results of the previous sample are freed only after
  // this one: freeing a whole batch at once left the top of the heap free, glibc's malloc gave
  // it back to the kernel (brk), and the next sample's first touches page-faulted it in again
  // (a small payload then looked ~10x slower in some processes). One batch of that memory
  // stays in use instead: the steady state of a program that keeps its results a while.
  decltype(keep) previous;
  if (number > 1) previous.reserve(number);
  std::vector<double> per_load;
  double total = 0;
  long faults = 0;
  while ((total < cfg.min_time || per_load.size() < cfg.min_reps) && per_load.size() < cfg.max_reps) {
    long f0 = minor_faults();
    auto a = Clock::now();
    for (std::size_t k = 0; k < number; ++k) keep.push_back(load());
    auto b = Clock::now();
    faults += minor_faults() - f0;
    // results die outside the timed region (one sample later when number > 1)
    if (number > 1) {
      previous.clear();
      previous.swap(keep);
    } else {
      keep.clear();
    }
    double dt = std::chrono::duration<double>(b - a).count();
    total += dt;
    per_load.push_back(dt / static_cast<double>(number));
  }
  std::sort(per_load.begin(), per_load.end());
  Stats st;
  std::size_t n = per_load.size();
  st.median_ms = 1e3 * (n % 2 ? per_load[n / 2] : (per_load[n / 2 - 1] + per_load[n / 2]) / 2);
  st.min_ms = 1e3 * per_load.front();
  st.reps = n;
  st.number = number;
  st.faults = static_cast<double>(faults) / static_cast<double>(n * number);
  return st;
}

// Peak RSS of this process's address space (VmHWM). Not getrusage's ru_maxrss: Linux carries
// the parent's peak over fork+exec into a child's ru_maxrss, while VmHWM starts afresh at exec.
long maxrss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  std::fprintf(stderr, "brine_bench: no VmHWM in /proc/self/status\n");
  std::exit(2);
}

// Current RSS (VmRSS), and a reset of the peak (VmHWM := VmRSS), for measuring the peak of one
// step after others (the dump after the load).
long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  std::fprintf(stderr, "brine_bench: no VmRSS in /proc/self/status\n");
  std::exit(2);
}
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.close();
  if (!f) {
    std::fprintf(stderr, "brine_bench: cannot reset the peak RSS (/proc/self/clear_refs)\n");
    std::exit(2);
  }
}

std::string stats_json(const Stats& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"median_ms\": %.6f, \"min_ms\": %.6f, \"reps\": %zu, \"number\": %zu, "
                "\"faults\": %.1f}",
                s.median_ms, s.min_ms, s.reps, s.number, s.faults);
  return buf;
}

std::string written(brine::Result<std::string> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "brine_bench: %s failed: %s\n", what, r.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

// Peak-RSS growth of one write (`write` returns the pickle), printed as one JSON line.
template <class Write>
int print_write_peak(const char* mode, Write&& write) {
  reset_peak_rss();
  long base = rss_kb();
  std::string out = write();
  long peak = maxrss_kb();
  std::printf("{\"mode\": \"%s\", \"base_kb\": %ld, \"peak_kb\": %ld, \"output_bytes\": %zu}\n", mode, base,
              peak, out.size());
  return 0;
}

// The protocol of a pickle from its PROTO opcode (-1: none, i.e. protocol 0 or 1).
int pickle_protocol(const std::vector<std::byte>& data) {
  if (data.size() >= 2 && data[0] == std::byte{0x80}) return static_cast<int>(data[1]);
  return -1;
}

// The typed payload: one record of run.py's make_typed() (same keys, same order).
struct Record {
  std::int64_t id = 0;
  std::string name;
  double score = 0;
  bool active = false;
  std::vector<std::int64_t> tags;
  std::optional<std::string> note;
  std::int64_t count = 0;
  double weight = 0;
};
BRINE_FIELDS(Record, id, name, score, active, tags, note, count, weight)

// The records as a list of dicts built by hand with brine::Builder, with one str object per key
// shared by every record (as the literal keys of CPython's dicts are): what encode would give
// if codec<T> shared its field-name strs. CPython's pickle of the list is then matched byte
// for byte (keys memoized once, BINGET afterwards).
brine::Value build_shared_keys(brine::Builder& b, const std::vector<Record>& records) {
  const brine::Value k_id = b.str("id"), k_name = b.str("name"), k_score = b.str("score"),
                     k_active = b.str("active"), k_tags = b.str("tags"), k_note = b.str("note"),
                     k_count = b.str("count"), k_weight = b.str("weight");
  std::vector<brine::Value> items;
  items.reserve(records.size());
  std::vector<brine::Value> tags;
  for (const Record& r : records) {
    brine::Value d = b.dict();
    b.set_item(d, k_id, b.integer(r.id));
    b.set_item(d, k_name, b.str(r.name));
    b.set_item(d, k_score, b.floating(r.score));
    b.set_item(d, k_active, b.boolean(r.active));
    tags.clear();
    for (std::int64_t t : r.tags) tags.push_back(b.integer(t));
    b.set_item(d, k_tags, b.list(tags));
    b.set_item(d, k_note, r.note ? b.str(*r.note) : b.none());
    b.set_item(d, k_count, b.integer(r.count));
    b.set_item(d, k_weight, b.floating(r.weight));
    items.push_back(d);
  }
  return b.list(items);
}

std::vector<Record> decode_records(const std::vector<std::byte>& data) {
  std::string_view bytes(reinterpret_cast<const char*>(data.data()), data.size());
  brine::Result<std::vector<Record>> r = brine::decode<std::vector<Record>>(bytes);
  if (!r) {
    std::fprintf(stderr, "brine_bench: the typed payload does not decode as std::vector<Record>: %s\n",
                 r.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

void usage() {
  std::fprintf(stderr,
               "usage: brine_bench time FILE [--min-time SEC] [--min-reps N] [--max-reps N]\n"
               "       brine_bench peak FILE [--load-file]\n"
               "       brine_bench walk FILE\n"
               "       brine_bench dump FILE [--protocol N] [--min-time SEC] [--min-reps N] [--max-reps N]\n"
               "       brine_bench peak-dump FILE [--protocol N]\n"
               "       brine_bench typed FILE [--protocol N] [--out OUT] [--min-time SEC] [--min-reps N] [--max-reps N]\n"
               "       brine_bench peak-typed FILE [--protocol N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) usage();
  std::string cmd = argv[1];
  const char* path = argv[2];
  Config cfg;
  bool use_file = false;
  int protocol = -2;  // -2: the pickle's own (dump) / 4 (typed)
  const char* out_path = nullptr;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--min-time") cfg.min_time = std::atof(next());
    else if (a == "--min-reps") cfg.min_reps = static_cast<std::size_t>(std::atol(next()));
    else if (a == "--max-reps") cfg.max_reps = static_cast<std::size_t>(std::atol(next()));
    else if (a == "--load-file") use_file = true;
    else if (a == "--protocol") protocol = std::atoi(next());
    else if (a == "--out") out_path = next();
    else usage();
  }

  brine::ReadOptions borrowed;
  borrowed.borrow_input = true;

  if (cmd == "peak") {
    long base = maxrss_kb();
    std::vector<std::byte> data;
    brine::Document doc = use_file ? check(brine::load_file(path))
                                   : (data = read_file(path), check(brine::loads(data, borrowed)));
    Signature sig = walk(doc.root());
    long peak = maxrss_kb();
    std::printf("{\"mode\": \"%s\", \"maxrss_base_kb\": %ld, \"maxrss_peak_kb\": %ld, "
                "\"input_bytes\": %zu, \"bytes_allocated\": %" PRIu64 ", \"signature\": \"%s\"}\n",
                use_file ? "load_file" : "loads", base, peak, data.size(), doc.bytes_allocated(),
                sig.text().c_str());
    return 0;
  }

  std::vector<std::byte> data = read_file(path);
  if (cmd == "walk") {
    brine::Document doc = check(brine::loads(data, borrowed));
    std::printf("%s\n", walk(doc.root()).text().c_str());
    return 0;
  }

  if (cmd == "dump" || cmd == "peak-dump") {
    brine::Document doc = check(brine::loads(data, borrowed));
    const int file_protocol = pickle_protocol(data);
    brine::WriteOptions wo;
    wo.protocol = protocol != -2 ? protocol : (file_protocol >= 0 ? file_protocol : 4);
    const brine::Value root = doc.root();
    if (cmd == "peak-dump") return print_write_peak("dumps", [&] { return written(brine::dumps(doc, wo), "dumps"); });
    // The once-only check: CPython's bytes back.
    std::string out = written(brine::dumps(doc, wo), "dumps");
    const char* identical = "null";  // not comparable: another protocol than the file's
    long long first_diff = -1;
    if (wo.protocol == file_protocol) {
      std::size_t n = std::min(out.size(), data.size());
      std::size_t k = 0;
      while (k < n && static_cast<std::byte>(out[k]) == data[k]) ++k;
      if (k == n && out.size() == data.size()) {
        identical = "true";
      } else {
        identical = "false";
        first_diff = static_cast<long long>(k);
        std::fprintf(stderr,
                     "brine_bench: WRITER BUG: brine::dumps(protocol %d) of %s differs from the file "
                     "(CPython's pickle.dumps) at byte %zu (%zu bytes written, %zu in the file)\n",
                     wo.protocol, path, k, out.size(), data.size());
      }
    }
    std::size_t out_size = out.size();
    out = std::string();
    Stats st = measure(cfg, [&] { return written(brine::dumps(doc, wo), "dumps"); });
    // For reference: brine::dump appending to one std::string that is cleared (capacity kept)
    // before each dump, as a caller writing many pickles would do: no fresh output memory.
    std::string reused;
    Stats re = measure(cfg, [&] {
      reused.clear();
      if (auto r = brine::dump(doc, reused, wo); !r) {
        std::fprintf(stderr, "brine_bench: dump failed: %s\n", r.error().to_string().c_str());
        std::exit(1);
      }
      return reused.size();
    });
    // And the Value form, dumps(doc.root()): no knowledge of sharing, every value memoized.
    Stats sv = measure(cfg, [&] { return written(brine::dumps(root, wo), "dumps"); });
    std::printf("{\"dumps\": %s, \"dump_reused\": %s, \"dumps_value\": %s, \"protocol\": %d, "
                "\"file_protocol\": %d, \"input_bytes\": %zu, \"output_bytes\": %zu, \"identical\": %s, "
                "\"first_diff\": %lld}\n",
                stats_json(st).c_str(), stats_json(re).c_str(), stats_json(sv).c_str(), wo.protocol, file_protocol,
                data.size(), out_size, identical, first_diff);
    return 0;
  }

  if (cmd == "typed" || cmd == "peak-typed") {
    brine::WriteOptions wo;
    wo.protocol = protocol != -2 ? protocol : 4;
    const std::vector<Record> records = decode_records(data);
    const std::vector<std::byte> cpython_bytes = std::move(data);
    if (cmd == "peak-typed")
      return print_write_peak("encode", [&] { return written(brine::encode(records, wo), "encode"); });
    std::string out = written(brine::encode(records, wo), "encode");
    if (out_path) {
      std::ofstream f(out_path, std::ios::binary);
      f.write(out.data(), static_cast<std::streamsize>(out.size()));
      if (!f) {
        std::fprintf(stderr, "brine_bench: cannot write %s\n", out_path);
        return 2;
      }
    }
    std::size_t out_size = out.size();
    out = std::string();
    Stats enc = measure(cfg, [&] { return written(brine::encode(records, wo), "encode"); });
    // For reference, the value-graph path: to_value (Builder, into a fresh Document), then dumps
    // of the value (encode itself writes directly, through brine::detail::Emitter).
    Stats tv = measure(cfg, [&] {
      brine::Document doc = brine::Document::create();
      brine::Builder b(doc);
      doc.set_root(brine::to_value(b, records));
      return doc;
    });
    brine::Document built = brine::Document::create();
    {
      brine::Builder b(built);
      built.set_root(brine::to_value(b, records));
    }
    const brine::Value root = built.root();
    Stats dm = measure(cfg, [&] { return written(brine::dumps(root, wo), "dumps"); });
    // Reference: Builder with shared key strs + dumps (see build_shared_keys).
    auto shared_once = [&] {
      brine::Document doc = brine::Document::create();
      brine::Builder b(doc);
      return written(brine::dumps(build_shared_keys(b, records), wo), "dumps");
    };
    std::string shared_out = shared_once();
    const bool shared_same = shared_out.size() == cpython_bytes.size() &&
                             std::memcmp(shared_out.data(), cpython_bytes.data(), shared_out.size()) == 0;
    std::size_t shared_size = shared_out.size();
    shared_out = std::string();
    Stats sh = measure(cfg, shared_once);
    std::printf("{\"encode\": %s, \"to_value\": %s, \"dumps\": %s, \"builder_shared_keys\": %s, "
                "\"protocol\": %d, \"records\": %zu, \"output_bytes\": %zu, \"shared_keys_output_bytes\": %zu, "
                "\"shared_keys_same_bytes\": %s, \"bytes_allocated\": %" PRIu64 "}\n",
                stats_json(enc).c_str(), stats_json(tv).c_str(), stats_json(dm).c_str(), stats_json(sh).c_str(),
                wo.protocol, records.size(), out_size, shared_size, shared_same ? "true" : "false",
                built.bytes_allocated());
    return 0;
  }

  if (cmd != "time") usage();

  // Proof of a complete graph (untimed), from both entry points.
  brine::Document d1 = check(brine::loads(data, borrowed));
  brine::Document d2 = check(brine::load_file(path));
  std::string sig = walk(d1.root()).text();
  if (walk(d2.root()).text() != sig) {
    std::fprintf(stderr, "brine_bench: loads and load_file disagree on %s\n", path);
    return 1;
  }
  std::uint64_t allocated = d1.bytes_allocated();
  d1 = brine::Document::create();
  d2 = brine::Document::create();

  Stats mem = measure(cfg, [&] { return check(brine::loads(data, borrowed)); });
  Stats file = measure(cfg, [&] { return check(brine::load_file(path)); });
  std::printf("{\"loads\": %s, \"load_file\": %s, \"input_bytes\": %zu, \"bytes_allocated\": %" PRIu64
              ", \"signature\": \"%s\"}\n",
              stats_json(mem).c_str(), stats_json(file).c_str(), data.size(), allocated, sig.c_str());
  return 0;
}
