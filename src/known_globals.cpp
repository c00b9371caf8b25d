#include "known_globals.hpp"

#include <algorithm>
#include <array>

namespace brine::detail {

namespace {

struct ModuleMap {
  std::string_view from, to;
};
struct NameMap {
  std::string_view from_module, from_name, to_module, to_name;
};

#include "compat_tables.inc"

struct Entry {
  std::string_view module, name;
  KnownId id;
  KnownKind kind;
};

constexpr KnownKind T = KnownKind::type;
constexpr KnownKind F = KnownKind::function;
constexpr KnownKind C = KnownKind::constant;

// Names of CPython 3.11's builtins module, classified; plus the library globals brine
// recognises. Sorted by (module, name) at first use.
constexpr Entry k_entries[] = {
    {"builtins", "int", KnownId::b_int, T},
    {"builtins", "float", KnownId::b_float, T},
    {"builtins", "complex", KnownId::b_complex, T},
    {"builtins", "str", KnownId::b_str, T},
    {"builtins", "bytes", KnownId::b_bytes, T},
    {"builtins", "bytearray", KnownId::b_bytearray, T},
    {"builtins", "bool", KnownId::b_bool, T},
    {"builtins", "tuple", KnownId::b_tuple, T},
    {"builtins", "list", KnownId::b_list, T},
    {"builtins", "dict", KnownId::b_dict, T},
    {"builtins", "set", KnownId::b_set, T},
    {"builtins", "frozenset", KnownId::b_frozenset, T},
    {"builtins", "object", KnownId::b_object, T},
    {"builtins", "range", KnownId::b_range, T},
    {"builtins", "type", KnownId::b_type, T},
    {"builtins", "slice", KnownId::b_slice, T},
    {"builtins", "memoryview", KnownId::b_other_type, T},
    {"builtins", "property", KnownId::b_other_type, T},
    {"builtins", "staticmethod", KnownId::b_other_type, T},
    {"builtins", "classmethod", KnownId::b_other_type, T},
    {"builtins", "super", KnownId::b_other_type, T},
    {"builtins", "enumerate", KnownId::b_other_type, T},
    {"builtins", "zip", KnownId::b_other_type, T},
    {"builtins", "map", KnownId::b_other_type, T},
    {"builtins", "filter", KnownId::b_other_type, T},
    {"builtins", "reversed", KnownId::b_other_type, T},
    {"builtins", "None", KnownId::b_none, C},
    {"builtins", "True", KnownId::b_true, C},
    {"builtins", "False", KnownId::b_false, C},
    {"builtins", "Ellipsis", KnownId::b_ellipsis, C},
    {"builtins", "NotImplemented", KnownId::b_notimplemented, C},
    {"builtins", "abs", KnownId::b_function, F},
    {"builtins", "aiter", KnownId::b_function, F},
    {"builtins", "all", KnownId::b_function, F},
    {"builtins", "anext", KnownId::b_function, F},
    {"builtins", "any", KnownId::b_function, F},
    {"builtins", "ascii", KnownId::b_function, F},
    {"builtins", "bin", KnownId::b_function, F},
    {"builtins", "breakpoint", KnownId::b_function, F},
    {"builtins", "callable", KnownId::b_function, F},
    {"builtins", "chr", KnownId::b_function, F},
    {"builtins", "compile", KnownId::b_function, F},
    {"builtins", "delattr", KnownId::b_function, F},
    {"builtins", "dir", KnownId::b_function, F},
    {"builtins", "divmod", KnownId::b_function, F},
    {"builtins", "eval", KnownId::b_function, F},
    {"builtins", "exec", KnownId::b_function, F},
    {"builtins", "format", KnownId::b_function, F},
    {"builtins", "getattr", KnownId::b_function, F},
    {"builtins", "globals", KnownId::b_function, F},
    {"builtins", "hasattr", KnownId::b_function, F},
    {"builtins", "hash", KnownId::b_function, F},
    {"builtins", "hex", KnownId::b_function, F},
    {"builtins", "id", KnownId::b_function, F},
    {"builtins", "input", KnownId::b_function, F},
    {"builtins", "isinstance", KnownId::b_function, F},
    {"builtins", "issubclass", KnownId::b_function, F},
    {"builtins", "iter", KnownId::b_function, F},
    {"builtins", "len", KnownId::b_function, F},
    {"builtins", "locals", KnownId::b_function, F},
    {"builtins", "max", KnownId::b_function, F},
    {"builtins", "min", KnownId::b_function, F},
    {"builtins", "next", KnownId::b_function, F},
    {"builtins", "oct", KnownId::b_function, F},
    {"builtins", "open", KnownId::b_function, F},
    {"builtins", "ord", KnownId::b_function, F},
    {"builtins", "pow", KnownId::b_function, F},
    {"builtins", "print", KnownId::b_function, F},
    {"builtins", "repr", KnownId::b_function, F},
    {"builtins", "round", KnownId::b_function, F},
    {"builtins", "setattr", KnownId::b_function, F},
    {"builtins", "sorted", KnownId::b_function, F},
    {"builtins", "sum", KnownId::b_function, F},
    {"builtins", "vars", KnownId::b_function, F},
    {"builtins", "__import__", KnownId::b_function, F},
    {"builtins", "__build_class__", KnownId::b_function, F},
    // builtin exceptions (3.11)
    {"builtins", "BaseException", KnownId::b_exception, T},
    {"builtins", "BaseExceptionGroup", KnownId::b_exception, T},
    {"builtins", "GeneratorExit", KnownId::b_exception, T},
    {"builtins", "KeyboardInterrupt", KnownId::b_exception, T},
    {"builtins", "SystemExit", KnownId::b_exception, T},
    {"builtins", "Exception", KnownId::b_exception, T},
    {"builtins", "ArithmeticError", KnownId::b_exception, T},
    {"builtins", "FloatingPointError", KnownId::b_exception, T},
    {"builtins", "OverflowError", KnownId::b_exception, T},
    {"builtins", "ZeroDivisionError", KnownId::b_exception, T},
    {"builtins", "AssertionError", KnownId::b_exception, T},
    {"builtins", "AttributeError", KnownId::b_exception, T},
    {"builtins", "BufferError", KnownId::b_exception, T},
    {"builtins", "EOFError", KnownId::b_exception, T},
    {"builtins", "ExceptionGroup", KnownId::b_exception, T},
    {"builtins", "ImportError", KnownId::b_exception, T},
    {"builtins", "ModuleNotFoundError", KnownId::b_exception, T},
    {"builtins", "LookupError", KnownId::b_exception, T},
    {"builtins", "IndexError", KnownId::b_exception, T},
    {"builtins", "KeyError", KnownId::b_exception, T},
    {"builtins", "MemoryError", KnownId::b_exception, T},
    {"builtins", "NameError", KnownId::b_exception, T},
    {"builtins", "UnboundLocalError", KnownId::b_exception, T},
    {"builtins", "OSError", KnownId::b_exception, T},
    {"builtins", "EnvironmentError", KnownId::b_exception, T},
    {"builtins", "IOError", KnownId::b_exception, T},
    {"builtins", "BlockingIOError", KnownId::b_exception, T},
    {"builtins", "ChildProcessError", KnownId::b_exception, T},
    {"builtins", "ConnectionError", KnownId::b_exception, T},
    {"builtins", "BrokenPipeError", KnownId::b_exception, T},
    {"builtins", "ConnectionAbortedError", KnownId::b_exception, T},
    {"builtins", "ConnectionRefusedError", KnownId::b_exception, T},
    {"builtins", "ConnectionResetError", KnownId::b_exception, T},
    {"builtins", "FileExistsError", KnownId::b_exception, T},
    {"builtins", "FileNotFoundError", KnownId::b_exception, T},
    {"builtins", "InterruptedError", KnownId::b_exception, T},
    {"builtins", "IsADirectoryError", KnownId::b_exception, T},
    {"builtins", "NotADirectoryError", KnownId::b_exception, T},
    {"builtins", "PermissionError", KnownId::b_exception, T},
    {"builtins", "ProcessLookupError", KnownId::b_exception, T},
    {"builtins", "TimeoutError", KnownId::b_exception, T},
    {"builtins", "ReferenceError", KnownId::b_exception, T},
    {"builtins", "RuntimeError", KnownId::b_exception, T},
    {"builtins", "NotImplementedError", KnownId::b_exception, T},
    {"builtins", "RecursionError", KnownId::b_exception, T},
    {"builtins", "StopAsyncIteration", KnownId::b_exception, T},
    {"builtins", "StopIteration", KnownId::b_exception, T},
    {"builtins", "SyntaxError", KnownId::b_exception, T},
    {"builtins", "IndentationError", KnownId::b_exception, T},
    {"builtins", "TabError", KnownId::b_exception, T},
    {"builtins", "SystemError", KnownId::b_exception, T},
    {"builtins", "TypeError", KnownId::b_exception, T},
    {"builtins", "ValueError", KnownId::b_exception, T},
    {"builtins", "UnicodeError", KnownId::b_exception, T},
    {"builtins", "UnicodeDecodeError", KnownId::b_exception, T},
    {"builtins", "UnicodeEncodeError", KnownId::b_exception, T},
    {"builtins", "UnicodeTranslateError", KnownId::b_exception, T},
    {"builtins", "Warning", KnownId::b_exception, T},
    {"builtins", "BytesWarning", KnownId::b_exception, T},
    {"builtins", "DeprecationWarning", KnownId::b_exception, T},
    {"builtins", "EncodingWarning", KnownId::b_exception, T},
    {"builtins", "FutureWarning", KnownId::b_exception, T},
    {"builtins", "ImportWarning", KnownId::b_exception, T},
    {"builtins", "PendingDeprecationWarning", KnownId::b_exception, T},
    {"builtins", "ResourceWarning", KnownId::b_exception, T},
    {"builtins", "RuntimeWarning", KnownId::b_exception, T},
    {"builtins", "SyntaxWarning", KnownId::b_exception, T},
    {"builtins", "UnicodeWarning", KnownId::b_exception, T},
    {"builtins", "UserWarning", KnownId::b_exception, T},
    // pickling helpers
    {"_codecs", "encode", KnownId::codecs_encode, F},
    {"copyreg", "_reconstructor", KnownId::copyreg_reconstructor, F},
    {"copyreg", "__newobj__", KnownId::copyreg_newobj, F},
    {"copyreg", "__newobj_ex__", KnownId::copyreg_newobj_ex, F},
    // library types
    {"collections", "OrderedDict", KnownId::c_ordered_dict, T},
    {"collections", "defaultdict", KnownId::c_defaultdict, T},
    {"collections", "Counter", KnownId::c_counter, T},
    {"collections", "deque", KnownId::c_deque, T},
    {"datetime", "date", KnownId::dt_date, T},
    {"datetime", "time", KnownId::dt_time, T},
    {"datetime", "datetime", KnownId::dt_datetime, T},
    {"datetime", "timedelta", KnownId::dt_timedelta, T},
    {"datetime", "timezone", KnownId::dt_timezone, T},
    {"decimal", "Decimal", KnownId::decimal_decimal, T},
    {"uuid", "UUID", KnownId::uuid_uuid, T},
};

struct Sorted {
  std::array<Entry, std::size(k_entries)> e;
  Sorted() {
    std::copy(std::begin(k_entries), std::end(k_entries), e.begin());
    std::sort(e.begin(), e.end(), [](const Entry& a, const Entry& b) {
      return a.module != b.module ? a.module < b.module : a.name < b.name;
    });
  }
};

template <class Table, class Key>
const auto* find_sorted(const Table& t, const Key& key) {
  auto it = std::lower_bound(std::begin(t), std::end(t), key);
  return (it != std::end(t) && !(key < *it)) ? &*it : nullptr;
}

bool operator<(const ModuleMap& a, std::string_view b) { return a.from < b; }
bool operator<(std::string_view a, const ModuleMap& b) { return a < b.from; }
using Pair = std::pair<std::string_view, std::string_view>;
bool operator<(const NameMap& a, const Pair& b) {
  return Pair(a.from_module, a.from_name) < b;
}
bool operator<(const Pair& a, const NameMap& b) {
  return a < Pair(b.from_module, b.from_name);
}

bool apply_maps(const NameMap* names, std::size_t n_names, const ModuleMap* mods, std::size_t n_mods,
                std::string_view module, std::string_view name, std::string_view& om,
                std::string_view& on) noexcept {
  Pair key(module, name);
  auto it = std::lower_bound(names, names + n_names, key);
  if (it != names + n_names && !(key < *it)) {
    om = it->to_module;
    on = it->to_name;
    return true;
  }
  auto mt = std::lower_bound(mods, mods + n_mods, module);
  if (mt != mods + n_mods && !(module < *mt)) {
    om = mt->to;
    on = name;
    return true;
  }
  return false;
}

}  // namespace

KnownGlobal lookup_known_global(std::string_view module, std::string_view name) noexcept {
  static const Sorted sorted;
  auto it = std::lower_bound(sorted.e.begin(), sorted.e.end(), std::pair(module, name),
                             [](const Entry& a, const Pair& k) { return Pair(a.module, a.name) < k; });
  if (it != sorted.e.end() && it->module == module && it->name == name) return {it->id, it->kind};
  return {};
}

bool map_python2_global(std::string_view module, std::string_view name, std::string_view& om,
                        std::string_view& on) noexcept {
  return apply_maps(k_name_mapping, std::size(k_name_mapping), k_import_mapping,
                    std::size(k_import_mapping), module, name, om, on);
}

bool map_python3_global(std::string_view module, std::string_view name, std::string_view& om,
                        std::string_view& on) noexcept {
  return apply_maps(k_reverse_name_mapping, std::size(k_reverse_name_mapping),
                    k_reverse_import_mapping, std::size(k_reverse_import_mapping), module, name, om,
                    on);
}

}  // namespace brine::detail
