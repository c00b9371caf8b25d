// The pickle writer: a value graph -> the bytes CPython 3.11's C pickler writes for the same
// object graph (../shared/reference/cpython-pickle-spec.md, part A). No recursion on the depth
// of the graph: containers and multi-part constructions are frames on an explicit stack.
#include "brine/write.hpp"

#include "brine/builder.hpp"
#include "brine/emit.hpp"
#include "brine/repr.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <forward_list>
#include <fstream>
#include <iterator>
#include <optional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "document.hpp"
#include "graph.hpp"
#include "input.hpp"  // ReadFailure (from py_hash / key_equal)
#include "known_globals.hpp"
#include "pytext.hpp"

namespace brine::detail {
namespace {

constexpr std::size_t k_frame_target = 64 * 1024;  // FRAME_SIZE_TARGET
constexpr std::size_t k_frame_min = 4;             // FRAME_SIZE_MIN
constexpr std::size_t k_batch = 1000;              // BATCHSIZE
constexpr std::size_t k_no_frame = ~std::size_t{0};

struct WriteFailure {
  errc code;
  std::string message;
};

[[noreturn]] void fail(errc code, std::string message) { throw WriteFailure{code, std::move(message)}; }

// What Builder::str throws for the same text (the Emitter writes what to_value + dumps would).
[[noreturn]] void invalid_utf8() {
  Error e;
  e.code = errc::unicode_error;
  e.message = "str must be valid UTF-8";
  throw Exception(std::move(e));
}

// The 'latin1' constant CPython passes to _codecs.encode is one interned object: memoized once.
constexpr char k_latin1[] = "latin1";

KnownId known_id(const Value& v) noexcept {
  if (v.tag() != Tag::global) return KnownId::unknown;
  return static_cast<KnownId>(Access::node<GlobalNode>(v)->h.kind);
}

// Memo keys: a value's identity (head word + pointer), as Value::same compares them.
using Key = IdentityKey;
inline Key key_of(const Value& v) noexcept { return identity_key(v); }

// Memory for big tables the writer keeps: 2 MiB-aligned and advised for huge pages from 2 MiB
// up, so that lookups spread over tens of MB do not also miss the TLB on every 4 KiB page.
// Zero-filled. Advice only: without transparent huge pages it is plain memory.
void* alloc_table(std::size_t bytes) {
  constexpr std::size_t k_huge = std::size_t{2} << 20;
  void* p = nullptr;
  if (bytes >= k_huge) {
    bytes = (bytes + k_huge - 1) & ~(k_huge - 1);
    p = std::aligned_alloc(k_huge, bytes);
#ifdef MADV_HUGEPAGE
    if (p) (void)::madvise(p, bytes, MADV_HUGEPAGE);
#endif
  } else {
    p = std::malloc(bytes);
  }
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return p;
}

// Open-addressing identity -> memo index map (CPython's memo is a pointer hash table too).
// Each thread keeps its table from one dump to the next: slots carry the number of the dump that
// filled them, so a new dump starts with an empty table without clearing (or page-faulting) it.
class MemoMap {
 public:
  MemoMap() {
    Retained& r = retained();
    std::swap(slots_, r.slots);
    std::swap(size_, r.size);
    epoch_ = ++r.epoch;
    if (epoch_ == 0) {  // wrapped after 2^32 dumps: clear once
      for (std::size_t i = 0; i < size_; ++i) slots_[i].epoch = 0;
      epoch_ = r.epoch = 1;
    }
    if (size_ < 1024) {
      std::free(slots_);
      slots_ = nullptr;
      size_ = 0;
      slots_ = static_cast<Slot*>(alloc_table(1024 * sizeof(Slot)));
      size_ = 1024;
    }
    mask_ = size_ - 1;
  }
  ~MemoMap() {
    Retained& r = retained();
    if (size_ <= k_keep_slots && size_ > r.size) {
      std::swap(slots_, r.slots);
      std::swap(size_, r.size);
    }
    std::free(slots_);
  }
  MemoMap(const MemoMap&) = delete;
  MemoMap& operator=(const MemoMap&) = delete;

  const std::uint64_t* find(Key k) const noexcept {
    std::size_t i = hash(k) & mask_;
    for (;;) {
      const Slot& s = slots_[i];
      if (s.epoch != epoch_) return nullptr;
      if (s.k.a == k.a && s.k.b == k.b) return &s.idx;
      i = (i + 1) & mask_;
    }
  }
  // Starts loading the slot a find(k) probes first (lookups of fresh objects miss the cache).
  void prefetch(Key k) const noexcept { __builtin_prefetch(&slots_[hash(k) & mask_]); }
  void insert(Key k, std::uint64_t idx) {
    if ((count_ + 1) * 2 > size_) [[unlikely]]
      grow();
    place(k, idx);
    ++count_;
  }

 private:
  struct Slot {
    Key k{0, 0};
    std::uint64_t idx = 0;
    std::uint32_t epoch = 0;  // the dump that filled it (other values: empty)
  };
  struct Retained {
    Slot* slots = nullptr;
    std::size_t size = 0;
    std::uint32_t epoch = 0;
    ~Retained() { std::free(slots); }
  };
  static constexpr std::size_t k_keep_slots = std::size_t{1} << 22;  // 128 MiB at most per thread
  static Retained& retained() {
    thread_local Retained r;
    return r;
  }
  // Identities are addresses: nodes and strs met in allocation order land in neighbouring
  // slots (as CPython's ptr >> 3), with the str length mixed in for strs sharing a start.
  static std::size_t hash(Key k) noexcept { return static_cast<std::size_t>((k.b >> 3) ^ (k.a >> 8)); }
  void place(Key k, std::uint64_t idx) noexcept {
    std::size_t i = hash(k) & mask_;
    while (slots_[i].epoch == epoch_) i = (i + 1) & mask_;
    slots_[i] = Slot{k, idx, epoch_};
  }
  [[gnu::noinline]] void grow() {
    Slot* old = slots_;
    std::size_t old_size = size_;
    slots_ = static_cast<Slot*>(alloc_table(old_size * 2 * sizeof(Slot)));
    size_ = old_size * 2;
    mask_ = size_ - 1;
    for (std::size_t i = 0; i < old_size; ++i)
      if (old[i].epoch == epoch_) place(old[i].k, old[i].idx);
    std::free(old);
  }
  Slot* slots_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t epoch_ = 1;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
};

// The output buffer: malloc'd, grown by realloc (large blocks move by remapping, not copying),
// never zero-filled, and kept by the thread for its next dump (up to 64 MiB).
class OutBuf {
 public:
  OutBuf() {
    Retained& r = retained();
    data_ = r.data;
    cap_ = r.cap;
    r.data = nullptr;
    r.cap = 0;
  }
  ~OutBuf() {
    Retained& r = retained();
    if (cap_ <= k_keep_bytes && cap_ > r.cap) {
      std::free(r.data);
      r.data = data_;
      r.cap = cap_;
    } else {
      std::free(data_);
    }
  }
  OutBuf(const OutBuf&) = delete;
  OutBuf& operator=(const OutBuf&) = delete;

  char* data() noexcept { return data_; }
  std::size_t capacity() const noexcept { return cap_; }
  void grow(std::size_t need) {
    std::size_t cap = cap_ < 4096 ? 4096 : cap_ + cap_ / 2;
    if (cap < need) cap = need;
    void* p = std::realloc(data_, cap);
    if (!p) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
    cap_ = cap;
  }

 private:
  struct Retained {
    char* data = nullptr;
    std::size_t cap = 0;
    ~Retained() { std::free(data); }
  };
  static constexpr std::size_t k_keep_bytes = std::size_t{64} << 20;
  static Retained& retained() {
    thread_local Retained r;
    return r;
  }
  char* data_ = nullptr;
  std::size_t cap_ = 0;
};

// Fresh memory for a big output (`out` was just reserved, nothing written yet): ask for huge
// pages and fault it in with one call instead of one page fault per 4 KiB as the copy touches
// it (~11 us each on a paravirtualized VM: 150 ms for 50 MB, 9 ms this way). Only for outputs
// of 32 MiB or more, which glibc's malloc always maps on their own (DEFAULT_MMAP_THRESHOLD_MAX),
// so the advice concerns nothing but this buffer. Advice only: failures are ignored.
void advise_fresh_output(char* out, std::size_t n) noexcept {
  constexpr std::size_t k_min = std::size_t{32} << 20;
  if (n < k_min) return;
  const auto page = static_cast<std::uintptr_t>(4096);
  std::uintptr_t a = (reinterpret_cast<std::uintptr_t>(out) + page - 1) & ~(page - 1);
  std::uintptr_t e = (reinterpret_cast<std::uintptr_t>(out) + n) & ~(page - 1);
  if (e <= a) return;
#ifdef MADV_HUGEPAGE
  (void)::madvise(reinterpret_cast<void*>(a), e - a, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
  (void)::madvise(reinterpret_cast<void*>(a), e - a, MADV_POPULATE_WRITE);
#endif
}

// A step of a multi-part construction (what CPython's save_reduce and friends write).
enum class SK : std::uint8_t {
  save,         // save(v)
  save_pid,     // save(v) without consulting the persistent_id hook (the ID itself)
  pid_enter,    // a persistent ID's values follow: sharing knowledge off until pid_leave
  pid_leave,
  save_module,  // the module str of a STACK_GLOBAL (v, or text a): CPython's are interned
  lit,          // literal opcode bytes (s, n)
  fresh_list,   // a list made for the occasion: items (p, n) as Values
  fresh_dict,   // a dict made for the occasion: items (p, n) as DictItems
  global,       // the global (a, b) = (module, qualified name)
  put_obj,      // PUT v, or POP + GET v if v got memoized meanwhile (and skip the rest)
  put_fresh,    // PUT of an object made for the occasion (takes a memo slot, never hit)
  list_items,   // generic batch_list over (p, n) Values
  dict_items,   // generic batch_dict over (p, n) DictItems
};

struct Step {
  SK k;
  std::size_t n = 0;
  const void* p = nullptr;
  Value v;
  std::string_view a, b;
};

enum class FT : std::uint8_t { tuple, frozenset, batch, script };

struct Frame {
  explicit Frame(FT type) : t(type) {}
  FT t;
  std::uint8_t phase = 0;
  bool half = false;  // dict frames: the key of item i is written, its value is next
  // batch frames (the items of a list, dict, set or object; see step()):
  bool pairs = false;        // items are DictItems (key, value)
  bool text = false;         // protocol 0: `item op` for each item, no batches
  bool single_every = false; // generic batch_list/batch_dict: a lone item left is `item op`
  bool until_done = false;   // batch_list_exact: stop when all items are written (else: while full)
  char single = 0;           // op after a lone item ('a', 's'); 0: lone items are batched too
  char close = 0;            // op closing a batch ('e', 'u', '\x90')
  Value v;            // the container (identity), for tuple/frozenset recursion checks
  Value pending;      // batch frames: an item to save before running the batch on
  const Value* items = nullptr;
  const DictItem* ditems = nullptr;
  std::size_t n = 0, i = 0, batch = 0;
};

// The frame and step stacks, kept by the thread from one dump to the next (small dumps then
// allocate nothing for them); a dump inside a dump (from a hook) gets its own.
class RetainedStacks {
 public:
  RetainedStacks() {
    Kept& k = kept();
    frames.swap(k.frames);
    steps.swap(k.steps);
  }
  ~RetainedStacks() {
    constexpr std::size_t k_keep = 4096;
    Kept& k = kept();
    if (frames.capacity() <= k_keep && frames.capacity() > k.frames.capacity()) {
      frames.clear();
      frames.swap(k.frames);
    }
    if (steps.capacity() <= k_keep && steps.capacity() > k.steps.capacity()) {
      steps.clear();
      steps.swap(k.steps);
    }
  }
  RetainedStacks(const RetainedStacks&) = delete;
  RetainedStacks& operator=(const RetainedStacks&) = delete;
  std::vector<Frame> frames;
  std::vector<Step> steps;

 private:
  struct Kept {
    std::vector<Frame> frames;
    std::vector<Step> steps;
  };
  static Kept& kept() {
    thread_local Kept k;
    return k;
  }
};

// How many times each object is being constructed (entered, not yet memoized): an identity ->
// count map entered and left once per object written through a reduce, so a flat table
// (linear probing, backward-shift deletion: no allocation per object, no tombstones) rather
// than std::unordered_map's node per entry.
class ConstructionCounts {
 public:
  // The table is kept by the thread from one dump to the next (small dumps allocate nothing).
  ConstructionCounts() {
    slots_.swap(kept());
    mask_ = slots_.empty() ? 0 : slots_.size() - 1;
  }
  ~ConstructionCounts() {
    if (slots_.size() > 4096) return;
    if (count_ != 0) std::fill(slots_.begin(), slots_.end(), Slot{});  // left by a failed dump
    if (slots_.size() > kept().size()) slots_.swap(kept());
  }
  ConstructionCounts(const ConstructionCounts&) = delete;
  ConstructionCounts& operator=(const ConstructionCounts&) = delete;

  int& at(const void* key) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(key);
    while (slots_[i].key && slots_[i].key != key) i = (i + 1) & mask_;
    if (!slots_[i].key) {
      slots_[i] = Slot{key, 0};
      ++count_;
    }
    return slots_[i].n;
  }
  // One level less; the entry goes at 0. False: the key was not there.
  bool decrement(const void* key) noexcept {
    if (count_ == 0) return false;
    std::size_t i = home(key);
    while (slots_[i].key != key) {
      if (!slots_[i].key) return false;
      i = (i + 1) & mask_;
    }
    if (--slots_[i].n > 0) return true;
    // backward-shift deletion: move later entries of the run into the hole when they may
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].key; j = (j + 1) & mask_) {
      std::size_t h = home(slots_[j].key);
      // j's entry may move to the hole when its home is not in (hole, j] (cyclically)
      if (((j - h) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --count_;
    return true;
  }

 private:
  struct Slot {
    const void* key = nullptr;
    int n = 0;
  };
  static std::vector<Slot>& kept() {
    thread_local std::vector<Slot> k;
    return k;
  }
  std::size_t home(const void* key) const noexcept {
    return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(key) >> 4) * 0x9E3779B97F4A7C15ull >> 17) & mask_;
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 32 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (!s.key) continue;
      std::size_t i = home(s.key);
      while (slots_[i].key) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
};

// The writer's memo of globals by (module, name) and of module names by text (b empty). Keys view
// text that outlives the dump's writing (the document's, literals, scratch_). A list searched in
// line for the few names most pickles have, hashed beyond that; the list's memory is kept by the
// thread (a small dump allocates nothing here).
class NameMemo {
 public:
  NameMemo() { list_.swap(kept()); }
  ~NameMemo() {
    list_.clear();
    if (list_.capacity() <= 4096 && list_.capacity() > kept().capacity()) list_.swap(kept());
  }
  NameMemo(const NameMemo&) = delete;
  NameMemo& operator=(const NameMemo&) = delete;

