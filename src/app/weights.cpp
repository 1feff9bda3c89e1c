// Weights files with their metadata (schema, scalers, task, config), tables read for evaluate and
// predict, and the predictions CSV: what a trained model needs besides its config.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "build_detail.hpp"
#include "neurona/app/config.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/safetensors.hpp"

namespace neurona::app {

using namespace detail;

namespace {

using json = nlohmann::json;

json scaler_json(const data::Scaler& s) {
  json state = json::object();
  for (const auto& [name, t] : s.state()) {
    state[name] = {{"shape", t.shape().dims()}, {"data", std::vector<float>(t.data(), t.data() + t.numel())}};
  }
  return {{"type", s.type()}, {"state", state}};
}

std::shared_ptr<data::Scaler> scaler_from_json(const json& j) {
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : j.at("state").items())
    state[name] = Tensor::from(t.at("data").get<std::vector<float>>(),
                               Shape(t.at("shape").get<std::vector<int64_t>>()));
  return data::load_scaler(j.at("type").get<std::string>(), state);
}

json columns_json(const std::vector<data::CsvColumn>& cols) {
  json a = json::array();
  for (const auto& c : cols)
    a.push_back({{"name", c.name},
                 {"categorical", c.categorical},
                 {"encoding", c.encoding == data::Encoding::OneHot ? "one_hot" : "index"},
                 {"categories", c.categories},
                 {"fill", c.fill}});
  return a;
}

std::vector<data::CsvColumn> columns_from_json(const json& a) {
  std::vector<data::CsvColumn> cols;
  for (const auto& j : a) {
    data::CsvColumn c;
    c.name = j.at("name").get<std::string>();
    c.categorical = j.at("categorical").get<bool>();
    c.encoding =
        j.at("encoding").get<std::string>() == "one_hot" ? data::Encoding::OneHot : data::Encoding::Index;
    c.categories = j.at("categories").get<std::vector<std::string>>();
    c.fill = j.at("fill").get<float>();
    cols.push_back(c);
  }
  return cols;
}

}  // namespace

// --- weights -----------------------------------------------------------------------------------

void save_weights(const std::filesystem::path& path, nn::Module& net, const PreparedData& d,
                  const std::string& config_text) {
  const std::vector<io::NamedTensor> tensors = train::weight_tensors(net);
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"neurona.task", d.task}};
  if (d.x_scaler) meta["neurona.x_scaler"] = scaler_json(*d.x_scaler).dump();
  if (d.y_scaler) meta["neurona.y_scaler"] = scaler_json(*d.y_scaler).dump();
  if (d.schema) {
    meta["neurona.csv_schema"] = json{{"delimiter", std::string(1, d.schema->delimiter)},
                                      {"features", columns_json(d.schema->features)},
                                      {"targets", columns_json(d.schema->targets)}}
                                     .dump();
  }
  if (!config_text.empty()) meta["neurona.config"] = config_text;
  io::save_safetensors(path, tensors, meta);
}

WeightsFile read_weights(const std::filesystem::path& path) {
  WeightsFile w{path, io::load_safetensors(path), {}};
  try {
    const auto& md = w.content.metadata;
    WeightsMetadata& m = w.meta;
    if (md.count("neurona.task")) m.task = md.at("neurona.task");
    if (md.count("neurona.x_scaler")) m.x_scaler = scaler_from_json(json::parse(md.at("neurona.x_scaler")));
    if (md.count("neurona.y_scaler")) m.y_scaler = scaler_from_json(json::parse(md.at("neurona.y_scaler")));
    if (md.count("neurona.csv_schema")) {
      const json j = json::parse(md.at("neurona.csv_schema"));
      data::CsvSchema s;
      s.delimiter = j.at("delimiter").get<std::string>().at(0);
      s.features = columns_from_json(j.at("features"));
      s.targets = columns_from_json(j.at("targets"));
      m.schema = s;
    }
  } catch (const json::exception& e) {
    fail(path.string(), ": bad neurona metadata: ", e.what());
  }
  return w;
}

void load_weights(const WeightsFile& file, nn::Module& net) {
  nn::StateDict sd;
  for (const auto& t : file.content.tensors) sd.insert(t.name, t.tensor);
  try {
    net.load_state_dict(sd, true);
  } catch (const Error& e) {
    fail(file.path.string(), ": the weights do not fit the model of the config: ", e.what());
  }
}

WeightsMetadata load_weights(const std::filesystem::path& path, nn::Module& net) {
  WeightsFile file = read_weights(path);
  load_weights(file, net);
  return file.meta;
}

Shape input_shape_of(const data::CsvSchema& schema) {
  int64_t width = 0;
  for (const auto& c : schema.features) width += c.width();
  return Shape{width};
}

