// The unpickler: a one-pass, non-recursive pickle machine that builds a value graph and never
// imports or calls anything. Every opcode of protocols 0-5 is handled with CPython's semantics
// (Modules/_pickle.c, as documented in ../shared/reference/cpython-pickle-spec.md); objects of
// classes brine does not know become inert records.
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "brine/builder.hpp"
#include "brine/opcodes.hpp"
#include "brine/read.hpp"
#include "document.hpp"
#include "graph.hpp"
#include "input.hpp"
#include "known_globals.hpp"
#include "pytext.hpp"
#include "source.hpp"

namespace brine {
namespace detail {
namespace {

inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little-endian host (checked below)
}
inline std::uint64_t load_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
static_assert(std::endian::native == std::endian::little, "brine assumes a little-endian host");

std::string hex_byte(unsigned b) {
  const char* d = "0123456789abcdef";
  return {d[(b >> 4) & 15], d[b & 15]};
}

// `'X' object` phrase as CPython's TypeErrors print it.
// (Built with appends: the `"'" + str + "..."` form trips a g++ 12 -Wrestrict false positive at -O3.)
std::string type_phrase(const Value& v) {
  std::string s = "'";
  s += python_type_name(v);
  s += "' object";
  return s;
}

bool is_native_uncallable(Tag t) noexcept {
  switch (t) {
    case Tag::none: case Tag::boolean: case Tag::int64: case Tag::bigint: case Tag::float64:
    case Tag::complex: case Tag::str: case Tag::bytes: case Tag::bytearray: case Tag::tuple:
    case Tag::list: case Tag::dict: case Tag::set: case Tag::frozenset: case Tag::buffer:
      return true;
    default:
      return false;
  }
}

KnownId known_id(const Value& v) noexcept {
  if (v.tag() != Tag::global) return KnownId::unknown;
  return static_cast<KnownId>(Access::node<GlobalNode>(v)->h.kind);
}
KnownKind known_kind(const Value& v) noexcept {
  if (v.tag() != Tag::global) return KnownKind::unknown;
  return static_cast<KnownKind>(Access::node<GlobalNode>(v)->h.aux);
}

// Normalised codec name → which encoding we can apply ourselves.
enum class Codec { unknown, latin1, ascii, utf8 };
Codec codec_of(std::string_view name) {
  std::string n;
  for (char c : name) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    n.push_back(l == '_' || l == ' ' ? '-' : l);
  }
  if (n == "latin1" || n == "latin-1" || n == "iso-8859-1" || n == "iso8859-1" || n == "l1" ||
      n == "latin" || n == "cp819" || n == "8859" || n == "iso-ir-100" || n == "csisolatin1")
    return Codec::latin1;
  if (n == "ascii" || n == "us-ascii" || n == "646" || n == "us") return Codec::ascii;
  if (n == "utf-8" || n == "utf8" || n == "u8" || n == "utf") return Codec::utf8;
  return Codec::unknown;
}

// BININT1, BININT2, BININT, LONG1 -> 1, 2, 3, 4 (see Unpickler::run); other opcodes 0.
struct IntOps {
  std::uint8_t kind[256] = {};
  constexpr IntOps() {
    kind[static_cast<std::uint8_t>(Opcode::BININT1)] = 1;
    kind[static_cast<std::uint8_t>(Opcode::BININT2)] = 2;
    kind[static_cast<std::uint8_t>(Opcode::BININT)] = 3;
    kind[static_cast<std::uint8_t>(Opcode::LONG1)] = 4;
  }
};
constexpr IntOps k_int_ops;
constexpr std::uint8_t k_int_width[5] = {0, 1, 2, 4, 0};  // LONG1: its length byte

// The unpickler's stack and memo. std::vector<Value> cost a non-inlined call per push in the
// opcode loop and, when growing, copied every element into freshly allocated pages; this grows
// with big_grow instead (Value is trivially copyable; see arena.hpp: a big memo is remapped, not
// copied, and faulted in 2 MiB pages), and keeps push_back() small enough to inline. New entries
// made by resize() are missing values (Value() is all zero bits).
// Each thread keeps the buffers of its last unpickler's stack and memo for the next one: their
// pages are then already there, instead of being faulted in and zeroed by the kernel again for
// every load (for a list of 200k strs that was a quarter of the time). Bounded: a buffer over
// k_keep_bytes is freed as usual.
struct SpareBuffers {
  static constexpr std::size_t k_keep_bytes = std::size_t{64} << 20;
  Value* p[2] = {};
  std::size_t cap[2] = {};
  ~SpareBuffers() {
    for (int i = 0; i < 2; ++i) big_free(p[i], cap[i] * sizeof(Value));
  }
};
thread_local SpareBuffers t_spare;

class ValueVec {
 public:
  ValueVec() = default;
  ~ValueVec() {
    if (p_ && cap_ * sizeof(Value) <= SpareBuffers::k_keep_bytes) {
      // keep it, replacing the smaller of the two spares
      int i = t_spare.cap[0] <= t_spare.cap[1] ? 0 : 1;
      if (t_spare.cap[i] < cap_) {
        big_free(t_spare.p[i], t_spare.cap[i] * sizeof(Value));
        t_spare.p[i] = p_;
        t_spare.cap[i] = cap_;
        return;
      }
    }
    big_free(p_, cap_ * sizeof(Value));
  }
  // Start from a spare buffer of this thread if there is one.
  void adopt_spare() noexcept {
    if (p_) return;
    int i = t_spare.cap[0] >= t_spare.cap[1] ? 0 : 1;
    if (!t_spare.p[i]) return;
    p_ = t_spare.p[i];
    cap_ = t_spare.cap[i];
    t_spare.p[i] = nullptr;
    t_spare.cap[i] = 0;
  }
  ValueVec(const ValueVec&) = delete;
  ValueVec& operator=(const ValueVec&) = delete;

  std::size_t size() const noexcept { return n_; }
  std::size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return n_ == 0; }
  Value* data() noexcept { return p_; }
  // For the fast loop, which writes entries below capacity() directly.
  void set_size(std::size_t n) noexcept { n_ = n; }
  Value& operator[](std::size_t i) noexcept { return p_[i]; }
  Value& back() noexcept { return p_[n_ - 1]; }
  void pop_back() noexcept { --n_; }
  [[gnu::always_inline]] void push_back(const Value& v) {
    if (n_ == cap_) [[unlikely]] grow(n_ + 1);
    p_[n_++] = v;
  }
  void reserve(std::size_t n) {
    if (n > cap_) grow(n);
  }
  void resize(std::size_t n) {
    if (n > n_) {
      reserve(n);
      std::memset(static_cast<void*>(p_ + n_), 0, (n - n_) * sizeof(Value));
    }
    n_ = n;
  }

 private:
  static_assert(std::is_trivially_copyable_v<Value> && std::is_trivially_destructible_v<Value>);
  [[gnu::noinline]] void grow(std::size_t need) {
    std::size_t cap = cap_ < 16 ? 16 : cap_;
    while (cap < need) cap *= 2;
    if (cap > SIZE_MAX / sizeof(Value)) throw std::bad_alloc();
    void* q = big_grow(static_cast<void*>(p_), cap_ * sizeof(Value), cap * sizeof(Value));
    if (!q) throw std::bad_alloc();
    p_ = static_cast<Value*>(q);
    cap_ = cap;
  }

  Value* p_ = nullptr;
  std::size_t n_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace

class Unpickler {
 public:
  Unpickler(Cursor& in, const ReadOptions& opt, DocumentState& doc)
      : in_(in), opt_(opt), doc_(doc), g_{doc.arena, opt.limits.max_container_len, doc.next_serial} {
    borrow_ = in.borrowable();
    memo_.adopt_spare();   // the bigger spare: memos outgrow stacks
    stack_.adopt_spare();
    stack_.reserve(64);
    memo_.reserve(64);
  }

  Value run();
  void fast_loop();

  int opcode() const noexcept { return op_; }
  std::uint64_t opcode_offset() const noexcept { return op_offset_; }
  int declared_protocol() const noexcept { return declared_proto_; }
  int opcode_protocol() const noexcept { return max_op_proto_; }
  std::uint32_t next_serial() const noexcept { return g_.next_serial; }

 private:
  // ---- errors -------------------------------------------------------------------------------
  [[noreturn]] static void fail(errc code, std::string msg) { throw_read(code, std::move(msg)); }
  [[noreturn]] void underflow() const {
    if (!marks_.empty()) fail(errc::unexpected_mark, "unexpected MARK found");
    fail(errc::stack_underflow, "unpickling stack underflow");
  }

