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
//
// Timing scheme (the same as run.py uses for CPython): one untimed warm-up load picks `number`,
// the count of loads per sample, so that a sample lasts >= 1 ms; samples are taken until both
// --min-time seconds and --min-reps samples are reached (or --max-reps); the per-load time of a
// sample is its duration / number. Each load's result is kept alive until the sample's clock
// stops and destroyed afterwards, so neither side pays for freeing inside the timed region.
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
#include <string>
#include <vector>

#include "brine/brine.hpp"

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

template <class Load>
Stats measure(const Config& cfg, Load&& load) {
  std::vector<brine::Document> keep;
  // Warm-up load, which also sizes `number`.
  auto t0 = Clock::now();
  keep.push_back(load());
  double once = std::chrono::duration<double>(Clock::now() - t0).count();
  keep.clear();
  std::size_t number = 1;
  if (once < 1e-3) number = static_cast<std::size_t>(std::ceil(1e-3 / std::max(once, 1e-8)));
  keep.reserve(number);

  std::vector<double> per_load;
  double total = 0;
  long faults = 0;
  while ((total < cfg.min_time || per_load.size() < cfg.min_reps) && per_load.size() < cfg.max_reps) {
    long f0 = minor_faults();
    auto a = Clock::now();
    for (std::size_t k = 0; k < number; ++k) keep.push_back(load());
    auto b = Clock::now();
    faults += minor_faults() - f0;
    keep.clear();  // documents die outside the timed region
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

void usage() {
  std::fprintf(stderr,
               "usage: brine_bench time FILE [--min-time SEC] [--min-reps N] [--max-reps N]\n"
               "       brine_bench peak FILE [--load-file]\n"
               "       brine_bench walk FILE\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) usage();
  std::string cmd = argv[1];
  const char* path = argv[2];
  Config cfg;
  bool use_file = false;
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
  auto stats = [](const Stats& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "{\"median_ms\": %.6f, \"min_ms\": %.6f, \"reps\": %zu, \"number\": %zu, "
                  "\"faults\": %.1f}",
                  s.median_ms, s.min_ms, s.reps, s.number, s.faults);
    return std::string(buf);
  };
  std::printf("{\"loads\": %s, \"load_file\": %s, \"input_bytes\": %zu, \"bytes_allocated\": %" PRIu64
              ", \"signature\": \"%s\"}\n",
              stats(mem).c_str(), stats(file).c_str(), data.size(), allocated, sig.c_str());
  return 0;
}
