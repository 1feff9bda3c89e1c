// ONNX import against ONNX's own test models (Debian's libonnx-testdata, installed by
// scripts/install-deps.sh): every model.onnx is decoded and imported without a crash; each one
// that imports runs on its test_data_set_0 inputs and must give the stored outputs. The counts
// are docs/onnx.md's ("How import is checked").
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "io_test_util.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/onnx.hpp"
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
