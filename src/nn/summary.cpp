// summary(): one forward pass with a recorder that notes each layer's output shape.
#include "neurona/nn/summary.hpp"

#include <algorithm>
#include <sstream>

#include "detail.hpp"
#include "neurona/autograd/node.hpp"
#include "neurona/nn/module.hpp"

namespace neurona::nn {

namespace detail {
SummaryRecorder*& summary_recorder() {
  thread_local SummaryRecorder* recorder = nullptr;
  return recorder;
}
}  // namespace detail

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {

struct Recorder : detail::SummaryRecorder {
  std::vector<std::pair<const Module*, Shape>> seen;
  void record(const Module* m, const Tensor& out) override { seen.emplace_back(m, out.shape()); }
};

std::string shape_text(const Shape& s) {
  std::string t = "(None";
  for (int64_t d = 1; d < s.rank(); ++d) t += ", " + std::to_string(s[d]);
  return t + ")";
}

std::string pad(const std::string& s, size_t width, bool right) {
  // Width counts characters, not bytes (names are ASCII).
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

ModelSummary summarize(Module& model, const Shape& input_shape, const std::string& title) {
  ModelSummary sum;
  std::vector<int64_t> dims{2};
  for (int64_t d : input_shape.dims()) dims.push_back(d);

  Recorder rec;
  {
    EvalGuard eval(model);
    NoGradGuard no_grad;
    detail::summary_recorder() = &rec;
    try {
      model(Tensor::zeros(Shape(dims)));
    } catch (...) {
      detail::summary_recorder() = nullptr;
      throw;
    }
    detail::summary_recorder() = nullptr;
  }

  // One row per layer: every descendant without children, and a container that holds parameters of
  // its own (those only), under its dotted path; for a flat model these are its children.
  for (const auto& [name, child] : model.named_modules()) {
    if (name.empty()) continue;
    const bool leaf = child->named_children().empty();
    int64_t params = 0, trainable = 0;
    for (const Tensor& p : child->parameters(leaf)) {
      params += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    if (!leaf && params == 0) continue;
    SummaryRow row;
    row.name = name + " (" + child->type_name() + ")";
    row.params = params;
    // Frozen parameters (requires_grad false), as Keras's summary counts non-trainable ones.
    if (row.params > 0 && trainable < row.params) {
      const std::string frozen = trainable == 0 ? std::string() : format_count(row.params - trainable);
      row.name.append(frozen.empty() ? " frozen" : " (" + frozen + " frozen)");
    }
    // The last output this child produced (a child called twice shows its final shape).
    for (const auto& [m, s] : rec.seen)
      if (m == child.get()) row.output_shape = s;
    sum.rows.push_back(row);
  }
  if (sum.rows.empty()) {
    SummaryRow row{model.type_name(), rec.seen.empty() ? Shape{} : rec.seen.back().second,
                   model.num_parameters()};
    sum.rows.push_back(row);
  }
  sum.total = model.num_parameters();
  sum.trainable = model.num_parameters(true);
  sum.non_trainable = sum.total - sum.trainable;

  const size_t w1 = 34, w2 = 26, w3 = 14;
  auto rule = [&](const char* l, const char* m, const char* r) {
    std::string s = l;
    for (size_t i = 0; i < w1 + 2; ++i) s += "─";
    s += m;
    for (size_t i = 0; i < w2 + 2; ++i) s += "─";
    s += m;
    for (size_t i = 0; i < w3 + 2; ++i) s += "─";
    return s + r + "\n";
  };
  auto line = [&](const std::string& a, const std::string& b, const std::string& c) {
    return "│ " + pad(a, w1, false) + " │ " + pad(b, w2, false) + " │ " + pad(c, w3, true) + " │\n";
  };
  auto bytes = [](int64_t n) {
    double b = static_cast<double>(n) * 4.0;
    const char* units[] = {"B", "KB", "MB", "GB"};
    int u = 0;
    while (b >= 1024.0 && u < 3) {
      b /= 1024.0;
      ++u;
    }
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(2);
    os << b << " " << units[u];
    return os.str();
  };

  std::ostringstream os;
  os << "Model: \"" << (title.empty() ? model.type_name() : title) << "\"\n";
  os << rule("┌", "┬", "┐") << line("Layer (type)", "Output Shape", "Param #") << rule("├", "┼", "┤");
  for (size_t i = 0; i < sum.rows.size(); ++i) {
    const auto& r = sum.rows[i];
    os << line(r.name, r.output_shape.rank() ? shape_text(r.output_shape) : "?", format_count(r.params));
    os << (i + 1 < sum.rows.size() ? rule("├", "┼", "┤") : rule("└", "┴", "┘"));
  }
  os << " Total params: " << format_count(sum.total) << " (" << bytes(sum.total) << ")\n";
  os << " Trainable params: " << format_count(sum.trainable) << " (" << bytes(sum.trainable) << ")\n";
  os << " Non-trainable params: " << format_count(sum.non_trainable) << " (" << bytes(sum.non_trainable)
     << ")\n";
  sum.table = os.str();
  return sum;
}

}  // namespace neurona::nn
