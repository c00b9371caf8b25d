#pragma once
// Globals brine knows something about: builtins (which are types, functions or constants), the
// library types it recognises, and the Python 2 -> 3 renames of fix_imports.
#include <cstdint>
#include <string_view>
#include <utility>

namespace brine::detail {

enum class KnownId : std::uint16_t {
  unknown = 0,
  // builtins types with folding rules
  b_int, b_float, b_complex, b_str, b_bytes, b_bytearray, b_bool, b_tuple, b_list, b_dict,
  b_set, b_frozenset, b_object, b_range, b_type, b_slice,
  b_other_type,   // any other builtins type (memoryview, property, ...)
  b_function,     // a builtins function (len, getattr, eval, ...)
  b_exception,    // a builtin exception class
  b_none, b_true, b_false, b_ellipsis, b_notimplemented,
  // helpers that picklers use
  codecs_encode,
  copyreg_reconstructor, copyreg_newobj, copyreg_newobj_ex,
  // recognised library types
  c_ordered_dict, c_defaultdict, c_counter, c_deque,
  dt_date, dt_time, dt_datetime, dt_timedelta, dt_timezone,
  decimal_decimal, uuid_uuid,
};

enum class KnownKind : std::uint8_t { unknown, type, function, constant };

struct KnownGlobal {
  KnownId id = KnownId::unknown;
  KnownKind kind = KnownKind::unknown;
};

KnownGlobal lookup_known_global(std::string_view module, std::string_view name) noexcept;

// fix_imports, unpickling side: (module, name) as written by Python 2 -> Python 3 names
// (NAME_MAPPING first, else IMPORT_MAPPING on the module). Returns false if unchanged.
bool map_python2_global(std::string_view module, std::string_view name,
                        std::string_view& out_module, std::string_view& out_name) noexcept;
// fix_imports, pickling side (protocols < 3): Python 3 names -> what Python 2 expects.
bool map_python3_global(std::string_view module, std::string_view name,
                        std::string_view& out_module, std::string_view& out_name) noexcept;

}  // namespace brine::detail
