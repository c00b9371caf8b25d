// Consumer of an installed brine: loads the pickle file given on the command line and prints its
// repr (as Python's repr() would).
#include <brine/brine.hpp>
#include <brine/version.hpp>

#include <iostream>
#include <string_view>

static_assert(BRINE_VERSION_MAJOR >= 0 && sizeof(BRINE_VERSION_STRING) > 1, "generated version.hpp");

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::cout << "brine " << BRINE_VERSION_STRING << "\n";
    return 0;
  }
  if (argc != 2) {
    std::cerr << "usage: consumer FILE.pkl\n";
    return 2;
  }
  brine::Result<brine::Document> doc = brine::load_file(argv[1]);
  if (!doc) {
    std::cerr << doc.error().to_string() << "\n";
    return 1;
  }
  std::cout << brine::repr(doc->root()) << "\n";
  return 0;
}