  const std::uint64_t* find(std::string_view a, std::string_view b) const {
    if (index_.empty()) {
      for (const Entry& e : list_)
        if (e.a == a && e.b == b) return &e.idx;
      return nullptr;
    }
    auto it = index_.find(Pair{a, b});
    return it == index_.end() ? nullptr : &list_[it->second].idx;
  }
  // The first index given for a key stays.
  void add(std::string_view a, std::string_view b, std::uint64_t idx) {
    if (find(a, b)) return;
    list_.push_back(Entry{a, b, idx});
    if (list_.size() > k_linear) {
      if (index_.empty())
        for (std::size_t i = 0; i < list_.size(); ++i) index_.emplace(Pair{list_[i].a, list_[i].b}, i);
      else
        index_.emplace(Pair{a, b}, list_.size() - 1);
    }
  }

 private:
  static constexpr std::size_t k_linear = 16;
  struct Entry {
    std::string_view a, b;
    std::uint64_t idx;
  };
  struct Pair {
    std::string_view a, b;
    bool operator==(const Pair&) const = default;
  };
  struct PairHash {
    std::size_t operator()(const Pair& p) const noexcept {
      return std::hash<std::string_view>{}(p.a) * 31 + std::hash<std::string_view>{}(p.b);
    }
  };
  static std::vector<Entry>& kept() {
    thread_local std::vector<Entry> k;
    return k;
  }
  std::vector<Entry> list_;
  std::unordered_map<Pair, std::size_t, PairHash> index_;
};

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class Pickler {
 public:
  Pickler(const WriteOptions& o, std::string& out, const DocumentState* sharing = nullptr)
      // (a persistent_id hook may hand back values of the document as IDs: sharing unknown)
      : o_(o), known_(sharing && sharing->sharing_known && !o.persistent_id ? sharing : nullptr), out_(out), pos_(0) {
    proto_ = o.protocol < 0 ? 5 : o.protocol;
    if (proto_ > 5) fail(errc::unsupported_protocol, "pickle protocol must be <= 5");
    bin_ = proto_ >= 1;
  }

  void run(const Value& root) {
    root_ = root;
    begin_pickle();
    save(root);
    while (!frames_.empty()) step();
    end_pickle();
  }

  // ---- the direct writer (Emitter): a pickle written value by value ---------------------------
  void use_emitter() { em_ = std::make_unique<EmitterState>(); }
  void begin_pickle() {
    if (proto_ >= 2) {
      char h[2] = {'\x80', static_cast<char>(proto_)};
      w(h, 2);
      framing_ = proto_ >= 4;
      update_limits();
    }
  }
  void end_pickle() {
    if (em_ && !em_->open.empty()) fail(errc::type_error, "brine::detail::Emitter: a list, dict or tuple was not ended");
    w1('.');
    commit_frame();
    framing_ = false;
    assemble();
  }
  // One whole value (frames run to completion) as an item of what is open.
  void em_value(const Value& v) {
    em_item_start();
    const std::size_t depth = frames_.size();
    save(v);
    while (frames_.size() > depth) step();
    em_item_end();
  }
  void em_atom(const Value& v) {
    em_item_start();
    boundary();
    save_leaf(v);
    em_item_end();
  }
  void em_int(std::int64_t i) {
    em_item_start();
    boundary();
    save_int(i);
    em_item_end();
  }
  void em_float(double d) {
    em_item_start();
    boundary();
    save_float(d);
    em_item_end();
  }
  // A fresh str: '' and one-character latin-1 strs are CPython's shared objects (memoized).
  void em_str(std::string_view s) {
    if (shared_text(s)) return em_value(text_value(s));
    check_utf8(s);
    em_item_start();
    boundary();
    write_str(s.data(), s.size());
    put_fresh();
    em_item_end();
  }
  // A str shared by every use of its text in this pickle.
  // (The cache, by the caller's pointer, finds the text of the last call from that address; its
  // text is compared too, as the caller's buffer may hold another name by now.)
  void em_name(std::string_view s) {
    if (shared_text(s)) return em_value(text_value(s));
    const auto addr = reinterpret_cast<std::uintptr_t>(s.data());
    NameCache& c = em_->name_cache[(addr ^ (addr >> 6) ^ s.size()) % std::size(em_->name_cache)];
    const std::uint64_t* idx = nullptr;
    if (c.p == s.data() && c.n == s.size() && same_text(c.text, s.data(), s.size())) {
      idx = &c.idx;
    } else if (auto it = em_->names.find(s); it != em_->names.end()) {
      c = NameCache{s.data(), s.size(), it->first.data(), it->second};
      idx = &c.idx;
    }
    if (idx) {
      em_item_start();
      boundary();
      get_index(*idx);
      return em_item_end();
    }
    check_utf8(s);
    em_item_start();
    boundary();
    write_str(s.data(), s.size());
    auto it = em_->names.emplace(std::string(s), memo_len_).first;  // (node-based: the key stays put)
    c = NameCache{s.data(), s.size(), it->first.data(), memo_len_};
    put_fresh();
    em_item_end();
  }
  static bool same_text(const char* a, const char* b, std::size_t n) noexcept {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    if (n >= 8) return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
    if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    for (std::size_t k = 0; k < n; ++k)
      if (a[k] != b[k]) return false;
    return true;
  }
  static std::uint64_t load8(const char* p) noexcept {
    std::uint64_t u;
    std::memcpy(&u, p, 8);
    return u;
  }
  static std::uint32_t load4(const char* p) noexcept {
    std::uint32_t u;
    std::memcpy(&u, p, 4);
    return u;
  }
  // Text a C++ caller gives for a str must be UTF-8 (a Python str is): short ASCII text is
  // checked inline, the rest by the validator.
  static void check_utf8(std::string_view s) {
    const char* p = s.data();
    const std::size_t n = s.size();
    if (n >= 8 && n <= 16) {
      if (((load8(p) | load8(p + n - 8)) & 0x8080808080808080ull) == 0) return;
    } else if (n >= 4 && n < 8) {
      if (((load4(p) | load4(p + n - 4)) & 0x80808080u) == 0) return;
    }
    if (!is_valid_utf8(reinterpret_cast<const std::uint8_t*>(p), n)) invalid_utf8();
  }
  void em_begin(char kind, std::size_t n) {
    em_item_start();
    boundary();
    if (kind == 'l') {
      w(bin_ ? "]" : "(l");
      put_fresh();
    } else if (kind == 'd') {
      w(bin_ ? "}" : "(d");
      put_fresh();
    } else if (n == 0) {
      w(bin_ ? ")" : "(t");
    } else if (!(proto_ >= 2 && n <= 3)) {
      w1('(');
    }
    em_->open.push_back(Open{kind, n});
    em_top_ = &em_->open.back();
  }
  void em_end(char kind) {
    std::vector<Open>& open = em_->open;
    if (open.empty() || open.back().kind != kind || open.back().i != open.back().n || open.back().half)
      fail(errc::type_error, "brine::detail::Emitter: end does not match begin and its number of items");
    const Open o = open.back();
    open.pop_back();
    em_top_ = open.empty() ? nullptr : &open.back();
    if (kind == 'd' && bin_ && o.n > 1 && o.n % k_batch == 0) w("(u");  // batch_dict_exact's empty batch
    if (kind == 't' && o.n > 0) {
      w1(proto_ >= 2 && o.n <= 3 ? static_cast<char>(0x85 + o.n - 1) : 't');
      put_fresh();
    }
    em_item_end();
  }

 private:
  // ---- output ---------------------------------------------------------------------------------
  // Opcodes go to buf_ (pos_ bytes). Payloads of 64 KiB or more (written outside frames) are not
  // copied there: a Segment records where they go, and assemble() copies each once, into out_.
  struct Segment {
    std::size_t at;  // position in buf_ the payload follows
    const char* data;
    std::size_t n;
  };

  // The batching of what the Emitter has open: the exact-list / exact-dict rules of the batch
  // frame (see step()), for a number of items known up front.
  struct Open {
    char kind;  // 'l', 'd', 't'
    std::size_t n;
    std::size_t i = 0, batch = 0;
    bool marked = false;  // a batch's MARK is written
    bool half = false;    // dicts: the key of item i is written
  };
  void em_item_start() {
    if (!em_top_) return;
    Open& o = *em_top_;
    if (o.kind == 't' || !bin_ || o.half || o.n < 2 || o.marked) return;
    if (o.i >= o.n) fail(errc::type_error, "brine::detail::Emitter: more items than announced");
    w1('(');
    o.marked = true;
  }
  void em_item_end() {
    if (!em_top_) return;
    Open& o = *em_top_;
    if (o.i >= o.n) fail(errc::type_error, "brine::detail::Emitter: more items than announced");
    if (o.kind == 't') {
      ++o.i;
      return;
    }
    if (o.kind == 'd' && !o.half) {
      o.half = true;
      return;
    }
    o.half = false;
    ++o.i;
    const char op1 = o.kind == 'l' ? 'a' : 's';
    if (!bin_ || o.n == 1) return w1(op1);
    if (++o.batch == k_batch || o.i == o.n) {
      w1(o.kind == 'l' ? 'e' : 'u');
      o.batch = 0;
      o.marked = false;
    }
  }

  // The fast tests: one compare each. limit_ is the capacity, or 0 while framing with no frame
  // open (the next reserve() opens one); frame_end_ is where the open frame reaches its target
  // size (boundary() commits it there), or never.
  char* reserve(std::size_t n) {
    char* p = room(n);
    pos_ += n;
    return p;
  }
  // Space for n bytes at pos_, not taken yet (the caller advances pos_ by what it wrote).
  char* room(std::size_t n) {
    if (pos_ + n > limit_) [[unlikely]]
      reserve_slow(n);
    return buf_.data() + pos_;
  }
  void reserve_slow(std::size_t n) {
    if (framing_ && frame_start_ == k_no_frame) open_frame();
    if (pos_ + n > buf_.capacity()) buf_.grow(pos_ + n);
    update_limits();
  }
  void update_limits() {
    limit_ = framing_ && frame_start_ == k_no_frame ? 0 : buf_.capacity();
    frame_end_ = frame_start_ == k_no_frame ? k_no_frame : frame_start_ + 9 + k_frame_target;
  }
  void open_frame() {
    frame_start_ = pos_;
    if (pos_ + 9 > buf_.capacity()) buf_.grow(pos_ + 9);
    pos_ += 9;
    update_limits();
  }
  void commit_frame() {
    if (frame_start_ == k_no_frame) return;
    std::size_t n = pos_ - frame_start_ - 9;
    char* f = buf_.data() + frame_start_;
    if (n >= k_frame_min) {
      f[0] = '\x95';
      for (int k = 0; k < 8; ++k) f[1 + k] = static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * k)) & 0xFF);
    } else {
      std::memmove(f, f + 9, n);
      pos_ -= 9;
    }
    frame_start_ = k_no_frame;
    update_limits();
  }
  // The output: buf_ with the big payloads spliced in, appended to out_ with one reservation.
  void assemble() {
    std::size_t total = pos_;
    for (const Segment& s : segments_) total += s.n;
    const std::size_t start = out_.size();
    if (out_.capacity() - start < total) {
      out_.reserve(start + total);
      advise_fresh_output(out_.data() + start, total);
    }
    std::size_t from = 0;
    for (const Segment& s : segments_) {
      out_.append(buf_.data() + from, s.at - from);
      out_.append(s.data, s.n);
      from = s.at;
    }
    out_.append(buf_.data() + from, pos_ - from);
  }
  // _Pickler_OpcodeBoundary: at the start of every save().
  void boundary() {
    if (pos_ >= frame_end_) [[unlikely]]
      commit_frame();
  }
  void w1(char c) { *reserve(1) = c; }
  void w(const void* p, std::size_t n) { std::memcpy(reserve(n), p, n); }
  void w(std::string_view s) { w(s.data(), s.size()); }
  void w_op_u8(char op, std::uint8_t b) {
    char* p = reserve(2);
    p[0] = op;
    p[1] = static_cast<char>(b);
  }
  void w_op_le(char op, std::uint64_t v, int bytes) {
    char* p = reserve(1 + static_cast<std::size_t>(bytes));
    p[0] = op;
    for (int k = 0; k < bytes; ++k) p[1 + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  }
  // _Pickler_write_bytes: payloads of 64 KiB or more go outside any frame. `data` must stay valid
  // until the end of the dump (it is copied to the output then): it is the document's, or
  // scratch_'s.
  void w_payload(const char* hdr, std::size_t hn, const void* data, std::size_t n) {
    if (n >= k_frame_target) {
      const bool framing = framing_;
      commit_frame();
      framing_ = false;
      w(hdr, hn);
      segments_.push_back(Segment{pos_, static_cast<const char*>(data), n});
      framing_ = framing;
      update_limits();
    } else {
      char* p = reserve(hn + n);
      std::memcpy(p, hdr, hn);
      if (n) std::memcpy(p + hn, data, n);
    }
  }
  // memcpy for the short payloads most strs have (a call to memcpy costs more than the copy):
  // two overlapping fixed-size moves, reading only [src, src + n).
  static void copy_short(char* dst, const char* src, std::size_t n) noexcept {
    if (n >= 16) {
      std::memcpy(dst, src, n);
    } else if (n >= 8) {
      std::memcpy(dst, src, 8);
      std::memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(dst, src, 4);
      std::memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n > 0) {
      dst[0] = src[0];
      dst[n / 2] = src[n / 2];
      dst[n - 1] = src[n - 1];
    }
  }
  void w_decimal_line(char op, std::int64_t v) {
    char buf[32];
    int len = std::snprintf(buf, sizeof buf, "%c%lld\n", op, static_cast<long long>(v));
    w(buf, static_cast<std::size_t>(len));
  }

  // ---- memo -----------------------------------------------------------------------------------
  void put_index(std::uint64_t idx) {
    if (proto_ >= 4) return w1('\x94');
    if (!bin_) return w_decimal_line('p', static_cast<std::int64_t>(idx));
    if (idx < 256) return w_op_u8('q', static_cast<std::uint8_t>(idx));
    if (idx > 0xFFFFFFFFull) fail(errc::unpicklable, "memo id too large for LONG_BINPUT");
    w_op_le('r', idx, 4);
  }
  void put(const Value& v) {
    if (!unshared(v)) memo_.insert(key_of(v), memo_len_);
    put_index(memo_len_++);
  }
  // Referenced from nowhere else (what the reader knows, DocumentState::sharing_known): no memo
  // entry is needed to find it again, and none is made (most values of a big pickle: the memo
  // table stays small, its lookups in cache).
  // The part of unshared() that costs one header flag: lists, tuples, dicts.
  bool unshared_node(const Value& v) const noexcept {
    if (!known_ || pid_depth_ || revisit_depth_) return false;
    switch (v.tag()) {
      case Tag::list:
      case Tag::tuple:
        return !(Access::node<SeqNode>(v)->h.flags & k_node_shared);
      case Tag::dict:
        return !(Access::node<DictNode>(v)->h.flags & k_node_shared);
      default:
        return false;
    }
  }
  bool unshared(const Value& v) const noexcept {
    if (v.tag() != Tag::str && v.tag() != Tag::bytes) return unshared_node(v);
    if (!known_ || pid_depth_ || revisit_depth_) return false;
    // CPython's shared objects, always looked up: (and the writer's own 'latin1', one object
    // for every _codecs.encode)
    if (cpython_singleton(v) || Access::p(v) == k_latin1) return false;
    return !known_->shared_leaves.contains(key_of(v).a, key_of(v).b);
  }
  // '' and the one-character latin-1 strs (shared_text), b'' and one-byte bytes: one object each
  // in CPython, however often they are made (so written once and then referred to).
  static bool cpython_singleton(const Value& v) noexcept {
    return v.tag() == Tag::bytes ? v.inline_length() <= 1 : shared_text(Access::sv(v));
  }
  void put_fresh() { put_index(memo_len_++); }
  void get_index(std::uint64_t idx) {
    if (!bin_) return w_decimal_line('g', static_cast<std::int64_t>(idx));
    if (idx < 256) return w_op_u8('h', static_cast<std::uint8_t>(idx));
    w_op_le('j', idx, 4);
  }
  bool in_memo(const Value& v) const noexcept { return !unshared_node(v) && memo_.find(key_of(v)) != nullptr; }
  void get(const Value& v) { get_index(*memo_.find(key_of(v))); }

  // ---- save -----------------------------------------------------------------------------------
  void save(const Value& v, bool pers_save = false) {
    boundary();
    if (o_.persistent_id && !pers_save) {
      Value pid = o_.persistent_id(v);
      if (pid.valid() && !pid.is_none()) return save_persistent(pid);
    }
    if (save_leaf(v)) return;
    if (v.tag() == Tag::persistent) return save_persistent(Access::node<PersistentNode>(v)->pid);
    if (!unshared_node(v))
      if (const std::uint64_t* idx = memo_.find(key_of(v))) return get_index(*idx);
    switch (v.tag()) {
      case Tag::bytes: return save_bytes(v);
      case Tag::bytearray: return save_bytearray(v);
      case Tag::tuple: return save_tuple(v);
      case Tag::list: return save_list(v);
      case Tag::dict: return save_dict(v);
      case Tag::set: return save_set(v);
      case Tag::frozenset: return save_frozenset(v);
      case Tag::global: return save_global_value(v);
      case Tag::object: return save_object(v);
      case Tag::complex: return save_complex(v);
      case Tag::buffer: return save_buffer(v);
      default:
        fail(errc::type_error, "cannot pickle a value of this kind");
    }
  }

  // The values written without a frame or a script: atoms and strs, memoized or not
  // (boundary() and the persistent-ID hook are the caller's). False: nothing was written, and
  // nothing was pushed on frames_ (references into it stay valid across the call).
  bool save_leaf(const Value& v) {
    switch (v.tag()) {
      case Tag::invalid:
        fail(errc::type_error, "a missing value (Kind::missing) cannot be pickled");
      case Tag::none:
        w1('N');
        return true;
      case Tag::boolean:
        if (proto_ >= 2)
          w1(Access::i(v) ? '\x88' : '\x89');
        else
          w(Access::i(v) ? "I01\n" : "I00\n");
        return true;
      case Tag::int64:
        save_int(Access::i(v));
        return true;
      case Tag::bigint:
        save_bigint(v);
        return true;
      case Tag::float64:
        save_float(Access::d(v));
        return true;
      case Tag::str: {
        // (with sharing known the table holds the shared values alone: a miss is cheap, and
        // put() leaves the unshared ones out)
        // A str the pickle referred to once is in no memo entry (unshared() holds only where
        // nothing is met twice without the pickle having referred to it twice): not looked up.
        const Key k = key_of(v);
        const bool memoized = !unshared(v);
        if (memoized) {
          if (const std::uint64_t* idx = memo_.find(k)) {
            get_index(*idx);
            return true;
          }
        }
        const std::size_t n = static_cast<std::size_t>(v.inline_length());
        if (proto_ >= 4 && n <= 0xFF) {  // the usual case in one reservation: SHORT_BINUNICODE + MEMOIZE
          char* o = room(3 + n);
          o[0] = '\x8c';
          o[1] = static_cast<char>(n);
          copy_short(o + 2, Access::p(v), n);
          o[2 + n] = '\x94';
          pos_ += 3 + n;
          if (memoized) memo_.insert(k, memo_len_);
          ++memo_len_;
          return true;
        }
        save_str(v);
        return true;
      }
      default:
        return false;
    }
  }

  // Little-endian 8-byte store (the tail past the encoding's length is scratch: room() gave 10).
  static void store_le64(char* p, std::uint64_t u) noexcept {
    if constexpr (std::endian::native == std::endian::big) u = __builtin_bswap64(u);
    std::memcpy(p, &u, 8);
  }

  // Below protocol 2: INT (text) at protocol 0, LONG (text) beyond int32.
  [[gnu::noinline]] void save_int_legacy(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    const bool big = u + 0x80000000ull > 0xFFFFFFFFull;
    if (!bin_ && !big) return w_decimal_line('I', v);
    if (big) {
      char buf[32];
      int len = std::snprintf(buf, sizeof buf, "L%lldL\n", static_cast<long long>(v));
      return w(buf, static_cast<std::size_t>(len));
    }
    save_int_binary(v);
  }
  void save_int(std::int64_t v) {
    if (proto_ < 2) [[unlikely]]
      return save_int_legacy(v);
    save_int_binary(v);
  }
  void save_int_binary(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    const bool big = u + 0x80000000ull > 0xFFFFFFFFull;  // beyond int32: LONG1
    // Without branches on the size (the sizes of a run of ints are often unpredictable):
    // BININT1 (0..255), BININT2 (..65535), BININT (other int32), LONG1 (minimal two's complement).
    // (masks, not ?: : g++ turns those into a branch)
    static constexpr char k_op[4] = {'K', 'M', 'J', '\x8a'};
    static constexpr unsigned char k_len[4] = {1, 2, 4, 0};
    const unsigned c = static_cast<unsigned>(u > 0xFF) + static_cast<unsigned>(u > 0xFFFF);
    const unsigned long_len = static_cast<unsigned>(64 - __builtin_clrsbll(v) + 7) / 8;
    const unsigned big_mask = 0u - static_cast<unsigned>(big);
    const unsigned idx = c | (big_mask & 3u);  // (c <= 2)
    const unsigned len = k_len[idx] + (long_len & big_mask);
    char* p = room(10);
    p[0] = k_op[idx];
    p[1] = static_cast<char>(long_len);
    store_le64(p + 1 + big, u);
    pos_ += 1 + big + len;
  }

  void save_bigint(const Value& v) {
    const std::uint8_t* b = Access::bytes(v);
    std::size_t n = static_cast<std::size_t>(v.inline_length());
    if (proto_ >= 2) {
      if (n < 256) {
        char hdr[2] = {'\x8a', static_cast<char>(n)};
        return w_payload(hdr, 2, b, n);
      }
      if (n > 0x7FFFFFFF) fail(errc::unpicklable, "int too large to pickle");
      char hdr[5] = {'\x8b'};
      for (int k = 0; k < 4; ++k) hdr[1 + k] = static_cast<char>((n >> (8 * k)) & 0xFF);
      return w_payload(hdr, 5, b, n);
    }
    if (bigint_decimal_digits(b, n) > 4300)  // str(int) of CPython's default int_max_str_digits
      fail(errc::unpicklable, "Exceeds the limit (4300 digits) for integer string conversion: protocols 0 and 1 "
                              "write ints as decimal text");
    std::string s = "L";
    bigint_to_decimal(s, b, n);
    s += "L\n";
    w(s);
  }

  void save_float(double d) {
    if (bin_) {
      std::uint64_t u;
      std::memcpy(&u, &d, 8);
      if constexpr (std::endian::native == std::endian::little) u = __builtin_bswap64(u);  // BINFLOAT: big-endian
      char* p = reserve(9);
      p[0] = 'G';
      std::memcpy(p + 1, &u, 8);
      return;
    }
    std::string s = "F";
    repr_float(s, d);
    s.push_back('\n');
    w(s);
  }

  void save_str(const Value& v) {
    write_str(Access::p(v), static_cast<std::size_t>(v.inline_length()));
    put(v);
  }
  // The opcode and text of a str (without the memo PUT).
  void write_str(const char* p, std::size_t n) {
    if (bin_) {
      if (n <= 0xFF && proto_ >= 4) {
        char* o = reserve(2 + n);
        o[0] = '\x8c';
        o[1] = static_cast<char>(n);
        copy_short(o + 2, p, n);
      } else if (n <= 0xFFFFFFFFull) {
        char hdr[5] = {'X'};
        for (int k = 0; k < 4; ++k) hdr[1 + k] = static_cast<char>((n >> (8 * k)) & 0xFF);
        w_payload(hdr, 5, p, n);
      } else if (proto_ >= 4) {
        char hdr[9] = {'\x8d'};
        for (int k = 0; k < 8; ++k) hdr[1 + k] = static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * k)) & 0xFF);
        w_payload(hdr, 9, p, n);
      } else {
        fail(errc::unpicklable, "serializing a string larger than 4 GiB requires pickle protocol 4 or higher");
      }
    } else {
      std::string s = "V";
      raw_unicode_escape_encode_for_pickle(s, std::string_view(p, n));
      s.push_back('\n');
      w(s);
    }
  }

  void bytes_header(std::size_t n, char* hdr, std::size_t& hn) {
    if (n <= 0xFF) {
      hdr[0] = 'C';
      hdr[1] = static_cast<char>(n);
      hn = 2;
    } else if (n <= 0xFFFFFFFFull) {
      hdr[0] = 'B';
      for (int k = 0; k < 4; ++k) hdr[1 + k] = static_cast<char>((n >> (8 * k)) & 0xFF);
      hn = 5;
    } else if (proto_ >= 4) {
      hdr[0] = '\x8e';
      for (int k = 0; k < 8; ++k) hdr[1 + k] = static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * k)) & 0xFF);
      hn = 9;
    } else {
      fail(errc::unpicklable, "serializing a bytes object larger than 4 GiB requires pickle protocol 4 or higher");
    }
  }

  void save_bytes(const Value& v) {
    const std::uint8_t* p = Access::bytes(v);
    std::size_t n = static_cast<std::size_t>(v.inline_length());
    if (proto_ < 3) {
      // save_reduce((bytes, ()), obj) / save_reduce((_codecs.encode, (text, 'latin1')), obj)
      std::size_t b = steps_.size();
      if (n == 0) {
        global_step("builtins", "bytes");
        lit(bin_ ? ")" : "(t");
      } else {
        global_step("_codecs", "encode");
        tuple_open(2);
        steps_.push_back(Step{SK::save, 0, nullptr, latin1_text(p, n), {}, {}});
        steps_.push_back(Step{SK::save, 0, nullptr, Access::make_ptr(Tag::str, 6, k_latin1), {}, {}});
        tuple_close(2);
      }
      lit("R");
      steps_.push_back(Step{SK::put_obj, 0, nullptr, v, {}, {}});
      return push_script(b);
    }
    char hdr[9];
    std::size_t hn = 0;
    bytes_header(n, hdr, hn);
    w_payload(hdr, hn, p, n);
    put(v);
  }

  // The str b.decode('latin1') gives (a fresh object, or CPython's shared one-character str).
  Value latin1_text(const std::uint8_t* p, std::size_t n) {
    if (n == 1) return str_singleton(p[0]);
    scratch_.emplace_front();
    latin1_to_utf8(scratch_.front(), p, n);
    const std::string& s = scratch_.front();
    return Access::make_ptr(Tag::str, s.size(), s.data());
  }

  void save_bytearray(const Value& v) {
    auto* b = Access::node<ByteArrayNode>(v);
    if (proto_ >= 5) {
      char hdr[9] = {'\x96'};
      for (int k = 0; k < 8; ++k) hdr[1 + k] = static_cast<char>((b->size >> (8 * k)) & 0xFF);
      w_payload(hdr, 9, b->data, static_cast<std::size_t>(b->size));
      return put(v);
    }
    // save_reduce((bytearray, ()), obj) / save_reduce((bytearray, (bytes(obj),)), obj)
    std::size_t s = steps_.size();
    global_step("builtins", "bytearray");
    if (b->size == 0) {
      lit(bin_ ? ")" : "(t");
    } else {
      tuple_open(1);
      // bytes(obj): a fresh bytes object (one byte: CPython's shared one); its identity is
      // the bytearray's storage, which nothing else refers to.
      Value tmp = b->size == 1 ? bytes_singleton(b->data[0]) : Access::make_ptr(Tag::bytes, b->size, b->data);
      steps_.push_back(Step{SK::save, 0, nullptr, tmp, {}, {}});
      tuple_close(1);
    }
    lit("R");
    steps_.push_back(Step{SK::put_obj, 0, nullptr, v, {}, {}});
    push_script(s);
  }

  void save_complex(const Value& v) {
    auto* c = Access::node<ComplexNode>(v);
    std::size_t s = steps_.size();
    global_step("builtins", "complex");
    tuple_open(2);
    steps_.push_back(Step{SK::save, 0, nullptr, make_float(c->re), {}, {}});
    steps_.push_back(Step{SK::save, 0, nullptr, make_float(c->im), {}, {}});
    tuple_close(2);
    lit("R");
    steps_.push_back(Step{SK::put_obj, 0, nullptr, v, {}, {}});
    push_script(s);
  }

  void save_buffer(const Value& v) {
    auto* b = Access::node<BufferNode>(v);
    if (proto_ < 5) fail(errc::unpicklable, "PickleBuffer can only pickled with protocol >= 5");
    bool readonly = b->h.flags & 1;
    bool in_band = o_.buffer_callback ? o_.buffer_callback(v) : true;
    if (!in_band) {
      w1('\x97');
      if (readonly) w1('\x98');
      return;
    }
    std::size_t n = static_cast<std::size_t>(b->size);
    char hdr[9];
    std::size_t hn = 0;
    if (readonly) {
      bytes_header(n, hdr, hn);
    } else {
      hdr[0] = '\x96';
      for (int k = 0; k < 8; ++k) hdr[1 + k] = static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * k)) & 0xFF);
      hn = 9;
    }
    w_payload(hdr, hn, b->data, n);
    put(v);
  }

  void save_persistent(const Value& pid) {
    if (bin_) {
      // The ID is written each time the persistent value is met, so everything in it can be met
      // twice, whatever the reader saw: no sharing knowledge inside (pid_depth_).
      std::size_t s = steps_.size();
      steps_.push_back(Step{SK::pid_enter, 0, nullptr, Value(), {}, {}});
      steps_.push_back(Step{SK::save_pid, 0, nullptr, pid, {}, {}});
      steps_.push_back(Step{SK::pid_leave, 0, nullptr, Value(), {}, {}});
      lit("Q");
      return push_script(s);
    }
    // P + str(pid): for everything but a str, str() is repr().
    std::string text = pid.tag() == Tag::str ? std::string(Access::sv(pid)) : brine::repr(pid);
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\n')
        fail(errc::unpicklable, "persistent IDs in protocol 0 must be ASCII strings");
    w1('P');
    w(text);
    w1('\n');
  }

  // ---- containers -----------------------------------------------------------------------------
  void save_tuple(const Value& v) {
    auto* t = Access::node<SeqNode>(v);
    std::size_t n = static_cast<std::size_t>(t->size);
    if (n == 0) return w(bin_ ? ")" : "(t");
    Frame f{FT::tuple};
    f.v = v;
    f.items = t->items;
    f.n = n;
    if (!(proto_ >= 2 && n <= 3)) w1('(');
    frames_.push_back(f);
    ++revisit_depth_;
  }

  void save_list(const Value& v) {
    auto* l = Access::node<SeqNode>(v);
    w(bin_ ? "]" : "(l");
    put(v);
    list_frame(l->items, static_cast<std::size_t>(l->size), true);
  }
  // The items of a list: batch_list_exact for exact lists (protocol 1+), else batch_list.
  void list_frame(const Value* items, std::size_t n, bool exact) {
    if (n == 0) return;
    for (std::size_t k = 0; k < n && k < k_prefetch_ahead; ++k) prefetch_memo(items[k]);
    Frame f{FT::batch};
    f.items = items;
    f.n = n;
    f.text = !bin_;
    f.single_every = !exact;
    f.until_done = exact;
    f.single = 'a';
    f.close = 'e';
    start_batch(f);
  }

  void save_dict(const Value& v) {
    auto* d = Access::node<DictNode>(v);
    w(bin_ ? "}" : "(d");
    put(v);
    dict_frame(d->items, static_cast<std::size_t>(d->size), true);
  }
  // The items of a dict: batch_dict_exact for exact dicts (protocol 1+), else batch_dict.
  void dict_frame(const DictItem* items, std::size_t n, bool exact) {
    if (n == 0) return;
    for (std::size_t k = 0; k < n && k < 2 * k_prefetch_ahead; ++k) prefetch_memo(items[k].value);
    Frame f{FT::batch};
    f.ditems = items;
    f.n = n;
    f.pairs = true;
    f.text = !bin_;
    f.single_every = !exact;
    f.single = 's';
    f.close = 'u';
    start_batch(f);
  }

  void save_set(const Value& v) {
    auto* s = Access::node<SetNode>(v);
    std::size_t n = static_cast<std::size_t>(s->size);
    if (proto_ < 4) return reduce_set(v, "set", s->order, n);
    w1('\x8f');
    put(v);
    if (n == 0) return;
    Frame f{FT::batch};
    f.items = s->order;
    f.n = n;
    f.close = '\x90';
    start_batch(f);
  }

  void save_frozenset(const Value& v) {
    auto* s = Access::node<SetNode>(v);
    std::size_t n = static_cast<std::size_t>(s->size);
    if (proto_ < 4) return reduce_set(v, "frozenset", s->order, n);
    w1('(');
    Frame f{FT::frozenset};
    f.v = v;
    f.items = s->order;
    f.n = n;
    frames_.push_back(f);
    ++revisit_depth_;
  }

  // save_reduce((set, (list(s),)), obj)
  void reduce_set(const Value& v, std::string_view type, const Value* items, std::size_t n) {
    enter_construction(v);
    std::size_t s = steps_.size();
    global_step("builtins", type);
    tuple_open(1);
    steps_.push_back(Step{SK::fresh_list, n, items, Value(), {}, {}});
    tuple_close(1);
    lit("R");
    steps_.push_back(Step{SK::put_obj, 0, nullptr, v, {}, {}});
    push_script(s);
  }

  // ---- globals --------------------------------------------------------------------------------
  void save_global_value(const Value& v) {
    auto* g = Access::node<GlobalNode>(v);
    // Only STACK_GLOBAL's str objects have an identity worth keeping; names read from text
    // are written like CPython's interned module names.
    bool own = g->h.flags & k_global_own_strs;
    save_global(Access::sv(g->module), Access::sv(g->name), v, own ? g->module : Value(), own ? g->name : Value());
  }

  void global_step(std::string_view module, std::string_view name) {
    steps_.push_back(Step{SK::global, 0, nullptr, Value(), module, name});
  }

  // save_global. `node`: the document's global value (memoized under its identity too);
  // `mod_v`/`name_v`: its str objects, written by STACK_GLOBAL (missing: make them).
  void save_global(std::string_view module, std::string_view name, const Value& node, const Value& mod_v,
                   const Value& name_v) {
    if (const std::uint64_t* idx = global_memo_.find(module, name)) {
      if (node.valid()) memo_.insert(key_of(node), *idx);
      return get_index(*idx);
    }
    if (proto_ >= 2 && !o_.extensions.empty()) {
      auto e = o_.extensions.find({std::string(module), std::string(name)});
      if (e != o_.extensions.end()) {
        std::int32_t code = e->second;
        if (code <= 0) fail(errc::unpicklable, "extension code " + std::to_string(code) + " is out of range");
        if (code <= 0xFF) return w_op_u8('\x82', static_cast<std::uint8_t>(code));
        if (code <= 0xFFFF) return w_op_le('\x83', static_cast<std::uint64_t>(code), 2);
        return w_op_le('\x84', static_cast<std::uint64_t>(code), 4);
      }
    }
    std::size_t dot = name.rfind('.');
    if (proto_ >= 4 && !o_.persistent_id) {  // the usual case, written at once (no script)
      save_module(module, mod_v);
      boundary();
      save_leaf(name_v.valid() ? name_v : text_value(name));
      w1('\x93');
      return memoize_global(module, name, node);
    }
    if (proto_ >= 4) {
      std::size_t s = steps_.size();
      steps_.push_back(Step{SK::save_module, 0, nullptr, mod_v, module, {}});
      steps_.push_back(Step{SK::save, 0, nullptr, name_v.valid() ? name_v : text_value(name), {}, {}});
      lit("\x93");
      steps_.push_back(Step{SK::put_obj, 1, nullptr, node, module, name});
      return push_script(s);
    }
    if (dot != std::string_view::npos) {
      // An empty part ('.a', 'a..b', 'a.'): CPython's pickler looks each part up as an attribute
      // and fails (PicklingError); GLOBAL could not even carry an empty parent name.
      if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos)
        fail(errc::unpicklable, "can't pickle global '" + std::string(module) + "." + std::string(name) +
                                    "' at protocol " + std::to_string(proto_) +
                                    ": its dotted name has an empty part (no attribute '')");
      // save_reduce((getattr, (parent, lastname)), obj=NULL), then memoize obj
      std::size_t s = steps_.size();
      global_step("builtins", "getattr");
      tuple_open(2);
      global_step(module, name.substr(0, dot));
      steps_.push_back(Step{SK::save, 0, nullptr, text_value(name.substr(dot + 1)), {}, {}});
      tuple_close(2);
      lit("R");
      steps_.push_back(Step{SK::put_obj, 1, nullptr, node, module, name});
      return push_script(s);
    }
    std::string_view m = module, n = name;
    if (proto_ < 3 && o_.fix_imports) map_python3_global(module, name, m, n);
    bool ascii = proto_ < 3;
    auto check = [&](std::string_view t) {
      for (char c : t) {
        if (ascii && static_cast<unsigned char>(c) >= 0x80)
          fail(errc::unpicklable, "can't pickle global identifier '" + std::string(t) + "' using pickle protocol " +
                                      std::to_string(proto_));
        if (c == '\n') fail(errc::unpicklable, "a global name with a newline cannot be written by GLOBAL");
      }
    };
    check(m);
    check(n);
    char* p = reserve(m.size() + n.size() + 3);
    *p++ = 'c';
    std::memcpy(p, m.data(), m.size());
    p += m.size();
    *p++ = '\n';
    std::memcpy(p, n.data(), n.size());
    p += n.size();
    *p = '\n';
    memoize_global(module, name, node);
  }

  // The module str of a STACK_GLOBAL. Module names of classes and functions are interned strs in
  // CPython, so globals of one module share the object: memoized by content as well as by
  // identity. A global read from STACK_GLOBAL brings the pickle's str object (`mod_v`), which is
  // written (or reused) by identity only when no module name of that content was written yet.
  void save_module(std::string_view module, const Value& mod_v) {
    boundary();
    if (const std::uint64_t* idx = module_memo_.find(module, {})) return get_index(*idx);
    Value m = mod_v.valid() ? mod_v : text_value(module);
    if (o_.persistent_id) {
      Value pid = o_.persistent_id(m);
      if (pid.valid() && !pid.is_none()) return save_persistent(pid);
    }
    if (const std::uint64_t* idx = memo_.find(key_of(m))) {
      module_memo_.add(module, {}, *idx);
      return get_index(*idx);
    }
    module_memo_.add(module, {}, memo_len_);
    save_str(m);
  }

  void memoize_global(std::string_view module, std::string_view name, const Value& node) {
    global_memo_.add(module, name, memo_len_);
    if (node.valid()) memo_.insert(key_of(node), memo_len_);
    put_index(memo_len_++);
  }

  // A str object made for the occasion (fresh identity; CPython's shared object for '' and
  // one-character latin-1 text).
  // '' and the one-character latin-1 strs: CPython's shared objects (text_value gives them).
  static bool shared_text(std::string_view s) noexcept {
    if (s.size() > 2) return false;
    if (s.size() < 2) return s.empty() || static_cast<unsigned char>(s[0]) < 0x80;
    return (static_cast<unsigned char>(s[0]) == 0xC2 || static_cast<unsigned char>(s[0]) == 0xC3) &&
           (static_cast<unsigned char>(s[1]) & 0xC0) == 0x80;
  }
  Value text_value(std::string_view s) {
    if (s.empty()) return empty_str();
    if (s.size() == 1 && static_cast<unsigned char>(s[0]) < 0x80) return str_singleton(static_cast<unsigned char>(s[0]));
    if (s.size() == 2 && (static_cast<unsigned char>(s[0]) == 0xC2 || static_cast<unsigned char>(s[0]) == 0xC3))
      return str_singleton(((static_cast<unsigned>(s[0]) & 0x1F) << 6) | (static_cast<unsigned>(s[1]) & 0x3F));
    scratch_.emplace_front(s);
    const std::string& t = scratch_.front();
    return Access::make_ptr(Tag::str, t.size(), t.data());
  }

  // ---- objects --------------------------------------------------------------------------------
  void enter_construction(const Value& v) {
    int& depth = constructing_.at(Access::identity(v));
    // The third nested save of one object before it is memoized: its construction arguments
    // lead back to it through values that are all being constructed too, so every further
    // attempt would take the same path (CPython raises RecursionError).
    if (++depth > 2)
      fail(errc::unpicklable, "cannot pickle " + python_type_name(v) +
                                  ": its construction arguments refer back to it (a cycle only Python's "
                                  "__setstate__ could close)");
    ++revisit_depth_;
  }
  void leave_construction(const Value& v, bool resume_sharing) {
    // (put_obj ends bytes / bytearray / complex reduces too, which entered nothing)
    if (constructing_.decrement(Access::identity(v))) --revisit_depth_;
    if (resume_sharing && --sharing_suspended_ == 0) known_ = suspended_known_;
  }
  // What the reader knows about sharing holds for the values as the pickle wrote them: each
  // unshared one is written once. Where the writer puts an object's items into its construction
  // argument (below protocol 2 a list / dict subclass object's, a Counter's dict) and they lead
  // back to the object (the pickle memoized it before its items), they are written again inside
  // it, and so is an argument written fresh. From here to the object's PUT everything is
  // memoized (as the value form does), so that the second write refers back.
  void suspend_sharing() {
    if (sharing_suspended_++ == 0) {
      suspended_known_ = known_;
      known_ = nullptr;
    }
  }

  void lit(std::string_view s) { steps_.push_back(Step{SK::lit, s.size(), s.data(), Value(), {}, {}}); }
  // Closes a tuple of k items made for the occasion ('(' was written before the items when
  // the short forms do not apply).
  void tuple_close(std::size_t k) {
    if (k == 0) return lit(bin_ ? ")" : "(t");
    if (proto_ >= 2 && k <= 3) {
      static constexpr const char* ops[] = {"", "\x85", "\x86", "\x87"};
      lit(ops[k]);
    } else {
      lit("t");
    }
    steps_.push_back(Step{SK::put_fresh, 0, nullptr, Value(), {}, {}});
  }
  bool tuple_open(std::size_t k) {
    bool mark = k > 0 && !(proto_ >= 2 && k <= 3);
    if (mark) lit("(");
    return mark;
  }

  void save_args(const Value& args) { steps_.push_back(Step{SK::save, 0, nullptr, args, {}, {}}); }

  void save_object(const Value& v) {
    auto* o = Access::node<ObjectNode>(v);
    auto how = static_cast<Construction>(o->h.kind);
    auto lt = static_cast<LibraryType>(o->h.flags);
    if (!o->callable.valid()) fail(errc::type_error, "an object without a class or callable cannot be pickled");
    if (save_leaf_reduce(v, o)) return;
    enter_construction(v);
    std::size_t s = steps_.size();
    bool items_in_args = false;  // items (or an argument) written fresh in its construction argument
    const Value* list_items = o->list_items ? o->list_items->items : nullptr;
    std::size_t n_list = o->list_items ? static_cast<std::size_t>(o->list_items->size) : 0;
    const DictItem* dict_items = o->dict_items ? o->dict_items->items : nullptr;
    std::size_t n_dict = o->dict_items ? static_cast<std::size_t>(o->dict_items->size) : 0;
    Value args = o->args.valid() ? o->args : empty_tuple();
    auto a = args.tag() == Tag::tuple ? args.elements() : std::span<const Value>();
    KnownId cid = known_id(o->callable);

    auto newobj = [&](const Value& cls, std::span<const Value> newargs, bool fresh) {
      save_args(cls);
      if (fresh) {
        tuple_open(newargs.size());
        for (const Value& x : newargs) save_args(x);
        tuple_close(newargs.size());
      } else {
        save_args(args);
      }
      lit("\x81");
    };
    auto reduce = [&](const Value& callable, std::span<const Value> rargs, bool fresh) {
      save_args(callable);
      if (fresh) {
        tuple_open(rargs.size());
        for (const Value& x : rargs) save_args(x);
        tuple_close(rargs.size());
      } else {
        save_args(args);
      }
      lit("R");
    };
    // A plain instance: what CPython writes for cls.__new__(cls) at this protocol. Below
    // protocol 2 that is copyreg._reduce_ex's form: _reconstructor(cls, base, base(obj)) with
    // base = list / dict for list and dict subclasses (their items go into that argument).
    auto plain_instance = [&](const Value& cls) {
      if (proto_ >= 2) return newobj(cls, {}, true);
      if (o->state.tag() == Tag::tuple && o->state.elements().size() == 2 && o->state.elements()[1].is_dict())
        fail(errc::unpicklable, "cannot pickle " + python_type_name(v) + " at protocol " + std::to_string(proto_) +
                                    ": a class that defines __slots__ without defining __getstate__ cannot be "
                                    "pickled with protocol 0 or 1");
      global_step("copyreg", "_reconstructor");
      tuple_open(3);
      save_args(cls);
      if (n_list && !n_dict) {
        global_step("builtins", "list");
        steps_.push_back(Step{SK::fresh_list, n_list, list_items, Value(), {}, {}});
        n_list = 0;
        items_in_args = true;
      } else if (n_dict && !n_list && items_form_a_dict(o->dict_items)) {
        global_step("builtins", "dict");
        steps_.push_back(Step{SK::fresh_dict, n_dict, dict_items, Value(), {}, {}});
        n_dict = 0;
        items_in_args = true;
      } else {
        global_step("builtins", "object");
        save_args(make_none());
      }
      tuple_close(3);
      lit("R");
    };

    // The record of an OrderedDict / Counter / deque whose constructor arguments gave (some of)
    // its items: what CPython's __reduce__ of the loaded object gives, with the class (not the
    // record's callable) and the items after it. OrderedDict: (cls, ()) + items; Counter:
    // (cls, (dict(self),)); deque: (cls, () or ((), maxlen)) + items.
    const bool from_args = items_from_args(lt, how, args);
    auto library_form = [&] {
      save_args(o->cls);
      if (lt == LibraryType::counter) {
        tuple_open(1);
        steps_.push_back(Step{SK::fresh_dict, n_dict, dict_items, Value(), {}, {}});
        tuple_close(1);
        n_dict = 0;
        items_in_args = true;
      } else if (lt == LibraryType::deque && a.size() >= 2 && !a[1].is_none()) {
        tuple_open(2);
        save_args(empty_tuple());
        save_args(a[1]);
        tuple_close(2);
      } else {
        tuple_close(0);
      }
      lit("R");
    };

    switch (how) {
      case Construction::reduce: {
        // The copyreg helpers' forms at protocol 2+ (4+ for __newobj_ex__), when their first
        // argument can be a class; otherwise the REDUCE is kept as it is (CPython fails on both).
        if (cid == KnownId::copyreg_reconstructor && proto_ >= 2 && a.size() == 3 && may_be_class(a[0])) {
          KnownId base = known_id(a[1]);
          if (base == KnownId::b_object && a[2].is_none()) {
            plain_instance(a[0]);
            break;
          }
          // list and dict subclasses: NEWOBJ, then the items (copyreg.__reduce_ex__'s listitems /
          // dictitems at protocol 2+). The items given to _reconstructor come first.
          if (base == KnownId::b_list && a[2].is_list() && !n_list) {
            newobj(a[0], {}, true);
            list_items = a[2].elements().data();
            n_list = a[2].elements().size();
            break;
          }
          if (base == KnownId::b_dict && a[2].is_dict() && !n_dict) {
            newobj(a[0], {}, true);
            dict_items = a[2].items().data();
            n_dict = a[2].items().size();
            break;
          }
          // Subclasses of int, float, str, bytes: __getnewargs__ gives (base(self),). (Tuple
          // subclasses are left alone: a namedtuple's __getnewargs__ gives its fields instead, and
          // the record does not say which one this is.)
          if ((base == KnownId::b_int && a[2].is_int()) || (base == KnownId::b_float && a[2].is_float()) ||
              (base == KnownId::b_str && a[2].is_str()) || (base == KnownId::b_bytes && a[2].is_bytes())) {
            newobj(a[0], a.subspan(2, 1), true);
            break;
          }
        }
        // Below protocol 2 the record stays copyreg._reduce_ex's form, _reconstructor(cls,
        // list|dict, base(obj)): CPython writes base(obj), a list / dict made for the occasion, at
        // each write of the object (again when its items lead back to it before it is
        // memoized). So is the record's argument when the graph refers to it (and to the
        // arguments tuple) from nowhere else: then it is only the object's items.
        if (cid == KnownId::copyreg_reconstructor && proto_ < 2 && a.size() == 3 && may_be_class(a[0]) &&
            ((known_id(a[1]) == KnownId::b_list && a[2].is_list()) ||
             (known_id(a[1]) == KnownId::b_dict && a[2].is_dict())) &&
            referenced_once(args) && referenced_once(a[2])) {
          save_args(o->callable);
          tuple_open(3);
          save_args(a[0]);
          save_args(a[1]);
          if (a[2].is_list())
            steps_.push_back(Step{SK::fresh_list, a[2].elements().size(), a[2].elements().data(), Value(), {}, {}});
          else
            steps_.push_back(Step{SK::fresh_dict, a[2].items().size(), a[2].items().data(), Value(), {}, {}});
          tuple_close(3);
          lit("R");
          items_in_args = true;
          break;
        }
        if (cid == KnownId::copyreg_newobj && proto_ >= 2 && !a.empty() && may_be_class(a[0])) {
          newobj(a[0], a.subspan(1), true);
          break;
        }
        if (cid == KnownId::copyreg_newobj_ex && proto_ >= 4 && a.size() == 3 && may_be_class(a[0]) &&
            (a[1].is_tuple() || a[1].tag() == Tag::object) && (a[2].is_dict() || a[2].tag() == Tag::object)) {
          save_args(a[0]);
          save_args(a[1]);
          save_args(a[2]);
          lit("\x92");
          break;
        }
        if (from_args || (lt == LibraryType::counter && a.empty())) {
          library_form();
          break;
        }
        if ((lt == LibraryType::datetime || lt == LibraryType::time || lt == LibraryType::date) && !a.empty()) {
          if (Value st = datetime_state(lt, a[0]); st.valid()) {
            std::vector<Value>& fresh = scratch_args();
            fresh.assign(a.begin(), a.end());
            fresh[0] = st;
            reduce(o->callable, fresh, true);
            break;
          }
        }
        reduce(o->callable, {}, false);
        break;
      }
      case Construction::newobj:
        if (proto_ >= 2) {
          newobj(o->callable, {}, false);
        } else if (args.tag() != Tag::tuple) {
          // copyreg.__newobj__(cls, *args) needs the arguments as a tuple (CPython's NEWOBJ
          // refuses anything else too).
          fail(errc::unpicklable, "cannot pickle " + python_type_name(v) + " at protocol " + std::to_string(proto_) +
                                      ": its NEWOBJ arguments are not a tuple");
        } else if (a.empty()) {
          plain_instance(o->callable);
        } else {
          // cls.__new__(cls, *args) below protocol 2: copyreg.__newobj__(cls, *args)
          global_step("copyreg", "__newobj__");
          tuple_open(a.size() + 1);
          save_args(o->callable);
          for (const Value& x : a) save_args(x);
          tuple_close(a.size() + 1);
          lit("R");
        }
        break;
      case Construction::newobj_ex:
        if (proto_ >= 4) {
          save_args(o->callable);
          save_args(args);
          save_args(o->kwargs.valid() ? o->kwargs : Value());
          lit("\x92");
        } else {
          global_step("copyreg", "__newobj_ex__");
          tuple_open(3);
          save_args(o->callable);
          save_args(args);
          save_args(o->kwargs);
          tuple_close(3);
          lit("R");
        }
        break;
      case Construction::inst:
      case Construction::obj: {
        if (from_args) {  // the items are in the record already: not as arguments again
          library_form();
          break;
        }
        bool legacy_ok = (how == Construction::inst && proto_ == 0) || (how == Construction::obj && proto_ == 1);
        if (legacy_ok && how == Construction::obj) {
          lit("(");
          save_args(o->callable);
          for (const Value& x : a) save_args(x);
          lit("o");
        } else if (legacy_ok && o->callable.tag() == Tag::global && inst_writable(o->callable)) {
          lit("(");
          for (const Value& x : a) save_args(x);
          auto* g = Access::node<GlobalNode>(o->callable);
          std::string_view m = Access::sv(g->module), nm = Access::sv(g->name);
          if (o_.fix_imports) map_python3_global(m, nm, m, nm);
          scratch_.emplace_front("i");
          scratch_.front().append(m).push_back('\n');
          scratch_.front().append(nm).push_back('\n');
          lit(scratch_.front());
        } else if (a.empty() && may_be_class(o->callable)) {
          plain_instance(o->callable);
        } else {
          // cls(*args); also a function without arguments: INST / OBJ call what is not a class
          // even then (CPython's instantiate), so REDUCE(f, ()).
          reduce(o->callable, a, true);
        }
        break;
      }
    }
    if (items_in_args) suspend_sharing();
    steps_.push_back(Step{SK::put_obj, items_in_args ? 2u : 0u, nullptr, v, {}, {}});
    if (n_list) steps_.push_back(Step{SK::list_items, n_list, list_items, Value(), {}, {}});
    if (n_dict) steps_.push_back(Step{SK::dict_items, n_dict, dict_items, Value(), {}, {}});
    if (o->earlier_states) {
      for (std::uint64_t k = 0; k < o->earlier_states->size; ++k) {
        save_args(o->earlier_states->items[k]);
        lit("b");
      }
    }
    if (o->state.valid() && o->state_setter.valid()) {
      // save_reduce with a state_setter: setter(obj, state), the result POPped (TUPLE2 at every
      // protocol, as CPython writes it)
      save_args(o->state_setter);
      save_args(v);
      save_args(o->state);
      lit("\x86R0");
    } else if (o->state.valid()) {
      save_args(o->state);
      lit("b");
    }
    push_script(s);
  }

  // The common small object, a REDUCE of a global on a tuple of atoms, strs and bytes (a date,
  // a Decimal, a UUID...), written at once: what save_object's script would write, without the
  // script. Its arguments cannot lead back to it, so it needs no construction count either.
  // False (nothing written) for anything else.
  bool save_leaf_reduce(const Value& v, const ObjectNode* o) {
    if (o_.persistent_id || static_cast<Construction>(o->h.kind) != Construction::reduce) return false;
    if (o->list_items || o->dict_items || o->earlier_states || o->state.valid()) return false;
    const Value& g = o->callable;
    if (g.tag() != Tag::global) return false;
    switch (known_id(g)) {
      case KnownId::copyreg_reconstructor:
      case KnownId::copyreg_newobj:
      case KnownId::copyreg_newobj_ex:
        return false;
      default:
        break;
    }
    // a dotted name below protocol 4 is written by a script (getattr)
    if (proto_ < 4 && Access::sv(Access::node<GlobalNode>(g)->name).find('.') != std::string_view::npos) return false;
    const Value& args = o->args;
    if (!args.valid() || args.tag() != Tag::tuple) return false;
    auto a = args.elements();
    if (a.empty()) return false;
    for (const Value& x : a) {
      const Tag t = x.tag();
      if (!(t == Tag::none || t == Tag::boolean || t == Tag::int64 || t == Tag::bigint || t == Tag::float64 ||
            t == Tag::str || (t == Tag::bytes && proto_ >= 3)))
        return false;
    }
    auto lt = static_cast<LibraryType>(o->h.flags);
    switch (lt) {
      case LibraryType::ordered_dict:
      case LibraryType::counter:
      case LibraryType::deque:
        return false;
      case LibraryType::date:
      case LibraryType::time:
      case LibraryType::datetime:
        if (datetime_state(lt, a[0]).valid()) return false;
        break;
      default:
        break;
    }
    if (in_memo(args)) return false;
    save(g);  // (no script: see above)
    boundary();
    const std::size_t n = a.size();
    const bool short_form = proto_ >= 2 && n <= 3;
    if (!short_form) w1('(');
    for (const Value& x : a) {
      if (x.tag() == Tag::bytes) {
        save(x);
      } else {
        boundary();
        save_leaf(x);
      }
    }
    w1(short_form ? static_cast<char>(0x85 + n - 1) : 't');
    put(args);
    w1('R');
    put(v);
    return true;
  }

  std::vector<Value>& scratch_args() {
    scratch_values_.emplace_front();
    return scratch_values_.front();
  }

  // The state bytes CPython's date/time/datetime __reduce_ex__ gives at this protocol, when it
  // differs from the recorded argument (missing otherwise): Python 2 wrote the state as a str
  // (read with encoding='latin1'), and the fold flag (high bit of the month byte of a datetime,
  // of the hour byte of a time) is only written at protocol 4 and above.
  Value datetime_state(LibraryType lt, const Value& arg) {
    std::string st;
    bool changed = false;
    if (arg.is_bytes()) {
      st.assign(Access::p(arg), static_cast<std::size_t>(arg.inline_length()));
    } else if (arg.is_str()) {
      std::string_view u = Access::sv(arg);
      for (std::size_t i = 0; i < u.size();) {
        char32_t cp;
        i += decode_utf8(u.data() + i, u.size() - i, cp);
        if (cp > 0xFF) return Value();
        st.push_back(static_cast<char>(cp));
      }
      changed = true;
    } else {
      return Value();
    }
    std::size_t fold_byte = lt == LibraryType::datetime ? 2 : 0;
    if (proto_ < 4 && lt != LibraryType::date && st.size() > fold_byte && (st[fold_byte] & 0x80) &&
        st.size() == (lt == LibraryType::datetime ? 10u : 6u)) {
      st[fold_byte] = static_cast<char>(st[fold_byte] & 0x7F);
      changed = true;
    }
    if (!changed) return Value();
    scratch_.push_front(std::move(st));
    return Access::make_ptr(Tag::bytes, scratch_.front().size(), scratch_.front().data());
  }

  // Whether the items set on an object are those of a real dict (keys hashable, no two equal), so
  // that they can be given to _reconstructor(cls, dict, {items}). The items set on an object of
  // an unknown class are kept as they were set (its __setitem__ decides); then they may not be.
  static bool items_form_a_dict(const DictNode* d) {
    if (!(d->h.flags & k_dict_keep_duplicates)) return true;
    try {
      std::unordered_map<std::int64_t, std::vector<std::size_t>> seen;
      for (std::size_t i = 0; i < d->size; ++i) {
        const Value& k = d->items[i].key;
        if (!is_hashable(k)) return false;
        std::vector<std::size_t>& same_hash = seen[py_hash(k)];
        for (std::size_t j : same_hash)
          if (key_equal(d->items[j].key, k)) return false;
        same_hash.push_back(i);
      }
    } catch (const ReadFailure&) {  // frozensets nested too deep to compare
      return false;
    }
    return true;
  }

  // Whether the graph being written holds exactly one reference to the list, tuple or dict x
  // (the root counts as one). The references are counted once per dump, at the first question:
  // every list, tuple, dict, set, object and persistent reference reachable from the root,
  // walked without recursion, counted up to 2. Without a root (values written one by one by
  // the Emitter, which may share them between calls) nothing is known: false.
  bool referenced_once(const Value& x) {
    if (!root_.valid()) return false;
    if (!refs_counted_) count_references();
    auto it = refs_.find(Access::identity(x));
    return it != refs_.end() && it->second == 1;
  }
  void count_references() {
    refs_counted_ = true;
    std::vector<Value> todo;
    auto reach = [&](const Value& x) {
      if (!holds_values(x)) return;
      auto [it, first] = refs_.try_emplace(Access::identity(x), 0u);
      if (it->second < 2) ++it->second;
      if (first) todo.push_back(x);
    };
    reach(root_);
    while (!todo.empty()) {
      Value x = todo.back();
      todo.pop_back();
      for_each_child(x, reach);
    }
  }

  // Whether x may be a class: NEWOBJ / NEWOBJ_EX (and copyreg._reconstructor) need one, and the
  // reader, like CPython, refuses a native value or a known function or constant there.
  static bool may_be_class(const Value& x) {
    switch (x.tag()) {
      case Tag::object:
      case Tag::persistent:
        return true;
      case Tag::global: {
        auto kind = static_cast<KnownKind>(Access::node<GlobalNode>(x)->h.aux);
        return kind != KnownKind::function && kind != KnownKind::constant;
      }
      default:
        return false;
    }
  }

  static bool inst_writable(const Value& g) {
    auto* n = Access::node<GlobalNode>(g);
    for (char c : Access::sv(n->module))
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\n') return false;
    for (char c : Access::sv(n->name))
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\n' || c == '.') return false;
    return true;
  }

  // ---- the frame machine ----------------------------------------------------------------------
  // A script frame runs steps [i, n) of the step stack; its steps start at `batch` (they are
  // dropped when it ends; scripts nest like the frames).
  void push_script(std::size_t begin) {
    Frame f{FT::script};
    f.batch = begin;
    f.i = begin;
    f.n = steps_.size();
    frames_.push_back(f);
  }

  void step() {
    Frame& f = frames_.back();
    switch (f.t) {
      case FT::tuple: {
        if (f.i < f.n) {
          if (!o_.persistent_id) {
            while (f.i < f.n) {
              boundary();
              if (!save_leaf(f.items[f.i])) break;
              ++f.i;
            }
            if (f.i == f.n) return;
          }
          Value x = f.items[f.i++];
          return save(x);
        }
        Value t = f.v;
        std::size_t n = f.n;
        frames_.pop_back();
        bool short_form = proto_ >= 2 && n <= 3;
        if (in_memo(t)) {  // reached recursively through its items
          if (short_form) {
            for (std::size_t k = 0; k < n; ++k) w1('0');
          } else if (bin_) {
            w1('1');
          } else {
            for (std::size_t k = 0; k <= n; ++k) w1('0');
          }
          get(t);
        } else {
          w1(short_form ? static_cast<char>(0x85 + n - 1) : 't');
          put(t);
        }
        --revisit_depth_;  // (after the lookup and the PUT of t itself)
        return;
      }
      case FT::frozenset: {
        if (f.i < f.n) {
          Value x = f.items[f.i++];
          return save(x);
        }
        Value t = f.v;
        frames_.pop_back();
        if (in_memo(t)) {
          w1('1');
          get(t);
        } else {
          w1('\x91');
          put(t);
        }
        --revisit_depth_;
        return;
      }
      case FT::batch: {
        if (f.pending.valid()) {
          Value x = f.pending;
          f.pending = Value();
          return save(x);
        }
        Value next;
        if (batch_run(f, next)) return frames_.pop_back();
        return save(next);
      }
      case FT::script:
        return run_step();
    }
  }

  // Writes the batch's next items while they are leaves (save_leaf), without a trip through
  // step() and save() per item; stops at an item that is not (a dict value: with f.half set),
  // at the end of the batch or of the items. Only without a persistent-ID hook.
  void batch_leaves(Frame& f) {
    const std::size_t end = std::min(f.n, f.i + (k_batch - f.batch));
    if (!f.pairs) {
      std::size_t i = f.i;
      while (i < end) {
        if (i + k_prefetch_ahead < f.n) prefetch_memo(f.items[i + k_prefetch_ahead]);
        boundary();
        if (!save_leaf(f.items[i])) break;
        ++i;
      }
      f.batch += i - f.i;
      f.i = i;
      return;
    }
    while (f.i < end) {
      const DictItem& it = f.ditems[f.i];
      if (f.i + k_prefetch_ahead < f.n) prefetch_memo(f.ditems[f.i + k_prefetch_ahead].value);
      boundary();
      if (!save_leaf(it.key)) return;
      ++f.batch;
      boundary();
      if (!save_leaf(it.value)) {
        f.half = true;
        return;
      }
      ++f.i;
    }
  }

  static constexpr std::size_t k_prefetch_ahead = 4;
  void prefetch_memo(const Value& v) const noexcept {
    if (v.tag() >= Tag::str) memo_.prefetch(key_of(v));
  }

  // A batch frame's container is written as far as it goes without a frame of its own: to the
  // end when all its items are leaves (nothing pushed), else it is pushed with the first item
  // that is not, which the next step() saves (no recursion on nesting).
  void start_batch(Frame& f) {
    Value next;
    if (batch_run(f, next)) return;
    f.pending = next;
    frames_.push_back(f);
  }

  // The C pickler's batching: protocol 0 writes `item op` per item; otherwise items go in
  // batches `( ...up to 1000... close`. batch_list_exact ends when all items are written;
  // batch_dict_exact and sets continue while a batch was full (so 1000*k items end with an
  // empty batch); generic batch_list/batch_dict stop when none are left and write a lone last
  // item as `item op`; the exact forms do that only for a container of one item.
  // Runs f until its end (true) or until an item that is not a leaf (false, the item in
  // `next`, f positioned after it: its caller saves it, then runs f again).
  bool batch_run(Frame& f, Value& next) {
    const bool leaves = !o_.persistent_id;
    for (;;) {
      if (f.half) {  // the key of item i is written: its value
        const Value& x = f.ditems[f.i].value;
        f.half = false;
        ++f.i;
        if (leaves && leaf_written(x)) continue;
        next = x;
        return false;
      }
      if (f.phase == 1) {  // a lone item was written
        w1(f.single);
        if (!f.text) return true;
        f.phase = 0;
      }
      if (f.phase == 0) {
        const std::size_t left = f.n - f.i;
        if ((f.text || f.single_every) && left == 0) return true;
        if (f.text || (f.single && left == 1 && (f.single_every || f.i == 0))) {
          f.phase = 1;
          if (item_start(f, next, leaves)) continue;
          return false;
        }
        w1('(');
        f.phase = 2;
        f.batch = 0;
      }
      if (f.batch < k_batch && f.i < f.n) {
        if (leaves) {
          batch_leaves(f);
          if (f.half || f.batch >= k_batch || f.i >= f.n) continue;
        }
        ++f.batch;
        if (item_start(f, next, leaves)) continue;
        return false;
      }
      w1(f.close);
      if (f.until_done ? f.i >= f.n : f.batch != k_batch) return true;
      f.phase = 0;
    }
  }
  // Item i of a batch frame: written if it is a leaf (a dict item's key: then its value is
  // next, f.half) and true; else false with the value to save in `next`.
  bool item_start(Frame& f, Value& next, bool leaves) {
    if (f.pairs) {
      f.half = true;
      const Value& k = f.ditems[f.i].key;
      if (leaves && leaf_written(k)) return true;
      next = k;
      return false;
    }
    const Value& x = f.items[f.i++];
    if (leaves && leaf_written(x)) return true;
    next = x;
    return false;
  }
  bool leaf_written(const Value& x) {
    boundary();
    return save_leaf(x);
  }

  // Runs the next step of the script frame on top.
  void run_step() {
    Frame& f = frames_.back();
    if (f.i >= f.n) {
      steps_.resize(f.batch);
      frames_.pop_back();
      return;
    }
    Step st = steps_[f.i++];
    switch (st.k) {
      case SK::save:
        return save(st.v);
      case SK::save_pid:
        return save(st.v, true);
      case SK::pid_enter:
        ++pid_depth_;
        return;
      case SK::pid_leave:
        --pid_depth_;
        return;
      case SK::save_module:
        return save_module(st.a, st.v);
      case SK::lit:
        return w(static_cast<const char*>(st.p), st.n);
      case SK::fresh_list:
        w(bin_ ? "]" : "(l");
        put_fresh();
        return list_frame(static_cast<const Value*>(st.p), st.n, true);
      case SK::fresh_dict:
        w(bin_ ? "}" : "(d");
        put_fresh();
        return dict_frame(static_cast<const DictItem*>(st.p), st.n, true);
      case SK::global:
        boundary();
        return save_global(st.a, st.b, Value(), Value(), Value());
      case SK::put_obj: {
        if (st.n == 1) {  // a global written through STACK_GLOBAL or getattr
          return memoize_global(st.a, st.b, st.v);
        }
        leave_construction(st.v, st.n == 2);  // (n == 2: it suspended sharing knowledge)
        if (in_memo(st.v)) {  // memoized while its arguments were written (recursion)
          w1('0');
          get(st.v);
          f.i = f.n;  // nothing more to write for it
          return;
        }
        return put(st.v);
      }
      case SK::put_fresh:
        return put_fresh();
      case SK::list_items:
        return list_frame(static_cast<const Value*>(st.p), st.n, false);
      case SK::dict_items:
        return dict_frame(static_cast<const DictItem*>(st.p), st.n, false);
    }
  }

  const WriteOptions& o_;
  const DocumentState* known_;  // sharing known (else null)
  int pid_depth_ = 0;           // inside persistent IDs (see save_persistent)
  // Inside a tuple or frozenset being written, or an object's construction: CPython's writer
  // goes through them again when they are reached through their own items (a recursive tuple
  // is written twice; an object whose arguments lead back to it is constructed twice, nested),
  // so what is in them can be met twice though the pickle referred to it once: memoized as
  // in the value form.
  int revisit_depth_ = 0;
  int proto_ = 4;
  bool bin_ = true;
  std::string& out_;
  OutBuf buf_;
  std::size_t pos_;
  std::size_t limit_ = 0;
  std::size_t frame_end_ = k_no_frame;
  bool framing_ = false;
  std::size_t frame_start_ = k_no_frame;
  std::vector<Segment> segments_;
  MemoMap memo_;
  std::uint64_t memo_len_ = 0;
  NameMemo global_memo_;  // (module, name) -> memo index
  NameMemo module_memo_;  // module names (CPython's interned strs) -> memo index
  ConstructionCounts constructing_;
  RetainedStacks stacks_;
  // The Emitter's (only when writing for one: use_emitter()): what is open, the names written
  // (text -> memo index) and a cache of them by address (the same literal is asked again and again).
  struct NameCache {
    const char* p = nullptr;     // the caller's text
    std::size_t n = 0;
    const char* text = nullptr;  // the name's own copy (a key of names)
    std::uint64_t idx = 0;
  };
  struct EmitterState {
    std::vector<Open> open;
    std::unordered_map<std::string, std::uint64_t, NameHash, std::equal_to<>> names;
    NameCache name_cache[64];
  };
  std::unique_ptr<EmitterState> em_;
  Open* em_top_ = nullptr;  // em_->open.back(), or null when nothing is open
  std::vector<Frame>& frames_ = stacks_.frames;
  std::vector<Step>& steps_ = stacks_.steps;
  // Strings and value lists made for the occasion (stable addresses; no allocation until used).
  std::forward_list<std::string> scratch_;
  std::forward_list<std::vector<Value>> scratch_values_;
  int sharing_suspended_ = 0;                     // suspend_sharing() calls not resumed yet
  const DocumentState* suspended_known_ = nullptr;  // known_ before them
  // What referenced_once() knows: the root of the graph (run()) and the references counted from it.
  Value root_;
  bool refs_counted_ = false;
  std::unordered_map<const void*, std::uint32_t> refs_;
};

}  // namespace
}  // namespace brine::detail

