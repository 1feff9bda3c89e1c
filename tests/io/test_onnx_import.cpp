// ONNX import against ONNX's own test models (Debian's libonnx-testdata, installed by
// scripts/install-deps.sh): every model.onnx is decoded and imported without a crash; each one
// that imports runs on its test_data_set_0 inputs and must give the stored outputs. The counts
// are docs/onnx.md's ("How import is checked").
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "io_test_util.hpp"
#include "neurona/core/random.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/nn/image_layers.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = "/usr/share/libonnx-testdata/data";

struct SweepCounts {
  int models = 0, decoded = 0, imported = 0, ran = 0, matched = 0;
};

// max |got − want| ≤ 1e-4 + 1e-3 · |want| (the reference outputs are numpy's, in float32).
bool close(const Tensor& got, const Tensor& want, std::string& why) {
  if (got.shape() != want.shape()) {
    why = "shape " + got.shape().str() + " vs " + want.shape().str();
    return false;
  }
  for (int64_t k = 0; k < want.numel(); ++k) {
    const float g = got.data()[k], w = want.data()[k];
    if (std::isnan(w) && std::isnan(g)) continue;
    if (!(std::abs(g - w) <= 1e-4f + 1e-3f * std::abs(w))) {
      why = "element " + std::to_string(k) + ": " + std::to_string(g) + " vs " + std::to_string(w);
      return false;
    }
  }
  return true;
}

TEST(OnnxImportSweep, OnnxTestModelsImportWithoutCrashAndMatchTheirOutputs) {
  ASSERT_TRUE(fs::exists(kTestData / "node")) << "apt install libonnx-testdata (scripts/install-deps.sh)";
  std::vector<fs::path> dirs;
  for (const char* set : {"node", "pytorch-converted", "pytorch-operator", "simple"})
    for (const auto& e : fs::directory_iterator(kTestData / set))
      if (fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  SweepCounts c;
  std::vector<std::string> imported_names;
  for (const fs::path& d : dirs) {
    ++c.models;
    const std::string name = d.parent_path().filename().string() + "/" + d.filename().string();
    SCOPED_TRACE(name);
    const std::string bytes = io::read_file(d / "model.onnx");
    const fs::path data = d / "test_data_set_0";
    io::OnnxImportOptions o;
    o.source = name;
    Tensor x, y;
    try {
      for (int k = 1; fs::exists(data / ("input_" + std::to_string(k) + ".pb")); ++k)
        o.later_inputs.push_back(io::read_onnx_tensor(data / ("input_" + std::to_string(k) + ".pb")));
      x = io::read_onnx_tensor(data / "input_0.pb");
      y = io::read_onnx_tensor(data / "output_0.pb");
    } catch (const Error&) {  // string or float16 test data: the import alone is tried
    } catch (const std::exception& e) {
      ADD_FAILURE() << "reading the test data threw " << e.what();
    }
    io::OnnxModel m;
    try {
      m = io::import_onnx_bytes(bytes, o);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.find("malformed file") == std::string::npos) ++c.decoded;
      EXPECT_NE(what.find(name), std::string::npos) << what;  // errors name the model
      continue;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "import threw a non-neurona exception: " << e.what();
      continue;
    }
    ++c.decoded, ++c.imported;
    imported_names.push_back(name);
    if (!x.defined() || !y.defined() || fs::exists(data / "output_1.pb")) continue;
    Tensor got;
    try {
      nn::EvalGuard eval(*m.net);
      got = m.net->forward(x);
    } catch (const Error& e) {
      std::cout << "  " << name << ": runs into " << e.what() << "\n";
      continue;
    }
    ++c.ran;
    std::string why;
    if (close(got, y, why))
      ++c.matched;
    else
      ADD_FAILURE() << name << " imports but differs from its stored output: " << why;
  }
  std::cout << "ONNX test models: " << c.models << ", decoded " << c.decoded << ", imported " << c.imported
            << ", ran " << c.ran << ", matched " << c.matched << "\n  imported:";
  for (const auto& n : imported_names) std::cout << " " << n;
  std::cout << "\n";
  EXPECT_EQ(c.decoded, c.models);
  EXPECT_GE(c.matched, 1);
}

}  // namespace
}  // namespace neurona::testing

