#pragma once
// Private: conv2d's direct forward kernel for stride-1, one-group convolutions on CPUs with
// AVX-512F (conv_direct_avx512.cpp).
#include <atomic>
#include <cstdint>

namespace neurona::nn::functional::detail {

// One stride-1 conv of a sample: x [C, H, W] → y [O, OH, OW], padding top/left (bottom/right
// follow from OH, OW), dilation dh × dw.
struct DirectConv {
  int64_t c, h, w, o, kh, kw, dh, dw, top, left, oh, ow;
  int64_t hp, wp;     // the zero-padded input plane: hp rows of wp floats
  int64_t plane, nv;  // hp·wp; 16-float vectors covering OH·wp outputs
  int64_t xpad_floats, out_floats, packed_floats;
};

// Whether the direct kernel runs (AVX-512F present and not switched off by F::use_direct_conv).
bool direct_conv_enabled();
extern std::atomic<bool> g_direct_on;  // F::use_direct_conv's switch

DirectConv direct_conv_plan(int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw, int64_t dh,
                            int64_t dw, int64_t top, int64_t bottom, int64_t left, int64_t right);
// weight [O, C, kh, kw] → blocks of 8 output channels, [block][c][tap][8], zeros past O.
void direct_conv_pack(const DirectConv& p, const float* weight, float* packed);
// y = conv(x) for one sample; xpad and out are scratch of xpad_floats and out_floats.
void direct_conv_sample(const DirectConv& p, const float* x, const float* packed, float* xpad, float* out,
                        float* y);

}  // namespace neurona::nn::functional::detail
