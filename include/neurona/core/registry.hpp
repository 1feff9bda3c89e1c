#pragma once
// Registries: one table per kind of component (layers, losses, metrics, optimizers, schedules,
// callbacks), kept by the layer that owns the component. An entry gives the words users type
// (PyTorch's and Keras's, matched case-insensitively), the options with their types and defaults,
// and the factory. Config files, the CLI, the Playground, the "did you mean" suggestions and the
// docs test read these tables; nothing else maps a name to an object.
//
//   const auto& e = nn::layers().get("Dense");        // or an Error listing the valid names
//   auto m = e.make(e.options_from({{"units", "64"}}), nn::LayerInput{{13}});
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace neurona {

// Regularizer: Keras's kernel_regularizer value, kept as the text "l1,l2".
enum class OptionType { Number, Int, Bool, Text, List, Regularizer };

struct OptionSpec {
  std::string name;
  OptionType type;
  // The default as users write it ("0.1", "true", "linear", "[0.9, 0.999]"); empty when there is
  // none: the option is required, or its value comes from elsewhere (docs say which).
  std::string default_value = {};
  std::vector<std::string> choices = {};  // Text: the valid values (empty: any text)
};

// What every entry has, whatever it makes: the part config files and docs read.
struct ComponentSpec {
  std::string name;                  // canonical, lower case: "dense", "adam", "early_stopping"
  std::vector<std::string> aliases;  // other words for it, lower case: "linear", "adamw"…
  std::string main_key;              // what a bare value means: {dense: 64} is {dense: {units: 64}}
  std::vector<OptionSpec> options;
  std::string summary;  // one line: what it is ("PyTorch's BatchNorm1d")
  bool list = false;    // the value is a list of entries of the same table
  const OptionSpec* option(const std::string& key) const;
  std::vector<std::string> option_names() const;
};

// The options written for one component: key -> value as text (lists as "a,b,c"), already checked
// against its specs. Reading a key that was not written gives the spec's default.
class Options {
 public:
  Options() = default;
  Options(std::map<std::string, std::string> values, const ComponentSpec* spec)
      : values_(std::move(values)), spec_(spec) {}
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  double number(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  bool flag(const std::string& key) const;
  std::string text(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  // The written value, else the default; an Error naming the component when there is neither.
  std::string raw(const std::string& key) const;
  std::map<std::string, std::string> values_;
  const ComponentSpec* spec_ = nullptr;
};

// An entry that makes a `Product` from its options and `Args` (a layer's input shape, an
// optimizer's parameters, …).
template <class Product, class... Args>
struct Entry : ComponentSpec {
  std::function<Product(const Options&, Args...)> make;
  Options options_from(std::map<std::string, std::string> values) const {
    return Options(std::move(values), this);
  }
};

// An entry of type E from its spec and its factory: how every registry's rows are filled.
template <class E, class Make>
E make_entry(ComponentSpec spec, Make make) {
  E e;
  static_cast<ComponentSpec&>(e) = std::move(spec);
  e.make = std::move(make);
  return e;
}

// The valid word closest to `word` by edit distance (case-insensitive), or "" when none is close.
std::string nearest(const std::string& word, const std::vector<std::string>& valid);
// " (did you mean 'mae'?)", or " (valid: a, b, c)" when nothing is close, or "" when `valid` is empty.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& valid);
std::string lower_case(std::string s);

template <class E>
class Registry {
 public:
  Registry(std::string kind, std::vector<E> entries) : kind_(std::move(kind)), entries_(std::move(entries)) {}
  const std::string& kind() const { return kind_; }  // "layer", "loss", … (for messages)
  const std::vector<E>& entries() const { return entries_; }
  // The entry a word names (its name or an alias, any case), or null.
  const E* find(const std::string& word) const {
    const std::string w = lower_case(word);
    for (const auto& e : entries_) {
      if (e.name == w) return &e;
      for (const auto& a : e.aliases)
        if (a == w) return &e;
    }
    return nullptr;
  }
  // The entry a word names, or an Error: "unknown layer 'dens' (did you mean 'dense'?)".
  const E& get(const std::string& word) const;
  std::vector<std::string> names(bool with_aliases = false) const {
    std::vector<std::string> v;
    for (const auto& e : entries_) {
      v.push_back(e.name);
      if (with_aliases) v.insert(v.end(), e.aliases.begin(), e.aliases.end());
    }
    return v;
  }
  std::vector<const ComponentSpec*> specs() const {
    std::vector<const ComponentSpec*> v;
    for (const auto& e : entries_) v.push_back(&e);
    return v;
  }

 private:
  std::string kind_;
  std::vector<E> entries_;
};

[[noreturn]] void fail_unknown_component(const std::string& kind, const std::string& word,
                                         const std::vector<std::string>& valid);

template <class E>
const E& Registry<E>::get(const std::string& word) const {
  if (const E* e = find(word)) return *e;
  fail_unknown_component(kind_, word, names());
}

}  // namespace neurona
