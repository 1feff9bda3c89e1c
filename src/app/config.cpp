// Config files: YAML text -> a validated app::Config. Every key is checked here, against the
// tables below, so a typo fails before any data is read; src/app/build.cpp turns the result into
// objects.
#include "neurona/app/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "neurona/app/sweep.hpp"
#include "neurona/core/error.hpp"
#include "neurona/core/format.hpp"
#include "neurona/data/augment.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/nn/zoo.hpp"
#include "neurona/optim/registry.hpp"
#include "neurona/train/callback_registry.hpp"
#include "neurona/train/metric_registry.hpp"
#include "neurona/train/names.hpp"

namespace neurona::app {

namespace {

std::string lower(std::string s) { return lower_case(std::move(s)); }

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// --- what may be written where ---------------------------------------------------------------

using T = OptionType;
using KeySpec = OptionSpec;

// A row of the tables below that are not yet their layer's registry, in the order they are written.
struct KindSpec : ComponentSpec {
  KindSpec(std::string kind, std::string main, std::vector<OptionSpec> keys,
           std::vector<std::string> other_names = {}, bool is_list = false) {
    name = std::move(kind);
    main_key = std::move(main);
    options = std::move(keys);
    aliases = std::move(other_names);
    list = is_list;
  }
  KindSpec(const ComponentSpec& c) : ComponentSpec(c) {}
};

// The schema reads the tables of the layers that own the components.
template <class E>
std::vector<KindSpec> specs_of(const Registry<E>& registry) {
  std::vector<KindSpec> v;
  for (const auto& e : registry.entries()) v.emplace_back(static_cast<const ComponentSpec&>(e));
  return v;
}

const std::vector<KindSpec>& layer_specs() {
  static const std::vector<KindSpec> s = specs_of(nn::layers());
  return s;
}
const std::vector<KindSpec>& optimizer_specs() {
  static const std::vector<KindSpec> s = specs_of(optim::optimizers());
  return s;
}
const std::vector<KindSpec>& loss_specs() {
  static const std::vector<KindSpec> s = specs_of(nn::losses());
  return s;
}
const std::vector<KindSpec>& schedule_specs() {
  static const std::vector<KindSpec> s = specs_of(optim::schedules());
  return s;
}
const std::vector<KindSpec>& callback_specs() {
  static const std::vector<KindSpec> s = specs_of(train::callbacks());
  return s;
}
const std::vector<KindSpec>& architecture_specs() {
  static const std::vector<KindSpec> s = specs_of(nn::architectures());
  return s;
}
const std::vector<KindSpec>& augment_specs() {
  static const std::vector<KindSpec> s = specs_of(data::augmentations());
  return s;
}

const std::vector<KindSpec>& synthetic_specs() {
  static const std::vector<KindSpec> s = [] {
    const std::vector<KeySpec> keys = {{"n", T::Int},
                                       {"noise", T::Number},
                                       {"seed", T::Int},
                                       {"labels", T::Text, "", {"zero_one", "plus_minus_one"}}};
    std::vector<KindSpec> v;
    for (const char* k : {"circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss", "pass_the_class"})
      v.push_back({k, "", keys});
    return v;
  }();
  return s;
}

std::vector<std::string> names_of(const std::vector<KindSpec>& specs, bool with_aliases = false) {
  std::vector<std::string> v;
  for (const auto& s : specs) {
    v.push_back(s.name);
    if (with_aliases) v.insert(v.end(), s.aliases.begin(), s.aliases.end());
  }
  return v;
}

const KindSpec* find_kind(const std::vector<KindSpec>& specs, const std::string& word) {
  const std::string w = lower(word);
  for (const auto& s : specs)
    if (s.name == w || std::find(s.aliases.begin(), s.aliases.end(), w) != s.aliases.end()) return &s;
  return nullptr;
}

// --- reading nodes -----------------------------------------------------------------------------

std::string line_of(const YAML::Node& n) {
  const auto m = n.Mark();
  return m.line >= 0 ? " (line " + std::to_string(m.line + 1) + ")" : "";
}

std::string scalar_text(const YAML::Node& n, const std::string& path) {
  if (n.IsNull()) return "";
  check(n.IsScalar(), path, ": expected a single value", line_of(n));
  return n.Scalar();
}

double as_number(const YAML::Node& n, const std::string& path) {
  double x = 0;
  try {
    x = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(path, ": expected a number, got '", n.IsScalar() ? n.Scalar() : "a list or map", "'", line_of(n));
  }
  check(std::isfinite(x), path, ": expected a finite number, got '", n.Scalar(), "'", line_of(n));
  return x;
}
int64_t as_int(const YAML::Node& n, const std::string& path) {
  try {
    return n.as<int64_t>();
  } catch (const YAML::Exception&) {
    fail(path, ": expected a whole number, got '", n.IsScalar() ? n.Scalar() : "a list or map", "'",
         line_of(n));
  }
}

// `l1`, `l2` or {l1: x, l2: y} (either key may be left out) as "l1,l2".
std::string regularizer_text(const YAML::Node& v, const std::string& path) {
  double l1 = 0, l2 = 0;
  if (v.IsScalar()) {
    const std::string s = lower(v.Scalar());
    if (s == "l1")
      l1 = 0.01;
    else if (s == "l2")
      l2 = 0.01;
    else
      fail(path, ": unknown regularizer '", v.Scalar(), "' (valid: l1, l2, or {l1: x, l2: y})", line_of(v));
  } else {
    check(v.IsMap(), path, ": expected l1, l2 or {l1: x, l2: y}", line_of(v));
    for (const auto& kv : v) {
      const std::string key = lower(kv.first.as<std::string>());
      const double x = as_number(kv.second, path + "." + key);
      check(x >= 0, path, ".", key, ": must be >= 0, got ", x, line_of(kv.second));
      if (key == "l1")
        l1 = x;
      else if (key == "l2")
        l2 = x;
      else
        fail(path, ": unknown key '", key, "' (valid: l1, l2)", line_of(kv.second));
    }
  }
  return format_number(l1) + "," + format_number(l2);
}

bool as_bool(const YAML::Node& n, const std::string& path) {
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    fail(path, ": expected true or false, got '", n.IsScalar() ? n.Scalar() : "a list or map", "'",
         line_of(n));
  }
}
std::vector<std::string> as_strings(const YAML::Node& n, const std::string& path) {
  if (n.IsSequence()) {
    std::vector<std::string> v;
    for (size_t i = 0; i < n.size(); ++i)
      v.push_back(scalar_text(n[i], path + "[" + std::to_string(i) + "]"));
    return v;
  }
  return {scalar_text(n, path)};
}

// The map at `n` (null reads as empty), with every key checked against `allowed`.
std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& n, const std::string& path,
                                                        const std::vector<std::string>& allowed) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (!n || n.IsNull()) return out;
  check(n.IsMap(), path.empty() ? "the file" : path, ": expected keys and values", line_of(n));
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(path.empty() ? "" : path + ": ", "unknown key '", key, "'", did_you_mean(key, allowed));
    out.emplace_back(key, kv.second);
  }
  return out;
}

