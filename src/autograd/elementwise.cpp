// Elementwise ops (broadcasting): each forward and its backward side by side.
#include <cmath>
#include <limits>

#include "core/map.hpp"
#include "neurona/autograd/node.hpp"

namespace neurona {

using autograd::Grads;
using autograd::record;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, "add", [](float x, float y) { return x + y; });
  return record(out, "add", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = sum_to(g, sa);
    if (gr.needs(1)) gr[1] = sum_to(g, sb);
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, "sub", [](float x, float y) { return x - y; });
  return record(out, "sub", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = sum_to(g, sa);
    if (gr.needs(1)) gr[1] = sum_to(neg(g), sb);
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, "mul", [](float x, float y) { return x * y; });
  return record(out, "mul", {a, b}, [a, b](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = sum_to(mul(g, b), a.shape());
    if (gr.needs(1)) gr[1] = sum_to(mul(g, a), b.shape());
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, "div", [](float x, float y) { return x / y; });
  return record(out, "div", {a, b}, [a, b](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = sum_to(div(g, b), a.shape());
    if (gr.needs(1)) {
      // d(a/b)/db = -a / b^2
      Tensor q = map_binary(a, b, "div", [](float x, float y) { return -x / (y * y); });
      gr[1] = sum_to(mul(g, q), b.shape());
    }
  });
}

Tensor add(const Tensor& a, float b) {
  Tensor out = map_unary(a, [b](float x) { return x + b; });
  return record(out, "add_scalar", {a}, [](const Tensor& g, Grads& gr) { gr[0] = g; });
}

Tensor mul(const Tensor& a, float b) {
  Tensor out = map_unary(a, [b](float x) { return x * b; });
  return record(out, "mul_scalar", {a}, [b](const Tensor& g, Grads& gr) { gr[0] = mul(g, b); });
}

Tensor neg(const Tensor& a) {
  Tensor out = map_unary(a, [](float x) { return -x; });
  return record(out, "neg", {a}, [](const Tensor& g, Grads& gr) { gr[0] = neg(g); });
}

Tensor exp(const Tensor& a) {
  Tensor out = map_unary(a, [](float x) { return std::exp(x); });
  return record(out, "exp", {a}, [y = out.detach()](const Tensor& g, Grads& gr) { gr[0] = mul(g, y); });
}

Tensor log(const Tensor& a) {
  Tensor out = map_unary(a, [](float x) { return std::log(x); });
  return record(out, "log", {a}, [a](const Tensor& g, Grads& gr) { gr[0] = div(g, a); });
}

Tensor sqrt(const Tensor& a) {
  Tensor out = map_unary(a, [](float x) { return std::sqrt(x); });
  return record(out, "sqrt", {a}, [y = out.detach()](const Tensor& g, Grads& gr) {
    gr[0] = map_binary(g, y, "sqrt_backward", [](float gi, float yi) { return gi * 0.5f / yi; });
  });
}

Tensor pow(const Tensor& a, float p) {
  Tensor out = map_unary(a, [p](float x) { return std::pow(x, p); });
  return record(out, "pow", {a}, [a, p](const Tensor& g, Grads& gr) {
    gr[0] =
        map_binary(g, a, "pow_backward", [p](float gi, float x) { return gi * p * std::pow(x, p - 1.f); });
  });
}

Tensor abs(const Tensor& a) {
  Tensor out = map_unary(a, [](float x) { return std::fabs(x); });
  return record(out, "abs", {a}, [a](const Tensor& g, Grads& gr) {
    // sign(0) = 0, as in PyTorch
    gr[0] = map_binary(g, a, "abs_backward",
                       [](float gi, float x) { return x > 0.f ? gi : (x < 0.f ? -gi : 0.f); });
  });
}

Tensor clamp(const Tensor& a, float low, float high) {
  check(!(low > high), "clamp: low ", low, " is greater than high ", high);
  Tensor out = map_unary(a, [low, high](float x) { return std::min(std::max(x, low), high); });
  return record(out, "clamp", {a}, [a, low, high](const Tensor& g, Grads& gr) {
    // The gradient passes where the input lies inside [low, high], bounds included.
    gr[0] = map_binary(g, a, "clamp_backward",
                       [low, high](float gi, float x) { return x >= low && x <= high ? gi : 0.f; });
  });
}

namespace {

// Gradient of minimum/maximum: where both inputs tie it is split in half, as in PyTorch.
Tensor pick_grad(const Tensor& g, const Tensor& self, const Tensor& other, bool want_max) {
  Tensor w = map_binary(self, other, "minmax_backward", [want_max](float s, float o) {
    if (s == o) return 0.5f;
    return (want_max ? s > o : s < o) ? 1.f : 0.f;
  });
  return sum_to(mul(g, w), self.shape());
}

}  // namespace

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, "minimum", [](float x, float y) { return std::isnan(x) || x < y ? x : y; });
  return record(out, "minimum", {a, b}, [a, b](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = pick_grad(g, a, b, false);
    if (gr.needs(1)) gr[1] = pick_grad(g, b, a, false);
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary(a, b, "maximum", [](float x, float y) { return std::isnan(x) || x > y ? x : y; });
  return record(out, "maximum", {a, b}, [a, b](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = pick_grad(g, a, b, true);
    if (gr.needs(1)) gr[1] = pick_grad(g, b, a, true);
  });
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return map_binary(a, b, "eq", [](float x, float y) { return x == y ? 1.f : 0.f; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return map_binary(a, b, "ne", [](float x, float y) { return x != y ? 1.f : 0.f; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return map_binary(a, b, "lt", [](float x, float y) { return x < y ? 1.f : 0.f; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return map_binary(a, b, "le", [](float x, float y) { return x <= y ? 1.f : 0.f; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return map_binary(a, b, "gt", [](float x, float y) { return x > y ? 1.f : 0.f; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return map_binary(a, b, "ge", [](float x, float y) { return x >= y ? 1.f : 0.f; });
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  const Shape shape =
      broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), "where"), b.shape(), "where");
  // Select with masks broadcast to the full shape: out = a where mask, else b.
  Tensor m =
      map_binary(mask, Tensor::zeros(shape), "where", [](float c, float) { return c != 0.f ? 1.f : 0.f; });
  Tensor out = Tensor::empty(shape);
  {
    Tensor av = map_binary(m, a, "where", [](float c, float x) { return c != 0.f ? x : 0.f; });
    Tensor bv = map_binary(m, b, "where", [](float c, float y) { return c != 0.f ? 0.f : y; });
    map_binary_into(av, bv, out, [](float x, float y) { return x + y; });
  }
  return record(out, "where", {a, b}, [m, sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& gr) {
    if (gr.needs(0)) gr[0] = sum_to(mul(g, m), sa);
    if (gr.needs(1))
      gr[1] = sum_to(
          map_binary(g, m, "where_backward", [](float gi, float c) { return c != 0.f ? 0.f : gi; }), sb);
  });
}

}  // namespace neurona
