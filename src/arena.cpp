#include "arena.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "brine/error.hpp"

namespace brine::detail {

// Header in front of every chunk. Large blocks hold exactly one allocation, starting right after
// the header, so they can be resized with big_grow (which remaps pages instead of copying).
struct Arena::Chunk {
  Chunk* prev;
  Chunk* next;  // large blocks only
  std::size_t size;  // usable bytes after the header
  std::size_t in_slab;  // small chunks: 1 if carved from a Slab (not malloc'd); keeps 16-byte alignment
};
static_assert(sizeof(Arena::Chunk) % 16 == 0);

// Bump chunks of the largest size (1 MiB, header included: two to a huge page) are carved back
// to back out of big anonymous mappings advised MADV_HUGEPAGE, so that the bulk of a large
// document is faulted in 2 MiB at a time rather than 4 KiB at a time. Page faults, not the
// unpickler's instructions, were most of the time of a large load (bench/run.py: 12k faults for
// 100k JSON-like records). A slab's unused tail is address space only (MAP_NORESERVE, untouched).
struct Arena::Slab {
  Slab* prev;
  char* base;
  std::size_t size;  // bytes mapped
  std::size_t used;  // bytes handed out
};

namespace {
constexpr std::size_t k_max_small_chunk = 1024 * 1024;
constexpr std::size_t k_large_threshold = Arena::large_threshold;
constexpr std::size_t k_huge_page = 2 * 1024 * 1024;
constexpr std::size_t k_first_slab = 8 * 1024 * 1024;
constexpr std::size_t k_max_slab = 64 * 1024 * 1024;

#if defined(__linux__) && defined(MADV_HUGEPAGE)
constexpr bool k_use_maps = true;
#else
constexpr bool k_use_maps = false;
#endif

// Mapping length of a big block: whole huge pages (the kernel aligns an anonymous mapping on a
// 2 MiB boundary only when its length is a multiple of 2 MiB).
std::size_t map_length(std::size_t bytes) noexcept { return (bytes + k_huge_page - 1) & ~(k_huge_page - 1); }
bool is_mapped(std::size_t bytes) noexcept { return k_use_maps && bytes >= k_huge_page; }

// A fresh anonymous mapping advised MADV_HUGEPAGE (advice errors are ignored: it only hints).
void* map_huge(std::size_t len) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  ::madvise(m, len, MADV_HUGEPAGE);
  return m;
#else
  (void)len;
  return nullptr;
#endif
}

// A few recently freed small blocks per thread, handed to the next document that asks for the
// same size (an arena's first chunks, the unpickler's stack and memo). glibc returns the top of
// the heap to the kernel once a small document is freed, so without this every small load
// started on a fresh page: on a VM with a costly first touch of a page (~10 µs here) that was
// most of the time of loading a 1 KB pickle.
struct BlockCache {
  static constexpr int slots = 8;
  static constexpr std::size_t max_bytes = 64 * 1024;
  void* block[slots] = {};
  std::size_t bytes[slots] = {};
  ~BlockCache() {
    for (void* b : block) std::free(b);
  }
};
thread_local BlockCache t_blocks;

void* cached_malloc(std::size_t bytes) noexcept {
  if (bytes <= BlockCache::max_bytes) {
    for (int i = 0; i < BlockCache::slots; ++i) {
      if (t_blocks.block[i] && t_blocks.bytes[i] == bytes) {
        void* b = t_blocks.block[i];
        t_blocks.block[i] = nullptr;
        return b;
      }
    }
  }
  return std::malloc(bytes);
}

void cached_free(void* b, std::size_t bytes) noexcept {
  if (!b) return;
  if (bytes <= BlockCache::max_bytes) {
    for (int i = 0; i < BlockCache::slots; ++i) {
      if (!t_blocks.block[i]) {
        t_blocks.block[i] = b;
        t_blocks.bytes[i] = bytes;
        return;
      }
    }
  }
  std::free(b);
}

// Likewise the biggest mapped large block of the last document (a big list's items, typically),
// up to k_keep: a document that needs a block at least that big later takes it over, pages and all.
struct SpareBlock {
  static constexpr std::size_t k_keep = std::size_t{256} << 20;
  Arena::Chunk* chunk = nullptr;
  std::size_t bytes = 0;  // header included
  ~SpareBlock() {
    if (chunk) big_free(chunk, bytes);
  }
};
thread_local SpareBlock t_spare_block;

// Each thread keeps the first slab of its last document for the next one, so that a document of
// a few MiB does not have the kernel fault in and zero its pages again at every load. At most one
// slab (k_first_slab bytes of address space, resident only as far as it was used) per thread.
struct SpareSlab {
  char* base = nullptr;
  ~SpareSlab() {
    if (base) ::munmap(base, k_first_slab);
  }
};
thread_local SpareSlab t_spare_slab;

[[noreturn]] void throw_limit(std::uint64_t want, std::uint64_t have, std::uint64_t limit) {
  Error e;
  e.code = errc::limit_exceeded;
  e.message = "allocation limit reached: " + std::to_string(want) + " more bytes needed, " +
              std::to_string(have) + " of " + std::to_string(limit) +
              " already allocated (Limits::max_alloc_bytes, and while reading max_alloc_per_input_byte)";
  throw Exception(std::move(e));
}
}  // namespace

