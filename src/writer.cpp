// Pickle writer (in progress).
#include "brine/write.hpp"

namespace brine {

Result<std::string> dumps(const Value&, const WriteOptions&) {
  Error e;
  e.code = errc::unsupported;
  e.message = "the writer is not implemented yet";
  return e;
}

Result<void> dump(const Value& v, std::string& out, const WriteOptions& o) {
  auto r = dumps(v, o);
  if (!r) return std::move(r).error();
  out += *r;
  return {};
}

Result<void> dump_file(const std::filesystem::path&, const Value& v, const WriteOptions& o) {
  auto r = dumps(v, o);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace brine