namespace brine {

namespace {

Error to_error(const detail::WriteFailure& f) {
  Error e;
  e.code = f.code;
  e.message = f.message;
  return e;
}

}  // namespace

namespace {

Result<void> dump_impl(const Value& v, std::string& out, const WriteOptions& options,
                       const detail::DocumentState* sharing) {
  std::size_t start = out.size();
  try {
    detail::Pickler p(options, out, sharing);
    p.run(v);
  } catch (const detail::WriteFailure& f) {
    out.resize(start);
    return to_error(f);
  } catch (const Exception& e) {  // from a caller's hook
    out.resize(start);
    return e.error();
  } catch (const std::bad_alloc&) {
    out.resize(start);
    Error e;
    e.code = errc::out_of_memory;
    e.message = "out of memory while writing the pickle";
    return e;
  }
  return {};
}

}  // namespace

Result<void> dump(const Value& v, std::string& out, const WriteOptions& options) {
  return dump_impl(v, out, options, nullptr);
}

Result<void> dump(const Document& doc, std::string& out, const WriteOptions& options) {
  return dump_impl(doc.root(), out, options, &doc.state());
}

namespace detail {

// An Emitter's state: the pickler it writes with, and a scratch document for values made by
// codecs without a direct `write` (Emitter::value).
class EmitterImpl {
 public:
  EmitterImpl(const WriteOptions& o, std::string& out) : p(o, out) {}
  Pickler p;
  std::optional<Document> doc;
  std::optional<Builder> b;
};

void Emitter::none() { impl_->p.em_atom(make_none()); }
void Emitter::boolean(bool b) { impl_->p.em_atom(make_bool(b)); }
void Emitter::integer(std::int64_t i) { impl_->p.em_int(i); }
void Emitter::floating(double d) { impl_->p.em_float(d); }
void Emitter::str(std::string_view utf8) { impl_->p.em_str(utf8); }
void Emitter::name(std::string_view utf8) { impl_->p.em_name(utf8); }
void Emitter::begin_list(std::size_t n) { impl_->p.em_begin('l', n); }
void Emitter::end_list() { impl_->p.em_end('l'); }
void Emitter::begin_dict(std::size_t n) { impl_->p.em_begin('d', n); }
void Emitter::end_dict() { impl_->p.em_end('d'); }
void Emitter::begin_tuple(std::size_t n) { impl_->p.em_begin('t', n); }
void Emitter::end_tuple() { impl_->p.em_end('t'); }
void Emitter::value(const Value& v) { impl_->p.em_value(v); }
Builder& Emitter::builder() {
  if (!impl_->b) {
    impl_->doc.emplace(Document::create());
    impl_->b.emplace(*impl_->doc);
  }
  return *impl_->b;
}

Result<std::string> emit_pickle(const WriteOptions& options, void (*body)(Emitter&, const void*), const void* arg) {
  std::string out;
  try {
    EmitterImpl impl(options, out);
    impl.p.use_emitter();
    impl.p.begin_pickle();
    Emitter e(impl);
    body(e, arg);
    impl.p.end_pickle();
  } catch (const WriteFailure& f) {
    return to_error(f);
  } catch (const Exception& e) {
    return e.error();
  } catch (const std::bad_alloc&) {
    Error e;
    e.code = errc::out_of_memory;
    e.message = "out of memory while writing the pickle";
    return e;
  }
  return out;
}

}  // namespace detail

namespace {
Result<std::string> dumps_impl(const Value& v, const WriteOptions& options, const detail::DocumentState* sharing) {
  std::string out;
  auto r = dump_impl(v, out, options, sharing);
  if (!r) return r.error();
  return out;
}
}  // namespace

Result<std::string> dumps(const Value& v, const WriteOptions& options) { return dumps_impl(v, options, nullptr); }

Result<std::string> dumps(const Document& doc, const WriteOptions& options) {
  return dumps_impl(doc.root(), options, &doc.state());
}

namespace {

Error io_error(const std::filesystem::path& path, std::string what) {
  Error e;
  e.code = errc::io_error;
  e.path = path.string();
  e.message = std::move(what) + ": " + std::strerror(errno);
  return e;
}

mode_t process_umask() {
  // umask() can only be read by setting it; /proc tells without changing anything.
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
  }
  return 022;
}

}  // namespace

