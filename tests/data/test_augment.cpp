// Image pipelines: each step's values from its definition (replaying the generator's draws),
// determinism, the evaluation form, and their place in the DataLoader and DataModule.
#include <cmath>

#include "docs_tables.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;

namespace {

// Images [n, c, h, w] holding 1, 2, 3, … (no zeros, so zero padding shows).
Tensor counting(int64_t n, int64_t c, int64_t h, int64_t w) {
  return add(Tensor::arange(static_cast<double>(n * c * h * w)).reshape({n, c, h, w}), 1.f);
}

}  // namespace

TEST(Augment, FlipIsAnExactMirrorDrawnWithProbabilityHalf) {
  const Tensor img = counting(16, 2, 3, 4);
  for (auto mode :
       {RandomFlip::Mode::Horizontal, RandomFlip::Mode::Vertical, RandomFlip::Mode::HorizontalAndVertical}) {
    Generator g(3), replay(3);
    const Tensor out = RandomFlip(mode).apply(img, &g);
    int flipped = 0;
    for (int64_t i = 0; i < 16; ++i) {
      const bool h = mode != RandomFlip::Mode::Vertical && replay.uniform() < 0.5;
      const bool v = mode != RandomFlip::Mode::Horizontal && replay.uniform() < 0.5;
      flipped += h || v;
      for (int64_t c = 0; c < 2; ++c)
        for (int64_t y = 0; y < 3; ++y)
          for (int64_t x = 0; x < 4; ++x)
            ASSERT_EQ(out.at({i, c, y, x}), img.at({i, c, v ? 2 - y : y, h ? 3 - x : x})) << i << " " << c;
    }
    EXPECT_GT(flipped, 0);
    EXPECT_LT(flipped, 16);
  }
  // Not training: unchanged.
  expect_values(RandomFlip().apply(img, nullptr), img.to_vector(), 0);
}

TEST(Augment, CropPadsWithZerosAndTakesTheDrawnWindow) {
  const Tensor img = counting(6, 1, 3, 3);
  RandomCrop crop(3, 3, 1);  // CIFAR's RandomCrop(32, padding=4) in small
  Generator g(8), replay(8);
  const Tensor out = crop.apply(img, &g);
  ASSERT_EQ(out.shape(), img.shape());
  bool moved = false;
  for (int64_t i = 0; i < 6; ++i) {
    // torchvision draws the top row of the padded image, then the left column: 0 … 2.
    const int64_t top = replay.randint(3) - 1, left = replay.randint(3) - 1;
    moved = moved || top != 0 || left != 0;
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 3; ++x) {
        const int64_t sy = y + top, sx = x + left;
        const float want = sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? img.at({i, 0, sy, sx}) : 0.f;
        ASSERT_EQ(out.at({i, 0, y, x}), want)
            << i << " at " << y << "," << x << " window " << top << "," << left;
      }
  }
  EXPECT_TRUE(moved);
}

TEST(Augment, CropChangesTheSizeAndEvaluatesOnTheCentre) {
  RandomCrop crop(2, 2);
  EXPECT_EQ(crop.output_shape(Shape{3, 5, 4}), (Shape{3, 2, 2}));
  // CenterCrop: top = round((5 - 2) / 2) = round(1.5) = 2 (halves to even), left = 1.
  const Tensor img = counting(1, 1, 5, 4);
  expect_values(crop.apply(img, nullptr), {10, 11, 14, 15}, 0);
  // A window larger than the image is zero-filled around it, (4 - 2) // 2 = 1 row before.
  expect_values(RandomCrop(4, 2).apply(counting(1, 1, 2, 2), nullptr), {0, 0, 1, 2, 3, 4, 0, 0}, 0);
  EXPECT_ERROR_CONTAINS(RandomCrop(7, 7, 1).output_shape(Shape{1, 4, 4}),
                        "larger than the 4x4 images with padding 1");
  EXPECT_ERROR_CONTAINS(RandomCrop(2, 2, -1), "padding must be >= 0");
}

