#pragma once
// Feature scalers (fitted on the training split, saved with the model), label one-hot and image
// normalisation (seeded image augmentation: data/augment.hpp).
#include <map>
#include <memory>
#include <string>

#include "neurona/core/tensor.hpp"

namespace neurona::data {

// A per-column affine map fitted on features [N, F]: transform(x) = (x - center) * scale + base.
class Scaler {
 public:
  virtual ~Scaler() = default;
  virtual std::string type() const = 0;  // "StandardScaler" or "MinMaxScaler"
  virtual void fit(const Tensor& x) = 0;
  Tensor transform(const Tensor& x) const;
  Tensor inverse_transform(const Tensor& x) const;
  Tensor fit_transform(const Tensor& x);
  bool fitted() const { return scale_.defined(); }
  int64_t num_features() const { return fitted() ? scale_.numel() : 0; }
  // Named tensors that, with type(), rebuild the scaler (see load_scaler).
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;

 protected:
  void check_input(const Tensor& x, const char* op) const;
  Tensor center_, scale_;  // [F]
  float base_ = 0.f;
};

// (x - mean) / std per column, std with divisor N like scikit-learn's; a constant column keeps
// scale 1. State: "mean", "scale" (the std).
class StandardScaler : public Scaler {
 public:
  std::string type() const override { return "StandardScaler"; }
  void fit(const Tensor& x) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  const Tensor& mean() const { return mean_; }
  const Tensor& std() const { return std_; }

 private:
  void set(Tensor mean, Tensor std);
  Tensor mean_, std_;
};

// Maps each column's [min, max] seen in fit onto [low, high] (default [0, 1]); a constant column
// maps to low. State: "data_min", "data_max", "feature_range".
class MinMaxScaler : public Scaler {
 public:
  explicit MinMaxScaler(float low = 0.f, float high = 1.f);
  std::string type() const override { return "MinMaxScaler"; }
  void fit(const Tensor& x) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  const Tensor& data_min() const { return min_; }
  const Tensor& data_max() const { return max_; }

 private:
  void set(Tensor min, Tensor max);
  float low_, high_;
  Tensor min_, max_;
};

// An unfitted scaler by name: "standard" / "StandardScaler" or "minmax" / "MinMaxScaler".
std::unique_ptr<Scaler> make_scaler(const std::string& type);
// A fitted scaler from type() and state(), as saved next to a model.
std::unique_ptr<Scaler> load_scaler(const std::string& type, const std::map<std::string, Tensor>& state);

// Class ids [N] or [N,1] -> one-hot [N, num_classes]; an id outside [0, num_classes) is an error.
Tensor one_hot(const Tensor& labels, int64_t num_classes);

// (x - mean[c]) / std[c] per channel of images [N,C,H,W], or with one mean/std for [N,H,W]
// (torchvision's Normalize; data::Normalize is the pipeline step).
Tensor normalize_images(const Tensor& images, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace neurona::data