std::string join_items(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
  return s;
}

// Checks one option value against its spec and returns it as text.
std::string option_value(const KeySpec& spec, const YAML::Node& v, const std::string& path) {
  switch (spec.type) {
    case T::Number:
      as_number(v, path);
      break;
    case T::Int:
      as_int(v, path);
      break;
    case T::Bool:
      return as_bool(v, path) ? "true" : "false";
    case T::List: {
      std::string text;
      YAML::Node list = v.IsSequence() ? v : YAML::Node(YAML::NodeType::Sequence);
      if (!v.IsSequence()) list.push_back(v);
      for (size_t i = 0; i < list.size(); ++i)
        text += (i ? "," : "") + format_number(as_number(list[i], path + "[" + std::to_string(i) + "]"));
      return text;
    }
    case T::Regularizer:
      return regularizer_text(v, path);
    case T::Text: {
      // A free text option may be a list ([1, 2] for a padding): its items joined by commas.
      if (v.IsSequence() && spec.choices.empty()) return join_items(as_strings(v, path));
      const std::string s = scalar_text(v, path);
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), lower(s)) == spec.choices.end())
        fail(path, ": unknown value '", s, "'", did_you_mean(s, spec.choices));
      return spec.choices.empty() ? s : lower(s);
    }
  }
  return scalar_text(v, path);
}

void add_options(Named& out, const KindSpec& spec, const std::vector<std::pair<std::string, YAML::Node>>& kv,
                 const std::string& path) {
  for (const auto& [key, value] : kv) {
    const std::string k = lower(key);
    const auto it =
        std::find_if(spec.options.begin(), spec.options.end(), [&](const KeySpec& s) { return s.name == k; });
    out.options[k] = option_value(*it, value, join(path, k));
  }
}

std::vector<std::string> key_names(const KindSpec& spec) {
  std::vector<std::string> v;
  for (const auto& k : spec.options) v.push_back(k.name);
  return v;
}

