// Image data through config files: data.images (a folder of class subfolders), data.rescale,
// data.augment, IDX and 4-D .npy inputs, and their rows in docs/config.md.
#include <png.h>

#include <cstring>
#include <fstream>

#include "docs_tables.hpp"
#include "neurona/app/config.hpp"
#include "test_util.hpp"

namespace {

using namespace neurona;
namespace fs = std::filesystem;

void write_gray_png(const fs::path& path, int64_t h, int64_t w, uint8_t base) {
  fs::create_directories(path.parent_path());
  std::vector<uint8_t> px(static_cast<size_t>(h * w));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(base + i);
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(w);
  png.height = static_cast<png_uint_32>(h);
  png.format = PNG_FORMAT_GRAY;
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, px.data(), 0, nullptr)) << png.message;
}

// Three classes of four 6x6 gray images.
fs::path image_folder() {
  const fs::path dir = neurona::testing::fresh_dir("config_images");
  for (const char* cls : {"cat", "ant", "bee"})
    for (int i = 0; i < 4; ++i)
      write_gray_png(dir / cls / ("img" + std::to_string(i) + ".png"), 6, 6, static_cast<uint8_t>(40 * i));
  return dir;
}

std::string images_config(const fs::path& dir) {
  return "name: folder\nseed: 3\ndata:\n  images: {dir: " + dir.string() +
         ", size: [8, 8], color: rgb}\n"
         "  split: {val: 0.25}\n"
         "  augment:\n"
         "    - {random_crop: {size: 6, padding: 1}}\n"
         "    - {random_flip: horizontal}\n"
         "    - {RandomRotation: 10}\n"
         "    - {random_translation: {height_factor: 0.1, width_factor: 0.2}}\n"
         "    - {random_zoom: 0.1}\n"
         "    - {normalize: {mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}}\n"
         "model:\n  layers:\n    - flatten\n    - {dense: 3}\n"
         "compile:\n  optimizer: adam\n  loss: cross_entropy\n  metrics: [accuracy]\n"
         "fit: {batch_size: 4, epochs: 2, verbose: 0}\n";
}

// A .npy of uint8 [2, 1, 2, 2] (numpy's own header layout, version 1.0).
std::string write_u8_npy(const std::string& name) {
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1, 2, 2), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string s = std::string("\x93NUMPY\x01\x00", 8);
  s += static_cast<char>(header.size() & 0xff);
  s += static_cast<char>(header.size() >> 8);
  s += header;
  for (int v : {0, 51, 102, 255, 1, 2, 3, 4}) s += static_cast<char>(v);
  const std::string path = (neurona::testing::fresh_dir(name) / "x.npy").string();
  std::ofstream(path, std::ios::binary) << s;
  return path;
}

}  // namespace

TEST(ConfigImages, ImagesAndAugmentParse) {
  const app::Config c = app::parse_config(images_config("/some/dir"), "folder.yaml");
  EXPECT_EQ(c.data.source, "images");
  EXPECT_EQ(c.data.images, "/some/dir");
  EXPECT_EQ(c.data.image_height, 8);
  EXPECT_EQ(c.data.image_width, 8);
  EXPECT_EQ(c.data.image_color, "rgb");
  ASSERT_EQ(c.data.augment.size(), 6u);
  EXPECT_EQ(c.data.augment[0].kind, "random_crop");
  EXPECT_EQ(c.data.augment[0].text("padding", ""), "1");
  EXPECT_EQ(c.data.augment[1].text("mode", ""), "horizontal");
  EXPECT_EQ(c.data.augment[2].kind, "random_rotation");  // Keras's class name is an alias
  EXPECT_EQ(c.data.augment[2].number("degrees", 0), 10);
  EXPECT_EQ(c.data.augment[5].numbers("std"), (std::vector<double>{0.25, 0.25, 0.25}));
  EXPECT_EQ(app::task_of(c), "multiclass");
  // `images: DIR` alone, one size for both sides, grayscale.
  const app::Config g = app::parse_config(
      "data: {images: {dir: d, size: 5, color: grayscale}}\nmodel: {layers: [flatten]}\n"
      "compile: {optimizer: adam, loss: cross_entropy}\n",
      "g");
  EXPECT_EQ(g.data.image_height, 5);
  EXPECT_EQ(g.data.image_width, 5);
  EXPECT_EQ(g.data.image_color, "grayscale");
}