namespace neurona::testing {
namespace {

// A protobuf writer of the test's own, for files in the shapes other exporters write them.
struct Pb {
  std::string b;
  void key(uint32_t f, int wt) { var((uint64_t{f} << 3) | static_cast<uint64_t>(wt)); }
  void var(uint64_t x) {
    while (x >= 0x80) {
      b.push_back(static_cast<char>((x & 0x7f) | 0x80));
      x >>= 7;
    }
    b.push_back(static_cast<char>(x));
  }
  Pb& v(uint32_t f, int64_t x) {
    key(f, 0);
    var(static_cast<uint64_t>(x));
    return *this;
  }
  Pb& s(uint32_t f, std::string_view x) {
    key(f, 2);
    var(x.size());
    b += x;
    return *this;
  }
  Pb& m(uint32_t f, const Pb& x) { return s(f, x.b); }
  Pb& f32(uint32_t f, float x) {
    key(f, 5);
    b.append(reinterpret_cast<const char*>(&x), 4);
    return *this;
  }
  Pb& packed_f32(uint32_t f, const std::vector<float>& x) {
    return s(f, std::string_view(reinterpret_cast<const char*>(x.data()), x.size() * 4));
  }
  Pb& packed_var(uint32_t f, const std::vector<int64_t>& x) {
    Pb p;
    for (int64_t e : x) p.var(static_cast<uint64_t>(e));
    return s(f, p.b);
  }
};

// TensorProto: dims packed or not, floats in float_data (packed or not), integers in int64_data.
Pb float_tensor(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v,
                bool packed) {
  Pb t;
  if (packed)
    t.packed_var(1, dims);
  else
    for (int64_t d : dims) t.v(1, d);
  t.v(2, 1).s(8, name);
  if (packed)
    t.packed_f32(4, v);
  else
    for (float f : v) t.f32(4, f);
  return t;
}
Pb int_tensor(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
  Pb t;
  for (int64_t d : dims) t.v(1, d);
  t.v(2, 7).s(8, name);
  for (int64_t x : v) t.v(7, x);
  return t;
}
Pb attr_int(const std::string& n, int64_t i) { return Pb().s(1, n).v(3, i).v(20, 2); }
Pb attr_float(const std::string& n, float f) { return Pb().s(1, n).f32(2, f).v(20, 1); }
Pb attr_ints(const std::string& n, const std::vector<int64_t>& v) {
  Pb a;
  a.s(1, n);
  for (int64_t x : v) a.v(8, x);
  return a.v(20, 7);
}
Pb node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
        const std::vector<Pb>& attrs = {}, const std::string& name = "") {
  Pb n;
  for (const auto& s : in) n.s(1, s);
  for (const auto& s : out) n.s(2, s);
  if (!name.empty()) n.s(3, name);
  n.s(4, op);
  for (const auto& a : attrs) n.m(5, a);
  n.v(99, 7);  // a field no ONNX version has: skipped
  return n;
}
Pb value_info(const std::string& name, const std::vector<int64_t>& dims) {
  Pb shape;
  for (size_t i = 0; i < dims.size(); ++i) shape.m(1, i == 0 ? Pb().s(2, "N") : Pb().v(1, dims[i]));
  return Pb().s(1, name).m(2, Pb().m(1, Pb().v(1, 1).m(2, shape)));
}
std::string model(int64_t ir, int64_t opset, const Pb& graph) {
  return Pb().v(1, ir).s(2, "other").m(7, graph).m(8, Pb().s(1, "").v(2, opset)).v(77, 5).b;
}

// What other exporters write: IR 3 with the initializers listed as inputs too, a flatten as
// Shape, Gather, Unsqueeze, Concat, Reshape, a transposed weight, MatMul + Add, Clip as ReLU,
// Dropout with its mask, Identity, the opset-9 Softmax; packed and unpacked fields.
TEST(OnnxImportFiles, OtherExportersIdiomsImportAndComputeTheirValues) {
  const std::vector<float> wt = {0.1f, -0.2f, 0.3f,  0.4f, 0.5f, -0.6f,
                                 0.7f, 0.8f,  -0.9f, 1.0f, 1.1f, 1.2f};  // [3, 4]
  const std::vector<float> bias = {0.05f, -0.1f, 0.2f};
  Pb g;
  g.m(1, node("Shape", {"x"}, {"s"}))
      .m(1, node("Constant", {}, {"zero"}, {Pb().s(1, "value").m(5, int_tensor("", {}, {0})).v(20, 4)}))
      .m(1, node("Gather", {"s", "zero"}, {"n"}, {attr_int("axis", 0)}))
      .m(1, node("Unsqueeze", {"n"}, {"n1"}, {attr_ints("axes", {0})}))
      .m(1, node("Concat", {"n1", "minus1"}, {"shape"}, {attr_int("axis", 0)}))
      .m(1, node("Reshape", {"x", "shape"}, {"flat"}, {}, "flatten"))
      .m(1, node("Transpose", {"Wt"}, {"W"}, {attr_ints("perm", {1, 0})}))
      .m(1, node("MatMul", {"flat", "W"}, {"mm"}))
      .m(1, node("Add", {"mm", "B"}, {"z"}))
      .m(1, node("Clip", {"z"}, {"r"}, {attr_float("min", 0.f), attr_float("max", INFINITY)}))
      .m(1, node("Dropout", {"r"}, {"d", "mask"}, {attr_float("ratio", 0.3f)}))
      .m(1, node("Identity", {"d"}, {"i"}))
      .m(1, node("Softmax", {"i"}, {"y"}))
      .s(2, "g")
      .m(5, float_tensor("Wt", {3, 4}, wt, false))
      .m(5, float_tensor("B", {3}, bias, true))
      .m(5, int_tensor("minus1", {1}, {-1}))
      .m(11, value_info("x", {0, 1, 2, 2}))
      .m(11, value_info("Wt", {3, 4}))
      .m(11, value_info("B", {3}))
      .m(12, value_info("y", {0, 3}));
  io::OnnxModel m = io::import_onnx_bytes(model(3, 9, g));
  EXPECT_EQ(m.input_shape, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(m.output_shape, (std::vector<int64_t>{3}));
  ASSERT_EQ(m.net->size(), 5u) << m.net->str();  // Flatten, Linear, ReLU, Dropout, Softmax
  const Tensor x = Tensor::from({1.f, -2.f, 3.f, 0.5f, -1.f, 0.25f, 2.f, -0.5f}, Shape{2, 1, 2, 2});
  nn::EvalGuard eval(*m.net);
  const Tensor y = m.net->forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  for (int i = 0; i < 2; ++i) {
    double z[3], sum = 0;
    for (int o = 0; o < 3; ++o) {
      double acc = bias[o];
      for (int k = 0; k < 4; ++k) acc += x.data()[i * 4 + k] * wt[o * 4 + k];
      z[o] = std::exp(std::max(acc, 0.0));
      sum += z[o];
    }
    for (int o = 0; o < 3; ++o) EXPECT_NEAR(y.data()[i * 3 + o], z[o] / sum, 1e-6) << i << "," << o;
  }
}

void expect_import_error(const std::string& bytes, const std::string& part) {
  try {
    io::OnnxImportOptions o;
    o.source = "bad.onnx";
    io::import_onnx_bytes(bytes, o);
    ADD_FAILURE() << "no error, expected one with '" << part << "'";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad.onnx"), std::string::npos) << what;
    EXPECT_NE(what.find(part), std::string::npos) << what;
  }
}

Pb relu_graph(const std::vector<Pb>& extra_initializers = {}) {
  Pb g;
  g.m(1, node("Relu", {"x"}, {"y"}, {}, "act")).s(2, "g");
  for (const auto& t : extra_initializers) g.m(5, t);
  g.m(11, value_info("x", {0, 3})).m(12, value_info("y", {0, 3}));
  return g;
}

TEST(OnnxImportFiles, BadFilesAreErrorsNamingTheFileAndTheProblem) {
  EXPECT_ERROR_CONTAINS(io::import_onnx("/nonexistent/model.onnx"), "cannot read /nonexistent/model.onnx");
  expect_import_error("", "no graph");
  expect_import_error("not an onnx file at all", "malformed");
  // A length far past the end of the file, and one that would overflow a size.
  expect_import_error(Pb().v(1, 8).s(2, "p").b + std::string("\x3a\xff\xff\xff\xff\xff\xff\xff\x7f", 9),
                      "runs past the end");
  // Dims of 2^62 · 2^62 elements, or dims that the data does not fill.
  Pb huge;
  huge.v(1, int64_t{1} << 62).v(1, int64_t{1} << 62).v(2, 1).s(8, "w");
  expect_import_error(model(8, 17, relu_graph({huge})), "too many elements");
  expect_import_error(model(8, 17, relu_graph({float_tensor("w", {1000000}, {1.f, 2.f}, true)})),
                      "has 2 values where its dims say 1000000");
  expect_import_error(model(8, 17, relu_graph({float_tensor("w", {2}, {1.f, 2.f}, false).v(1, -3)})),
                      "negative dimension");
  Pb wide;
  wide.m(1, node("Relu", {"x"}, {"y"}))
      .m(11, value_info("x", {0, 100000, 100000}))
      .m(12, value_info("y", {0, 3}));
  expect_import_error(model(8, 17, wide), "more than 67108864 values");
  // External data.
  expect_import_error(model(8, 17, relu_graph({Pb().v(1, 4).v(2, 1).s(8, "w").v(14, 1)})), "external file");
  // Not a chain, unknown operators, other input types.
  Pb branch;
  branch.m(1, node("Relu", {"x"}, {"a"}))
      .m(1, node("Add", {"a", "x"}, {"y"}, {}, "sum"))
      .m(11, value_info("x", {0, 3}))
      .m(12, value_info("y", {0, 3}));
  expect_import_error(model(8, 17, branch), "branches");
  Pb lstm;
  lstm.m(1, node("LSTM", {"x"}, {"y"}, {}, "rnn"))
      .m(11, value_info("x", {0, 3}))
      .m(12, value_info("y", {0, 3}));
  expect_import_error(model(8, 17, lstm), "node 0 'rnn' (LSTM, opset 17)");
  Pb bare;  // a Gemm without its weight, an Erf without input
  bare.m(1, node("Gemm", {"x"}, {"y"})).m(11, value_info("x", {0, 3})).m(12, value_info("y", {0, 3}));
  expect_import_error(model(8, 17, bare), "node 0 (Gemm, opset 17): Gemm needs");
  Pb no_output;
  no_output.m(1, node("Div", {"x", "two"}, {})).m(1, node("Erf", {}, {"y"}));
  no_output.m(5, float_tensor("two", {}, {1.41421354f}, false));
  no_output.m(11, value_info("x", {0, 3})).m(12, value_info("y", {0, 3}));
  expect_import_error(model(8, 17, no_output), "bad.onnx");
  expect_import_error(model(2, 17, relu_graph()), "IR version 2");
  expect_import_error(model(8, 30, relu_graph()), "opset 30");
}

// Every truncation of a real file and random byte changes: an Error or a model, never a crash.
TEST(OnnxImportFiles, TruncatedAndCorruptedFilesNeverCrash) {
  Generator gen(5);
  nn::Sequential net;
  nn::Conv2dOptions c;
  c.in_channels = 1, c.out_channels = 2, c.kernel_size = {3, 3};
  net.add(std::make_shared<nn::Conv2d>(c, &gen));
  net.add(std::make_shared<nn::BatchNorm2d>(2));
  net.add(std::make_shared<nn::ReLU>());
  net.add(std::make_shared<nn::Flatten>());
  net.add(std::make_shared<nn::Linear>(2 * 4 * 4, 3, true, nn::Activation::Identity, &gen));
  const std::string bytes = io::onnx_model_bytes(net, {1, 6, 6});
  int errors = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      io::OnnxImportOptions o;
      o.source = "cut.onnx";
      io::import_onnx_bytes(std::string_view(bytes).substr(0, n), o);
    } catch (const Error& e) {
      ++errors;
      EXPECT_NE(std::string(e.what()).find("cut.onnx"), std::string::npos);
    }
  }
  EXPECT_EQ(errors, static_cast<int>(bytes.size()));  // no prefix is the whole model
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int trial = 0; trial < 3000; ++trial) {
    std::string b = bytes;
    for (int k = 0, flips = 1 + static_cast<int>(next() % 4); k < flips; ++k)
      b[next() % b.size()] = static_cast<char>(next() & 0xff);
    try {
      io::OnnxModel m = io::import_onnx_bytes(b);
      std::vector<int64_t> shape = {2};
      shape.insert(shape.end(), m.input_shape.begin(), m.input_shape.end());
      nn::EvalGuard eval(*m.net);
      m.net->forward(Tensor::zeros(Shape(shape)));
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace neurona::testing