  // ---- stack ---------------------------------------------------------------------------------
  std::size_t fence() const noexcept { return marks_.empty() ? 0 : marks_.back(); }
  [[gnu::always_inline]] void push(const Value& v) {
    stack_.push_back(v);
  }
  Value pop() {
    if (stack_.size() <= fence()) underflow();
    Value v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= fence()) underflow();
    return stack_.back();
  }
  std::size_t pop_mark() {
    if (marks_.empty()) fail(errc::missing_mark, "could not find MARK");
    std::size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  // For APPENDS / SETITEMS / ADDITEMS: the container just below the mark.
  Value& below_mark(std::size_t mark) {
    if (mark == 0 || mark <= fence()) underflow();
    return stack_[mark - 1];
  }

  // ---- memo ----------------------------------------------------------------------------------
  // The usual PUT (MEMOIZE, or BINPUT counting up: the next index, a value on the stack) and GET
  // (a stored index) in line; everything else, errors included, in memo_put_slow/memo_get_slow.
  // Invariant: an index is either in the dense array or in the sparse map, and every sparse
  // index is >= memo_.size() (entries move into the dense array when it grows over them).
  [[gnu::always_inline]] void memo_put(std::uint64_t idx) {
    if (idx == memo_.size() && idx <= opt_.limits.max_memo_index && stack_.size() > fence() &&
        sparse_memo_.empty()) [[likely]] {
      memo_.push_back(stack_.back());
      ++memo_count_;
      return;
    }
    memo_put_slow(idx);
  }
  [[gnu::always_inline]] void memo_get(std::uint64_t idx) {
    if (idx < memo_.size() && memo_[idx].valid()) [[likely]] {
      push(memo_[idx]);
      if (idx >= fetched_.size()) fetched_.resize(memo_.size());
      fetched_[idx] = 1;
      return;
    }
    memo_get_slow(idx);
  }

  // ---- sharing -------------------------------------------------------------------------------
  // Which values end up referenced from more than one place (DocumentState::sharing_known):
  // those fetched from the memo (marked when the read ends, from fetched_: one store per GET)
  // and those DUP'd.
  void mark_shared(const Value& v) {
    // After a Builder was made (persistent_load), sharing will not be known, and values from
    // elsewhere (other documents) may be in the graph: no marks on them.
    if (doc_.builder_made) return;
    switch (v.tag()) {
      case Tag::tuple:
        // () is one static node (never memoized by the writer; not written to)
        if (Access::node<SeqNode>(v)->size == 0) break;
        [[fallthrough]];
      case Tag::list:
        Access::node<SeqNode>(v)->h.flags |= k_node_shared;
        break;
      case Tag::dict:
        Access::node<DictNode>(v)->h.flags |= k_node_shared;
        break;
      case Tag::str:
      case Tag::bytes:
      {
        const IdentityKey k = identity_key(v);
        doc_.shared_leaves.insert(k.a, k.b);
        break;
      }
      default:
        break;
    }
  }
  // A memo entry about to be replaced: its value keeps the mark it has earned so far.
  void memo_replacing(std::uint64_t idx) {
    if (idx < fetched_.size() && fetched_[idx]) {
      mark_shared(memo_[idx]);
      fetched_[idx] = 0;
    }
  }

 public:
  // After a successful read: marks what the memo handed out more than... once at all.
  void finish_sharing() {
    for (std::size_t i = 0; i < fetched_.size(); ++i)
      if (fetched_[i] && memo_[i].valid()) mark_shared(memo_[i]);
  }

 private:
  [[gnu::noinline]] void memo_put_slow(std::uint64_t idx) {
    if (idx > opt_.limits.max_memo_index)
      fail(errc::limit_exceeded, "memo index " + std::to_string(idx) + " exceeds the limit of " +
                                     std::to_string(opt_.limits.max_memo_index) +
                                     " (Limits::max_memo_index)");
    const Value& v = top();
    if (idx < memo_.size()) {
      if (!memo_[idx].valid()) ++memo_count_;
      memo_replacing(idx);
      memo_[idx] = v;
      return;
    }
    if (idx == memo_.size()) {  // the usual case (MEMOIZE, or BINPUT counting up): append
      Value copy = v;
      grow_dense(memo_.size() + 1);
      if (!memo_[idx].valid()) ++memo_count_;
      memo_[idx] = copy;
      return;
    }
    // Dense storage grows with what the input has actually used (the entries stored, not the
    // highest index: growing from the size let each PUT triple it, so a dozen PUTs of a 94-byte
    // pickle reached 2^31 entries, 32 GiB); far-away indices go to a map, so a lying index
    // allocates nothing big.
    if (idx <= memo_count_ * 2 + 4096) {
      Value copy = v;
      grow_dense(static_cast<std::size_t>(idx) + 1);
      if (!memo_[idx].valid()) ++memo_count_;
      memo_[idx] = copy;
      return;
    }
    auto [it, inserted] = sparse_memo_.insert_or_assign(idx, v);
    (void)it;
    if (inserted) ++memo_count_;  // (a sparse entry is marked when it is fetched)
  }
  // Resize the dense memo, moving sparse entries it now covers into it.
  void grow_dense(std::size_t new_size) {
    std::size_t old_size = memo_.size();
    memo_.resize(new_size);
    if (sparse_memo_.empty()) return;
    auto it = sparse_memo_.lower_bound(old_size);
    while (it != sparse_memo_.end() && it->first < new_size) {
      memo_[it->first] = it->second;
      it = sparse_memo_.erase(it);
    }
  }
  [[gnu::noinline]] void memo_get_slow(std::uint64_t idx) {
    if (idx < memo_.size()) {
      if (memo_[idx].valid()) {
        push(memo_[idx]);
        mark_shared(memo_[idx]);
        return;
      }
    } else if (!sparse_memo_.empty()) {
      auto it = sparse_memo_.find(idx);
      if (it != sparse_memo_.end()) {
        push(it->second);
        mark_shared(it->second);
        return;
      }
    }
    fail(errc::memo_missing, "Memo value not found at index " + std::to_string(idx));
  }

  // ---- reading arguments -------------------------------------------------------------------
  std::uint64_t len8(const char* what) {
    std::uint64_t n = load_u64(in_.take(8));
    if (n > static_cast<std::uint64_t>(INT64_MAX))
      fail(errc::limit_exceeded, std::string(what) + " exceeds system's maximum size of 9223372036854775807 bytes");
    return n;
  }
  void check_payload(std::uint64_t n) {
    // Complete input: the payload must be there (checked before anything is allocated).
    // Stream: bounded by the allocation limit, read as it arrives.
    if (in_.complete()) {
      if (n > in_.available()) in_.require(static_cast<std::size_t>(std::min<std::uint64_t>(n, SIZE_MAX)));
    } else if (n > opt_.limits.max_alloc_bytes) {
      fail(errc::limit_exceeded, "an argument of " + std::to_string(n) +
                                     " bytes exceeds the allocation limit (Limits::max_alloc_bytes)");
    }
  }
  const std::uint8_t* payload(std::uint64_t n) {
    check_payload(n);
    return in_.take(static_cast<std::size_t>(n));
  }

  // ---- values ----------------------------------------------------------------------------------
  // is_ascii for the short strs that dominate real pickles, in line: overlapping loads.
  static bool ascii_short(const std::uint8_t* p, std::size_t n) noexcept {
    if (n >= 8 && n <= 16) return ((load_u64(p) | load_u64(p + n - 8)) & 0x8080808080808080ull) == 0;
    if (n > 16 && n <= 32)
      return ((load_u64(p) | load_u64(p + 8) | load_u64(p + n - 16) | load_u64(p + n - 8)) &
              0x8080808080808080ull) == 0;
    if (n >= 4 && n < 8) return ((load_u32(p) | load_u32(p + n - 4)) & 0x80808080u) == 0;
    return is_ascii(p, n);
  }
  // ascii_short without a branch on n, for n <= 32 when 32 bytes from p can be read: SHORT_BINUNICODE
  // lengths vary from str to str, and the length-class branches mispredicted.
  static bool ascii32(const std::uint8_t* p, std::size_t n) noexcept {
#if defined(__SSE2__)
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    const std::uint64_t high = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(a))) |
                               static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(b))) << 16;
    return n <= 32 && (high & ((std::uint64_t{1} << (n & 63)) - 1)) == 0;
#else
    return n <= 32 && ascii_short(p, n);
#endif
  }
  Value utf8_str(const std::uint8_t* p, std::size_t n) {
    std::size_t bad = ascii_short(p, n) ? static_cast<std::size_t>(-1) : find_invalid_utf8(p, n);
    if (bad != static_cast<std::size_t>(-1))
      fail(errc::unicode_error, "'utf-8' codec can't decode byte 0x" + hex_byte(p[bad]) +
                                    " in position " + std::to_string(bad) + ": invalid UTF-8");
    return make_str(g_, reinterpret_cast<const char*>(p), n, borrow_);
  }
  Value owned_str(const std::string& s) { return make_str(g_, s.data(), s.size(), false); }
  // A Python 2 str: decoded per ReadOptions::encoding.
  Value py2_str(const std::uint8_t* p, std::size_t n, bool may_borrow) {
    switch (opt_.encoding) {
      case StringEncoding::bytes:
        // PyBytes_FromStringAndSize(s, 1): CPython's shared one-byte object.
        if (n == 1) return bytes_singleton(p[0]);
        return make_bytes(g_, p, n, may_borrow && borrow_);
      case StringEncoding::ascii:
        for (std::size_t i = 0; i < n; ++i)
          if (p[i] >= 0x80)
            fail(errc::unicode_error, "'ascii' codec can't decode byte 0x" + hex_byte(p[i]) +
                                          " in position " + std::to_string(i) +
                                          ": ordinal not in range(128)");
        return make_str(g_, reinterpret_cast<const char*>(p), n, may_borrow && borrow_);
      case StringEncoding::latin1:
        if (is_ascii(p, n)) return make_str(g_, reinterpret_cast<const char*>(p), n, may_borrow && borrow_);
        {
          std::string s;
          latin1_to_utf8(s, p, n);
          return owned_str(s);
        }
      case StringEncoding::utf8: {
        std::size_t bad = find_invalid_utf8(p, n);
        if (bad != static_cast<std::size_t>(-1))
          fail(errc::unicode_error, "'utf-8' codec can't decode byte 0x" + hex_byte(p[bad]) +
                                        " in position " + std::to_string(bad));
        return make_str(g_, reinterpret_cast<const char*>(p), n, may_borrow && borrow_);
      }
    }
    return {};
  }

  Value make_global(std::string_view module, std::string_view name, const Value* strs = nullptr);
  Value text_global(bool ascii_only);
  Value call(Construction how, const Value& callable, const Value& args, const Value& kwargs);
  std::optional<Value> fold_builtin(KnownId id, bool is_new, const Value& args);
  Value new_object(Construction how, const Value& callable, const Value& cls, const Value& args,
                   const Value& kwargs);
  void recognise(ObjectNode* o, const Value& args);
  void build(Value& inst, const Value& state);
  void keep_state_setter_call(const Value& call);
  void append_items(Value& target, const Value* items, std::size_t n, bool via_additems);
  void set_items(Value& target, const Value* items, std::size_t n);
  // SETITEMS / DICT know how many items they add: make room once. dict_set alone grows the items
  // array step by step, and each step that cannot extend in place copies it and leaves the old
  // copy unused in the arena (a 33-key dict ended with 64 slots plus copies of 16 and 32). Only
  // within Limits::max_container_len, so that dict_set still reports an over-long dict itself.
  // Duplicate keys may leave part of the room unused.
  void reserve_items(DictNode* d, std::size_t more) {
    std::uint64_t want = d->size + more;
    if (want <= d->cap) return;
    if (d->cap && want < d->cap * 2) want = d->cap * 2;  // batch after batch: grow geometrically
    if (want > g_.max_len) return;
    d->items = g_.arena.grow(d->items, static_cast<std::size_t>(d->cap), static_cast<std::size_t>(want));
    d->cap = want;
  }
  Value persistent(const Value& pid);
  Value tuple_from(std::size_t mark) {
    Value t = make_tuple(g_, stack_.data() + mark, stack_.size() - mark);
    stack_.resize(mark);
    return t;
  }
  void track_set(const Value& v) { sets_.push_back(Access::node<SetNode>(v)); }
  std::uint32_t serial() { return g_.next_serial++; }

  void op_int();
  void op_long();
  void op_float();
  void op_string();

  Cursor& in_;
  const ReadOptions& opt_;
  DocumentState& doc_;
  GraphCtx g_;
  bool borrow_ = false;
  ValueVec stack_;
  std::vector<std::size_t> marks_;
  ValueVec memo_;
  std::vector<std::uint8_t> fetched_;  // memo index -> fetched by a GET (dense indices only)
  std::map<std::uint64_t, Value> sparse_memo_;
  std::array<DictNode*, 64> shapes_{};  // recent dicts, by first key and size (dict_fill_like)  // ordered: grow_dense takes a range out of it
  std::uint64_t memo_count_ = 0;
  std::vector<SetNode*> sets_;
  std::size_t next_buffer_ = 0;
  int proto_ = 0;
  int declared_proto_ = -1;
  int max_op_proto_ = 0;
  // Opcodes executed so far. Marking costs one store per opcode, where looking up each opcode's
  // protocol (an out-of-line opcode_info() call) cost ~4% of the loop.
  std::uint8_t seen_[256] = {};
  int op_ = -1;
  std::uint64_t op_offset_ = 0;
  std::uint64_t reduce_end_ = ~std::uint64_t{0};  // where the opcode after the last REDUCE starts
};

