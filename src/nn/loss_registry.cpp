// The rows of nn::losses(): every loss a user can name, with its options and PyTorch's defaults.
#include <cstdio>

#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/nn/registry.hpp"

namespace neurona::nn {

namespace {

using T = OptionType;
using Factory = std::function<std::shared_ptr<Loss>(const Options&)>;

LossEntry row(std::string name, std::vector<std::string> aliases, std::vector<OptionSpec> options,
              std::string task, bool logits, std::string summary, Factory f) {
  LossEntry e = make_entry<LossEntry>(
      {std::move(name), std::move(aliases), "", std::move(options), std::move(summary)}, std::move(f));
  e.task = std::move(task);
  e.logits = logits;
  return e;
}

// A List option as a 1-d tensor, or an undefined tensor when it is not written (PyTorch's None).
Tensor list_option(const Options& o, const std::string& key) {
  if (!o.has(key)) return {};
  const std::vector<double> v = o.numbers(key);
  check(!v.empty(), key, ": expected at least one number");
  return Tensor::from(std::vector<float>(v.begin(), v.end()), Shape{static_cast<int64_t>(v.size())});
}

// A default as users write it, read from the loss class's own (PyTorch's) so it lives in one place.
std::string number(double v) { return format_default(v); }

template <class L>
Factory plain() {
  return [](const Options&) -> std::shared_ptr<Loss> { return std::make_shared<L>(); };
}

// Keras's names are its functions' (mean_squared_error) and its classes' (MeanSquaredError, which
// reads as meansquarederror); PyTorch's are its classes' (MSELoss).
std::vector<LossEntry> rows() {
  return {
      row("mse", {"mean_squared_error", "mseloss", "meansquarederror"}, {}, "regression", false,
          "PyTorch's MSELoss: the mean of (x − y)²", plain<MSELoss>()),
      row("mae", {"l1", "mean_absolute_error", "l1loss", "meanabsoluteerror"}, {}, "regression", false,
          "PyTorch's L1Loss: the mean of |x − y|", plain<L1Loss>()),
      row("huber", {"huberloss"}, {{"delta", T::Number, number(HuberLoss().delta)}}, "regression", false,
          "PyTorch's HuberLoss (Keras's Huber): ½d² for |d| < delta, delta·(|d| − ½delta) beyond",
          [](const Options& o) -> std::shared_ptr<Loss> {
            return std::make_shared<HuberLoss>(static_cast<float>(o.number("delta")));
          }),
      row("smooth_l1", {"smoothl1loss"}, {{"beta", T::Number, number(SmoothL1Loss().beta)}}, "regression",
          false, "PyTorch's SmoothL1Loss: ½d²/beta for |d| < beta, |d| − ½beta beyond",
          [](const Options& o) -> std::shared_ptr<Loss> {
            return std::make_shared<SmoothL1Loss>(static_cast<float>(o.number("beta")));
          }),
      row("bce", {"binary_crossentropy", "bceloss", "binarycrossentropy"}, {}, "binary", false,
          "PyTorch's BCELoss: binary cross-entropy on probabilities (after a sigmoid)", plain<BCELoss>()),
      row("bce_with_logits", {"bcewithlogitsloss"}, {{"pos_weight", T::List}}, "binary", true,
          "PyTorch's BCEWithLogitsLoss: sigmoid and binary cross-entropy in one, on logits",
          [](const Options& o) -> std::shared_ptr<Loss> {
            return std::make_shared<BCEWithLogitsLoss>(Reduction::Mean, Tensor(),
                                                       list_option(o, "pos_weight"));
          }),
      row("cross_entropy",
          {"crossentropyloss", "sparse_categorical_crossentropy", "categorical_crossentropy",
           "sparsecategoricalcrossentropy", "categoricalcrossentropy"},
          {{"label_smoothing", T::Number, number(F::CrossEntropyOptions{}.label_smoothing)},
           {"weight", T::List}},
          "multiclass", true, "PyTorch's CrossEntropyLoss: log-softmax and NLL on logits, class-id targets",
          [](const Options& o) -> std::shared_ptr<Loss> {
            F::CrossEntropyOptions ce;
            ce.label_smoothing = static_cast<float>(o.number("label_smoothing"));
            ce.weight = list_option(o, "weight");
            return std::make_shared<CrossEntropyLoss>(ce);
          }),
      // Log-probabilities (after log_softmax): their ranks and arg-max are the probabilities'.
      row("nll", {"nllloss"}, {}, "multiclass", false, "PyTorch's NLLLoss: −x[y] on log-probabilities",
          plain<NLLLoss>()),
  };
}

}  // namespace

const Registry<LossEntry>& losses() {
  static const Registry<LossEntry> r("loss", rows());
  return r;
}

}  // namespace neurona::nn