void* big_alloc(std::size_t bytes) noexcept {
  if (!is_mapped(bytes)) return cached_malloc(bytes ? bytes : 1);
  return map_huge(map_length(bytes));
}

void* big_grow(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept {
  if (!p) return big_alloc(new_bytes);
  if (!is_mapped(new_bytes)) return std::realloc(p, new_bytes ? new_bytes : 1);
  if (!is_mapped(old_bytes)) {  // malloc'd until now: move it into a mapping once
    void* q = map_huge(map_length(new_bytes));
    if (!q) return nullptr;
    std::memcpy(q, p, old_bytes);
    std::free(p);
    return q;
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  std::size_t old_len = map_length(old_bytes), new_len = map_length(new_bytes);
  if (new_len == old_len) return p;
  void* q = ::mremap(p, old_len, new_len, MREMAP_MAYMOVE);
  if (q == MAP_FAILED) return nullptr;
  ::madvise(q, new_len, MADV_HUGEPAGE);
  return q;
#else
  return nullptr;
#endif
}

void big_free(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (!is_mapped(bytes)) {
    cached_free(p, bytes ? bytes : 1);
    return;
  }
  ::munmap(p, map_length(bytes));
}

Arena::~Arena() {
  for (Chunk* c = small_; c;) {
    Chunk* p = c->prev;
    if (!c->in_slab) cached_free(c, sizeof(Chunk) + c->size);
    c = p;
  }
  for (Chunk* c = large_; c;) {
    Chunk* p = c->prev;
    std::size_t bytes = sizeof(Chunk) + c->size;
    if (is_mapped(bytes) && bytes <= SpareBlock::k_keep && bytes > t_spare_block.bytes) {
      if (t_spare_block.chunk) big_free(t_spare_block.chunk, t_spare_block.bytes);
      t_spare_block.chunk = c;
      t_spare_block.bytes = bytes;
    } else {
      big_free(c, bytes);
    }
    c = p;
  }
  for (Slab* s = slab_; s;) {
    Slab* p = s->prev;
    if (!s->prev && s->size == k_first_slab && !t_spare_slab.base) {
      // The first slab stays with this thread for the next document (see SpareSlab).
      t_spare_slab.base = s->base;
      std::free(s);
    } else {
      ::munmap(s->base, s->size);
      std::free(s);
    }
    s = p;
  }
}

// `bytes` (header included) from the current slab, mapping a new one (twice the previous size, up
// to k_max_slab) when it is full. Null if maps are unavailable or refused (the caller mallocs).
Arena::Chunk* Arena::slab_chunk(std::size_t bytes) noexcept {
  if (!slab_ || slab_->size - slab_->used < bytes) {
    std::size_t size = slab_ ? std::min(slab_->size * 2, k_max_slab) : k_first_slab;
    while (size < bytes) size *= 2;
    void* m = nullptr;
    if (!slab_ && size == k_first_slab && t_spare_slab.base) {  // pages already faulted in
      m = t_spare_slab.base;
      t_spare_slab.base = nullptr;
    } else {
      m = map_huge(size);
    }
    if (!m) return nullptr;
    auto* s = static_cast<Slab*>(std::malloc(sizeof(Slab)));
    if (!s) {
      ::munmap(m, size);
      return nullptr;
    }
    s->prev = slab_;
    s->base = static_cast<char*>(m);
    s->size = size;
    s->used = 0;
    slab_ = s;
  }
  auto* c = reinterpret_cast<Chunk*>(slab_->base + slab_->used);
  slab_->used += bytes;
  return c;
}

void Arena::charge(std::uint64_t n) {
  if (n > limit_ || total_ > limit_ - n) throw_limit(n, total_, limit_);
  total_ += n;
}

void Arena::overflow(std::size_t n) const { throw_limit(n, total_, limit_); }

// This thread's spare large block, if it is mapped and holds at least `bytes` (header included);
// its `size` is then its whole capacity.
Arena::Chunk* Arena::take_spare_block(std::size_t bytes) noexcept {
  if (!t_spare_block.chunk || t_spare_block.bytes < bytes || !is_mapped(bytes)) return nullptr;
  Chunk* c = t_spare_block.chunk;
  c->size = t_spare_block.bytes - sizeof(Chunk);
  t_spare_block.chunk = nullptr;
  t_spare_block.bytes = 0;
  return c;
}

void* Arena::alloc_slow(std::size_t n) {
  if (n >= k_large_threshold) {
    charge(sizeof(Chunk) + n);
    Chunk* c = take_spare_block(sizeof(Chunk) + n);  // its size: its whole capacity, >= n
    if (!c) {
      c = static_cast<Chunk*>(big_alloc(sizeof(Chunk) + n));
      if (!c) {
        total_ -= sizeof(Chunk) + n;
        throw std::bad_alloc();
      }
      c->size = n;
    }
    c->next = nullptr;
    c->prev = large_;
    if (large_) large_->next = c;
    large_ = c;
    return c + 1;
  }
  std::size_t size = next_chunk_;
  while (size < n) size *= 2;
  // The biggest chunks come from a slab; their header counts in their 1 MiB.
  bool slab = k_use_maps && size >= k_max_small_chunk;
  if (slab) size -= sizeof(Chunk);
  charge(sizeof(Chunk) + size);
  Chunk* c = slab ? slab_chunk(sizeof(Chunk) + size) : nullptr;
  bool in_slab = c != nullptr;
  if (!c) c = static_cast<Chunk*>(cached_malloc(sizeof(Chunk) + size));
  if (!c) {
    total_ -= sizeof(Chunk) + size;
    throw std::bad_alloc();
  }
  c->in_slab = in_slab ? 1 : 0;
  c->size = size;
  c->prev = small_;
  c->next = nullptr;
  small_ = c;
  if (next_chunk_ < k_max_small_chunk) next_chunk_ *= 2;
  cur_ = reinterpret_cast<char*>(c + 1);
  end_ = cur_ + size;
  void* p = cur_;
  cur_ += n;
  return p;
}

void* Arena::grow_bytes(void* p, std::size_t old_bytes, std::size_t new_bytes) {
  old_bytes = (old_bytes + 7) & ~std::size_t{7};
  new_bytes = (new_bytes + 7) & ~std::size_t{7};
  if (!p) return new_bytes ? alloc(new_bytes) : nullptr;
  if (new_bytes <= old_bytes) return p;
  char* cp = static_cast<char*>(p);
  // The most recent bump allocation can simply extend, but only below the large-block threshold:
  // a block of large_threshold bytes or more is taken for a large block below (its header read
  // and the block realloc'd), so it must never live inside a bump chunk. (It did: a set's items
  // array extended in place past 64 KiB and then grown again realloc'd its whole bump chunk while
  // cur_ still pointed into it: use after free for pickle.dumps(set(range(8000)), protocol=4).)
  if (cp + old_bytes == cur_ && static_cast<std::size_t>(end_ - cur_) >= new_bytes - old_bytes &&
      new_bytes < k_large_threshold) {
    cur_ += new_bytes - old_bytes;
    return p;
  }
  // A large block is resized in place (big_grow may move it, but never copies more than needed).
  if (old_bytes >= k_large_threshold) {
    Chunk* c = static_cast<Chunk*>(p) - 1;
    if (new_bytes <= c->size) return p;  // a block taken over from a spare can have room
    charge(new_bytes - c->size);
    Chunk* prev = c->prev;
    Chunk* next = c->next;
    Chunk* nc = take_spare_block(sizeof(Chunk) + new_bytes);
    if (nc) {  // move into the spare (already faulted in) rather than growing into fresh pages
      std::memcpy(nc + 1, c + 1, old_bytes);
      big_free(c, sizeof(Chunk) + c->size);
    } else {
      nc = static_cast<Chunk*>(big_grow(c, sizeof(Chunk) + c->size, sizeof(Chunk) + new_bytes));
      if (!nc) {
        total_ -= new_bytes - c->size;
        throw std::bad_alloc();
      }
      nc->size = new_bytes;
    }
    nc->prev = prev;
    nc->next = next;
    if (prev) prev->next = nc;
    if (next) next->prev = nc; else large_ = nc;
    return nc + 1;
  }
  void* d = alloc(new_bytes);
  std::memcpy(d, p, old_bytes);
  return d;
}

}  // namespace brine::detail
