#include "arena.hpp"

#include <cstdlib>
#include <new>
#include <string>

#include "brine/error.hpp"

namespace brine::detail {

// Header in front of every chunk. Large blocks hold exactly one allocation, starting right after
// the header, so they can be resized with realloc (which can remap pages instead of copying).
struct Arena::Chunk {
  Chunk* prev;
  Chunk* next;  // large blocks only
  std::size_t size;  // usable bytes after the header
  std::size_t pad;   // keeps the payload 16-byte aligned
};
static_assert(sizeof(Arena::Chunk) % 16 == 0);

namespace {
constexpr std::size_t k_max_small_chunk = 1024 * 1024;
constexpr std::size_t k_large_threshold = Arena::large_threshold;

[[noreturn]] void throw_limit(std::uint64_t want, std::uint64_t have, std::uint64_t limit) {
  Error e;
  e.code = errc::limit_exceeded;
  e.message = "allocation limit reached: " + std::to_string(want) + " more bytes needed, " +
              std::to_string(have) + " of " + std::to_string(limit) +
              " already allocated (Limits::max_alloc_bytes)";
  throw Exception(std::move(e));
}
}  // namespace

Arena::~Arena() {
  for (Chunk* c = small_; c;) {
    Chunk* p = c->prev;
    std::free(c);
    c = p;
  }
  for (Chunk* c = large_; c;) {
    Chunk* p = c->prev;
    std::free(c);
    c = p;
  }
}

void Arena::charge(std::uint64_t n) {
  if (n > limit_ || total_ > limit_ - n) throw_limit(n, total_, limit_);
  total_ += n;
}

void Arena::overflow(std::size_t n) const { throw_limit(n, total_, limit_); }

void* Arena::alloc_slow(std::size_t n) {
  if (n >= k_large_threshold) {
    charge(sizeof(Chunk) + n);
    auto* c = static_cast<Chunk*>(std::malloc(sizeof(Chunk) + n));
    if (!c) {
      total_ -= sizeof(Chunk) + n;
      throw std::bad_alloc();
    }
    c->size = n;
    c->next = nullptr;
    c->prev = large_;
    if (large_) large_->next = c;
    large_ = c;
    return c + 1;
  }
  std::size_t size = next_chunk_;
  while (size < n) size *= 2;
  charge(sizeof(Chunk) + size);
  auto* c = static_cast<Chunk*>(std::malloc(sizeof(Chunk) + size));
  if (!c) {
    total_ -= sizeof(Chunk) + size;
    throw std::bad_alloc();
  }
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
  // A large block is resized in place (realloc may move it, but never copies more than needed).
  if (old_bytes >= k_large_threshold) {
    Chunk* c = static_cast<Chunk*>(p) - 1;
    charge(new_bytes - c->size);
    Chunk* prev = c->prev;
    Chunk* next = c->next;
    auto* nc = static_cast<Chunk*>(std::realloc(c, sizeof(Chunk) + new_bytes));
    if (!nc) {
      total_ -= new_bytes - c->size;
      throw std::bad_alloc();
    }
    nc->size = new_bytes;
    if (prev) prev->next = nc;
    if (next) next->prev = nc; else large_ = nc;
    return nc + 1;
  }
  void* d = alloc(new_bytes);
  std::memcpy(d, p, old_bytes);
  return d;
}

}  // namespace brine::detail