// One named thing: `adam`, `{adam: {lr: 0.01}}`, `{dense: 512, activation: relu}`. `extra` are
// sibling keys that belong to the caller (schedule's interval); they are returned, not options.
Named parse_named(const YAML::Node& n, const std::string& path, const std::vector<KindSpec>& specs,
                  const std::string& what, std::map<std::string, YAML::Node>* extra = nullptr,
                  const std::vector<std::string>& extra_keys = {}) {
  Named out;
  out.path = path;
  if (n.IsScalar()) {
    const KindSpec* spec = find_kind(specs, n.Scalar());
    if (!spec)
      fail(path, ": unknown ", what, " '", n.Scalar(), "'", did_you_mean(n.Scalar(), names_of(specs)));
    out.kind = spec->name;
    return out;
  }
  check(n.IsMap(), path, ": expected a ", what, " name or {", what, ": options}", line_of(n));
  check(n.size() > 0, path, ": empty; expected a ", what, " name or {", what, ": options}", line_of(n));
  // The kind key: the one naming a kind. A key that is also an option of that kind (dense's
  // `activation`) only names the kind when nothing else does.
  std::vector<std::string> kind_keys;
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    if (find_kind(specs, key)) kind_keys.push_back(key);
  }
  if (kind_keys.size() > 1) {
    kind_keys.erase(
        std::remove_if(kind_keys.begin(), kind_keys.end(),
                       [&](const std::string& k) {
                         for (const auto& other : kind_keys) {
                           const auto keys = key_names(*find_kind(specs, other));
                           if (other != k && std::find(keys.begin(), keys.end(), lower(k)) != keys.end())
                             return true;
                         }
                         return false;
                       }),
        kind_keys.end());
  }
  if (kind_keys.empty()) {
    const std::string first = n.begin()->first.as<std::string>();
    fail(path, ": unknown ", what, " '", first, "'", did_you_mean(first, names_of(specs)));
  }
  if (kind_keys.size() > 1)
    fail(path, ": '", kind_keys[0], "' and '", kind_keys[1], "' both name a ", what, "; write one per entry");
  const KindSpec& spec = *find_kind(specs, kind_keys[0]);
  out.kind = spec.name;
  const auto keys = key_names(spec);
  const YAML::Node value = n[kind_keys[0]];
  const std::string inner = join(path, kind_keys[0]);
  if (spec.list) {
    check(value.IsSequence() && value.size() > 0, inner, ": expected a list of ", what, "s", line_of(value));
    for (size_t i = 0; i < value.size(); ++i)
      out.items.push_back(parse_named(value[i], inner + "[" + std::to_string(i) + "]", specs, what));
  } else if (value.IsScalar()) {
    check(
        !spec.main_key.empty(), inner, ": expected options {",
        [&] {
          std::string s;
          for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k + ": …";
          return s;
        }(),
        "}, got '", value.Scalar(), "'", line_of(value));
    const auto it = std::find_if(spec.options.begin(), spec.options.end(),
                                 [&](const KeySpec& s) { return s.name == spec.main_key; });
    out.options[spec.main_key] = option_value(*it, value, join(inner, spec.main_key));
  } else if (value.IsSequence()) {
    // A list is the main value when that option is a list: {zero_pad2d: [1, 2]}.
    const auto it = std::find_if(spec.options.begin(), spec.options.end(),
                                 [&](const KeySpec& s) { return s.name == spec.main_key; });
    check(it != spec.options.end() && it->type == T::List, inner, ": expected a value or options, got a list",
          line_of(value));
    out.options[spec.main_key] = option_value(*it, value, join(inner, spec.main_key));
  } else {
    add_options(out, spec, entries(value, inner, keys), inner);
  }
  std::vector<std::string> siblings = keys;
  siblings.insert(siblings.end(), extra_keys.begin(), extra_keys.end());
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    if (key == kind_keys[0]) continue;
    if (std::find(siblings.begin(), siblings.end(), key) == siblings.end())
      fail(path, ": unknown key '", key, "'", did_you_mean(key, siblings));
    if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) {
      (*extra)[key] = kv.second;
      continue;
    }
    add_options(out, spec, {{key, kv.second}}, path);
  }
  return out;
}

// --- overrides and hparams ---------------------------------------------------------------------

// "model.layers[0].dense" -> {"model", "layers", "[0]", "dense"}
std::vector<std::string> key_parts(const std::string& key) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : key) {
    if (c == '.' || c == '[') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
      if (c == '[') cur.push_back('[');
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

void set_key(YAML::Node node, const std::vector<std::string>& parts, size_t i, const YAML::Node& value,
             const std::string& key) {
  const std::string& part = parts[i];
  const bool last = i + 1 == parts.size();
  if (part.front() == '[') {
    check(part.back() == ']', "--set ", key, ": bad index '", part, "'");
    check(node.IsSequence(), "--set ", key, ": '", part, "' indexes something that is not a list");
    const size_t idx = std::stoul(part.substr(1, part.size() - 2));
    check(idx < node.size(), "--set ", key, ": index ", idx, " is past the end of a list of ", node.size());
    if (last)
      node[idx] = value;
    else
      set_key(node[idx], parts, i + 1, value, key);
    return;
  }
  // `optimizer: adam` written as a name gains options: `optimizer: {adam: {lr: …}}`.
  if (node.IsScalar()) {
    const std::string name = node.Scalar();
    node = YAML::Node(YAML::NodeType::Map);
    node[name] = YAML::Node(YAML::NodeType::Map);
  }
  check(!node.IsSequence(), "--set ", key, ": '", part, "' names a key inside a list (use [index])");
  if (last) {
    node[part] = value;
  } else {
    YAML::Node child = node[part];
    if (!child.IsDefined() || child.IsNull()) {
      node[part] = YAML::Node(YAML::NodeType::Map);
      child = node[part];
    }
    set_key(child, parts, i + 1, value, key);
  }
}

void flatten(const YAML::Node& n, const std::string& path, std::map<std::string, io::HParamValue>& out) {
  if (n.IsMap()) {
    for (const auto& kv : n) flatten(kv.second, join(path, kv.first.as<std::string>()), out);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) flatten(n[i], join(path, std::to_string(i)), out);
  } else if (n.IsScalar()) {
    const std::string s = n.Scalar();
    double d;
    bool b;
    if (YAML::convert<double>::decode(n, d))
      out.emplace(path, d);
    else if (YAML::convert<bool>::decode(n, b))
      out.emplace(path, b);
    else
      out.emplace(path, s);
  }
}

// --- sections ----------------------------------------------------------------------------------