Table read_table(const std::string& path, const Config& c, const WeightsMetadata& meta) {
  std::string text, name = path;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    name = "<stdin>";
  } else {
    text = io::read_file(path);
  }
  data::CsvOptions o;
  if (meta.schema) o = csv_options(c.data, &*meta.schema);
  const data::CsvData csv = data::parse_csv(text, name, o);
  const std::string task = meta.task.empty() ? task_of(c) : meta.task;
  Table t{csv.x, shape_targets(csv.y, task)};
  if (meta.x_scaler) t.x = meta.x_scaler->transform(t.x);
  if (meta.y_scaler && t.y.defined()) t.y = meta.y_scaler->transform(t.y);
  return t;
}

namespace {
// A model's outputs as predict writes them: probabilities where the loss says what the outputs
// are (see docs/config.md, "Predictions"); a multiclass model trained on something else keeps
// its raw outputs (`probabilities` false). Rows are samples.
Tensor prediction_values(const Tensor& outputs_in, const Config& c, const std::string& task,
                         bool& probabilities) {
  Tensor out = outputs_in.dim() == 1 ? outputs_in.reshape({outputs_in.size(0), 1}) : outputs_in;
  const std::string& loss = c.compile.loss.kind;
  probabilities = true;
  if (loss == "bce_with_logits")
    out = nn::F::sigmoid(out);
  else if (task == "multiclass" && loss == "cross_entropy" && !ends_in_softmax(c.layers))
    out = nn::F::softmax(out, 1);
  else if (task == "multiclass" && loss == "nll")
    out = exp(out);
  else if (task == "multiclass" && loss != "cross_entropy")
    probabilities = false;
  return out;
}
}  // namespace

std::string class_name(const WeightsMetadata& meta, int64_t id) {
  const data::CsvColumn* target =
      meta.schema && !meta.schema->targets.empty() ? &meta.schema->targets[0] : nullptr;
  if (target && target->categorical && id >= 0 && id < static_cast<int64_t>(target->categories.size()))
    return target->categories[static_cast<size_t>(id)];
  return std::to_string(id);
}

std::vector<std::string> class_names(const WeightsMetadata& meta, int64_t num_classes) {
  std::vector<std::string> names;
  for (int64_t k = 0; k < num_classes; ++k) names.push_back(class_name(meta, k));
  return names;
}

nn::metrics::ConfusionMatrix confusion_matrix(const Tensor& outputs, const Tensor& targets, const Config& c,
                                              const WeightsMetadata& meta) {
  const std::string task = meta.task.empty() ? task_of(c) : meta.task;
  check(task == "binary" || task == "multiclass",
        "--confusion-matrix: needs a classification model (binary or multiclass), this one's task is ", task);
  bool probabilities = true;
  const Tensor values = prediction_values(outputs, c, task, probabilities);
  check(task == "binary" ? values.size(1) == 1 : values.size(1) >= 2, "--confusion-matrix: a ", task,
        " model's output ", outputs.shape(), " should have ",
        task == "binary" ? "1 column" : "one column per class");
  nn::metrics::ConfusionMatrix cm(task == "binary" ? 2 : values.size(1));
  cm.update(values, targets);
  return cm;
}

std::string predictions_csv(const Tensor& outputs_in, const Config& c, const WeightsMetadata& meta) {
  const std::string task = meta.task.empty() ? task_of(c) : meta.task;
  bool probabilities = true;
  Tensor out = prediction_values(outputs_in, c, task, probabilities);
  if (meta.y_scaler) out = meta.y_scaler->inverse_transform(out);
  const int64_t n = out.size(0), k = out.size(1);
  auto class_name = [&](int64_t id) { return app::class_name(meta, id); };
  std::vector<std::string> header;
  if (task == "regression") {
    for (int64_t j = 0; j < k; ++j)
      header.push_back(meta.schema && j < static_cast<int64_t>(meta.schema->targets.size())
                           ? meta.schema->targets[static_cast<size_t>(j)].name
                       : k == 1 ? "prediction"
                                : "prediction_" + std::to_string(j));
  } else if (task == "binary") {
    header = {"probability", "class"};
  } else {
    for (int64_t j = 0; j < k; ++j) header.push_back((probabilities ? "p_" : "output_") + class_name(j));
    header.push_back("class");
  }
  std::string s;
  for (size_t j = 0; j < header.size(); ++j) s += (j ? "," : "") + header[j];
  s += "\n";
  const float* p = out.data();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * k;
    if (task == "binary") {
      s += format_number(row[0]) + "," + class_name(row[0] > 0.5f ? 1 : 0);
    } else {
      for (int64_t j = 0; j < k; ++j) s += (j ? "," : "") + format_number(row[j]);
      if (task == "multiclass") s += "," + class_name(std::max_element(row, row + k) - row);
    }
    s += "\n";
  }
  return s;
}

}  // namespace neurona::app
