#include "neurona/app/devices.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include "neurona/core/kernels.hpp"
#include "neurona/core/threads.hpp"

namespace neurona {

DeviceInfo device_info() {
  DeviceInfo d;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      d.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  d.cores = static_cast<int>(std::thread::hardware_concurrency());
  d.threads_in_use = num_threads();
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  d.avx2 = __builtin_cpu_supports("avx2");
  d.fma = __builtin_cpu_supports("fma");
  d.avx512f = __builtin_cpu_supports("avx512f");
  d.avx512_bf16 = __builtin_cpu_supports("avx512bf16");
#endif
  d.gemm_library = kernels::gemm_library();
  return d;
}

std::string device_report() {
  const DeviceInfo d = device_info();
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  std::ostringstream os;
  os << "device:        cpu (no GPU is used by Neurona)\n"
     << "cpu:           " << (d.cpu_model.empty() ? "unknown" : d.cpu_model) << "\n"
     << "cores:         " << d.cores << "\n"
     << "threads:       " << d.threads_in_use << " (NEURONA_NUM_THREADS or --threads)\n"
     << "avx2/fma:      " << yes(d.avx2) << "/" << yes(d.fma) << "\n"
     << "avx512f:       " << yes(d.avx512f) << "\n"
     << "avx512_bf16:   " << yes(d.avx512_bf16) << "\n"
     << "gemm library:  " << d.gemm_library << "\n";
  return os.str();
}

}  // namespace neurona