void parse_data(const YAML::Node& n, DataConfig& d, uint64_t seed) {
  const std::string p = "data";
  check(n && !n.IsNull(), "data: missing (where the samples come from: csv, idx, npy, images or synthetic)");
  for (const auto& [key, v] : entries(n, p,
                                      {"csv", "val_csv", "test_csv", "idx", "npy", "images", "synthetic",
                                       "target", "features", "categorical", "missing", "task", "split",
                                       "scale", "limit", "rescale", "augment", "classes", "per_class"})) {
    const std::string path = join(p, key);
    if (key == "csv")
      d.csv = scalar_text(v, path);
    else if (key == "val_csv")
      d.val_csv = scalar_text(v, path);
    else if (key == "test_csv")
      d.test_csv = scalar_text(v, path);
    else if (key == "idx")
      d.idx = scalar_text(v, path);
    else if (key == "npy") {
      for (const auto& [k, f] : entries(v, path, {"x", "y"}))
        (k == "x" ? d.npy_x : d.npy_y) = scalar_text(f, join(path, k));
      check(!d.npy_x.empty(), path, ": needs x: path/to/features.npy");
    } else if (key == "images") {
      if (v.IsScalar()) {  // `images: DIR`
        d.images = scalar_text(v, path);
        continue;
      }
      for (const auto& [k, f] : entries(v, path, {"dir", "size", "color"})) {
        const std::string kp = join(path, k);
        if (k == "dir") {
          d.images = scalar_text(f, kp);
        } else if (k == "color") {
          d.image_color = option_value({"", T::Text, "", {"rgb", "grayscale"}}, f, kp);
        } else {
          std::vector<int64_t> hw;
          for (size_t i = 0; i < (f.IsSequence() ? f.size() : 1); ++i)
            hw.push_back(f.IsSequence() ? as_int(f[i], kp + "[" + std::to_string(i) + "]") : as_int(f, kp));
          check(hw.size() == 1 || hw.size() == 2, kp, ": expected [height, width] or one number, got ",
                hw.size(), " numbers", line_of(f));
          for (int64_t x : hw) check(x >= 1, kp, ": sizes must be >= 1, got ", x, line_of(f));
          d.image_height = hw.front();
          d.image_width = hw.back();
        }
      }
      check(!d.images.empty(), path, ": needs dir: path/to/folder (one subfolder of images per class)");
    } else if (key == "rescale") {
      d.rescale = as_number(v, path);
    } else if (key == "augment") {
      check(v.IsSequence(), path,
            ": expected a list of steps, e.g. [{random_flip: horizontal}, {random_crop: ",
            "{size: 28, padding: 2}}]", line_of(v));
      for (size_t i = 0; i < v.size(); ++i) {
        Named step = parse_named(v[i], path + "[" + std::to_string(i) + "]", augment_specs(), "augmentation");
        try {  // its values are checked now, before any data is read
          const data::AugmentEntry& entry = data::augmentations().get(step.kind);
          entry.make(entry.options_from(step.options));
        } catch (const Error& e) {
          fail(step.path, ": ", e.what());
        }
        d.augment.push_back(std::move(step));
      }
    } else if (key == "synthetic") {
      // (node: clang 14's lambdas cannot capture a structured binding itself)
      d.synthetic = parse_named(v.IsMap() && v["kind"] ? [&, &node = v] {
        // {kind: spiral, n: 500} reads as {spiral: {n: 500}}
        YAML::Node m(YAML::NodeType::Map);
        YAML::Node opts(YAML::NodeType::Map);
        for (const auto& kv : node)
          if (kv.first.as<std::string>() != "kind") opts[kv.first] = kv.second;
        m[scalar_text(node["kind"], join(path, "kind"))] = opts;
        return m;
      }() : v, path, synthetic_specs(), "data set");
      if (!d.synthetic.has("seed")) d.synthetic.options["seed"] = std::to_string(seed);
    } else if (key == "target")
      d.target = as_strings(v, path);
    else if (key == "features")
      d.features = as_strings(v, path);
    else if (key == "categorical")
      d.categorical = as_strings(v, path);
    else if (key == "missing")
      d.missing = option_value({"", T::Text, "", {"error", "drop", "mean"}}, v, path);
    else if (key == "task")
      d.task = option_value({"", T::Text, "", {"regression", "binary", "multiclass"}}, v, path);
    else if (key == "limit")
      d.limit = as_int(v, path);
    else if (key == "classes") {
      check(v.IsSequence() && v.size() > 0, path, ": expected a list of class ids, e.g. [5, 6, 7, 8, 9]",
            line_of(v));
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string ip = path + "[" + std::to_string(i) + "]";
        const int64_t id = as_int(v[i], ip);
        check(id >= 0, ip, ": class ids are >= 0, got ", id, line_of(v[i]));
        check(std::find(d.classes.begin(), d.classes.end(), id) == d.classes.end(), ip, ": class ", id,
              " is listed twice", line_of(v[i]));
        d.classes.push_back(id);
      }
    } else if (key == "per_class") {
      d.per_class = as_int(v, path);
      check(d.per_class >= 1, path, ": expected at least 1 sample per class, got ", d.per_class, line_of(v));
    } else if (key == "split") {
      if (v.IsScalar()) {
        const std::string s = lower(v.Scalar());
        check(s == "none", path, ": expected none or {val: …, test: …, stratify: …, shuffle: …}, got '",
              v.Scalar(), "'");
        d.split = false;
        continue;
      }
      for (const auto& [k, x] : entries(v, path, {"val", "test", "stratify", "shuffle"})) {
        const std::string kp = join(path, k);
        if (k == "val")
          d.val = as_number(x, kp);
        else if (k == "test")
          d.test = as_number(x, kp);
        else if (k == "stratify")
          d.stratify = as_bool(x, kp);
        else
          d.shuffle = as_bool(x, kp);
      }
      check(d.val >= 0 && d.test >= 0 && d.val + d.test < 1, path, ": val + test must be in [0, 1), got ",
            d.val, " + ", d.test);
    } else if (key == "scale") {
      const KeySpec how{"", T::Text, "", {"none", "standard", "minmax"}};
      if (v.IsScalar()) {
        d.scale_features = option_value(how, v, path);
        continue;
      }
      for (const auto& [k, x] : entries(v, path, {"features", "target"}))
        (k == "features" ? d.scale_features : d.scale_target) = option_value(how, x, join(path, k));
    }
  }
  const int sources =
      !d.csv.empty() + !d.idx.empty() + !d.npy_x.empty() + !d.images.empty() + !d.synthetic.kind.empty();
  check(sources == 1, "data: give exactly one of csv, idx, npy, images, synthetic (found ", sources, ")");
  d.source = !d.csv.empty()      ? "csv"
             : !d.idx.empty()    ? "idx"
             : !d.npy_x.empty()  ? "npy"
             : !d.images.empty() ? "images"
                                 : "synthetic";
  check(!d.rescale || d.source == "idx" || d.source == "npy" || d.source == "images",
        "data.rescale: goes with image data (idx, npy or images), not ", d.source);
  check(d.augment.empty() || d.source == "idx" || d.source == "npy" || d.source == "images",
        "data.augment: goes with image data (idx, npy or images), not ", d.source);
  if (d.source == "csv") check(!d.target.empty(), "data.target: missing (the column(s) to predict)");
  check(d.source == "csv" || (d.val_csv.empty() && d.test_csv.empty()),
        "data: val_csv and test_csv go with csv");
}

