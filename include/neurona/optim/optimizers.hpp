#pragma once
// The optimizers, with PyTorch's update rules, defaults and argument names. Each takes either a
// list of parameters and one options struct, or parameter groups with their own options:
//
//   optim::Adam adam(params, {.lr = 1e-3, .amsgrad = true});
//   optim::SGD sgd({{body, {.lr = 1e-4, .momentum = 0.9}}, {head, {.lr = 1e-2, .momentum = 0.9}}});
#include <array>
#include <vector>

#include "neurona/optim/optimizer.hpp"

namespace neurona::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("momentum", momentum), v("dampening", dampening), v("weight_decay", weight_decay);
    v("nesterov", nesterov), v("maximize", maximize);
  }
};

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("lr_decay", lr_decay), v("weight_decay", weight_decay);
    v("initial_accumulator_value", initial_accumulator_value), v("eps", eps), v("maximize", maximize);
  }
};

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("alpha", alpha), v("eps", eps), v("weight_decay", weight_decay);
    v("momentum", momentum), v("centered", centered), v("maximize", maximize);
  }
};

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("rho", rho), v("eps", eps), v("weight_decay", weight_decay), v("maximize", maximize);
  }
};

// Adam and AdamW share one rule; AdamW decays the weights directly (decoupled) and defaults to
// weight_decay 0.01.
template <bool Decoupled>
struct AdamFamilyOptions {
  double lr = 1e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = Decoupled ? 1e-2 : 0.0;
  bool amsgrad = false;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("beta1", betas[0]), v("beta2", betas[1]), v("eps", eps);
    v("weight_decay", weight_decay), v("amsgrad", amsgrad), v("maximize", maximize);
  }
};
using AdamOptions = AdamFamilyOptions<false>;
using AdamWOptions = AdamFamilyOptions<true>;

struct NAdamOptions {
  double lr = 2e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("beta1", betas[0]), v("beta2", betas[1]), v("eps", eps);
    v("weight_decay", weight_decay), v("momentum_decay", momentum_decay), v("maximize", maximize);
  }
};

struct RAdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;
  template <class V>
  void visit(V& v) {
    v("lr", lr), v("beta1", betas[0]), v("beta2", betas[1]), v("eps", eps);
    v("weight_decay", weight_decay), v("maximize", maximize);
  }
};

// Declares an optimizer class over its options; the update rule lives in src/optim/optimizers.cpp.
#define NEURONA_OPTIMIZER(Class, OptionsT)                                                  \
  class Class : public OptimizerWith<OptionsT> {                                            \
   public:                                                                                  \
    using Options = OptionsT;                                                               \
    explicit Class(std::vector<Tensor> params, Options options = {})                        \
        : Class(std::vector<Group>{Group{std::move(params), options}}) {}                   \
    explicit Class(std::vector<Group> groups) { init_groups(std::move(groups)); }           \
    const char* type_name() const override;                                                 \
                                                                                            \
   protected:                                                                               \
    void validate(size_t group) const override;                                             \
    std::vector<std::string> buffer_names(size_t group) const override;                     \
    std::vector<std::string> scalar_names(size_t group) const override;                     \
    void init_state(size_t group, ParamState& s, const Tensor& param) const override;       \
    void update(size_t group, float* w, const float* g, int64_t n, ParamState& s) override; \
  };

NEURONA_OPTIMIZER(SGD, SGDOptions)            // stochastic gradient descent, momentum, Nesterov
NEURONA_OPTIMIZER(Adagrad, AdagradOptions)    // per-element lr from the sum of squared gradients
NEURONA_OPTIMIZER(RMSprop, RMSpropOptions)    // lr scaled by a running RMS of the gradients
NEURONA_OPTIMIZER(Adadelta, AdadeltaOptions)  // unit-corrected RMSprop
NEURONA_OPTIMIZER(Adam, AdamOptions)          // adaptive moments, coupled L2 weight decay
NEURONA_OPTIMIZER(AdamW, AdamWOptions)        // Adam with decoupled weight decay
NEURONA_OPTIMIZER(NAdam, NAdamOptions)        // Adam with Nesterov momentum (PyTorch 2.x rule)
NEURONA_OPTIMIZER(RAdam, RAdamOptions)        // Adam with a rectified adaptive term
#undef NEURONA_OPTIMIZER

}  // namespace neurona::optim