// ---- globals ---------------------------------------------------------------------------------

Value Unpickler::make_global(std::string_view module, std::string_view name, const Value* strs) {
  if (opt_.fix_imports && proto_ < 3) {
    std::string_view m2, n2;
    if (map_python2_global(module, name, m2, n2)) {
      module = m2;
      name = n2;
      strs = nullptr;
    }
  }
  if (module.empty()) fail(errc::value_error, "Empty module name");
  if (name.empty()) fail(errc::value_error, "Empty global name");
  if (opt_.global_filter && opt_.global_filter(module, name) == GlobalPolicy::forbid)
    fail(errc::forbidden_global, "global '" + std::string(module) + "." + std::string(name) +
                                     "' is forbidden by the global filter");
  KnownGlobal k = lookup_known_global(module, name);
  switch (k.id) {  // constants are values, as find_class returns them
    case KnownId::b_none: return make_none();
    case KnownId::b_true: return make_bool(true);
    case KnownId::b_false: return make_bool(false);
    default: break;
  }
  std::string key = global_key(module, name);
  auto it = doc_.globals.find(key);
  if (it != doc_.globals.end()) return Access::make_ptr(Tag::global, 0, it->second);
  auto* gn = g_.arena.make<GlobalNode>();
  gn->h.tag = Tag::global;
  gn->h.kind = static_cast<std::uint16_t>(k.id);
  gn->h.aux = static_cast<std::uint32_t>(k.kind);
  if (strs) {
    // STACK_GLOBAL: keep the pickle's own str objects (their identity is part of the graph).
    gn->module = strs[0];
    gn->name = strs[1];
    gn->h.flags = k_global_own_strs;
  } else {
    gn->module = make_str(g_, module.data(), module.size(), false);
    gn->name = make_str(g_, name.data(), name.size(), false);
  }
  doc_.globals.emplace(std::move(key), gn);
  return Access::make_ptr(Tag::global, 0, gn);
}

Value Unpickler::text_global(bool ascii_only) {
  // GLOBAL decodes its two lines as UTF-8, INST as ASCII (load_global / load_inst).
  std::string module(in_.line());
  std::string_view name = in_.line();
  auto check = [&](std::string_view s) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
    if (ascii_only ? !is_ascii(p, s.size()) : !is_valid_utf8(p, s.size()))
      fail(errc::unicode_error, std::string(ascii_only ? "INST" : "GLOBAL") +
                                    " argument is not " + (ascii_only ? "ASCII" : "UTF-8"));
  };
  check(module);
  check(name);
  if (name.empty()) fail(errc::truncated, "pickle data was truncated (empty global name line)");
  return make_global(module, name);
}

// ---- objects ---------------------------------------------------------------------------------

Value Unpickler::new_object(Construction how, const Value& callable, const Value& cls,
                            const Value& args, const Value& kwargs) {
  auto* o = g_.arena.make<ObjectNode>();
  o->h.tag = Tag::object;
  o->h.kind = static_cast<std::uint16_t>(how);
  o->h.aux = serial();
  o->callable = callable;
  o->cls = cls;
  o->args = args;
  o->kwargs = kwargs;
  recognise(o, args);
  return Access::make_ptr(Tag::object, 0, o);
}

void Unpickler::recognise(ObjectNode* o, const Value& args) {
  LibraryType lt = LibraryType::none;
  switch (known_id(o->cls)) {
    case KnownId::c_ordered_dict: lt = LibraryType::ordered_dict; break;
    case KnownId::c_defaultdict: lt = LibraryType::defaultdict; break;
    case KnownId::c_counter: lt = LibraryType::counter; break;
    case KnownId::c_deque: lt = LibraryType::deque; break;
    case KnownId::dt_date: lt = LibraryType::date; break;
    case KnownId::dt_time: lt = LibraryType::time; break;
    case KnownId::dt_datetime: lt = LibraryType::datetime; break;
    case KnownId::dt_timedelta: lt = LibraryType::timedelta; break;
    case KnownId::dt_timezone: lt = LibraryType::timezone; break;
    case KnownId::decimal_decimal: lt = LibraryType::decimal; break;
    case KnownId::uuid_uuid: lt = LibraryType::uuid; break;
    case KnownId::b_range: lt = LibraryType::range; break;
    case KnownId::b_exception: lt = LibraryType::exception; break;
    default: break;
  }
  if (lt == LibraryType::none && known_id(o->callable) == KnownId::copyreg_reconstructor)
    lt = LibraryType::plain_instance;
  if (lt == LibraryType::none && !opt_.types.empty() && o->cls.tag() == Tag::global) {
    auto* gn = Access::node<GlobalNode>(o->cls);
    for (const UserType& t : *doc_.user_types) {
      if (Access::sv(gn->module) == t.module && Access::sv(gn->name) == t.name) {
        lt = LibraryType::user;
        o->user_type = &t;
        break;
      }
    }
  }
  o->h.flags = static_cast<std::uint8_t>(lt);

  // Constructor arguments CPython's recognised types reject (the load fails there too).
  if (lt == LibraryType::decimal && args.tag() == Tag::tuple && !args.elements().empty()) {
    switch (args.elements()[0].tag()) {
      case Tag::bytes: case Tag::bytearray: case Tag::none: case Tag::list: case Tag::dict:
      case Tag::set: case Tag::frozenset: case Tag::complex:
        fail(errc::type_error, "conversion from " + python_type_name(args.elements()[0]) +
                                   " to Decimal is not supported");
      default:
        break;
    }
  }

  // Dict-like library types get Python dict semantics for their items. Older forms pass the
  // items as a constructor argument: OrderedDict([[k, v], ...]) (Python 2), Counter({k: n})
  // (Counter.__reduce__), deque([x, ...], maxlen) (Python 2); the constructor takes a snapshot.
  const bool from_args = items_from_args(lt, static_cast<Construction>(o->h.kind), args);
  if (lt == LibraryType::ordered_dict || lt == LibraryType::defaultdict || lt == LibraryType::counter) {
    o->dict_items = new_dict_node(g_, false);
    if (from_args) {
      const Value& src = args.elements()[0];
      if (src.tag() == Tag::dict) {
        for (const DictItem& it : src.items()) dict_set(g_, o->dict_items, it.key, it.value);
      } else {
        for (const Value& p : src.elements()) dict_set(g_, o->dict_items, p.elements()[0], p.elements()[1]);
      }
    }
  } else if (lt == LibraryType::deque && from_args) {
    auto x = args.elements()[0].elements();
    o->list_items = Access::node<SeqNode>(make_list(g_, x.data(), x.size()));
  }
}

