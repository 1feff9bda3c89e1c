#pragma once
// What this CPU offers to Neurona (the course's "check your devices" step, for a CPU machine).
#include <string>

namespace neurona {

struct DeviceInfo {
  std::string cpu_model;
  int cores = 0;
  int threads_in_use = 0;
  bool avx2 = false, fma = false, avx512f = false, avx512_bf16 = false;
  std::string gemm_library;
};

DeviceInfo device_info();
std::string device_report();  // human-readable, one fact per line

}  // namespace neurona