// What the chain itself cannot say with a key: one milestone between each two schedules, whole
// and increasing, and no schedule that does not step by epoch count.
void check_sequential(const Named& s) {
  const std::string key = s.path + ".milestones";
  const std::vector<double> ms = s.numbers("milestones");
  check(ms.size() + 1 == s.items.size(), key, ": expected ", s.items.size() - 1, " milestone(s) for ",
        s.items.size(), " schedules (one where each next schedule starts), got ", ms.size());
  for (size_t i = 0; i < ms.size(); ++i) {
    check(ms[i] == std::floor(ms[i]) && ms[i] > 0, key, "[", i, "]: expected a whole number > 0, got ",
          ms[i]);
    if (i > 0) check(ms[i] > ms[i - 1], key, ": must increase (", ms[i - 1], " then ", ms[i], ")");
  }
  for (const auto& item : s.items)
    check(item.kind != "reduce_on_plateau" && item.kind != "sequential", item.path, ": ", item.kind,
          " cannot be chained in sequential");
}

void parse_compile(const YAML::Node& n, CompileConfig& c) {
  check(n && !n.IsNull(), "compile: missing (optimizer and loss)");
  for (const auto& [key, v] :
       entries(n, "compile", {"optimizer", "loss", "metrics", "schedule", "param_groups"})) {
    const std::string path = join("compile", key);
    if (key == "param_groups") {
      check(v.IsSequence(), path, ": expected a list, e.g. - {params: '0.*', lr: 0.001}", line_of(v));
      for (size_t i = 0; i < v.size(); ++i) {
        ParamGroupConfig g;
        g.path = path + "[" + std::to_string(i) + "]";
        for (const auto& [k, x] : entries(v[i], g.path, {"params", "lr", "weight_decay"})) {
          if (k == "params")
            g.params = scalar_text(x, join(g.path, k));
          else if (k == "lr")
            g.lr = as_number(x, join(g.path, k));
          else
            g.weight_decay = as_number(x, join(g.path, k));
        }
        check(!g.params.empty(), g.path, ".params: missing (a glob of parameter names, e.g. '0.*')");
        c.param_groups.push_back(g);
      }
    } else if (key == "optimizer")
      c.optimizer = parse_named(v, path, optimizer_specs(), "optimizer");
    else if (key == "loss")
      c.loss = parse_named(v, path, loss_specs(), "loss");
    else if (key == "metrics") {
      c.metrics = as_strings(v, path);
      for (const auto& m : c.metrics)
        if (!train::metrics().find(m))
          fail(path, ": unknown metric '", m, "'", did_you_mean(m, train::metric_names()));
    } else {
      std::map<std::string, YAML::Node> extra;
      c.schedule =
          parse_named(v, path, schedule_specs(), "schedule", &extra, {"interval", "frequency", "monitor"});
      if (c.schedule->kind == "sequential") check_sequential(*c.schedule);
      if (extra.count("interval"))
        c.interval =
            option_value({"", T::Text, "", {"epoch", "step"}}, extra["interval"], join(path, "interval"));
      if (extra.count("frequency")) c.frequency = as_int(extra["frequency"], join(path, "frequency"));
      if (extra.count("monitor")) c.monitor = scalar_text(extra["monitor"], join(path, "monitor"));
    }
  }
  check(!c.optimizer.kind.empty(), "compile.optimizer: missing (e.g. adam or {sgd: {lr: 0.01}})");
  check(!c.loss.kind.empty(), "compile.loss: missing (e.g. mae, mse, binary_crossentropy, cross_entropy)");
}