TEST(ConfigImages, ErrorsNameTheKey) {
  const std::string dir = "/d";
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = images_config(dir);
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  EXPECT_ERROR_CONTAINS(app::parse_config(with("{random_flip: horizontal}", "{random_flp: horizontal}"), "t"),
                        "data.augment[1]: unknown augmentation 'random_flp' (did you mean 'random_flip'?)");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("{random_flip: horizontal}", "{random_flip: sideways}"), "t"),
                        "data.augment[1].random_flip.mode: unknown value 'sideways'");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("padding: 1", "padding: -1"), "t"),
                        "data.augment[0]: random_crop: padding must be >= 0");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("color: rgb", "color: cmyk"), "t"),
                        "data.images.color: unknown value 'cmyk'");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("size: [8, 8]", "size: [8, 8, 3]"), "t"),
                        "data.images.size: expected [height, width] or one number, got 3");
  EXPECT_ERROR_CONTAINS(app::parse_config(with("color: rgb", "colour: rgb"), "t"),
                        "unknown key 'colour' (did you mean 'color'?)");
  EXPECT_ERROR_CONTAINS(
      app::parse_config(
          with("images: {dir: /d, size: [8, 8], color: rgb}", "synthetic: {kind: xor}\n  rescale: 0.5"), "t"),
      "data.rescale: goes with image data");
  // A crop larger than the (resized) images is named when the data are known.
  const fs::path folder = image_folder();
  std::string big = images_config(folder);
  big.replace(big.find("size: 6, padding: 1"), 19, "size: 12, padding: 1");
  EXPECT_ERROR_CONTAINS(
      app::load_data(app::parse_config(big, "t")),
      "data.augment[0]: random_crop: size 12x12 is larger than the 8x8 images with padding 1");
}

TEST(ConfigImages, FolderLoadsSplitsAugmentsTrainingAndTrains) {
  const fs::path dir = image_folder();
  const app::Config c = app::parse_config(images_config(dir), "folder.yaml");
  const app::PreparedData d = app::load_data(c);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "bee", "cat"}));
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.train.size(), 9);
  ASSERT_TRUE(d.val.has_value());
  EXPECT_EQ(d.val->size(), 3);
  EXPECT_EQ(d.train.features().shape(), (Shape{9, 3, 8, 8}));
  EXPECT_EQ(d.input_shape, (Shape{3, 6, 6}));  // after random_crop's 6x6 window
  ASSERT_NE(d.augment, nullptr);
  EXPECT_TRUE(d.augment->training());
  EXPECT_FALSE(d.eval_transform()->training());
  // The same file gives the same pixels: image 0 of a class is 0, 1, 2, … resized 6 -> 8.
  for (float v : d.train.features().to_vector()) ASSERT_TRUE(v >= 0.f && v <= 1.f);

  const app::TrainResult r = app::run_training(c);
  EXPECT_EQ(r.history["loss"].size(), 2u);
  EXPECT_EQ(r.history["val_loss"].size(), 2u);
  EXPECT_EQ((*r.net)[1]->parameters()[0].shape(), (Shape{3, 3 * 6 * 6}));
  // Validation sees the evaluation form: the centre 6x6 window, normalised. Evaluating the
  // validation rows through it by hand gives the fit's last val_loss.
  train::Model m(r.net);
  m.compile(app::compile_options(c, r.net.get()));
  const train::Logs logs = m.evaluate(*d.val, 4, d.eval_transform());
  EXPECT_NEAR(logs.at("loss"), r.history["val_loss"].back(), 1e-5);
  const Tensor by_hand = d.eval_transform()->evaluate(d.val->features());
  EXPECT_EQ(by_hand.shape(), (Shape{3, 3, 6, 6}));
  EXPECT_NEAR(by_hand.at({0, 0, 0, 0}), (d.val->features().at({0, 0, 1, 1}) - 0.5f) / 0.25f, 1e-6);
}

