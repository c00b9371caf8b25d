// Input sources: memory buffers, memory-mapped files, and incrementally read streams.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "input.hpp"
#include "source.hpp"

namespace brine::detail {

void throw_read(errc code, std::string message) { throw ReadFailure{code, std::move(message)}; }

namespace {

class FdStream final : public ByteStream {
 public:
  FdStream(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdStream() override {
    if (owned_) ::close(fd_);
  }
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, dst, n);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno == EINTR) continue;
      throw_read(errc::io_error, std::string("read failed: ") + std::strerror(errno));
    }
  }

 private:
  int fd_;
  bool owned_;
};

constexpr std::size_t k_read_instead_of_map = 64 * 1024;

struct Mapping {
  void* addr = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (addr) ::munmap(addr, size);
  }
};

}  // namespace

std::unique_ptr<ByteStream> make_fd_stream(int fd, bool owned) {
  return std::make_unique<FdStream>(fd, owned);
}

void InputSource::fill(std::size_t n, std::uint64_t max_bytes) {
  std::size_t have = window_end - window_pos;
  if (have >= n || stream_eof) return;
  if (n > max_bytes) {
    throw_read(errc::limit_exceeded, "an argument of " + std::to_string(n) +
                                         " bytes exceeds the allocation limit (" +
                                         std::to_string(max_bytes) + " bytes)");
  }
  if (window_pos > 0) {  // drop consumed bytes
    std::memmove(window.data(), window.data() + window_pos, have);
    window_end = have;
    window_pos = 0;
  }
  // The storage grows only as data arrives: when it is nearly full of bytes actually received,
  // to twice that (so a lying length prefix cannot make us allocate more than about twice the
  // real input), and each read fills what is free (a pipe gives 64 KiB at a time: growing and
  // zero-filling per read made a 70 MiB stream take minutes).
  constexpr std::size_t k_min_read = 64 * 1024;
  while (window_end < n && !stream_eof) {
    if (window.size() - window_end < k_min_read) window.resize(std::max(window_end + k_min_read, 2 * window_end));
    std::size_t got = stream->read(window.data() + window_end, window.size() - window_end);
    window_end += got;
    if (got == 0) stream_eof = true;
  }
}

bool Cursor::more(std::size_t n) {
  if (!in_.is_stream()) return static_cast<std::size_t>(end_ - p_) >= n;
  commit();
  in_.fill(n, max_window_);
  sync_from_window();
  update_alloc_limit();
  return available() >= n;
}

void Cursor::truncated(std::size_t n) {
  std::size_t have = available();
  throw_read(errc::truncated, "truncated: needs " + std::to_string(n) + " byte" +
                                  (n == 1 ? "" : "s") + ", " + std::to_string(have) +
                                  (have == 1 ? " remains" : " remain"));
}

std::string_view Cursor::line() {
  std::size_t scanned = 0;
  for (;;) {
    const void* nl = std::memchr(p_ + scanned, '\n', available() - scanned);
    if (nl) {
      const auto* q = static_cast<const std::uint8_t*>(nl);
      std::string_view r(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(q - p_));
      p_ = q + 1;
      return r;
    }
    scanned = available();
    if (!more(scanned + 1)) {
      throw_read(errc::truncated, "truncated: no newline ends the argument (" +
                                      std::to_string(scanned) + " bytes remain)");
    }
  }
}

Result<InputSource> open_input(const std::filesystem::path& path) {
  InputSource in;
  int fd;
  bool owned = true;
  if (path == "-") {
    fd = 0;
    owned = false;
  } else {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Error e;
      e.code = errc::io_error;
      e.path = path.string();
      e.message = std::string("cannot open: ") + std::strerror(errno);
      return e;
    }
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    auto size = static_cast<std::size_t>(st.st_size);
    if (size <= k_read_instead_of_map && (fd != 0 || owned)) {
      // Small files: one read() costs less than mapping and unmapping.
      auto buf = std::make_shared<std::string>(size, '\0');
      std::size_t got = 0;
      while (got < size) {
        ssize_t r = ::read(fd, buf->data() + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
      }
      if (owned) ::close(fd);
      buf->resize(got);
      in.data = reinterpret_cast<const std::uint8_t*>(buf->data());
      in.size = buf->size();
      in.keepalive = std::move(buf);
      in.borrowable = true;
      return in;
    }
    auto m = std::make_shared<Mapping>();
    if (size > 0) {
      void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (addr == MAP_FAILED) {
        int err = errno;
        if (owned) ::close(fd);
        Error e;
        e.code = errc::io_error;
        e.path = path.string();
        e.message = std::string("cannot map: ") + std::strerror(err);
        return e;
      }
      m->addr = addr;
      m->size = size;
      if (size <= (std::size_t{256} << 20)) ::madvise(addr, size, MADV_WILLNEED);
    }
    if (owned) ::close(fd);
    in.data = static_cast<const std::uint8_t*>(m->addr);
    in.size = size;
    in.keepalive = std::move(m);
    in.borrowable = true;
    if (fd == 0 && !owned) {
      // Standard input redirected from a file: start where the file position is.
      off_t pos = ::lseek(0, 0, SEEK_CUR);
      if (pos > 0 && static_cast<std::size_t>(pos) <= size) in.position = static_cast<std::uint64_t>(pos);
    }
    return in;
  }
  in.stream = make_fd_stream(fd, owned);
  return in;
}

InputSource memory_input(std::span<const std::byte> data, bool copy) {
  InputSource in;
  if (copy) {
    auto buf = std::make_shared<std::string>(reinterpret_cast<const char*>(data.data()), data.size());
    in.data = reinterpret_cast<const std::uint8_t*>(buf->data());
    in.size = buf->size();
    in.keepalive = std::move(buf);
  } else {
    in.data = reinterpret_cast<const std::uint8_t*>(data.data());
    in.size = data.size();
  }
  in.borrowable = true;
  return in;
}

InputSource owned_input(std::string&& data) {
  InputSource in;
  auto buf = std::make_shared<std::string>(std::move(data));
  in.data = reinterpret_cast<const std::uint8_t*>(buf->data());
  in.size = buf->size();
  in.keepalive = std::move(buf);
  in.borrowable = true;
  return in;
}

}  // namespace brine::detail