// CPython's result for calling (or __new__-ing) a builtin type, when it is plain data.
// nullopt: keep the call as an inert record.
std::optional<Value> Unpickler::fold_builtin(KnownId id, bool is_new, const Value& args) {
  if (args.tag() != Tag::tuple) return std::nullopt;
  auto a = args.elements();
  std::size_t n = a.size();
  auto is_intlike = [](const Value& v) {
    return v.tag() == Tag::int64 || v.tag() == Tag::boolean || v.tag() == Tag::bigint;
  };
  auto iterable_items = [&](const Value& v, std::vector<Value>& out) -> bool {
    switch (v.tag()) {
      case Tag::list: case Tag::tuple: case Tag::set: case Tag::frozenset:
        out.assign(v.elements().begin(), v.elements().end());
        return true;
      case Tag::dict:
        out.clear();
        for (const DictItem& it : v.items()) out.push_back(it.key);
        return true;
      default:
        return false;
    }
  };
  // Mutable containers: __new__ ignores the arguments (the items come later).
  if (is_new) {
    switch (id) {
      case KnownId::b_list: return make_list(g_, nullptr, 0);
      case KnownId::b_dict: return make_dict(g_);
      case KnownId::b_set: { Value s = make_set(g_, false); track_set(s); return s; }
      case KnownId::b_bytearray: return make_bytearray(g_, nullptr, 0);
      default: break;
    }
  }
  switch (id) {
    case KnownId::b_int: {
      if (n == 0) return make_int(0);
      if (n != 1) return std::nullopt;
      const Value& x = a[0];
      if (x.tag() == Tag::boolean) return make_int(Access::i(x));
      if (is_intlike(x)) return x;
      if (x.tag() == Tag::float64) {
        double d = Access::d(x);
        if (std::isnan(d)) fail(errc::value_error, "cannot convert float NaN to integer");
        if (std::isinf(d)) fail(errc::value_error, "cannot convert float infinity to integer");
        double t = std::trunc(d);
        if (t >= -9223372036854775808.0 && t < 9223372036854775808.0) return make_int(static_cast<std::int64_t>(t));
        return std::nullopt;
      }
      if (x.tag() == Tag::str || x.tag() == Tag::bytes) {
        ParsedInt r;
        auto st = x.tag() == Tag::str ? parse_int_from_str(Access::sv(x), 10, opt_.limits.max_int_digits, r)
                                      : parse_int_from_bytes(Access::sv(x), 10, opt_.limits.max_int_digits, r);
        if (st != ParseStatus::ok) fail(errc::value_error, "invalid literal for int() with base 10");
        if (r.is_small) return make_int(r.small);
        return make_int_le(g_, r.big.data(), r.big.size(), false);
      }
      return std::nullopt;
    }
    case KnownId::b_float: {
      if (n == 0) return make_float(0.0);
      if (n != 1) return std::nullopt;
      const Value& x = a[0];
      if (x.tag() == Tag::float64) return x;
      if (x.tag() == Tag::int64 || x.tag() == Tag::boolean) return make_float(static_cast<double>(Access::i(x)));
      if (x.tag() == Tag::str || x.tag() == Tag::bytes) {
        double d;
        auto st = x.tag() == Tag::str ? parse_py_float(Access::sv(x), d) : parse_py_float_bytes(Access::sv(x), d);
        if (st == FloatStatus::invalid) fail(errc::value_error, "could not convert string to float");
        if (st == FloatStatus::overflow) fail(errc::value_error, "float overflow");
        return make_float(d);
      }
      return std::nullopt;
    }
    case KnownId::b_complex: {
      if (n > 2) return std::nullopt;
      double parts[2] = {0.0, 0.0};
      for (std::size_t k = 0; k < n; ++k) {
        if (a[k].tag() == Tag::float64) parts[k] = Access::d(a[k]);
        else if (a[k].tag() == Tag::int64 || a[k].tag() == Tag::boolean) parts[k] = static_cast<double>(Access::i(a[k]));
        else return std::nullopt;
      }
      return make_complex(g_, parts[0], parts[1]);
    }
    case KnownId::b_str:
      if (n == 0) return make_str(g_, "", 0, false);
      if (n == 1 && a[0].tag() == Tag::str) return a[0];
      return std::nullopt;
    case KnownId::b_bool: {
      if (n == 0) return make_bool(false);
      if (n != 1) return std::nullopt;
      const Value& x = a[0];
      switch (x.tag()) {
        case Tag::none: return make_bool(false);
        case Tag::boolean: case Tag::int64: return make_bool(Access::i(x) != 0);
        case Tag::bigint: return make_bool(true);
        case Tag::float64: return make_bool(Access::d(x) != 0.0);
        case Tag::str: case Tag::bytes: return make_bool(x.inline_length() != 0);
        case Tag::tuple: case Tag::list: case Tag::dict: case Tag::set: case Tag::frozenset:
          return make_bool(x.size() != 0);
        default: return std::nullopt;
      }
    }
    case KnownId::b_bytes:
    case KnownId::b_bytearray: {
      bool ba = id == KnownId::b_bytearray;
      std::string out;
      if (n == 0) {
      } else if (n == 1 && a[0].tag() == Tag::bytes) {
        if (!ba) return a[0];
        out.assign(Access::p(a[0]), a[0].inline_length());
      } else if (n == 1 && (a[0].tag() == Tag::list || a[0].tag() == Tag::tuple)) {
        for (const Value& b : a[0].elements()) {
          if (b.tag() != Tag::int64 && b.tag() != Tag::boolean) return std::nullopt;
          std::int64_t v = Access::i(b);
          if (v < 0 || v > 255) fail(errc::value_error, "bytes must be in range(0, 256)");
          out.push_back(static_cast<char>(v));
        }
      } else if (n == 1 && a[0].tag() == Tag::int64) {
        std::int64_t len = Access::i(a[0]);
        if (len < 0) fail(errc::value_error, "negative count");
        // (zeros no input byte stands for: checked against what the document may still
        // allocate, Limits::max_alloc_bytes and max_alloc_per_input_byte, before any is made)
        const std::uint64_t room = g_.arena.limit() > g_.arena.allocated() ? g_.arena.limit() - g_.arena.allocated() : 0;
        if (static_cast<std::uint64_t>(len) > room)
          fail(errc::limit_exceeded, std::string(ba ? "bytearray(" : "bytes(") + std::to_string(len) + "): " +
                                         std::to_string(len) + " zero bytes exceed the allocation limit (" +
                                         std::to_string(room) + " bytes left: Limits::max_alloc_bytes, "
                                         "max_alloc_per_input_byte)");
        out.assign(static_cast<std::size_t>(len), '\0');
      } else if (n == 1 && a[0].tag() == Tag::str) {
        fail(errc::type_error, "string argument without an encoding");
      } else if ((n == 2 || n == 3) && a[0].tag() == Tag::str) {
        if (a[1].tag() != Tag::str)
          fail(errc::type_error, std::string(ba ? "bytearray" : "bytes") +
                                     "() argument 'encoding' must be str, not " + python_type_name(a[1]));
        Codec c = codec_of(Access::sv(a[1]));
        std::string_view s = Access::sv(a[0]);
        if (c == Codec::utf8) {
          out.assign(s);
        } else if (c == Codec::latin1 || c == Codec::ascii) {
          std::size_t limit = c == Codec::latin1 ? 0x100 : 0x80;
          for (std::size_t i = 0; i < s.size();) {
            char32_t cp;
            i += decode_utf8(s.data() + i, s.size() - i, cp);
            if (cp >= limit) fail(errc::value_error, std::string("'") + (c == Codec::latin1 ? "latin-1" : "ascii") +
                                                         "' codec can't encode character");
            out.push_back(static_cast<char>(cp));
          }
        } else {
          return std::nullopt;
        }
      } else {
        return std::nullopt;
      }
      const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
      return ba ? make_bytearray(g_, p, out.size()) : make_bytes(g_, p, out.size(), false);
    }
    case KnownId::b_tuple: {
      if (n == 0) return empty_tuple();
      if (n != 1) return std::nullopt;
      if (a[0].tag() == Tag::tuple) return a[0];
      std::vector<Value> items;
      if (!iterable_items(a[0], items)) return std::nullopt;
      return make_tuple(g_, items.data(), items.size());
    }
    case KnownId::b_list: {
      if (n == 0) return make_list(g_, nullptr, 0);
      std::vector<Value> items;
      if (n != 1 || !iterable_items(a[0], items)) return std::nullopt;
      return make_list(g_, items.data(), items.size());
    }
    case KnownId::b_dict: {
      if (n == 0) return make_dict(g_);
      if (n != 1) return std::nullopt;
      Value d = make_dict(g_);
      auto* dn = Access::node<DictNode>(d);
      if (a[0].tag() == Tag::dict) {
        for (const DictItem& it : a[0].items()) dict_set(g_, dn, it.key, it.value);
        return d;
      }
      if (a[0].tag() == Tag::list || a[0].tag() == Tag::tuple) {
        for (const Value& p : a[0].elements())
          if (!((p.tag() == Tag::list || p.tag() == Tag::tuple) && p.elements().size() == 2)) return std::nullopt;
        for (const Value& p : a[0].elements()) dict_set(g_, dn, p.elements()[0], p.elements()[1]);
        return d;
      }
      return std::nullopt;
    }
    case KnownId::b_set:
    case KnownId::b_frozenset: {
      bool frozen = id == KnownId::b_frozenset;
      if (frozen && n == 1 && a[0].tag() == Tag::frozenset) return a[0];
      std::vector<Value> items;
      if (n > 1 || (n == 1 && !iterable_items(a[0], items))) return std::nullopt;
      Value s = make_set(g_, frozen);
      for (const Value& x : items) set_add(g_, Access::node<SetNode>(s), x);
      track_set(s);
      return s;
    }
    case KnownId::codecs_encode: {
      if (n < 1 || n > 3 || a[0].tag() != Tag::str) return std::nullopt;
      Codec c = Codec::utf8;
      if (n >= 2) {
        if (a[1].tag() != Tag::str) return std::nullopt;
        c = codec_of(Access::sv(a[1]));
      }
      if (n == 3 && !(a[2].tag() == Tag::str && Access::sv(a[2]) == "strict")) return std::nullopt;
      std::string_view s = Access::sv(a[0]);
      std::string out;
      if (c == Codec::utf8) {
        // CPython's strict UTF-8 encoder rejects lone surrogates.
        for (std::size_t i = 0; i < s.size();) {
          char32_t cp;
          i += decode_utf8(s.data() + i, s.size() - i, cp);
          if (cp >= 0xD800 && cp <= 0xDFFF) fail(errc::value_error, "'utf-8' codec can't encode surrogates");
        }
        out.assign(s);
      } else if (c == Codec::latin1 || c == Codec::ascii) {
        std::size_t limit = c == Codec::latin1 ? 0x100 : 0x80;
        out.reserve(s.size());
        for (std::size_t i = 0; i < s.size();) {
          char32_t cp;
          i += decode_utf8(s.data() + i, s.size() - i, cp);
          if (cp >= limit)
            fail(errc::value_error, std::string("'") + (c == Codec::latin1 ? "latin-1" : "ascii") +
                                        "' codec can't encode character in position " + std::to_string(i));
          out.push_back(static_cast<char>(cp));
        }
      } else {
        return std::nullopt;
      }
      // codecs.encode returns CPython's shared one-byte objects (identity matters when writing).
      if (out.size() == 1) return bytes_singleton(static_cast<std::uint8_t>(out[0]));
      return make_bytes(g_, reinterpret_cast<const std::uint8_t*>(out.data()), out.size(), false);
    }
    default:
      return std::nullopt;
  }
}

Value Unpickler::call(Construction how, const Value& callable, const Value& args, const Value& kwargs) {
  bool is_new = how == Construction::newobj || how == Construction::newobj_ex;
  KnownId id = known_id(callable);
  if (how == Construction::inst || how == Construction::obj) {
    // cls(*args), or cls.__new__(cls) when there are no arguments (load_inst / load_obj).
    is_new = args.elements().empty();
  }
  bool plain_kwargs = !kwargs.valid() || (kwargs.tag() == Tag::dict && kwargs.size() == 0);
  if (id != KnownId::unknown && plain_kwargs) {
    if (auto v = fold_builtin(id, is_new, args)) return *v;
  }
  // The object's class: what NEWOBJ / INST / OBJ instantiate; for REDUCE the callable itself,
  // except for the copyreg helpers, whose first argument is the class.
  Value cls = callable;
  if (how == Construction::reduce) {
    if (id == KnownId::copyreg_reconstructor || id == KnownId::copyreg_newobj ||
        id == KnownId::copyreg_newobj_ex) {
      auto a = args.elements();
      cls = a.empty() ? Value() : a[0];
    }
  }
  if (cls.tag() != Tag::global && cls.tag() != Tag::object && cls.tag() != Tag::persistent) cls = Value();
  return new_object(how, callable, cls, args, kwargs);
}

