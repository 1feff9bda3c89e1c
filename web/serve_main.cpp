// neurona_serve: `neurona serve` as its own program, used by the web tests (tests/e2e).
#include <iostream>

#include "neurona/app/serve.hpp"
#include "neurona/core/error.hpp"

int main(int argc, char** argv) {
  try {
    return neurona::app::serve_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "neurona serve: " << e.what() << "\n";
    return 1;
  }
}