namespace {

Result<void> write_file_atomically(const std::filesystem::path& path, const std::string& bytes) {
  if (path == "-") {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t k = ::write(1, bytes.data() + off, bytes.size() - off);
      if (k < 0) {
        if (errno == EINTR) continue;
        return io_error(path, "cannot write to standard output");
      }
      off += static_cast<std::size_t>(k);
    }
    return {};
  }
  std::filesystem::path dir = path.parent_path();
  std::string tmpl = (dir.empty() ? std::filesystem::path(".") : dir).string() + "/." + path.filename().string() + ".brine-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) return io_error(path, "cannot create a temporary file beside it");
  auto abandon = [&](const char* what) {
    Error e = io_error(path, what);
    ::close(fd);
    ::unlink(name.data());
    return e;
  };
  struct stat st;
  mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : (0666 & ~process_umask());
  if (::fchmod(fd, mode) != 0) return abandon("cannot set the permissions of the temporary file");
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t k = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (k < 0) {
      if (errno == EINTR) continue;
      return abandon("cannot write the temporary file");
    }
    off += static_cast<std::size_t>(k);
  }
  if (::fsync(fd) != 0) return abandon("cannot flush the temporary file");
  if (::close(fd) != 0) {
    Error e = io_error(path, "cannot close the temporary file");
    ::unlink(name.data());
    return e;
  }
  if (::rename(name.data(), path.c_str()) != 0) {
    Error e = io_error(path, "cannot rename the temporary file over it");
    ::unlink(name.data());
    return e;
  }
  return {};
}

// dump_file: the pickle in memory (errors name the file), then written atomically.
Result<void> dump_file_impl(const std::filesystem::path& path, const Value& v, const WriteOptions& options,
                            const detail::DocumentState* sharing) {
  std::string bytes;
  if (auto r = dump_impl(v, bytes, options, sharing); !r) {
    Error e = r.error();
    e.path = path.string();
    return e;
  }
  return write_file_atomically(path, bytes);
}

}  // namespace

Result<void> dump_file(const std::filesystem::path& path, const Value& v, const WriteOptions& options) {
  return dump_file_impl(path, v, options, nullptr);
}

Result<void> dump_file(const std::filesystem::path& path, const Document& doc, const WriteOptions& options) {
  return dump_file_impl(path, doc.root(), options, &doc.state());
}

}  // namespace brine