// REDUCE then POP: what CPython's save_reduce writes for a __reduce__ with a state_setter,
// setter(obj, state) instead of BUILD, its result discarded. Kept on obj (its state, and the
// setter) when obj is an object with no state yet; any other discarded call is dropped (its
// result cannot be reached, and nothing in the graph records calls made for their effects).
void Unpickler::keep_state_setter_call(const Value& call) {
  if (call.tag() != Tag::object) return;
  auto* c = Access::node<ObjectNode>(call);
  if (static_cast<Construction>(c->h.kind) != Construction::reduce || c->args.tag() != Tag::tuple) return;
  auto a = c->args.elements();
  if (a.size() != 2 || a[0].tag() != Tag::object) return;
  auto* o = Access::node<ObjectNode>(a[0]);
  if (o->state.valid() || o->state_setter.valid() || o->earlier_states) return;
  o->state = a[1];
  o->state_setter = c->callable;
}

void Unpickler::build(Value& inst, const Value& state) {
  switch (inst.tag()) {
    case Tag::object: {
      auto* o = Access::node<ObjectNode>(inst);
      // (a BUILD after a state_setter call: both are kept as BUILDs, in order)
      o->state_setter = Value();
      if (o->state.valid()) {
        if (!o->earlier_states) o->earlier_states = Access::node<SeqNode>(make_list(g_, nullptr, 0));
        list_extend(g_, o->earlier_states, &o->state, 1);
      }
      o->state = state;
      return;
    }
    default:
      break;
  }
  // load_build's default path: None is a no-op; anything else needs an instance __dict__,
  // which builtin values do not have.
  if (state.tag() == Tag::none) return;
  if (state.tag() == Tag::tuple && state.elements().size() == 2 && state.elements()[0].tag() == Tag::none &&
      state.elements()[1].tag() == Tag::none)
    return;
  fail(errc::type_error, "BUILD on a " + type_phrase(inst) + ": it has no __dict__ or __setstate__");
}

void Unpickler::append_items(Value& target, const Value* items, std::size_t n, bool via_additems) {
  switch (target.tag()) {
    case Tag::list:
      if (via_additems) break;
      list_extend(g_, Access::node<SeqNode>(target), items, n);
      return;
    case Tag::set:
      if (!via_additems) break;
      for (std::size_t i = 0; i < n; ++i) set_add(g_, Access::node<SetNode>(target), items[i]);
      return;
    case Tag::bytearray: {
      if (via_additems) break;
      // bytearray.extend / append with ints
      auto* b = Access::node<ByteArrayNode>(target);
      for (std::size_t i = 0; i < n; ++i) {
        if (items[i].tag() != Tag::int64 && items[i].tag() != Tag::boolean)
          fail(errc::type_error, "'" + python_type_name(items[i]) + "' object cannot be interpreted as an integer");
        std::int64_t v = Access::i(items[i]);
        if (v < 0 || v > 255) fail(errc::value_error, "byte must be in range(0, 256)");
      }
      std::uint64_t need = b->size + n;
      if (need > b->cap) {
        b->data = g_.arena.grow(b->data, static_cast<std::size_t>(b->cap), static_cast<std::size_t>(need * 2));
        b->cap = need * 2;
      }
      for (std::size_t i = 0; i < n; ++i) b->data[b->size++] = static_cast<std::uint8_t>(Access::i(items[i]));
      return;
    }
    case Tag::object: {
      auto* o = Access::node<ObjectNode>(target);
      if (!o->list_items) o->list_items = Access::node<SeqNode>(make_list(g_, nullptr, 0));
      list_extend(g_, o->list_items, items, n);
      return;
    }
    default:
      break;
  }
  fail(errc::type_error, type_phrase(target) + " has no attribute '" +
                             (via_additems ? "add" : (n == 1 ? "append" : "extend")) + "'");
}

void Unpickler::set_items(Value& target, const Value* items, std::size_t n) {
  switch (target.tag()) {
    case Tag::dict: {
      auto* d = Access::node<DictNode>(target);
      // A batch filling an empty dict: try the shape of the last dict that started with the same
      // key object and had as many items (see dict_fill_like).
      std::size_t pairs = n / 2;
      DictNode** slot = nullptr;
      if (d->size == 0 && pairs >= 2) {
        std::size_t h = (reinterpret_cast<std::uintptr_t>(Access::identity(items[0])) >> 4) ^
                        static_cast<std::size_t>(items[0].inline_length()) ^ (pairs * 0x9E3779B9u);
        slot = &shapes_[h % shapes_.size()];
        if (*slot && dict_fill_like(g_, d, *slot, items, pairs)) return;
      }
      reserve_items(d, pairs);
      for (std::size_t i = 0; i < n; i += 2) dict_set(g_, d, items[i], items[i + 1]);
      if (slot && d->size == pairs) *slot = d;
      return;
    }
    case Tag::object: {
      auto* o = Access::node<ObjectNode>(target);
      if (!o->dict_items) o->dict_items = new_dict_node(g_, true);
      for (std::size_t i = 0; i < n; i += 2) dict_set(g_, o->dict_items, items[i], items[i + 1]);
      return;
    }
    case Tag::list: {
      // list[index] = value (PyObject_SetItem works on lists with int keys)
      auto* l = Access::node<SeqNode>(target);
      for (std::size_t i = 0; i < n; i += 2) {
        if (items[i].tag() != Tag::int64 && items[i].tag() != Tag::boolean)
          fail(errc::type_error, "list indices must be integers or slices, not " + python_type_name(items[i]));
        std::int64_t k = Access::i(items[i]);
        std::int64_t size = static_cast<std::int64_t>(l->size);
        if (k < 0) k += size;
        if (k < 0 || k >= size) fail(errc::value_error, "list assignment index out of range");
        l->items[k] = items[i + 1];
      }
      return;
    }
    default:
      break;
  }
  fail(errc::type_error, type_phrase(target) + " does not support item assignment");
}

Value Unpickler::persistent(const Value& pid) {
  if (opt_.persistent_load) {
    Builder b(doc_);
    doc_.next_serial = g_.next_serial;
    Result<Value> r = opt_.persistent_load(pid, b);
    g_.next_serial = doc_.next_serial;
    if (!r) fail(r.error().code == errc::ok ? errc::persistent_id : r.error().code,
                 "persistent_load: " + r.error().message);
    return *r;
  }
  auto* p = g_.arena.make<PersistentNode>();
  p->h.tag = Tag::persistent;
  p->h.aux = serial();
  p->pid = pid;
  return Access::make_ptr(Tag::persistent, 0, p);
}

// ---- text opcodes ------------------------------------------------------------------------------

void Unpickler::op_int() {
  std::string_view line = in_.line();
  if (line.empty()) fail(errc::truncated, "pickle data was truncated (empty INT argument)");
  // load_int: strtol(s, &end, 0) over the NUL-terminated line; accepted when it stops at the
  // newline or at an embedded NUL. A 3-byte line ("01\n", "-0\n") with value 0 or 1 is a bool.
  std::string_view cstr = line.substr(0, line.find('\0'));
  std::size_t consumed;
  bool overflow;
  std::int64_t x = c_strtol_base0(cstr, consumed, overflow);
  if (!overflow && consumed == cstr.size()) {
    if (line.size() == 2 && (x == 0 || x == 1)) push(make_bool(x == 1));
    else push(make_int(x));
    return;
  }
  ParsedInt r;  // fallback: PyLong_FromString(s, NULL, 0) (which also stops at a NUL)
  if (parse_py_int(line, 0, opt_.limits.max_int_digits, r) != ParseStatus::ok)
    fail(errc::bad_argument, "could not convert string to int");
  push(r.is_small ? make_int(r.small) : make_int_le(g_, r.big.data(), r.big.size(), false));
}

void Unpickler::op_long() {
  std::string_view line = in_.line();
  if (line.empty()) fail(errc::truncated, "pickle data was truncated (empty LONG argument)");
  if (line.back() == 'L') line.remove_suffix(1);
  if (auto z = line.find('\0'); z != std::string_view::npos) line = line.substr(0, z);
  ParsedInt r;
  auto st = parse_py_int(line, 0, opt_.limits.max_int_digits, r);
  if (st == ParseStatus::too_many_digits)
    fail(errc::limit_exceeded, "LONG argument has more than " + std::to_string(opt_.limits.max_int_digits) +
                                   " digits (Limits::max_int_digits)");
  if (st != ParseStatus::ok) fail(errc::bad_argument, "invalid literal for int() with base 0");
  push(r.is_small ? make_int(r.small) : make_int_le(g_, r.big.data(), r.big.size(), false));
}

void Unpickler::op_float() {
  std::string_view line = in_.line();
  if (line.empty()) fail(errc::truncated, "pickle data was truncated (empty FLOAT argument)");
  if (auto z = line.find('\0'); z != std::string_view::npos) line = line.substr(0, z);
  double d;
  switch (parse_c_float(line, d)) {
    case FloatStatus::ok: push(make_float(d)); return;
    case FloatStatus::overflow: fail(errc::bad_argument, "value too large to convert to float");
    case FloatStatus::invalid: fail(errc::bad_argument, "could not convert string to float");
  }
}

void Unpickler::op_string() {
  std::string_view line = in_.line();
  if (line.size() < 2 || line.front() != line.back() || (line.front() != '\'' && line.front() != '"'))
    fail(errc::bad_argument, "the STRING opcode argument must be quoted");
  std::string raw;
  std::size_t pos = 0;
  switch (escape_decode(line.substr(1, line.size() - 2), raw, pos)) {
    case EscapeStatus::ok: break;
    case EscapeStatus::trailing_backslash: fail(errc::bad_argument, "Trailing \\ in string");
    default: fail(errc::bad_argument, "invalid \\x escape at position " + std::to_string(pos));
  }
  push(py2_str(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size(), false));
}

// ---- the machine -------------------------------------------------------------------------------

