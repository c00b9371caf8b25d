#pragma once
// A bump allocator for the value graph: no per-value heap allocation, no destructors, freed in
// one go (chunk by chunk) when the document dies. Every byte it takes from the system counts
// against a limit; exceeding it throws brine::Exception(errc::limit_exceeded).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace brine::detail {

/// Memory for big arrays (an arena's large blocks; the unpickler's stack and memo). Below 2 MiB
/// this is malloc/realloc/free. From 2 MiB on it is an anonymous mapping in whole 2 MiB units,
/// advised MADV_HUGEPAGE before it is first touched and grown with mremap (pages are moved, not
/// copied into fresh ones), so that filling it takes one page fault per 2 MiB instead of one per
/// 4 KiB. Whether a block is mapped follows from its size: callers pass the size they asked for.
/// Null on failure (the old block stays valid), like malloc/realloc.
void* big_alloc(std::size_t bytes) noexcept;
void* big_grow(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept;  // new >= old
void big_free(void* p, std::size_t bytes) noexcept;

class Arena {
 public:
  explicit Arena(std::uint64_t limit = ~std::uint64_t{0}) noexcept : limit_(limit) {}
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void set_limit(std::uint64_t limit) noexcept { limit_ = limit; }
  std::uint64_t limit() const noexcept { return limit_; }
  /// Bytes obtained from the system so far.
  std::uint64_t allocated() const noexcept { return total_; }

  /// n bytes, 8-byte aligned, uninitialised.
  void* alloc(std::size_t n) {
    n = (n + 7) & ~std::size_t{7};
    if (static_cast<std::size_t>(end_ - cur_) >= n && n < large_threshold) [[likely]] {
      void* p = cur_;
      cur_ += n;
      return p;
    }
    return alloc_slow(n);
  }
  /// A zero-initialised T (T must be trivially destructible).
  template <class T>
  T* make() {
    static_assert(std::is_trivially_destructible_v<T>);
    void* p = alloc(sizeof(T));
    std::memset(p, 0, sizeof(T));
    return static_cast<T*>(p);
  }
  /// An uninitialised array of n T; throws limit_exceeded if n * sizeof(T) overflows.
  template <class T>
  T* array(std::size_t n) {
    static_assert(std::is_trivially_destructible_v<T>);
    if (n > (~std::size_t{0} >> 1) / sizeof(T)) overflow(n);
    return static_cast<T*>(alloc(n * sizeof(T)));
  }
  /// Resize an array previously returned by array()/grow(): extends in place when possible
  /// (last allocation, or a separately allocated large block), else copies.
  template <class T>
  T* grow(T* p, std::size_t old_n, std::size_t new_n) {
    if (new_n > (~std::size_t{0} >> 1) / sizeof(T)) overflow(new_n);
    return static_cast<T*>(grow_bytes(p, old_n * sizeof(T), new_n * sizeof(T)));
  }
  /// Copy of [p, p+n).
  void* copy(const void* p, std::size_t n) {
    void* d = alloc(n ? n : 1);
    if (n) std::memcpy(d, p, n);
    return d;
  }

 public:
  /// Allocations of at least this size get a block of their own (resizable without copying).
  static constexpr std::size_t large_threshold = 64 * 1024;
  struct Chunk;
  struct Slab;

 private:
  void* alloc_slow(std::size_t n);
  Chunk* slab_chunk(std::size_t bytes) noexcept;
  static Chunk* take_spare_block(std::size_t bytes) noexcept;
  void* grow_bytes(void* p, std::size_t old_bytes, std::size_t new_bytes);
  [[noreturn]] void overflow(std::size_t n) const;
  void charge(std::uint64_t n);

  char* cur_ = nullptr;
  char* end_ = nullptr;
  Chunk* small_ = nullptr;  // chunks that bump allocations come from
  Chunk* large_ = nullptr;  // dedicated blocks for big arrays (doubly linked)
  Slab* slab_ = nullptr;    // mappings the biggest chunks are carved from (newest first)
  std::uint64_t total_ = 0;
  std::uint64_t limit_;
  // The first chunk is small (then 8, 16, ... 1024 KiB): a small pickle's whole document fits in
  // it, and a program holding many small documents touched 16 KiB of fresh memory per document
  // (bench/run.py, pyperformance's DICT alone: 24 -> 15 us per load, 1.5 -> 1.0 page faults).
  std::size_t next_chunk_ = 4 * 1024;
};

}  // namespace brine::detail