void parse_fit(const YAML::Node& n, FitConfig& f) {
  for (const auto& [key, v] :
       entries(n, "fit",
               {"epochs", "batch_size", "shuffle", "verbose", "gradient_clip_val", "gradient_clip_algorithm",
                "accumulate_grad_batches", "min_epochs", "max_steps", "limit_train_batches", "deterministic",
                "precision", "strategy", "bucket_cap_mb", "ddp_timeout", "sync_batchnorm"})) {
    const std::string path = join("fit", key);
    if (key == "epochs")
      f.epochs = as_int(v, path);
    else if (key == "batch_size")
      f.batch_size = as_int(v, path);
    else if (key == "shuffle")
      f.shuffle = as_bool(v, path);
    else if (key == "verbose")
      f.verbose = static_cast<int>(as_int(v, path));
    else if (key == "gradient_clip_val")
      f.gradient_clip_val = as_number(v, path);
    else if (key == "gradient_clip_algorithm")
      f.gradient_clip_algorithm = option_value({"", T::Text, "", {"norm", "value"}}, v, path);
    else if (key == "accumulate_grad_batches")
      f.accumulate_grad_batches = as_int(v, path);
    else if (key == "min_epochs")
      f.min_epochs = as_int(v, path);
    else if (key == "max_steps")
      f.max_steps = as_int(v, path);
    else if (key == "limit_train_batches")
      f.limit_train_batches = as_int(v, path);
    else if (key == "precision")
      f.precision = option_value({"", T::Text, "", {"32-true", "fp32", "bf16-mixed", "bf16"}}, v, path);
    else if (key == "strategy")
      f.strategy = option_value({"", T::Text, "", {"auto", "ddp", "single"}}, v, path);
    else if (key == "bucket_cap_mb")
      f.bucket_cap_mb = as_number(v, path);
    else if (key == "ddp_timeout")
      f.ddp_timeout = as_number(v, path);
    else if (key == "sync_batchnorm")
      f.sync_batchnorm = as_bool(v, path);
    else
      f.deterministic = as_bool(v, path);
  }
  check(f.epochs >= 1, "fit.epochs: must be at least 1, got ", f.epochs);
  check(f.batch_size >= 1, "fit.batch_size: must be at least 1, got ", f.batch_size);
  check(f.bucket_cap_mb > 0, "fit.bucket_cap_mb: must be > 0, got ", f.bucket_cap_mb);
  check(f.ddp_timeout >= 0, "fit.ddp_timeout: must be >= 0 seconds (0: the default), got ", f.ddp_timeout);
}

void parse_logging(const YAML::Node& n, LoggingConfig& l) {
  if (n.IsScalar()) {  // `logging: runs`
    l.dir = n.Scalar();
    return;
  }
  for (const auto& [key, v] : entries(n, "logging",
                                      {"dir", "tensorboard", "mlflow", "csv", "onnx", "log_every_n_steps",
                                       "histogram_every_n_epochs"})) {
    const std::string path = join("logging", key);
    if (key == "dir")
      l.dir = scalar_text(v, path);
    else if (key == "tensorboard")
      l.tensorboard = as_bool(v, path);
    else if (key == "mlflow")
      l.mlflow = as_bool(v, path);
    else if (key == "csv")
      l.csv = as_bool(v, path);
    else if (key == "onnx")
      l.onnx = as_bool(v, path);
    else if (key == "log_every_n_steps")
      l.log_every_n_steps = as_int(v, path);
    else
      l.histogram_every_n_epochs = as_int(v, path);
  }
  check(!l.dir.empty(), "logging.dir: missing (where run directories go, e.g. runs)");
}

// `sweep:` (docs/config.md): grid values and space specs are read by the same functions as
// `neurona sweep`'s flags, so a file and a command line mean the same.
void parse_sweep(const YAML::Node& n, SweepConfig& s) {
  for (const auto& [key, v] : entries(n, "sweep",
                                      {"grid", "random", "space", "jobs", "metric", "mode", "prune",
                                       "prune_warmup", "prune_min_trials"})) {
    const std::string path = join("sweep", key);
    if (key == "grid" || key == "space") {
      check(v.IsMap() && v.size() > 0, path, ": expected keys and their ",
            key == "grid" ? "values, e.g. {fit.batch_size: [64, 256]}"
                          : "spaces, e.g. {compile.optimizer.adam.lr: 'loguniform(1e-4, 1e-1)'}",
            line_of(v));
      for (const auto& kv : v) {
        const std::string k = kv.first.as<std::string>();
        if (key == "grid") {
          YAML::Emitter e;
          e << YAML::Flow << kv.second;
          s.grid.push_back(parse_sweep_grid(k, e.c_str(), path));
        } else {
          s.space.push_back(parse_sweep_space(k, scalar_text(kv.second, join(path, k)), path));
        }
      }
    } else if (key == "random")
      s.random = as_int(v, path);
    else if (key == "jobs")
      s.jobs = as_int(v, path);
    else if (key == "metric")
      s.metric = scalar_text(v, path);
    else if (key == "mode")
      s.mode = option_value({"", T::Text, "", {"min", "max", "auto"}}, v, path);
    else if (key == "prune")
      s.prune = option_value({"", T::Text, "", {"none", "median"}}, v, path);
    else if (key == "prune_warmup")
      s.prune_warmup = as_int(v, path);
    else
      s.prune_min_trials = as_int(v, path);
  }
  check_sweep(s, false);
}

}  // namespace

