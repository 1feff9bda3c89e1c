#pragma once
// The Playground's server side: a session holds one data set, one small network (nn::Linear
// layers) and its optimizer, and trains in its own thread while playing. SessionManager bounds
// how many live at once and closes idle ones.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "neurona/nn/layers.hpp"
#include "neurona/optim/optimizer.hpp"

namespace neurona::app::playground {

using json = nlohmann::json;

// Everything the page's controls (and the URL hash) set. Validated by from_json.
struct Config {
  std::string problem = "classification";  // classification | regression | multiclass
  std::string dataset = "circle";          // circle xor gauss spiral | reg-plane reg-gauss | blobs | csv
  int classes = 3;                         // multiclass only: 3 … 6
  int noise = 0;                           // percent, 0 … 80
  int percTrainData = 50;                  // 10 … 90
  int batchSize = 10;                      // 1 … 100
  std::vector<std::string> features{"x", "y"};
  std::vector<int> networkShape{4, 2};  // 0 … 6 hidden layers of 1 … 8 neurons
  std::string activation = "tanh";      // relu | tanh | sigmoid | linear
  double learningRate = 0.03;
  std::string regularization = "none";  // none | L1 | L2
  double regularizationRate = 0;
  std::string optimizer = "sgd";  // sgd momentum nesterov adam adamw rmsprop adagrad adadelta nadam radam
  uint32_t seed = 1;
  double stopLoss = 0;  // pause when the test loss falls below this (0: never)
  int maxEpochs = 0;    // pause after this many epochs (0: never)
  int speed = 60;       // epochs per second while playing: 1 … 1000
  bool initZero = false;

  // Throws neurona::Error naming the field for an unknown key, a wrong type or a value out of range.
  static Config from_json(const json& j);
  json to_json() const;
  bool same_data(const Config& o) const;     // same points (no need to regenerate)
  bool same_network(const Config& o) const;  // same weights are valid (only lr, stop, speed differ)
};

extern const char* const kFeatureNames[7];  // x y xSquared ySquared xTimesY sinX sinY

class Session {
 public:
  Session(std::string id, const Config& config);
  ~Session();  // stops the training thread
  const std::string& id() const { return id_; }

  void configure(const Config& config);  // regenerates data / resets the network only when needed
  void play();
  void pause();
  json step();        // pauses, trains one epoch; returns the short status
  void reset();       // new initial weights from the seed, epoch 0
  void regenerate();  // new seed, new data, same weights (as the Playground)
  // Replaces the data by uploaded points; throws on a malformed CSV.
  void upload_csv(const std::string& text);
  // Sets one weight (from ≥ 0) or the bias (from = -1) of neuron `to` in layer `layer`.
  void set_weight(int layer, int to, int from, double value);

  // state: status, losses, accuracy/confusion, network, heat maps; history points after `from`.
  json state(int64_t history_from, bool with_points);
  std::string export_config_yaml();
  std::string export_weights_safetensors();
  std::string export_data_csv();

  std::chrono::steady_clock::time_point last_seen() const { return last_seen_.load(); }
  std::chrono::steady_clock::time_point created() const { return created_; }
  void touch() { last_seen_ = std::chrono::steady_clock::now(); }

 private:
  void generate_data();  // from config_ (not for csv)
  void split_data();     // all_x_/all_y_ → train/test tensors with the engineered features
  void build_network();  // from config_ and seed_
  void build_optimizer();
  void train_epoch();  // caller holds mu_
  void evaluate();     // losses, accuracy, confusion; caller holds mu_
  Tensor features_of(const Tensor& xy) const;
  Tensor forward(const Tensor& x, std::vector<Tensor>* hidden = nullptr) const;
  const char* loss_name() const;  // a row of nn::losses(): what training uses and the export names
  Tensor loss_of(const Tensor& out, const Tensor& y) const;
  json status_locked() const;
  void loop();

  std::string id_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool quit_ = false;
  bool playing_ = false;
  std::string stop_reason_;

  Config config_;
  uint32_t data_seed_ = 1;
  Tensor all_x_, all_y_;  // raw points [N, 2], targets [N, 1] (±1, real, or class index)
  Tensor train_xy_, train_x_, train_y_, test_xy_, test_x_, test_y_;
  std::vector<std::shared_ptr<nn::Linear>> layers_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  int64_t epoch_ = 0;
  int64_t run_ = 0;  // bumped on every reset, so the page knows to clear its loss chart
  int64_t data_version_ = 0;
  double train_loss_ = 0, test_loss_ = 0, train_acc_ = 0, test_acc_ = 0;
  std::vector<std::vector<int64_t>> confusion_;  // test set, [true][predicted]
  std::vector<std::array<double, 3>> history_;   // epoch, train loss, test loss
  std::atomic<std::chrono::steady_clock::time_point> last_seen_;
  std::chrono::steady_clock::time_point created_;
};

class SessionManager {
 public:
  SessionManager(int max_sessions, double idle_s, double max_s);
  ~SessionManager();
  // Throws neurona::Error when the limit is reached.
  std::shared_ptr<Session> create(const Config& config);
  std::shared_ptr<Session> find(const std::string& id);  // nullptr when unknown
  bool remove(const std::string& id);
  size_t size() const;

 private:
  void reap();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  int max_sessions_;
  double idle_s_, max_s_;
  uint64_t next_id_ = 1;
  bool quit_ = false;
  std::thread reaper_;
};

}  // namespace neurona::app::playground