TEST(Augment, NormalizeIsPerChannel) {
  const Tensor img = Tensor::from({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  // (x - mean[c]) / std[c]: channel 0 with (1, 2), channel 1 with (10, 10).
  expect_values(Normalize({1, 10}, {2, 10}).apply(img, nullptr), {0, 0.5f, 1, 1.5f, 0, 1, 2, 3});
  // One value for every channel.
  expect_values(Normalize({0.5f}, {0.25f}).apply(Tensor::from({0.5f, 1, 0, 0.75f}, {1, 2, 1, 2}), nullptr),
                {0, 2, -2, 1});
  EXPECT_ERROR_CONTAINS(Normalize({0.5f, 0.5f, 0.5f}, {1, 1, 1}).apply(img, nullptr),
                        "2 channel(s) but 3 means");
  EXPECT_ERROR_CONTAINS(Normalize({0}, {0}), "std must be > 0");
}

TEST(Augment, RotationTurnsCounterClockwiseAboutTheCentre) {
  // One bright pixel 4 to the right of the centre of a 9x9 image goes to angle a (y points down).
  auto img = Tensor::zeros({1, 1, 9, 9});
  img.data()[4 * 9 + 8] = 1.f;
  Generator g(11), replay(11);
  const Tensor out = RandomRotation(30).apply(img, &g);
  const double a = replay.uniform(-30.f, 30.f) * M_PI / 180.0;
  ASSERT_GT(std::abs(a), 0.05);
  double mass = 0, mx = 0, my = 0;
  for (int64_t y = 0; y < 9; ++y)
    for (int64_t x = 0; x < 9; ++x) {
      const double v = out.at({0, 0, y, x});
      mass += v, mx += v * x, my += v * y;
    }
  EXPECT_NEAR(mx / mass, 4 + 4 * std::cos(a), 0.15);
  EXPECT_NEAR(my / mass, 4 - 4 * std::sin(a), 0.15);
  Generator c(3);
  EXPECT_NEAR(RandomRotation(30).apply(Tensor::ones({1, 1, 9, 9}), &c).at({0, 0, 4, 4}), 1.f, 1e-5f);
}

TEST(Augment, TranslationAndZoomResampleBilinearly) {
  // On a linear ramp v = x + 10 y bilinear sampling is exact, so inside the image the output is
  // the ramp at the source position.
  auto ramp = Tensor::empty({2, 1, 8, 8});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t y = 0; y < 8; ++y)
      for (int64_t x = 0; x < 8; ++x) ramp.data()[(i * 8 + y) * 8 + x] = static_cast<float>(x + 10 * y);
  {
    Generator g(5), replay(5);
    const Tensor out = RandomTranslation(0.2, 0.1).apply(ramp, &g);
    for (int64_t i = 0; i < 2; ++i) {
      const double dy = replay.uniform(-0.2f, 0.2f) * 8, dx = replay.uniform(-0.1f, 0.1f) * 8;
      for (int64_t y = 2; y < 6; ++y)
        for (int64_t x = 1; x < 7; ++x)
          EXPECT_NEAR(out.at({i, 0, y, x}), (x - dx) + 10 * (y - dy), 1e-4) << i << " " << y << " " << x;
      // Moved down by dy > 0, the top row reads from outside: zero-filled.
      if (dy > 1) {
        EXPECT_EQ(out.at({i, 0, 0, 4}), 0.f);
      }
    }
  }
  {
    Generator g(6), replay(6);
    const Tensor out = RandomZoom(0.3).apply(ramp, &g);
    for (int64_t i = 0; i < 2; ++i) {
      const double z = 1 + replay.uniform(-0.3f, 0.3f);  // > 1 samples a larger region: zooms out
      for (int64_t y = 3; y < 5; ++y)
        for (int64_t x = 3; x < 5; ++x) {
          const double sx = 3.5 + (x - 3.5) * z, sy = 3.5 + (y - 3.5) * z;
          EXPECT_NEAR(out.at({i, 0, y, x}), sx + 10 * sy, 1e-4) << i << " zoom " << z;
        }
    }
  }
  EXPECT_ERROR_CONTAINS(RandomZoom(1.5), "factor must be in [0, 1)");
}

TEST(Augment, PipelineRunsStepsInOrderAndItsEvaluationFormSkipsTheRandomOnes) {
  const ImagePipeline p({std::make_shared<RandomCrop>(2, 2, 1), std::make_shared<RandomFlip>(),
                         std::make_shared<Normalize>(std::vector<float>{1}, std::vector<float>{2})});
  EXPECT_TRUE(p.training());
  EXPECT_EQ(p.output_shape(Shape{1, 4, 4}), (Shape{1, 2, 2}));
  const Tensor img = counting(3, 1, 4, 4);
  Generator a(1), b(1), c(2);
  const Tensor out = p(img, a);
  expect_values(p(img, b), out.to_vector(), 0);  // same seed, same batch
  bool differs = false;
  const Tensor other = p(img, c);
  for (int64_t i = 0; i < out.numel(); ++i) differs = differs || other.data()[i] != out.data()[i];
  EXPECT_TRUE(differs);
  // Evaluation: centre crop (rows 1-2, columns 1-2) and normalize only.
  const auto eval = p.evaluation();
  EXPECT_FALSE(eval->training());
  Generator unused(9);
  const Tensor e = (*eval)(img, unused);
  expect_values(e.slice(0, 1), {(6 - 1) / 2.f, (7 - 1) / 2.f, (10 - 1) / 2.f, (11 - 1) / 2.f});
  expect_values(p.evaluate(img), e.to_vector(), 0);
}

namespace {

std::shared_ptr<TensorDataset> image_set(int64_t n) {
  return std::make_shared<TensorDataset>(counting(n, 1, 4, 4), Tensor::arange(static_cast<double>(n)));
}

std::vector<float> epoch_pixels(DataLoader& loader) {
  std::vector<float> v;
  for (const Batch& b : loader) {
    const auto x = b.x.to_vector();
    v.insert(v.end(), x.begin(), x.end());
  }
  return v;
}

}  // namespace

TEST(AugmentLoader, SeededPerBatchWhicheverThreadBuildsIt) {
  auto pipeline = std::make_shared<ImagePipeline>(
      std::vector<ImageStep>{std::make_shared<RandomCrop>(4, 4, 2), std::make_shared<RandomFlip>()});
  auto ds = image_set(40);
  LoaderOptions o{.batch_size = 4, .shuffle = true, .seed = 7, .prefetch = false};
  o.transform = pipeline;
  DataLoader inline_loader(ds, o), again(ds, o);
  o.prefetch = true;
  DataLoader prefetched(ds, o);
  o.seed = 8;
  DataLoader other_seed(ds, o);
  const auto first = epoch_pixels(inline_loader);
  EXPECT_EQ(first, epoch_pixels(again));
  EXPECT_EQ(first, epoch_pixels(prefetched));
  EXPECT_NE(first, epoch_pixels(other_seed));
  // The next epoch draws anew; set_epoch replays an epoch.
  const auto second = epoch_pixels(inline_loader);
  EXPECT_NE(first, second);
  again.set_epoch(1);
  EXPECT_EQ(second, epoch_pixels(again));
  // Batches hold their own samples, changed: the targets still match the rows.
  inline_loader.reset();
  Batch b;
  ASSERT_TRUE(inline_loader.next(b));
  for (int64_t i = 0; i < b.size(); ++i) EXPECT_EQ(b.y.data()[i], static_cast<float>(b.indices[i]));
}

TEST(AugmentLoader, PrefetchWorkerAppliesTheSameDraws) {
  // Batches that take milliseconds to rotate (16 x 3 x 64 x 64 pixels, bilinear), far above
  // kPrefetchMinMicros, so the loader starts its worker; the draws must not change.
  auto pipeline =
      std::make_shared<ImagePipeline>(std::vector<ImageStep>{std::make_shared<RandomRotation>(20)});
  auto ds = std::make_shared<TensorDataset>(counting(96, 3, 64, 64), Tensor::zeros({96}));
  LoaderOptions o{.batch_size = 16, .shuffle = true, .seed = 3, .prefetch = true};
  o.transform = pipeline;
  DataLoader a(ds, o);
  o.prefetch = false;
  DataLoader b(ds, o);
  const auto pa = epoch_pixels(a);
  EXPECT_TRUE(a.prefetching());
  EXPECT_EQ(pa, epoch_pixels(b));
}

TEST(AugmentLoader, DataModuleAugmentsTrainingBatchesOnlyAndNormalizesEverySplit) {
  DataModuleOptions opt{.val_fraction = 0.25, .seed = 1};
  opt.train_loader = {.batch_size = 50, .shuffle = false, .prefetch = false};
  opt.augment = std::make_shared<ImagePipeline>(
      std::vector<ImageStep>{std::make_shared<RandomFlip>(RandomFlip::Mode::Horizontal),
                             std::make_shared<Normalize>(std::vector<float>{1}, std::vector<float>{2})});
  auto dm = DataModule::from_tensors(counting(40, 1, 2, 2), Tensor::arange(40.0), opt);
  auto norm = [](float v) { return (v - 1) / 2; };
  // Validation rows: normalised, never flipped.
  auto val = dm.val_loader();
  for (const Batch& b : val)
    for (int64_t i = 0; i < b.size(); ++i)
      for (int64_t k = 0; k < 4; ++k)
        ASSERT_EQ(b.x.data()[i * 4 + k], norm(dm.val_set()->features().data()[b.indices[i] * 4 + k]));
  // Training rows: normalised, and some flipped (columns swapped).
  auto train = dm.train_loader();
  int flipped = 0, kept = 0;
  for (const Batch& b : train)
    for (int64_t i = 0; i < b.size(); ++i) {
      const float* raw = dm.train_set()->features().data() + b.indices[i] * 4;
      const float* got = b.x.data() + i * 4;
      const bool same = got[0] == norm(raw[0]) && got[1] == norm(raw[1]);
      const bool mirror = got[0] == norm(raw[1]) && got[1] == norm(raw[0]);
      ASSERT_TRUE(same || mirror) << i;
      (same ? kept : flipped)++;
    }
  EXPECT_GT(flipped, 0);
  EXPECT_GT(kept, 0);
}

TEST(AugmentRegistry, EveryStepIsMadeFromItsOptionsAndDocumented) {
  const auto& r = augmentations();
  auto make = [&](const std::string& name, std::map<std::string, std::string> options) {
    const AugmentEntry& e = r.get(name);
    return e.make(e.options_from(std::move(options)));
  };
  EXPECT_EQ(make("RandomFlip", {})->kind(), "random_flip");
  EXPECT_EQ(make("random_crop", {{"size", "24,20"}, {"padding", "2"}})->output_shape(Shape{3, 24, 24}),
            (Shape{3, 24, 20}));
  EXPECT_EQ(make("random_crop", {{"size", "5"}})->output_shape(Shape{1, 8, 8}), (Shape{1, 5, 5}));
  EXPECT_EQ(make("random_rotation", {{"degrees", "15"}})->kind(), "random_rotation");
  EXPECT_EQ(make("random_translation", {{"factor", "0.1"}})->kind(), "random_translation");
  EXPECT_EQ(make("random_zoom", {{"factor", "0.1"}})->kind(), "random_zoom");
  EXPECT_FALSE(make("normalize", {{"mean", "0.5"}, {"std", "0.5"}})->random());
  EXPECT_ERROR_CONTAINS(make("random_translation", {}), "give factor, height_factor or width_factor");
  EXPECT_ERROR_CONTAINS(r.get("random_flp"), "did you mean 'random_flip'");
  docs_tables::expect_docs_list(r.specs(), "augmentation");
}