// --- Named accessors ---------------------------------------------------------------------------

// The option texts were checked when the file was read; a text that still does not parse is an option
// set from C++, named in the error rather than escaping as std::invalid_argument.
double Named::number(const std::string& key, double fallback) const {
  auto it = options.find(key);
  if (it == options.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    fail(path, ".", key, ": expected a number, got '", it->second, "'");
  }
}
int64_t Named::integer(const std::string& key, int64_t fallback) const {
  auto it = options.find(key);
  if (it == options.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    fail(path, ".", key, ": expected a whole number, got '", it->second, "'");
  }
}
bool Named::flag(const std::string& key, bool fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second == "true";
}
std::string Named::text(const std::string& key, const std::string& fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second;
}
std::vector<double> Named::numbers(const std::string& key) const {
  std::vector<double> v;
  std::stringstream ss(text(key, ""));
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) v.push_back(std::stod(item));
  return v;
}

std::vector<std::string> layer_names() { return names_of(layer_specs()); }
std::vector<std::string> schedule_names() { return names_of(schedule_specs()); }
std::vector<std::string> callback_names() { return names_of(callback_specs()); }

// YAML lets a map name a key twice and keeps one of the values: a config that says `lr` twice would
// train silently on one of them, so every map in the file is checked, and keys must be plain words.
static void check_keys_unique(const YAML::Node& n, const std::string& where) {
  if (n.IsSequence()) {
    for (const auto& item : n) check_keys_unique(item, where);
    return;
  }
  if (!n.IsMap()) return;
  std::map<std::string, int> seen;  // key -> line
  for (const auto& kv : n) {
    const int line = kv.first.Mark().line + 1;
    check(kv.first.IsScalar(), where, ":", line, ": a key must be a single word, not a list or map");
    const auto [it, fresh] = seen.emplace(kv.first.Scalar(), line);
    check(fresh, where, ":", line, ": key '", kv.first.Scalar(), "' is given twice (lines ", it->second,
          " and ", line, "); keep one");
    check_keys_unique(kv.second, where);
  }
}

