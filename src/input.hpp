#pragma once
// Where the unpickler's bytes come from. A complete input (a memory buffer or a memory-mapped
// file) is read in place, and str/bytes values may point into it. A stream (pipe, socket,
// terminal) is read incrementally into a window that grows only as data actually arrives, so a
// length field that lies costs nothing; values are then copied into the document's arena.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "arena.hpp"
#include "brine/error.hpp"

namespace brine::detail {

// Thrown inside the reader and converted to a brine::Error with the opcode's position.
struct ReadFailure {
  errc code;
  std::string message;
};

[[noreturn]] void throw_read(errc code, std::string message);

// A stream of bytes that is read sequentially.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to n bytes; returns 0 only at end of stream. Throws ReadFailure(io_error).
  virtual std::size_t read(std::uint8_t* dst, std::size_t n) = 0;
};

// A file descriptor (not owned unless `owned`).
std::unique_ptr<ByteStream> make_fd_stream(int fd, bool owned);

// The input shared by all pickles read from one source.
struct InputSource {
  // Complete input.
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::shared_ptr<const void> keepalive;  // owner of `data` (mapping, buffer), if any
  bool borrowable = false;                // values may point into `data` for the document's life

  // Stream input (when `stream` is set, `data`/`size` are unused).
  std::unique_ptr<ByteStream> stream;
  std::vector<std::uint8_t> window;  // storage; bytes read but not consumed: [window_pos, window_end)
  std::size_t window_pos = 0;
  std::size_t window_end = 0;
  bool stream_eof = false;

  std::uint64_t position = 0;  // absolute offset of the next unread byte

  bool is_stream() const noexcept { return stream != nullptr; }
  // Stream: make at least n unconsumed bytes available (fewer only at end of stream).
  // `max_bytes` bounds how large the window may grow.
  void fill(std::size_t n, std::uint64_t max_bytes);
};

// The unpickler's view of the input: a pointer range plus the absolute offset of its start.
class Cursor {
 public:
  explicit Cursor(InputSource& in, std::uint64_t max_window) : in_(in), max_window_(max_window) {
    if (in.is_stream()) {
      sync_from_window();
    } else {
      base_ = in.data + in.position;
      p_ = base_;
      end_ = in.data + in.size;
      base_off_ = in.position;
    }
  }
  // Bounds `arena` to min(cap, 64 MiB + per_byte * bytes of this pickle seen so far), now and
  // whenever more of a stream arrives (Limits::max_alloc_per_input_byte; 0: cap alone).
  void bound_allocations(Arena& arena, std::uint64_t cap, std::uint32_t per_byte) noexcept {
    arena_ = &arena;
    cap_ = cap;
    per_byte_ = per_byte;
    start_off_ = base_off_ + static_cast<std::uint64_t>(p_ - base_);
    update_alloc_limit();
  }
  // Commit consumed bytes back to the source (call when the pickle ends, or fails).
  void commit() noexcept {
    if (in_.is_stream()) {
      in_.window_pos += static_cast<std::size_t>(p_ - base_);
      in_.position = base_off_ + static_cast<std::uint64_t>(p_ - base_);
      base_off_ = in_.position;
      base_ = p_;
    } else {
      in_.position = base_off_ + static_cast<std::uint64_t>(p_ - base_);
    }
  }

  std::uint64_t offset() const noexcept { return base_off_ + static_cast<std::uint64_t>(p_ - base_); }
  std::uint64_t offset_of(const std::uint8_t* q) const noexcept {
    return base_off_ + static_cast<std::uint64_t>(q - base_);
  }
  const std::uint8_t* pos() const noexcept { return p_; }
  const std::uint8_t* end() const noexcept { return end_; }
  // For the unpickler's fast loop, which reads [pos(), end()) directly: where it stopped.
  void set_pos(const std::uint8_t* p) noexcept { p_ = p; }
  std::size_t available() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  bool borrowable() const noexcept { return !in_.is_stream() && in_.borrowable; }
  bool complete() const noexcept { return !in_.is_stream(); }

  // The next opcode byte; -1 at end of input.
  int next_byte() {
    if (p_ == end_ && !more(1)) return -1;
    return *p_++;
  }
  // n bytes (pointer valid until the next take/line call); throws truncated.
  const std::uint8_t* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) [[unlikely]] need(n);
    const std::uint8_t* r = p_;
    p_ += n;
    return r;
  }
  // Checks that n bytes are available without consuming them.
  void require(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) [[unlikely]] need(n);
  }
  // A line up to '\n' (excluded); the newline is consumed. Throws truncated if none.
  std::string_view line();

 private:
  bool more(std::size_t n);
  [[noreturn]] void truncated(std::size_t n);
  void need(std::size_t n) {
    if (!more(n)) truncated(n);
  }
  void sync_from_window() noexcept {
    base_ = in_.window.data() + in_.window_pos;
    p_ = base_;
    end_ = in_.window.data() + in_.window_end;
    base_off_ = in_.position;
  }
  void update_alloc_limit() noexcept {
    if (!arena_) return;
    std::uint64_t limit = cap_;
    if (per_byte_) {
      const std::uint64_t seen = base_off_ + static_cast<std::uint64_t>(end_ - base_) - start_off_;
      std::uint64_t bound;
      if (__builtin_mul_overflow(seen, std::uint64_t{per_byte_}, &bound) ||
          __builtin_add_overflow(bound, k_alloc_allowance, &bound))
        bound = ~std::uint64_t{0};
      if (bound < limit) limit = bound;
    }
    arena_->set_limit(limit);
  }
  static constexpr std::uint64_t k_alloc_allowance = std::uint64_t{64} << 20;

  InputSource& in_;
  std::uint64_t max_window_;
  Arena* arena_ = nullptr;  // bound_allocations
  std::uint64_t cap_ = 0, start_off_ = 0;
  std::uint32_t per_byte_ = 0;
  const std::uint8_t* base_ = nullptr;
  const std::uint8_t* p_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::uint64_t base_off_ = 0;
};

}  // namespace brine::detail
