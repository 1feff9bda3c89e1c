#pragma once
// Matmul precision: "fp32" (default) or "bf16" mixed precision, where every GEMM rounds its two
// operands to bfloat16 and multiplies them with AVX-512 BF16 instructions, accumulating in fp32
// into fp32 outputs; weights, gradients and optimizer state stay fp32 (Lightning's "bf16-mixed").
#include <string>

namespace neurona {

// Accepts "fp32" (also "32", "32-true", "highest") and "bf16" (also "bf16-mixed", "medium").
// Returns true when the precision is in effect. On a CPU without AVX-512 BF16, asking for bf16
// prints one line saying so to stderr, keeps fp32 and returns false. Unknown names raise Error.
bool set_matmul_precision(const std::string& precision);
std::string matmul_precision();  // "fp32" or "bf16"
bool cpu_has_bf16();             // AVX-512 BF16 available (and compiled in)

}  // namespace neurona