Config parse_config(const std::string& text, const std::string& file_name,
                    const std::vector<std::string>& overrides) {
  const std::string where = file_name.empty() ? "config" : file_name;
  // YAML is UTF-8; a Latin-1 file would be read, then fail to be written into a JSON header.
  if (const size_t bad = invalid_utf8_at(text); bad != std::string::npos)
    fail(where, ", ", describe_position(text, bad), ": not UTF-8 text (save the file as UTF-8)");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(where, ":", e.mark.line + 1, ":", e.mark.column + 1, ": bad YAML: ", e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  check_keys_unique(root, where);
  check(root.IsMap(), where, ": expected keys and values at the top (name, data, model, compile, fit, …)");

  Config c;
  c.file = file_name;
  c.text = text;
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    check(eq != std::string::npos && eq > 0, "--set ", o, ": expected key=value (e.g. fit.epochs=20)");
    const std::string key = o.substr(0, eq);
    YAML::Node value;
    try {
      value = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::ParserException& e) {
      fail("--set ", key, ": bad value '", o.substr(eq + 1), "': ", e.msg);
    }
    set_key(root, key_parts(key), 0, value, key);
  }
  if (!overrides.empty()) {
    YAML::Emitter out;
    out << root;
    c.text = std::string(out.c_str()) + "\n";
  }

  std::map<std::string, YAML::Node> sections;
  for (const auto& [key, v] : entries(root, "",
                                      {"name", "seed", "data", "model", "compile", "fit", "callbacks",
                                       "logging", "restarts", "lr_find", "sweep"}))
    sections[key] = v;
  if (sections.count("name")) c.name = scalar_text(sections["name"], "name");
  if (sections.count("seed")) c.seed = static_cast<uint64_t>(as_int(sections["seed"], "seed"));
  parse_data(sections["data"], c.data, c.seed);

  const YAML::Node model = sections["model"];
  check(model && !model.IsNull(),
        "model: missing (model.layers lists the layers, or model.from names an ONNX file)");
  std::vector<std::pair<std::string, YAML::Node>> model_keys;
  // model.arch's options sit beside it (`arch: resnet18, num_classes: 10`): every architecture's keys.
  std::vector<std::string> model_words = {"layers", "from",     "arch",     "init",
                                          "freeze", "unfreeze", "batchnorm"};
  std::set<std::string> arch_words;
  for (const auto& a : architecture_specs())
    for (const auto& o : a.options) arch_words.insert(o.name);
  model_words.insert(model_words.end(), arch_words.begin(), arch_words.end());
  YAML::Node arch_options(YAML::NodeType::Map);
  for (auto& [key, v] : entries(model, "model", model_words)) {
    const std::string path = join("model", key);
    if (arch_words.count(key)) {
      arch_options[key] = v;
    } else if (key == "init") {
      Config::Init init;
      if (v.IsScalar()) {
        init.weights = scalar_text(v, path);
      } else {
        for (const auto& [k, x] : entries(v, path, {"weights", "strict", "skip"})) {
          if (k == "weights")
            init.weights = scalar_text(x, join(path, k));
          else if (k == "strict")
            init.strict = as_bool(x, join(path, k));
          else
            init.skip = as_strings(x, join(path, k));
        }
      }
      check(!init.weights.empty(), path, ".weights: missing (a safetensors file)");
      c.model_init = init;
    } else if (key == "freeze") {
      c.freeze = as_strings(v, path);
    } else if (key == "unfreeze") {
      c.unfreeze = as_strings(v, path);
    } else if (key == "batchnorm") {
      c.batchnorm = option_value({"", T::Text, "", {"frozen", "train"}}, v, path);
    } else {
      model_keys.emplace_back(key, v);
    }
  }
  check(model_keys.size() == 1,
        "model: expected one of layers (a list of layers), from (an ONNX file) and arch (a network of the "
        "zoo)");
  if (model_keys[0].first != "arch" && arch_options.size() > 0) {
    std::string zoo;
    for (const auto& n : names_of(architecture_specs())) zoo += (zoo.empty() ? "" : ", ") + n;
    fail("model.", arch_options.begin()->first.as<std::string>(),
         ": only with model.arch (a network of the zoo: ", zoo, ")");
  }
  if (model_keys[0].first == "arch") {
    const YAML::Node a = model_keys[0].second;
    YAML::Node named(YAML::NodeType::Map);
    if (a.IsScalar()) {
      named[a.Scalar()] = arch_options;
    } else {
      check(arch_options.size() == 0,
            "model: write the architecture's options beside arch or inside it, not both");
      named = a;
    }
    c.arch = parse_named(named, "model.arch", architecture_specs(), "architecture");
  } else if (model_keys[0].first == "from") {
    c.model_from = scalar_text(model_keys[0].second, "model.from");
    // The imported layers as config entries, so what reads model.layers (the loss on a final
    // softmax, prediction outputs) sees them.
    const io::OnnxModel m = io::import_onnx(c.model_from);
    for (size_t i = 0; i < m.net->size(); ++i) {
      const auto& layer = (*m.net)[i];
      Named n;
      n.kind = layer->kind();
      n.options = layer->option_values();
      n.path = "model.from[" + std::to_string(i) + "]";
      c.layers.push_back(n);
    }
    check(!c.layers.empty(), "model.from: ", c.model_from, " has no layers");
  } else {
    check(model_keys[0].second.IsSequence() && model_keys[0].second.size() > 0,
          "model.layers: expected a list of layers, e.g. - {dense: 64, activation: relu}");
    const YAML::Node layers = model_keys[0].second;
    for (size_t i = 0; i < layers.size(); ++i)
      c.layers.push_back(
          parse_named(layers[i], "model.layers[" + std::to_string(i) + "]", layer_specs(), "layer"));
  }

  parse_compile(sections["compile"], c.compile);
  if (sections.count("fit")) parse_fit(sections["fit"], c.fit);
  if (sections.count("callbacks")) {
    const YAML::Node cbs = sections["callbacks"];
    check(cbs.IsSequence() || cbs.IsNull(),
          "callbacks: expected a list, e.g. - {early_stopping: {patience: 5}}");
    for (size_t i = 0; cbs.IsSequence() && i < cbs.size(); ++i)
      c.callbacks.push_back(
          parse_named(cbs[i], "callbacks[" + std::to_string(i) + "]", callback_specs(), "callback"));
  }
  if (sections.count("logging") && !sections["logging"].IsNull())
    parse_logging(sections["logging"], c.logging);
  if (sections.count("restarts")) {
    const YAML::Node r = sections["restarts"];
    if (r.IsScalar()) {
      c.restarts = as_int(r, "restarts");
    } else {
      for (const auto& [k, v] : entries(r, "restarts", {"count", "monitor"})) {
        if (k == "count")
          c.restarts = as_int(v, "restarts.count");
        else
          c.restart_monitor = scalar_text(v, "restarts.monitor");
      }
    }
    check(c.restarts >= 0, "restarts: must be 0 or more, got ", c.restarts);
  }
  static const std::vector<KindSpec> lr_find_spec = {
      {"lr_find", "", {{"min_lr", T::Number}, {"max_lr", T::Number}, {"num_training", T::Int}}}};
  c.lr_find.kind = "lr_find";
  c.lr_find.path = "lr_find";
  if (sections.count("lr_find"))
    add_options(c.lr_find, lr_find_spec[0],
                entries(sections["lr_find"], "lr_find", key_names(lr_find_spec[0])), "lr_find");

  if (sections.count("sweep")) parse_sweep(sections["sweep"], c.sweep);

  flatten(root, "", c.hparams);
  // A sweep's own keys are not the run's hyper-parameters.
  std::erase_if(c.hparams, [](const auto& kv) { return kv.first.rfind("sweep.", 0) == 0; });
  return c;
}

Config load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  std::string text;
  try {
    text = io::read_file(path);
  } catch (const Error& e) {
    fail("cannot read config ", path.string(), ": ", e.what());
  }
  return parse_config(text, path.string(), overrides);
}

}  // namespace neurona::app