// The opcodes of typical data (ints, floats, short strs and bytes, memo puts and gets, empty
// containers, MARK, APPENDS/SETITEMS into lists and dicts, small tuples, FRAME) executed with the
// input position, stack top and fence in locals, for complete inputs whose str/bytes values can
// point into the input. Any opcode or case not handled here — other opcodes, the last bytes of the
// input, non-ASCII text, a full stack or memo, anything unusual — ends the loop with the state
// written back, and run()'s switch executes that opcode with every check. What the fast loop does
// is exactly what the switch would do; it only takes the cases where no check can fail.
void Unpickler::fast_loop() {
  using O = Opcode;
  const std::uint8_t* p = in_.pos();
  const std::uint8_t* const end = in_.end();
  Value* const base = stack_.data();
  Value* sp = base + stack_.size();
  Value* const slim = base + stack_.capacity();
  std::size_t fence = marks_.empty() ? 0 : marks_.back();
  const std::uint64_t max_depth = opt_.limits.max_depth;
  // The memo, appended to in place while it is dense (MEMOIZE's index is then its size) and below
  // both its capacity and Limits::max_memo_index.
  Value* const mbase = memo_.data();
  Value* mp = mbase + memo_.size();
  const bool memo_append = sparse_memo_.empty() && memo_count_ == memo_.size();
  Value* const mlim = mbase + std::min<std::uint64_t>(memo_.capacity(), opt_.limits.max_memo_index + 1);
  // Calls that can fail need the opcode's position for the error (run() sets it otherwise).
  auto at = [&](const std::uint8_t* q) {
    op_offset_ = in_.offset_of(q);
    op_ = *q;
  };
  // Protocols 4 and 5 memoize every new str, bytes and container right away: take that MEMOIZE
  // with the value, without another trip through the switch (same checks as its case below).
  // (`v` is the value just pushed, from the caller's registers: reading it back from the stack
  // stalled on the two 8-byte stores that wrote it)
  auto memoize_next = [&](Value v) {
    if (p < end && *p == static_cast<std::uint8_t>(O::MEMOIZE) && memo_append && mp != mlim) {
      *mp++ = v;
      ++p;
      seen_[static_cast<std::uint8_t>(O::MEMOIZE)] = 1;
    }
  };
  auto sync = [&] {
    in_.set_pos(p);
    stack_.set_size(static_cast<std::size_t>(sp - base));
    const auto added = static_cast<std::size_t>(mp - mbase) - memo_.size();
    memo_.set_size(static_cast<std::size_t>(mp - mbase));
    memo_count_ += added;
  };
  for (;;) {
    // Every case below reads at most 9 fixed bytes, or checks its payload against `end`; 40
    // bytes of slack also cover the 32-byte ASCII test of short strs.
    if (end - p < 48 || sp + 3 > slim) break;
    const unsigned c = *p;
    switch (static_cast<O>(c)) {
      case O::BININT1:
      case O::BININT2:
      case O::BININT:
      case O::LONG1: {  // branch-free decode, as in run()
        const unsigned kind = k_int_ops.kind[c];
        const unsigned long1 = kind >> 2;
        const unsigned width = k_int_width[kind] + (p[1] & (0u - long1));
        if (width - 1 >= 8) goto out;  // LONG1 of 0 or > 8 bytes
        const unsigned sh = 64 - 8 * width;
        const std::uint64_t top = load_u64(p + 1 + long1) << sh;
        const std::uint64_t u = top >> sh;
        const auto sv = static_cast<std::uint64_t>(static_cast<std::int64_t>(top) >> sh);
        const std::uint64_t is_signed = 0 - static_cast<std::uint64_t>(kind >= 3);
        *sp++ = make_int(static_cast<std::int64_t>((sv & is_signed) | (u & ~is_signed)));
        p += 1 + long1 + width;
        break;
      }
      case O::BINFLOAT: {
        std::uint64_t bits = __builtin_bswap64(load_u64(p + 1));
        double d;
        std::memcpy(&d, &bits, 8);
        *sp++ = make_float(d);
        p += 9;
        break;
      }
      case O::NONE: *sp++ = make_none(); p += 1; break;
      case O::NEWTRUE: *sp++ = make_bool(true); p += 1; break;
      case O::NEWFALSE: *sp++ = make_bool(false); p += 1; break;
      case O::EMPTY_TUPLE: *sp++ = empty_tuple(); p += 1; break;
      case O::SHORT_BINUNICODE: {
        const std::size_t n = p[1];
        if (static_cast<std::size_t>(end - p) < 2 + n + 32 || !ascii32(p + 2, n)) goto out;
        const Value v = make_str(g_, reinterpret_cast<const char*>(p + 2), n, true);
        *sp++ = v;
        p += 2 + n;
        memoize_next(v);
        break;
      }
      case O::BINUNICODE: {
        const std::uint64_t n = load_u32(p + 1);
        if (static_cast<std::uint64_t>(end - p) < 5 + n || !ascii_short(p + 5, static_cast<std::size_t>(n))) goto out;
        const Value v = make_str(g_, reinterpret_cast<const char*>(p + 5), static_cast<std::size_t>(n), true);
        *sp++ = v;
        p += 5 + n;
        memoize_next(v);
        break;
      }
      case O::SHORT_BINBYTES: {
        const std::size_t n = p[1];
        if (static_cast<std::size_t>(end - p) < 2 + n) goto out;
        const Value v = make_bytes(g_, p + 2, n, true);
        *sp++ = v;
        p += 2 + n;
        memoize_next(v);
        break;
      }
      case O::MEMOIZE:
        if (!memo_append || mp == mlim || sp == base + fence) goto out;
        *mp++ = sp[-1];
        p += 1;
        break;
      case O::BINPUT:
        if (!memo_append || mp == mlim || sp == base + fence || p[1] != static_cast<std::size_t>(mp - mbase))
          goto out;
        *mp++ = sp[-1];
        p += 2;
        break;
      case O::BINGET:
      case O::LONG_BINGET: {
        const bool long_form = c == static_cast<unsigned>(O::LONG_BINGET);
        const std::uint64_t idx = long_form ? load_u32(p + 1) : p[1];
        if (idx >= static_cast<std::uint64_t>(mp - mbase) || !mbase[idx].valid()) goto out;
        *sp++ = mbase[idx];
        if (idx >= fetched_.size()) fetched_.resize(static_cast<std::size_t>(mp - mbase));
        fetched_[idx] = 1;
        p += long_form ? 5 : 2;
        break;
      }
      case O::MARK:
        if (max_depth && marks_.size() >= max_depth) goto out;
        fence = static_cast<std::size_t>(sp - base);
        marks_.push_back(fence);
        p += 1;
        break;
      case O::EMPTY_LIST: {
        at(p);
        const Value v = make_list(g_, nullptr, 0);
        *sp++ = v;
        p += 1;
        memoize_next(v);
        break;
      }
      case O::EMPTY_DICT: {
        at(p);
        const Value v = make_dict(g_);
        *sp++ = v;
        p += 1;
        memoize_next(v);
        break;
      }
      case O::TUPLE1:
      case O::TUPLE2:
      case O::TUPLE3: {
        const std::size_t n = c - static_cast<unsigned>(O::TUPLE1) + 1;
        if (static_cast<std::size_t>(sp - base) < fence + n) goto out;
        at(p);
        Value t = make_tuple(g_, sp - n, n);
        sp -= n;
        *sp++ = t;
        p += 1;
        memoize_next(t);
        break;
      }
      case O::APPENDS:
      case O::SETITEMS: {
        // The container just below the top MARK, which must be above the previous mark.
        if (marks_.empty()) goto out;
        const std::size_t m = marks_.back();
        const std::size_t prev = marks_.size() > 1 ? marks_[marks_.size() - 2] : 0;
        const bool appends = c == static_cast<unsigned>(O::APPENDS);
        if (m == 0 || m <= prev || base[m - 1].tag() != (appends ? Tag::list : Tag::dict)) goto out;
        const std::size_t n = static_cast<std::size_t>(sp - base) - m;
        if (!appends && (n & 1)) goto out;
        at(p);
        sync();  // set_items may read the stack through stack_
        if (appends) list_extend(g_, Access::node<SeqNode>(base[m - 1]), base + m, n);
        else set_items(base[m - 1], base + m, n);
        marks_.pop_back();
        fence = prev;
        sp = base + m;
        p += 1;
        break;
      }
      case O::FRAME: {
        const std::uint64_t n = load_u64(p + 1);
        if (n > static_cast<std::uint64_t>(end - p) - 9) goto out;
        p += 9;
        break;
      }
      default:
        goto out;
    }
    seen_[c] = 1;
  }
out:
  sync();
}

