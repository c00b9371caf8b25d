#pragma once
/// \file
/// brine: read (and write) Python pickles and the files built on them, without Python.
///
/// \code
///   #include <brine/brine.hpp>
///
///   brine::Document doc = brine::load_file("data.pkl").value();   // mmap + one pass, no Python
///   std::cout << brine::repr(doc.root()) << "\n";                 // same text as Python's repr
/// \endcode
#include "brine/builder.hpp"
#include "brine/dis.hpp"
#include "brine/error.hpp"
#include "brine/json.hpp"
#include "brine/mapping.hpp"
#include "brine/opcodes.hpp"
#include "brine/read.hpp"
#include "brine/repr.hpp"
#include "brine/value.hpp"
#include "brine/version.hpp"
#include "brine/write.hpp"