TEST(ConfigImages, NpyOfBytesIsRescaledAndFourDimensional) {
  const std::string x = write_u8_npy("config_npy_u8");
  const fs::path ydir = fs::path(x).parent_path();
  data::write_npy((ydir / "y.npy").string(), Tensor::from({0, 1}, {2}));
  const std::string base = "data:\n  npy: {x: " + x + ", y: " + (ydir / "y.npy").string() +
                           "}\n  split: none\n  task: multiclass\n"
                           "model: {layers: [flatten, {dense: 2}]}\n"
                           "compile: {optimizer: adam, loss: cross_entropy}\n";
  const app::PreparedData d = app::load_data(app::parse_config(base, "n"));
  EXPECT_EQ(d.input_shape, (Shape{1, 2, 2}));
  neurona::testing::expect_values(d.train.features().slice(0, 1), {0, 0.2f, 0.4f, 1}, 0);
  const app::PreparedData raw = app::load_data(app::parse_config(base, "n", {"data.rescale=1"}));
  neurona::testing::expect_values(raw.train.features().slice(0, 1), {0, 51, 102, 255}, 0);
  const app::PreparedData half = app::load_data(app::parse_config(base, "n", {"data.rescale=0.5"}));
  neurona::testing::expect_values(half.train.features().slice(1, 2), {0.5f, 1, 1.5f, 2}, 0);
}

TEST(ConfigImages, IdxImagesHaveAChannelAndDenseModelsFlattenThem) {
  const fs::path dir = neurona::testing::fresh_dir("config_idx");
  auto idx = [](std::vector<uint32_t> dims, size_t n) {
    std::string s{0, 0, 0x08, char(dims.size())};
    for (uint32_t d : dims)
      for (int shift = 24; shift >= 0; shift -= 8) s += char((d >> shift) & 0xff);
    for (size_t i = 0; i < n; ++i) s += char(i % 10);
    return s;
  };
  std::ofstream(dir / "train-images-idx3-ubyte", std::ios::binary) << idx({4, 28, 28}, 4 * 784);
  std::ofstream(dir / "train-labels-idx1-ubyte", std::ios::binary) << idx({4}, 4);
  std::ofstream(dir / "t10k-images-idx3-ubyte", std::ios::binary) << idx({2, 28, 28}, 2 * 784);
  std::ofstream(dir / "t10k-labels-idx1-ubyte", std::ios::binary) << idx({2}, 2);
  const app::Config c =
      app::parse_config("data: {idx: " + dir.string() +
                            ", split: none}\n"
                            "model: {layers: [flatten, {dense: 4, activation: relu}, {dense: 10}]}\n"
                            "compile: {optimizer: adam, loss: cross_entropy}\n",
                        "idx.yaml");
  const app::PreparedData d = app::load_data(c);
  EXPECT_EQ(d.input_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(d.test->features().shape(), (Shape{2, 1, 28, 28}));
  const auto net = app::build_model(c, d.input_shape);
  EXPECT_EQ((*net)[1]->parameters()[0].shape(), (Shape{4, 784}));  // the same weights as before
  EXPECT_EQ((*net)(d.train.features()).shape(), (Shape{4, 10}));
}

TEST(ConfigImages, DocsListTheDataKeys) {
  const std::string doc = docs_tables::config_docs();
  const auto rows = docs_tables::docs_table(doc.substr(doc.find("## `data`")), "key");
  auto row = [&](const std::string& key) {
    for (const auto& r : rows)
      if (r.rfind("| `" + key + "` |", 0) == 0) return r;
    return std::string();
  };
  for (const char* key : {"idx", "npy", "images", "rescale", "augment"})
    EXPECT_FALSE(row(key).empty()) << key;
  for (const char* sub : {"dir: DIR", "size: [H, W]", "color: rgb", "`rgb`", "`grayscale`"})
    EXPECT_NE(row("images").find(sub), std::string::npos) << sub;
  EXPECT_NE(row("idx").find("`[1, 28, 28]`"), std::string::npos);
}