Value Unpickler::run() {
  using O = Opcode;
  const bool fast = in_.complete() && borrow_;
  for (;;) {
    if (fast) fast_loop();
    op_offset_ = in_.offset();
    int c = in_.next_byte();
    if (c < 0) {
      op_ = -1;
      fail(errc::eof, "ran out of input (no STOP opcode)");
    }
    op_ = c;
    // Ints of 1 to 8 bytes (BININT1, BININT2, BININT, LONG1) are decoded here without branching
    // on which of the four it is: in a list of ints of mixed sizes the switch's indirect jump
    // mispredicted on most items. Same values as their cases below (which take the rest: LONG1
    // of 0 or more than 8 bytes, and the last bytes of the input).
    if (unsigned kind = k_int_ops.kind[c]; kind && in_.available() >= 9) {
      const std::uint8_t* p = in_.pos();
      const unsigned long1 = kind >> 2;
      const unsigned width = k_int_width[kind] + (p[0] & (0u - long1));
      if (width - 1 < 8) {
        const unsigned sh = 64 - 8 * width;
        const std::uint64_t top = load_u64(p + long1) << sh;  // the value's bytes, at the top
        const std::uint64_t u = top >> sh;                                          // BININT1/2
        const auto s = static_cast<std::uint64_t>(static_cast<std::int64_t>(top) >> sh);  // signed
        const std::uint64_t is_signed = 0 - static_cast<std::uint64_t>(kind >= 3);  // (a mask: no branch)
        in_.take(long1 + width);
        push(make_int(static_cast<std::int64_t>((s & is_signed) | (u & ~is_signed))));
        seen_[c] = 1;
        continue;
      }
    }
    switch (static_cast<O>(c)) {
      // ---- scalars ----
      case O::NONE: push(make_none()); break;
      case O::NEWTRUE: push(make_bool(true)); break;
      case O::NEWFALSE: push(make_bool(false)); break;
      case O::BININT1: push(make_int(*in_.take(1))); break;
      case O::BININT2: push(make_int(load_u16(in_.take(2)))); break;
      case O::BININT: push(make_int(static_cast<std::int32_t>(load_u32(in_.take(4))))); break;
      case O::LONG1: {
        std::size_t n = *in_.take(1);
        push(make_int_le(g_, in_.take(n), n, borrow_));
        break;
      }
      case O::LONG4: {
        auto n = static_cast<std::int32_t>(load_u32(in_.take(4)));
        if (n < 0) fail(errc::bad_argument, "LONG pickle has negative byte count");
        push(make_int_le(g_, payload(static_cast<std::uint64_t>(n)), static_cast<std::size_t>(n), borrow_));
        break;
      }
      case O::BINFLOAT: {
        std::uint64_t bits = load_u64(in_.take(8));
        bits = __builtin_bswap64(bits);  // big-endian on the wire
        double d;
        std::memcpy(&d, &bits, 8);
        push(make_float(d));
        break;
      }
      case O::INT: op_int(); break;
      case O::LONG: op_long(); break;
      case O::FLOAT: op_float(); break;

      // ---- text and bytes ----
      case O::SHORT_BINUNICODE: {
        std::size_t n = *in_.take(1);
        const std::uint8_t* p = in_.take(n);
        if (in_.available() + n >= 32 && ascii32(p, n))  // (32 readable bytes: the rest of the input)
          push(make_str(g_, reinterpret_cast<const char*>(p), n, borrow_));
        else
          push(utf8_str(p, n));
        break;
      }
      case O::BINUNICODE: {
        std::uint64_t n = load_u32(in_.take(4));
        push(utf8_str(payload(n), static_cast<std::size_t>(n)));
        break;
      }
      case O::BINUNICODE8: {
        std::uint64_t n = len8("BINUNICODE");
        push(utf8_str(payload(n), static_cast<std::size_t>(n)));
        break;
      }
      case O::UNICODE: {
        std::string_view line = in_.line();
        std::string out;
        std::size_t pos = 0;
        auto st = raw_unicode_escape_decode(line, out, pos);
        if (st != EscapeStatus::ok)
          fail(errc::unicode_error, "'rawunicodeescape' codec can't decode bytes in position " +
                                        std::to_string(pos) + ": " +
                                        (st == EscapeStatus::U_out_of_range ? "\\Uxxxxxxxx out of range"
                                                                            : "truncated \\uXXXX escape"));
        push(owned_str(out));
        break;
      }
      case O::SHORT_BINBYTES: {
        std::size_t n = *in_.take(1);
        push(make_bytes(g_, in_.take(n), n, borrow_));
        break;
      }
      case O::BINBYTES: {
        std::uint64_t n = load_u32(in_.take(4));
        push(make_bytes(g_, payload(n), static_cast<std::size_t>(n), borrow_));
        break;
      }
      case O::BINBYTES8: {
        std::uint64_t n = len8("BINBYTES");
        push(make_bytes(g_, payload(n), static_cast<std::size_t>(n), borrow_));
        break;
      }
      case O::BYTEARRAY8: {
        std::uint64_t n = len8("BYTEARRAY8");
        push(make_bytearray(g_, payload(n), static_cast<std::size_t>(n)));
        break;
      }
      case O::SHORT_BINSTRING: {
        std::size_t n = *in_.take(1);
        push(py2_str(in_.take(n), n, true));
        break;
      }
      case O::BINSTRING: {
        std::uint64_t n = load_u32(in_.take(4));  // read unsigned, as CPython does
        push(py2_str(payload(n), static_cast<std::size_t>(n), true));
        break;
      }
      case O::STRING: op_string(); break;

      // ---- containers ----
      case O::EMPTY_TUPLE: push(empty_tuple()); break;
      case O::TUPLE1: {
        Value a = pop();
        push(make_tuple(g_, &a, 1));
        break;
      }
      case O::TUPLE2: {
        Value v[2];
        v[1] = pop();
        v[0] = pop();
        push(make_tuple(g_, v, 2));
        break;
      }
      case O::TUPLE3: {
        Value v[3];
        v[2] = pop();
        v[1] = pop();
        v[0] = pop();
        push(make_tuple(g_, v, 3));
        break;
      }
      case O::TUPLE: {
        std::size_t m = pop_mark();
        push(tuple_from(m));
        break;
      }
      case O::EMPTY_LIST: push(make_list(g_, nullptr, 0)); break;
      case O::LIST: {
        std::size_t m = pop_mark();
        Value l = make_list(g_, stack_.data() + m, stack_.size() - m);
        stack_.resize(m);
        push(l);
        break;
      }
      case O::APPEND: {
        Value v = pop();
        append_items(top(), &v, 1, false);
        break;
      }
      case O::APPENDS: {
        std::size_t m = pop_mark();
        Value& target = below_mark(m);
        append_items(target, stack_.data() + m, stack_.size() - m, false);
        stack_.resize(m);
        break;
      }
      case O::EMPTY_DICT: push(make_dict(g_)); break;
      case O::DICT: {
        std::size_t m = pop_mark();
        if ((stack_.size() - m) % 2) fail(errc::bad_argument, "odd number of items for DICT");
        Value d = make_dict(g_);
        set_items(d, stack_.data() + m, stack_.size() - m);
        stack_.resize(m);
        push(d);
        break;
      }
      case O::SETITEM: {
        if (stack_.size() < fence() + 3) underflow();
        Value v = pop();
        Value k = pop();
        Value items[2] = {k, v};
        set_items(top(), items, 2);
        break;
      }
      case O::SETITEMS: {
        std::size_t m = pop_mark();
        Value& target = below_mark(m);
        if ((stack_.size() - m) % 2) fail(errc::bad_argument, "odd number of items for SETITEMS");
        set_items(target, stack_.data() + m, stack_.size() - m);
        stack_.resize(m);
        break;
      }
      case O::EMPTY_SET: {
        Value s = make_set(g_, false);
        track_set(s);
        push(s);
        break;
      }
      case O::ADDITEMS: {
        std::size_t m = pop_mark();
        Value& target = below_mark(m);
        append_items(target, stack_.data() + m, stack_.size() - m, true);
        stack_.resize(m);
        break;
      }
      case O::FROZENSET: {
        std::size_t m = pop_mark();
        Value s = make_set(g_, true);
        for (std::size_t i = m; i < stack_.size(); ++i) set_add(g_, Access::node<SetNode>(s), stack_[i]);
        stack_.resize(m);
        track_set(s);
        push(s);
        break;
      }

      // ---- stack ----
      case O::MARK:
        if (opt_.limits.max_depth && marks_.size() >= opt_.limits.max_depth)
          fail(errc::limit_exceeded, "more than " + std::to_string(opt_.limits.max_depth) +
                                         " nested MARKs (Limits::max_depth)");
        marks_.push_back(stack_.size());
        break;
      case O::POP:
        if (stack_.size() > fence() && op_offset_ == reduce_end_) keep_state_setter_call(top());
        if (stack_.size() > fence()) stack_.pop_back();
        else if (!marks_.empty()) marks_.pop_back();  // POP of a MARK
        else underflow();
        break;
      case O::POP_MARK: {
        std::size_t m = pop_mark();
        stack_.resize(m);
        break;
      }
      case O::DUP: {
        Value v = top();
        mark_shared(v);
        if (stack_.size() >= opt_.limits.max_container_len)
          fail(errc::limit_exceeded, "stack too deep (Limits::max_container_len)");
        push(v);
        break;
      }

      // ---- memo ----
      case O::PUT: {
        std::string_view line = in_.line();
        ParsedInt r;
        if (line.empty()) fail(errc::truncated, "pickle data was truncated (empty PUT argument)");
        if (parse_py_int(line, 10, opt_.limits.max_int_digits, r) != ParseStatus::ok)
          fail(errc::bad_argument, "invalid literal for int() with base 10");
        if (!r.is_small) fail(errc::limit_exceeded, "PUT index too large");
        if (r.small < 0) fail(errc::bad_argument, "negative PUT argument");
        memo_put(static_cast<std::uint64_t>(r.small));
        break;
      }
      case O::BINPUT: memo_put(*in_.take(1)); break;
      case O::LONG_BINPUT: memo_put(load_u32(in_.take(4))); break;
      case O::MEMOIZE: memo_put(memo_count_); break;
      case O::GET: {
        std::string_view line = in_.line();
        ParsedInt r;
        if (line.empty()) fail(errc::truncated, "pickle data was truncated (empty GET argument)");
        if (parse_py_int(line, 10, opt_.limits.max_int_digits, r) != ParseStatus::ok)
          fail(errc::bad_argument, "invalid literal for int() with base 10");
        if (!r.is_small || r.small < 0)
          fail(errc::memo_missing, "Memo value not found at index " + std::string(line));
        memo_get(static_cast<std::uint64_t>(r.small));
        break;
      }
      case O::BINGET: memo_get(*in_.take(1)); break;
      case O::LONG_BINGET: memo_get(load_u32(in_.take(4))); break;

      // ---- globals and objects ----
      case O::GLOBAL: push(text_global(false)); break;
      case O::STACK_GLOBAL: {
        Value name = pop();
        Value module = pop();
        if (name.tag() != Tag::str || module.tag() != Tag::str)
          fail(errc::type_error, "STACK_GLOBAL requires str");
        const Value strs[2] = {module, name};
        push(make_global(Access::sv(module), Access::sv(name), strs));
        break;
      }
      case O::INST: {
        Value cls = text_global(true);
        std::size_t m = pop_mark();
        Value args = tuple_from(m);
        push(call(Construction::inst, cls, args, Value()));
        break;
      }
      case O::OBJ: {
        std::size_t m = pop_mark();
        if (stack_.size() - m < 1) underflow();
        Value cls = stack_[m];
        Value args = make_tuple(g_, stack_.data() + m + 1, stack_.size() - m - 1);
        stack_.resize(m);
        if (is_native_uncallable(cls.tag()) || known_kind(cls) == KnownKind::constant)
          fail(errc::type_error, type_phrase(cls) + " is not callable");
        push(call(Construction::obj, cls, args, Value()));
        break;
      }
      case O::REDUCE: {
        Value args = pop();
        Value callable = pop();
        if (is_native_uncallable(callable.tag()) || known_kind(callable) == KnownKind::constant)
          fail(errc::type_error, type_phrase(callable) + " is not callable");
        if (args.tag() != Tag::tuple && args.tag() != Tag::object)
          fail(errc::type_error, "argument list must be a tuple, not " + python_type_name(args));
        push(call(Construction::reduce, callable, args, Value()));
        reduce_end_ = in_.offset();  // (a POP right here may end a state_setter call)
        break;
      }
      case O::NEWOBJ: {
        Value args = pop();
        Value cls = pop();
        if (is_native_uncallable(cls.tag()) || known_kind(cls) == KnownKind::function ||
            known_kind(cls) == KnownKind::constant)
          fail(errc::type_error, "NEWOBJ class argument must be a type, not " +
                                     (cls.tag() == Tag::global ? std::string("builtin_function_or_method")
                                                               : python_type_name(cls)));
        if (args.tag() != Tag::tuple && args.tag() != Tag::object)
          fail(errc::type_error, "NEWOBJ args argument must be a tuple, not " + python_type_name(args));
        push(call(Construction::newobj, cls, args, Value()));
        break;
      }
      case O::NEWOBJ_EX: {
        Value kwargs = pop();
        Value args = pop();
        Value cls = pop();
        if (is_native_uncallable(cls.tag()) || known_kind(cls) == KnownKind::function ||
            known_kind(cls) == KnownKind::constant)
          fail(errc::type_error, "NEWOBJ_EX class argument must be a type, not " +
                                     (cls.tag() == Tag::global ? std::string("builtin_function_or_method")
                                                               : python_type_name(cls)));
        if (args.tag() != Tag::tuple && args.tag() != Tag::object)
          fail(errc::type_error, "NEWOBJ_EX args argument must be a tuple, not " + python_type_name(args));
        if (kwargs.tag() != Tag::dict && kwargs.tag() != Tag::object)
          fail(errc::type_error, "NEWOBJ_EX kwargs argument must be a dict, not " + python_type_name(kwargs));
        push(call(Construction::newobj_ex, cls, args, kwargs));
        break;
      }
      case O::BUILD: {
        if (stack_.size() < fence() + 2) underflow();
        Value state = pop();
        build(top(), state);
        break;
      }
      case O::EXT1:
      case O::EXT2:
      case O::EXT4: {
        std::int64_t code;
        if (c == 0x82) code = *in_.take(1);
        else if (c == 0x83) code = load_u16(in_.take(2));
        else code = static_cast<std::int32_t>(load_u32(in_.take(4)));
        if (code <= 0) fail(errc::bad_argument, "EXT specifies code <= 0");
        auto it = opt_.extensions.find(static_cast<std::int32_t>(code));
        if (it == opt_.extensions.end())
          fail(errc::extension_code, "unregistered extension code " + std::to_string(code) +
                                         " (register it in ReadOptions::extensions)");
        push(make_global(it->second.first, it->second.second));
        break;
      }
      case O::PERSID: {
        std::string_view line = in_.line();
        if (!is_ascii(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()))
          fail(errc::unicode_error, "persistent IDs in protocol 0 must be ASCII strings");
        Value pid = make_str(g_, line.data(), line.size(), false);
        push(persistent(pid));
        break;
      }
      case O::BINPERSID: {
        Value pid = pop();
        push(persistent(pid));
        break;
      }

      // ---- protocol 5 buffers ----
      case O::NEXT_BUFFER: {
        if (!opt_.buffers)
          fail(errc::out_of_band_buffer,
               "pickle stream refers to out-of-band data but no buffers were supplied (ReadOptions::buffers)");
        if (next_buffer_ >= opt_.buffers->size()) fail(errc::out_of_band_buffer, "not enough out-of-band buffers");
        const Buffer& b = (*opt_.buffers)[next_buffer_];
        auto* bn = g_.arena.make<BufferNode>();
        bn->h.tag = Tag::buffer;
        bn->h.flags = b.readonly ? 1 : 0;
        bn->h.aux = serial();
        bn->data = reinterpret_cast<const std::uint8_t*>(b.data.data());
        bn->size = b.data.size();
        bn->index = next_buffer_++;
        push(Access::make_ptr(Tag::buffer, 0, bn));
        break;
      }
      case O::READONLY_BUFFER: {
        Value& t = top();
        if (t.tag() == Tag::bytes) break;  // already read-only
        if (t.tag() == Tag::buffer) {
          auto* b = Access::node<BufferNode>(t);
          if (!(b->h.flags & 1)) {
            auto* nb = g_.arena.make<BufferNode>();
            *nb = *b;
            nb->h.flags |= 1;
            nb->h.aux = serial();
            t = Access::make_ptr(Tag::buffer, 0, nb);
          }
          break;
        }
        if (t.tag() == Tag::bytearray) {
          auto* ba = Access::node<ByteArrayNode>(t);
          auto* nb = g_.arena.make<BufferNode>();
          nb->h.tag = Tag::buffer;
          nb->h.flags = 1;
          nb->h.aux = serial();
          nb->data = ba->data;
          nb->size = ba->size;
          nb->index = ~std::uint64_t{0};
          t = Access::make_ptr(Tag::buffer, 0, nb);
          break;
        }
        fail(errc::type_error, "memoryview: a bytes-like object is required, not '" + python_type_name(t) + "'");
      }

      // ---- framing and protocol ----
      case O::PROTO: {
        int p = *in_.take(1);
        if (p > highest_protocol) fail(errc::unsupported_protocol, "unsupported pickle protocol: " + std::to_string(p));
        proto_ = p;
        if (declared_proto_ < 0) declared_proto_ = p;
        break;
      }
      case O::FRAME: {
        std::uint64_t n = load_u64(in_.take(8));
        if (n > static_cast<std::uint64_t>(INT64_MAX))
          fail(errc::limit_exceeded, "FRAME length exceeds system's maximum of 9223372036854775807 bytes");
        check_payload(n);
        in_.require(static_cast<std::size_t>(n));  // the frame must be there; opcodes follow
        break;
      }
      case O::STOP: {
        Value v = pop();
        for (SetNode* s : sets_) finalize_set(g_, s);
        seen_[c] = 1;
        for (int b = 0; b < 256; ++b) {
          if (!seen_[b]) continue;
          const OpcodeInfo* info = opcode_info(static_cast<std::uint8_t>(b));
          if (info->proto > max_op_proto_) max_op_proto_ = info->proto;
        }
        return v;
      }
      default: {
        std::string key;
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') key = std::string(1, static_cast<char>(c));
        else key = "\\x" + hex_byte(static_cast<unsigned>(c));
        fail(errc::invalid_opcode, "invalid load key, '" + key + "'.");
      }
    }
    seen_[c] = 1;  // opcode_protocol() is worked out from these at STOP
    // MEMOIZE follows nearly every new object in protocols 4 and 5: run it here (as its case does)
    // rather than through another indirect jump of the switch, which mispredicts on irregular data.
    if (in_.available() && *in_.pos() == static_cast<std::uint8_t>(O::MEMOIZE)) {
      op_offset_ = in_.offset();
      op_ = static_cast<int>(O::MEMOIZE);
      in_.take(1);
      memo_put(memo_count_);
      seen_[op_] = 1;
    }
  }
}

