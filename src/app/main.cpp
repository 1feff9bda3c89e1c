// The `neurona` command.
#include <cstring>
#include <iostream>
#include <string>

#include "neurona/neurona.hpp"

namespace {

const char* kUsage =
    "usage: neurona <command> [options]\n"
    "\n"
    "commands:\n"
    "  devices      what this CPU offers: cores, AVX2/AVX-512/bf16, threads in use, GEMM library\n"
    "\n"
    "options:\n"
    "  --help       this text\n"
    "  --version    the Neurona version\n";

int run(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "--version") {
    std::cout << "neurona " << NEURONA_VERSION << "\n";
    return 0;
  }
  if (command == "devices") {
    std::cout << neurona::device_report();
    return 0;
  }
  neurona::fail("unknown command '", command, "' (try 'neurona --help')");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const neurona::Error& e) {
    std::cerr << "neurona: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "neurona: internal error: " << e.what() << "\n";
    return 3;
  }
}