// ---- entry points ------------------------------------------------------------------------------

Result<Document> read_one(InputSource& in, const ReadOptions& opt) {
  auto state = std::make_unique<DocumentState>(opt.limits.max_alloc_bytes);
  state->keepalive = in.keepalive;
  if (!opt.types.empty()) state->user_types = std::make_shared<const std::vector<UserType>>(opt.types);
  state->start_offset = in.position;
  Cursor cur(in, opt.limits.max_alloc_bytes);
  cur.bound_allocations(state->arena, opt.limits.max_alloc_bytes, opt.limits.max_alloc_per_input_byte);
  Unpickler u(cur, opt, *state);
  auto make_error = [&](errc code, std::string msg) {
    Error e;
    e.code = code;
    e.message = std::move(msg);
    e.offset = u.opcode_offset();
    e.opcode = u.opcode();
    cur.commit();
    return e;
  };
  try {
    Value root = u.run();
    check_nesting_depth(root, opt.limits.max_depth);  // (an error is reported at the STOP)
    cur.commit();
    // (the bound by input size is for reading; what a Builder adds later is bounded by the cap)
    state->arena.set_limit(opt.limits.max_alloc_bytes);
    u.finish_sharing();
    state->sharing_known = !state->builder_made;
    state->root = root;
    state->declared_protocol = u.declared_protocol();
    state->opcode_protocol = u.opcode_protocol();
    state->end_offset = in.position;
    state->next_serial = u.next_serial();
    return Document(std::move(state));
  } catch (const ReadFailure& f) {
    return make_error(f.code, f.message);
  } catch (const Exception& ex) {
    return make_error(ex.error().code, ex.error().message);
  } catch (const std::bad_alloc&) {
    return make_error(errc::out_of_memory, "out of memory");
  }
}

}  // namespace detail

// ---- public API ----------------------------------------------------------------------------------

Result<Document> loads(std::span<const std::byte> data, const ReadOptions& options) {
  detail::InputSource in = detail::memory_input(data, !options.borrow_input);
  return detail::read_one(in, options);
}

Result<Document> loads(std::string_view data, const ReadOptions& options) {
  return loads(std::as_bytes(std::span<const char>(data.data(), data.size())), options);
}

Result<Document> loads(std::string&& data, const ReadOptions& options) {
  detail::InputSource in = detail::owned_input(std::move(data));
  return detail::read_one(in, options);
}

Result<Document> load_file(const std::filesystem::path& path, const ReadOptions& options) {
  auto in = detail::open_input(path);
  if (!in) return std::move(in).error();
  auto r = detail::read_one(*in, options);
  if (!r) {
    Error e = std::move(r).error();
    e.path = path.string();
    return e;
  }
  return r;
}

struct Reader::Impl {
  detail::InputSource in;
  std::string path;
};

Reader::Reader(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::open(const std::filesystem::path& path) {
  auto in = detail::open_input(path);
  if (!in) return std::move(in).error();
  auto impl = std::make_unique<Impl>();
  impl->in = std::move(*in);
  impl->path = path.string();
  return Reader(std::move(impl));
}

Reader Reader::from_fd(int fd) {
  auto impl = std::make_unique<Impl>();
  impl->in.stream = detail::make_fd_stream(fd, false);
  return Reader(std::move(impl));
}

Reader Reader::from_memory(std::span<const std::byte> data, bool copy) {
  auto impl = std::make_unique<Impl>();
  impl->in = detail::memory_input(data, copy);
  return Reader(std::move(impl));
}

Result<Document> Reader::next(const ReadOptions& options) {
  auto r = detail::read_one(impl_->in, options);
  if (!r && !impl_->path.empty()) {
    Error e = std::move(r).error();
    e.path = impl_->path;
    return e;
  }
  return r;
}

bool Reader::at_end() {
  auto& in = impl_->in;
  if (!in.is_stream()) return in.position >= in.size;
  try {
    in.fill(1, ~std::uint64_t{0});
  } catch (const detail::ReadFailure&) {
    return true;
  }
  return in.window_end - in.window_pos == 0;
}

std::uint64_t Reader::offset() const noexcept { return impl_->in.position; }

}  // namespace brine
