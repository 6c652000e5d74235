#include "regal/data/scene_generator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "regal/core/atomic_file.h"
#include "regal/core/error.h"
#include "regal/core/progress.h"

namespace regal::data {
namespace fs = std::filesystem;
using nlohmann::json;

const std::array<std::string, kSceneClasses> kSceneClassNames = {
    "road",        "sidewalk", "building", "vegetation", "sky",
    "T-shirt/top", "Trouser",  "Pullover", "Dress",      "Coat",
    "Sandal",      "Shirt",    "Sneaker",  "Bag",        "Ankle boot"};

// Stuff in Cityscapes colours; each thing borrows a Cityscapes thing colour
// (person, rider, car, truck, bus, train, motorcycle, bicycle, light, sign).
const std::array<std::array<uint8_t, 3>, kSceneClasses> kScenePalette = {{
    {128, 64, 128}, {244, 35, 232}, {70, 70, 70}, {107, 142, 35}, {70, 130, 180},
    {220, 20, 60}, {255, 0, 0}, {0, 0, 142}, {0, 0, 70}, {0, 60, 100},
    {0, 80, 100}, {0, 0, 230}, {119, 11, 32}, {250, 170, 30}, {220, 220, 0}}};

namespace {

constexpr int kBands = kSceneStuffClasses;
// Bands top to bottom and the train id each one is labelled with.
constexpr std::array<int, kBands> kBandClass = {kSky, kBuilding, kVegetation, kSidewalk, kRoad};
// Each band's colour (RGB in [0, 1]) before the domain style and jitter.
constexpr std::array<std::array<float, 3>, kBands> kBandColour = {{
    {0.53f, 0.72f, 0.90f},   // sky: light blue
    {0.50f, 0.45f, 0.42f},   // building: grey-brown
    {0.27f, 0.45f, 0.18f},   // vegetation: green
    {0.68f, 0.64f, 0.60f},   // sidewalk: light grey
    {0.33f, 0.33f, 0.36f}}};  // road: dark grey
const char* const kScenesFile = "scenes.json";
const char* const kManifestFile = "dataset.json";

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Randomness: one generator per image, seeded from (seed, domain, split,
// index), so output bytes never depend on thread scheduling. Draws are
// computed here rather than with std:: distributions, whose results differ
// between standard libraries.

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t derive_seed(uint64_t seed, uint64_t domain, uint64_t split, uint64_t index) {
  uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
  h = mix64(h ^ (domain + 1) * 0xd6e8feb86659fd93ULL);
  h = mix64(h ^ (split + 1) * 0xa0761d6478bd642fULL);
  return mix64(h ^ (index + 1) * 0xe7037ed1a0b428dbULL);
}

constexpr double kPi = 3.14159265358979323846;

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform in 0..n-1; requires n > 0 (the bias of scaling is below 2^-40 here).
  int index(size_t n) { return static_cast<int>(uniform() * static_cast<double>(n)); }
  int between(int lo, int hi) { return lo + index(static_cast<size_t>(hi - lo + 1)); }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }
  // A cv::RNG (fast bulk noise fills) seeded from this stream.
  cv::RNG cv_rng() { return cv::RNG(engine_() | 1ULL); }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------
// Colours and textures.

cv::Vec3f hsv_to_rgb(float hue_degrees, float saturation, float value) {
  cv::Mat hsv(1, 1, CV_32FC3, cv::Scalar(hue_degrees, saturation, value));
  cv::Mat rgb;
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
  return rgb.at<cv::Vec3f>(0, 0);
}

// A style's hue rotation and saturation applied to one base colour.
cv::Vec3f styled_colour(const std::array<float, 3>& rgb, const SceneStyle& style) {
  cv::Mat in(1, 1, CV_32FC3, cv::Scalar(rgb[0], rgb[1], rgb[2]));
  cv::Mat hsv;
  cv::cvtColor(in, hsv, cv::COLOR_RGB2HSV);
  cv::Vec3f& p = hsv.at<cv::Vec3f>(0, 0);
  p[0] = static_cast<float>(std::fmod(p[0] + style.hue_shift() + 360.0, 360.0));
  p[1] = std::min(1.0f, static_cast<float>(p[1] * style.saturation()));
  return hsv_to_rgb(p[0], p[1], p[2]);
}

// [rows, cols] CV_32F noise of roughly unit variance whose features are about
// `cell` pixels wide: N(0,1) on a coarse grid, upsampled (procedural texture
// from resized random noise instead of per-pixel loops).
cv::Mat noise_field(cv::RNG& rng, int rows, int cols, double cell, int interpolation) {
  cell = std::max(1.0, cell);
  const int coarse_rows = static_cast<int>(std::ceil(rows / cell)) + 1;
  const int coarse_cols = static_cast<int>(std::ceil(cols / cell)) + 1;
  cv::Mat coarse(coarse_rows, coarse_cols, CV_32F);
  rng.fill(coarse, cv::RNG::NORMAL, 0.0, 1.0);
  if (cell == 1.0) return coarse(cv::Rect(0, 0, cols, rows));
  cv::Mat fine;
  cv::resize(coarse, fine,
             cv::Size(static_cast<int>(std::ceil(coarse_cols * cell)),
                      static_cast<int>(std::ceil(coarse_rows * cell))),
             0, 0, interpolation);
  return fine(cv::Rect(0, 0, cols, rows));
}

// [1, n] (or [n, 1]) 0/1 pattern: 1 where (i + phase) mod period < on.
cv::Mat stripes(int n, int period, int on, int phase, bool horizontal) {
  cv::Mat line = horizontal ? cv::Mat(1, n, CV_32F) : cv::Mat(n, 1, CV_32F);
  auto* values = line.ptr<float>();
  for (int i = 0; i < n; ++i) values[i] = ((i + phase) % period) < on ? 1.0f : 0.0f;
  return line;
}

// The texture of band `band` over canvas rows [top, top + rows) as a
// [rows, cols] CV_32F field around 0 (shade = 1 + contrast * field); only the
// rows a band can cover are computed. Periods are in pixels at texture_scale 1.
cv::Mat stuff_texture(int band, const SceneStyle& style, Rng& rng, cv::RNG& noise, int top, int rows,
                      int cols, int canvas_rows) {
  const double s = style.texture_scale() * rng.uniform(0.85, 1.15);
  const auto period = [&](double pixels) { return std::max(2, static_cast<int>(std::lround(pixels * s))); };
  cv::Mat field;
  switch (kBandClass[static_cast<size_t>(band)]) {
    case kSky: {  // brighter towards the horizon, soft clouds
      cv::Mat gradient(rows, 1, CV_32F);
      for (int y = 0; y < rows; ++y) {
        gradient.at<float>(y) = 0.8f * static_cast<float>(top + y) / static_cast<float>(canvas_rows) - 0.4f;
      }
      field = cv::repeat(gradient, 1, cols) + 0.6 * noise_field(noise, rows, cols, 20 * s, cv::INTER_CUBIC);
      break;
    }
    case kBuilding: {  // a grid of windows of varying darkness on a stained facade
      const int px = period(9), py = period(11);
      const int row_phase = top + rng.index(static_cast<size_t>(py));
      const int col_phase = rng.index(static_cast<size_t>(px));
      const cv::Mat window_rows = cv::repeat(stripes(rows, py, std::max(1, py / 2), row_phase, false), 1, cols);
      const cv::Mat window_cols = cv::repeat(stripes(cols, px, std::max(1, px * 5 / 9), col_phase, true), rows, 1);
      const cv::Mat windows = window_rows.mul(window_cols);
      const cv::Mat darkness = 0.6 + 0.4 * noise_field(noise, rows, cols, px, cv::INTER_NEAREST);
      field = -1.0 * windows.mul(darkness) + 0.35 * noise_field(noise, rows, cols, 1, cv::INTER_NEAREST) +
              0.3 * noise_field(noise, rows, cols, 24 * s, cv::INTER_CUBIC);
      break;
    }
    case kVegetation:  // leafy: medium and fine grain
      field = 0.8 * noise_field(noise, rows, cols, 3 * s, cv::INTER_LINEAR) +
              0.5 * noise_field(noise, rows, cols, 1, cv::INTER_NEAREST);
      break;
    case kSidewalk: {  // paving slabs: dark joints on a regular grid
      const int tx = period(14), ty = period(5);
      const int row_phase = top + rng.index(static_cast<size_t>(ty));
      const int col_phase = rng.index(static_cast<size_t>(tx));
      const cv::Mat joints = cv::max(cv::repeat(stripes(rows, ty, 1, row_phase, false), 1, cols),
                                     cv::repeat(stripes(cols, tx, 1, col_phase, true), rows, 1));
      field = -0.7 * joints + 0.25 * noise_field(noise, rows, cols, 1, cv::INTER_NEAREST) +
              0.25 * noise_field(noise, rows, cols, 30 * s, cv::INTER_CUBIC);
      break;
    }
    default:  // road: asphalt grain and large patches
      field = 0.5 * noise_field(noise, rows, cols, 1, cv::INTER_NEAREST) +
              0.4 * noise_field(noise, rows, cols, 28 * s, cv::INTER_CUBIC);
      break;
  }
  return field;
}

// ---------------------------------------------------------------------------
// One scene.

struct SplitPlan {
  int domain;           // 0 source, 1 target
  int split;            // index within the domain
  std::string name;     // train, val, d_t, ...
  int count;            // images
  bool test_instances;  // items from the Fashion-MNIST test part
};

const std::array<const char*, 2> kDomainNames = {"source", "target"};

std::vector<SplitPlan> split_plans(const SceneOptions& o) {
  return {{0, 0, "train", o.source_train(), false}, {0, 1, "val", o.source_val(), false},
          {1, 0, "d_t", o.target_d_t(), false},     {1, 1, "d_s", o.target_d_s(), false},
          {1, 2, "d_r", o.target_d_r(), false},     {1, 3, "d_v", o.target_d_v(), false},
          {1, 4, "val", o.target_val(), true}};
}

std::vector<std::string> frequency_splits(int domain) {
  return domain == 0 ? std::vector<std::string>{"train"} : std::vector<std::string>{"d_t", "d_r"};
}

std::string image_id(const SplitPlan& plan, int index) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%05d", index);
  return plan.name + "_" + digits;
}

// Fashion-MNIST instances a split may draw, per class: source even training
// indices, target odd ones, target val the test part.
struct InstancePool {
  const FashionMnist* data = nullptr;
  std::array<std::vector<int>, kFashionMnistClasses> by_class;
};

InstancePool make_pool(const FashionMnist& data, int parity) {
  InstancePool pool;
  pool.data = &data;
  for (int i = 0; i < data.size(); ++i) {
    if (parity >= 0 && i % 2 != parity) continue;
    pool.by_class[data.labels[static_cast<size_t>(i)]].push_back(i);
  }
  for (int c = 0; c < kFashionMnistClasses; ++c) {
    REGAL_CHECK(!pool.by_class[static_cast<size_t>(c)].empty(), "Fashion-MNIST holds no image of class ",
                kFashionMnistClassNames[static_cast<size_t>(c)], " for the scene generator");
  }
  return pool;
}

// What a domain's images share: options, style colours and the thing schedule.
struct DomainContext {
  const SceneOptions* options = nullptr;
  const SceneStyle* style = nullptr;
  std::array<cv::Vec3f, kBands> band_colour;
  std::array<double, kFashionMnistClasses> rank_cdf;  // cumulative Zipf weights by rank
  std::array<int, kFashionMnistClasses> rank_of;      // Fashion-MNIST label -> rank
};

DomainContext make_context(const SceneOptions& options, const SceneStyle& style) {
  DomainContext context;
  context.options = &options;
  context.style = &style;
  for (size_t b = 0; b < kBands; ++b) context.band_colour[b] = styled_colour(kBandColour[b], style);
  double total = 0.0;
  for (size_t r = 0; r < kFashionMnistClasses; ++r) {
    total += std::pow(static_cast<double>(r + 1), -options.thing_zipf_exponent());
    context.rank_cdf[r] = total;
    context.rank_of[static_cast<size_t>(kSceneThingRank[r])] = static_cast<int>(r);
  }
  return context;
}

int draw_rank(const DomainContext& context, Rng& rng) {
  const double u = rng.uniform() * context.rank_cdf.back();
  for (size_t r = 0; r < kFashionMnistClasses; ++r) {
    if (u < context.rank_cdf[r]) return static_cast<int>(r);
  }
  return kFashionMnistClasses - 1;
}

// The four band boundaries as [1, W] CV_32F rows of y coordinates (pixels),
// non-decreasing from top to bottom so a band may vanish but never overlap.
std::array<cv::Mat, kBands - 1> band_boundaries(const SceneOptions& o, Rng& rng, cv::RNG& noise) {
  const int rows = o.height(), cols = o.width();
  double sum = 0.0;
  for (double h : o.band_heights()) sum += h;
  const double rough = o.boundary_roughness() * rows;
  std::array<double, kBands - 1> base{};
  double cumulative = 0.0;
  for (size_t k = 0; k + 1 < kBands; ++k) {
    cumulative += o.band_heights()[k] / sum;
    base[k] = rows * (cumulative + o.band_jitter() * rng.normal());
  }
  std::array<cv::Mat, kBands - 1> bound;
  // sky | building: a skyline of flat-topped buildings of random widths.
  bound[0] = cv::Mat(1, cols, CV_32F);
  for (int x = 0; x < cols;) {
    const int width = std::max(2, static_cast<int>(rng.uniform(cols / 14.0, cols / 5.0)));
    const auto top = static_cast<float>(base[0] + rng.uniform(-2.5, 2.5) * rough);
    for (int end = std::min(cols, x + width); x < end; ++x) bound[0].at<float>(x) = top;
  }
  // building | vegetation: tree tops, bumpy at two scales.
  bound[1] = base[1] + 1.5 * rough * noise_field(noise, 1, cols, cols / 10.0, cv::INTER_CUBIC) +
             0.4 * rough * noise_field(noise, 1, cols, 3, cv::INTER_LINEAR);
  // vegetation | sidewalk: a gentle, irregular edge.
  bound[2] = base[2] + rough * noise_field(noise, 1, cols, cols / 4.0, cv::INTER_CUBIC);
  // sidewalk | road: a kerb seen at a slant (perspective), slightly curved.
  cv::Mat ramp(1, cols, CV_32F);
  const double slope = rng.uniform(-2.0, 2.0) * rough;
  for (int x = 0; x < cols; ++x) ramp.at<float>(x) = static_cast<float>(slope * (x / double(cols) - 0.5));
  bound[3] = base[3] + ramp + 0.5 * rough * noise_field(noise, 1, cols, cols / 3.0, cv::INTER_CUBIC);
  for (size_t k = 1; k < bound.size(); ++k) bound[k] = cv::max(bound[k], bound[k - 1]);
  return bound;
}

struct RenderedScene {
  cv::Mat rgb;    // [H, W] CV_8UC3, RGB
  cv::Mat label;  // [H, W] CV_8UC1, train ids
  std::vector<int> instances;  // Fashion-MNIST indices pasted
};

// Pastes one item: label where intensity > threshold, colour blended with
// alpha (hard cut-out, or soft ramp below the threshold).
void paste_item(cv::Mat& image, cv::Mat& label, const cv::Mat& item28, const cv::Rect& rect, bool flip,
                const cv::Vec3f& tint, int train_id, const SceneOptions& o, const SceneStyle& style) {
  const cv::Rect visible = rect & cv::Rect(0, 0, image.cols, image.rows);
  if (visible.empty()) return;
  // Never flip into item28's buffer: it is the shared Fashion-MNIST image
  // (a header copy would make cv::flip write in place, racing with other
  // workers and changing the item for every later scene).
  cv::Mat source;
  if (flip) {
    cv::flip(item28, source, 1);
  } else {
    source = item28;
  }
  cv::Mat unit, intensity;  // [h, w] CV_32F in [0, 1]
  source.convertTo(unit, CV_32F, 1.0 / 255.0);
  cv::resize(unit, intensity, rect.size(), 0, 0, cv::INTER_LINEAR);
  const cv::Mat inside = intensity(visible - rect.tl());
  const auto threshold = static_cast<float>(o.thing_threshold());
  const cv::Mat mask = inside > threshold;  // CV_8U 0/255
  label(visible).setTo(train_id, mask);
  cv::Mat alpha;
  if (style.soft_edges()) {
    const cv::Mat ramp = inside * (1.0 / threshold);
    alpha = cv::min(ramp, 1.0);
  } else {
    mask.convertTo(alpha, CV_32F, 1.0 / 255.0);
  }
  // The item's own shading keeps the Fashion-MNIST detail visible.
  const cv::Mat shade = 0.35f + 0.65f * inside;
  cv::Mat colour, alpha3;
  cv::merge(std::vector<cv::Mat>{shade * tint[0], shade * tint[1], shade * tint[2]}, colour);
  cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, alpha3);
  cv::Mat roi = image(visible);
  cv::Mat blended = roi + (colour - roi).mul(alpha3);
  blended.copyTo(roi);
}

RenderedScene render_scene(const DomainContext& context, const InstancePool& pool, Rng& rng,
                           int coverage_label) {
  const SceneOptions& o = *context.options;
  const SceneStyle& style = *context.style;
  const int rows = o.height(), cols = o.width();
  cv::RNG noise = rng.cv_rng();

  // Stuff: band index per pixel from the boundaries, then texture per band.
  const auto bound = band_boundaries(o, rng, noise);
  std::array<const float*, kBands - 1> bound_at{};
  for (size_t k = 0; k < bound.size(); ++k) bound_at[k] = bound[k].ptr<float>();
  cv::Mat band(rows, cols, CV_8U);
  // A plain loop: four comparisons per pixel beat building four [H, W]
  // boundary images with cv::repeat.
  for (int y = 0; y < rows; ++y) {
    const float centre = static_cast<float>(y) + 0.5f;
    auto* out = band.ptr<uint8_t>(y);
    for (int x = 0; x < cols; ++x) {
      uint8_t index = 0;
      for (const float* b : bound_at) index += centre >= b[x] ? 1 : 0;
      out[x] = index;
    }
  }

  cv::Mat image(rows, cols, CV_32FC3, cv::Scalar(0, 0, 0));
  for (int b = 0; b < kBands; ++b) {
    const cv::Vec3f base = context.band_colour[static_cast<size_t>(b)];
    const double common = 1.0 + style.colour_jitter() * rng.normal();
    cv::Vec3f colour;
    for (int c = 0; c < 3; ++c) {
      colour[c] = static_cast<float>(
          std::clamp(base[c] * common * (1.0 + style.colour_jitter() * rng.normal()), 0.0, 1.0));
    }
    // Rows the band can reach: between its upper boundary's highest point and
    // its lower boundary's lowest one.
    double top_edge_min = 0.0, bottom_edge_max = rows;
    if (b > 0) cv::minMaxLoc(bound[static_cast<size_t>(b - 1)], &top_edge_min, nullptr);
    if (b < kBands - 1) cv::minMaxLoc(bound[static_cast<size_t>(b)], nullptr, &bottom_edge_max);
    const int top = std::clamp(static_cast<int>(std::floor(top_edge_min)) - 1, 0, rows);
    const int bottom = std::clamp(static_cast<int>(std::ceil(bottom_edge_max)) + 1, top, rows);
    if (bottom == top) continue;
    const cv::Mat shade = 1.0 + style.texture_contrast() *
                                    stuff_texture(b, style, rng, noise, top, bottom - top, cols, rows);
    cv::Mat layer;
    cv::merge(std::vector<cv::Mat>{shade * colour[0], shade * colour[1], shade * colour[2]}, layer);
    layer.copyTo(image.rowRange(top, bottom), band.rowRange(top, bottom) == b);
  }
  cv::Mat label_lut(1, 256, CV_8U, cv::Scalar(0));
  for (int b = 0; b < kBands; ++b) label_lut.at<uint8_t>(b) = static_cast<uint8_t>(kBandClass[static_cast<size_t>(b)]);
  RenderedScene scene;
  cv::LUT(band, label_lut, scene.label);

  // Things, in drawing order: later items occlude earlier ones.
  const int items = rng.between(o.items_min(), o.items_max());
  for (int j = 0; j < items; ++j) {
    const bool cover = coverage_label >= 0 && j == items - 1;
    const int rank = cover ? context.rank_of[static_cast<size_t>(coverage_label)] : draw_rank(context, rng);
    const int fashion_label = kSceneThingRank[static_cast<size_t>(rank)];
    const auto& candidates = pool.by_class[static_cast<size_t>(fashion_label)];
    const int instance = candidates[static_cast<size_t>(rng.index(candidates.size()))];
    double side = rows * rng.uniform(o.thing_scale_min(), o.thing_scale_max()) *
                  std::pow(o.thing_scale_decay(), rank / 9.0);
    // At 16 pixels every Fashion-MNIST item still has pixels above any
    // threshold, so the covering item is sure to leave its class in the label.
    if (cover) side = std::max(side, 16.0);
    const double aspect = rng.uniform(0.85, 1.15);
    const int w = std::max(6, static_cast<int>(std::lround(side * aspect)));
    const int h = std::max(6, static_cast<int>(std::lround(side / aspect)));
    const bool flip = rng.uniform() < 0.5;
    int x0, y0;
    if (cover) {  // fully inside, so the class is sure to be visible
      x0 = rng.index(static_cast<size_t>(std::max(1, cols - w + 1)));
      y0 = rng.index(static_cast<size_t>(std::max(1, rows - h + 1)));
    } else {  // up to a quarter may hang over the border
      x0 = static_cast<int>(std::floor(rng.uniform(-0.25 * w, cols - 0.75 * w)));
      y0 = static_cast<int>(std::floor(rng.uniform(-0.25 * h, rows - 0.75 * h)));
    }
    const double hue = kSceneThingHue[static_cast<size_t>(fashion_label)] + style.hue_shift() +
                       rng.uniform(-o.thing_hue_jitter(), o.thing_hue_jitter());
    const cv::Vec3f tint = hsv_to_rgb(static_cast<float>(std::fmod(hue + 720.0, 360.0)),
                                      static_cast<float>(style.tint_strength() * rng.uniform(0.6, 1.0)),
                                      static_cast<float>(rng.uniform(0.5, 1.0)));
    paste_item(image, scene.label, pool.data->images.image(instance), cv::Rect(x0, y0, w, h), flip, tint,
               kSceneFirstThing + fashion_label, o, style);
    scene.instances.push_back(instance);
  }

  // Camera: lighting, blur, sensor noise.
  const double brightness = style.brightness() + style.lighting_jitter() * rng.normal();
  if (style.gamma() != 1.0) {
    image = cv::max(image, 0.0);
    cv::pow(image, style.gamma(), image);
  }
  if (style.contrast() != 1.0 || brightness != 0.0) {
    image.convertTo(image, -1, style.contrast(), 0.5 - 0.5 * style.contrast() + brightness);
  }
  if (style.blur_sigma() > 0.0) cv::GaussianBlur(image, image, cv::Size(0, 0), style.blur_sigma());
  if (style.noise_sigma() > 0.0) {
    cv::Mat sensor(rows, cols, CV_32FC3);
    noise.fill(sensor, cv::RNG::NORMAL, 0.0, style.noise_sigma() / 255.0);
    image += sensor;
  }
  image.convertTo(scene.rgb, CV_8UC3, 255.0);  // rounds and saturates
  return scene;
}

std::string encode_png(const cv::Mat& image, const fs::path& for_message) {
  std::vector<uint8_t> bytes;
  // No parameters on purpose: OpenCV's default is its speed-tuned path (SUB
  // filter, zlib level 1, RLE); naming a level switches libpng to adaptive
  // filtering, which doubled the generation time.
  REGAL_CHECK(cv::imencode(".png", image, bytes),
              "cannot encode ", for_message, " as PNG");
  return std::string(bytes.begin(), bytes.end());
}

// ---------------------------------------------------------------------------
// Options, fingerprint, metadata.

json style_json(const SceneStyle& s) {
  return {{"texture_contrast", s.texture_contrast()}, {"texture_scale", s.texture_scale()},
          {"colour_jitter", s.colour_jitter()},       {"tint_strength", s.tint_strength()},
          {"noise_sigma", s.noise_sigma()},           {"blur_sigma", s.blur_sigma()},
          {"hue_shift", s.hue_shift()},               {"saturation", s.saturation()},
          {"brightness", s.brightness()},             {"contrast", s.contrast()},
          {"gamma", s.gamma()},                       {"lighting_jitter", s.lighting_jitter()},
          {"soft_edges", s.soft_edges()}};
}

// Every option that changes the output bytes (the fingerprint's input).
json options_json(const SceneOptions& o) {
  return {{"seed", o.seed()},
          {"height", o.height()},
          {"width", o.width()},
          {"source_train", o.source_train()},
          {"source_val", o.source_val()},
          {"target_d_t", o.target_d_t()},
          {"target_d_s", o.target_d_s()},
          {"target_d_r", o.target_d_r()},
          {"target_d_v", o.target_d_v()},
          {"target_val", o.target_val()},
          {"band_heights", o.band_heights()},
          {"band_jitter", o.band_jitter()},
          {"boundary_roughness", o.boundary_roughness()},
          {"items_min", o.items_min()},
          {"items_max", o.items_max()},
          {"thing_scale_min", o.thing_scale_min()},
          {"thing_scale_max", o.thing_scale_max()},
          {"thing_scale_decay", o.thing_scale_decay()},
          {"thing_zipf_exponent", o.thing_zipf_exponent()},
          {"thing_hue_jitter", o.thing_hue_jitter()},
          {"thing_threshold", o.thing_threshold()},
          {"cover_all_things", o.cover_all_things()},
          {"source_style", style_json(o.source_style())},
          {"target_style", style_json(o.target_style())}};
}

std::vector<double> frequencies(const std::vector<int64_t>& pixels) {
  int64_t total = 0;
  for (int64_t p : pixels) total += p;
  std::vector<double> frequency(pixels.size(), 0.0);
  if (total == 0) return frequency;
  for (size_t c = 0; c < pixels.size(); ++c) frequency[c] = static_cast<double>(pixels[c]) / total;
  return frequency;
}

void compute_domain_frequency(SceneDomainReport& domain) {
  std::vector<int64_t> pixels(kSceneClasses, 0);
  for (const auto& name : domain.frequency_splits) {
    const auto& split = domain.split(name);
    for (size_t c = 0; c < pixels.size(); ++c) pixels[c] += split.class_pixels[c];
  }
  domain.class_frequency = frequencies(pixels);
}

json palette_json() {
  json palette = json::array();
  for (const auto& colour : kScenePalette) palette.push_back({colour[0], colour[1], colour[2]});
  return palette;
}

json manifest_json(const SceneDomainReport& domain, const std::vector<SplitPlan>& plans,
                   const SceneOptions& o, const std::string& fingerprint) {
  json splits = json::object(), per_split = json::object(), pixels = json::object();
  for (const auto& plan : plans) {
    if (kDomainNames[static_cast<size_t>(plan.domain)] != domain.name) continue;
    json ids = json::array();
    for (int i = 0; i < plan.count; ++i) ids.push_back(image_id(plan, i));
    splits[plan.name] = std::move(ids);
    const auto& split = domain.split(plan.name);
    per_split[plan.name] = frequencies(split.class_pixels);
    pixels[plan.name] = split.class_pixels;
  }
  return {{"name", "scenes-" + domain.name},
          {"classes", kSceneClassNames},
          {"palette", palette_json()},
          {"ignore_index", 255},
          {"splits", std::move(splits)},
          {"domain", domain.name},
          {"height", o.height()},
          {"width", o.width()},
          {"generator", "regal make-scenes"},
          {"generator_version", kSceneGeneratorVersion},
          {"fingerprint", fingerprint},
          {"class_frequency", domain.class_frequency},
          {"class_frequency_splits", domain.frequency_splits},
          {"class_frequency_per_split", std::move(per_split)},
          {"class_pixels_per_split", std::move(pixels)}};
}

json scenes_json(const SceneReport& report, const SceneOptions& o, int threads) {
  json domains = json::object();
  for (const auto& domain : report.domains) {
    json splits = json::object();
    for (const auto& split : domain.splits) {
      splits[split.name] = {{"count", split.count}, {"class_pixels", split.class_pixels}};
    }
    domains[domain.name] = {{"root", domain.name},
                            {"splits", std::move(splits)},
                            {"frequency_splits", domain.frequency_splits},
                            {"class_frequency", domain.class_frequency},
                            {"rarest_six_share", rarest_classes_share(domain.class_frequency, 6)}};
  }
  return {{"generator", "regal make-scenes"},
          {"generator_version", kSceneGeneratorVersion},
          {"fingerprint", report.fingerprint},
          {"options", options_json(o)},
          {"classes", kSceneClassNames},
          {"domains", std::move(domains)},
          {"images_written", report.images_written},
          {"timings",
           {{"load_fashion_mnist_s", report.seconds_load},
            {"render_s", report.seconds_render},
            {"total_s", report.seconds},
            {"threads", threads}}}};
}

void remove_previous_output(const fs::path& out) {
  // Only what the generator writes: --out may point at a directory that also
  // holds other things. scenes.json goes first, so an interrupted run is
  // never mistaken for a complete one.
  std::vector<fs::path> paths = {out / kScenesFile};
  for (const char* domain : kDomainNames) {
    paths.push_back(out / domain / kManifestFile);
    paths.push_back(out / domain / "images");
    paths.push_back(out / domain / "labels");
  }
  for (const auto& path : paths) {
    std::error_code ec;
    fs::remove_all(path, ec);
    REGAL_CHECK(!ec, "cannot remove stale ", path, ": ", ec.message());
  }
}

int resolve_threads(int requested, size_t jobs) {
  size_t threads = requested > 0 ? static_cast<size_t>(requested) : std::thread::hardware_concurrency();
  threads = std::min(std::max<size_t>(threads, 1), std::max<size_t>(jobs, 1));
  return static_cast<int>(threads);
}

void check_range(const std::string& key, double value, double lo, double hi) {
  REGAL_CHECK(std::isfinite(value) && value >= lo && value <= hi, key, " = ", value,
              ": expected a value in [", lo, ", ", hi, "]");
}

void check_count(const std::string& key, int value) {
  REGAL_CHECK(value >= 1 && value <= 1'000'000, key, " = ", value,
              ": expected 1..1000000 images (an empty split cannot be opened)");
}

}  // namespace

// ---------------------------------------------------------------------------

SceneStyle source_scene_style() { return SceneStyle(); }

SceneStyle target_scene_style() {
  return SceneStyle()
      .texture_contrast(0.22)
      .texture_scale(0.7)
      .colour_jitter(0.10)
      .tint_strength(0.55)
      .noise_sigma(7.0)
      .blur_sigma(0.7)
      .hue_shift(12.0)
      .saturation(0.75)
      .brightness(-0.04)
      .contrast(0.85)
      .gamma(1.15)
      .lighting_jitter(0.05)
      .soft_edges(true);
}

void SceneStyle::validate(const std::string& prefix) const {
  check_range(prefix + ".texture_contrast", texture_contrast(), 0.0, 2.0);
  check_range(prefix + ".texture_scale", texture_scale(), 0.1, 10.0);
  check_range(prefix + ".colour_jitter", colour_jitter(), 0.0, 1.0);
  check_range(prefix + ".tint_strength", tint_strength(), 0.0, 1.0);
  check_range(prefix + ".noise_sigma", noise_sigma(), 0.0, 128.0);
  check_range(prefix + ".blur_sigma", blur_sigma(), 0.0, 10.0);
  check_range(prefix + ".hue_shift", hue_shift(), -180.0, 180.0);
  check_range(prefix + ".saturation", saturation(), 0.0, 4.0);
  check_range(prefix + ".brightness", brightness(), -1.0, 1.0);
  check_range(prefix + ".contrast", contrast(), 0.0, 4.0);
  check_range(prefix + ".gamma", gamma(), 0.1, 5.0);
  check_range(prefix + ".lighting_jitter", lighting_jitter(), 0.0, 1.0);
}

void SceneOptions::validate() const {
  REGAL_CHECK(height() >= 32 && height() <= 4096, "scenes.height = ", height(), ": expected 32..4096 pixels");
  REGAL_CHECK(width() >= 32 && width() <= 4096, "scenes.width = ", width(), ": expected 32..4096 pixels");
  check_count("scenes.source_train", source_train());
  check_count("scenes.source_val", source_val());
  check_count("scenes.target_d_t", target_d_t());
  check_count("scenes.target_d_s", target_d_s());
  check_count("scenes.target_d_r", target_d_r());
  check_count("scenes.target_d_v", target_d_v());
  check_count("scenes.target_val", target_val());
  REGAL_CHECK(band_heights().size() == kBands, "scenes.band_heights has ", band_heights().size(),
              " values: expected 5 (sky, building, vegetation, sidewalk, road)");
  double sum = 0.0;
  for (size_t k = 0; k < band_heights().size(); ++k) {
    check_range("scenes.band_heights[" + std::to_string(k) + "]", band_heights()[k], 0.0, 1000.0);
    sum += band_heights()[k];
  }
  REGAL_CHECK(sum > 0.0, "scenes.band_heights are all zero: expected at least one positive height");
  check_range("scenes.band_jitter", band_jitter(), 0.0, 0.25);
  check_range("scenes.boundary_roughness", boundary_roughness(), 0.0, 0.25);
  REGAL_CHECK(items_min() >= 0 && items_min() <= 64, "scenes.items_min = ", items_min(), ": expected 0..64");
  REGAL_CHECK(items_max() >= items_min() && items_max() <= 64, "scenes.items_max = ", items_max(),
              ": expected items_min (", items_min(), ")..64");
  REGAL_CHECK(!cover_all_things() || items_min() >= 1, "scenes.cover_all_things = true needs items_min >= 1, got ",
              items_min());
  check_range("scenes.thing_scale_min", thing_scale_min(), 0.01, 2.0);
  check_range("scenes.thing_scale_max", thing_scale_max(), thing_scale_min(), 2.0);
  check_range("scenes.thing_scale_decay", thing_scale_decay(), 0.05, 1.0);
  check_range("scenes.thing_zipf_exponent", thing_zipf_exponent(), 0.0, 5.0);
  check_range("scenes.thing_hue_jitter", thing_hue_jitter(), 0.0, 180.0);
  check_range("scenes.thing_threshold", thing_threshold(), 0.01, 0.99);
  source_style().validate("scenes.source_style");
  target_style().validate("scenes.target_style");
  REGAL_CHECK(threads() >= 0 && threads() <= 1024, "scenes.threads = ", threads(), ": expected 0 (all cores)..1024");
}

std::string scenes_fingerprint(const SceneOptions& options) {
  // FNV-1a 64 over the canonical JSON (sorted keys, round-trip doubles).
  const std::string text = options_json(options).dump() + "|generator_version=" +
                           std::to_string(kSceneGeneratorVersion);
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) {
    hash ^= ch;
    hash *= 0x100000001b3ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

double rarest_classes_share(const std::vector<double>& frequency, int k) {
  std::vector<double> sorted = frequency;
  std::sort(sorted.begin(), sorted.end());
  double share = 0.0;
  for (size_t i = 0; i < sorted.size() && i < static_cast<size_t>(std::max(0, k)); ++i) share += sorted[i];
  return share;
}

const SceneSplitReport& SceneDomainReport::split(const std::string& split_name) const {
  for (const auto& split : splits) {
    if (split.name == split_name) return split;
  }
  REGAL_FAIL("scenes domain '", name, "' has no split '", split_name, "'");
}

const SceneDomainReport& SceneReport::domain(const std::string& domain_name) const {
  for (const auto& domain : domains) {
    if (domain.name == domain_name) return domain;
  }
  REGAL_FAIL("scenes report has no domain '", domain_name, "'");
}

std::string scenes_stale_reason(const SceneOptions& options, const fs::path& out) {
  const fs::path scenes_file = out / kScenesFile;
  std::error_code ec;
  if (!fs::is_regular_file(scenes_file, ec)) return "no " + scenes_file.string();
  const std::string expected = scenes_fingerprint(options);
  try {
    const json recorded = json::parse(read_file(scenes_file));
    const std::string fingerprint = recorded.value("fingerprint", std::string());
    if (fingerprint != expected) {
      return "fingerprint " + fingerprint + " in " + scenes_file.string() + " differs from " + expected +
             " (options or generator version changed)";
    }
    const auto plans = split_plans(options);
    for (const char* domain : kDomainNames) {
      const fs::path root = out / domain;
      const json manifest = json::parse(read_file(root / kManifestFile));
      if (manifest.value("fingerprint", std::string()) != expected) {
        return (root / kManifestFile).string() + " belongs to another generation";
      }
      for (const auto& plan : plans) {
        if (kDomainNames[static_cast<size_t>(plan.domain)] != std::string(domain)) continue;
        const json& ids = manifest.at("splits").at(plan.name);
        if (static_cast<int>(ids.size()) != plan.count) {
          return (root / kManifestFile).string() + " lists " + std::to_string(ids.size()) + " images in " +
                 plan.name + ", expected " + std::to_string(plan.count);
        }
        for (const auto& id : ids) {
          for (const char* kind : {"images", "labels"}) {
            const fs::path file = root / kind / (id.get<std::string>() + ".png");
            if (!fs::is_regular_file(file, ec)) return "missing " + file.string();
          }
        }
      }
    }
  } catch (const std::exception& e) {  // a damaged directory is stale, not an error
    return std::string("unreadable scenes metadata in ") + out.string() + ": " + e.what();
  }
  return "";
}

bool scenes_up_to_date(const SceneOptions& options, const fs::path& out) {
  return scenes_stale_reason(options, out).empty();
}

bool scenes_up_to_date(const SceneOptions& options) { return scenes_up_to_date(options, options.out()); }

SceneReport generate_scenes(const SceneOptions& options, const fs::path& out, const SceneProgressFn& progress) {
  const auto start = Clock::now();
  options.validate();
  SceneReport report;
  report.fingerprint = scenes_fingerprint(options);
  report.reason = "generated";

  const auto plans = split_plans(options);
  const FashionMnist train = load_fashion_mnist(options.fashion_mnist_dir(), FashionMnistPart::kTrain);
  const FashionMnist test = load_fashion_mnist(options.fashion_mnist_dir(), FashionMnistPart::kTest);
  // Disjoint instances: even training indices for source, odd for target.
  const std::array<InstancePool, 2> train_pools = {make_pool(train, 0), make_pool(train, 1)};
  const InstancePool test_pool = make_pool(test, -1);
  report.seconds_load = seconds_since(start);

  remove_previous_output(out);
  const auto render_start = Clock::now();
  const std::array<DomainContext, 2> contexts = {make_context(options, options.source_style()),
                                                 make_context(options, options.target_style())};
  struct Job {
    size_t plan;
    int index;
  };
  std::vector<Job> jobs;
  for (size_t p = 0; p < plans.size(); ++p) {
    for (int i = 0; i < plans[p].count; ++i) jobs.push_back({p, i});
  }
  std::vector<int> coverage_offset(plans.size());
  for (size_t p = 0; p < plans.size(); ++p) {
    coverage_offset[p] = static_cast<int>(
        derive_seed(options.seed(), static_cast<uint64_t>(plans[p].domain), static_cast<uint64_t>(plans[p].split),
                    0xffffffffULL) %
        kFashionMnistClasses);
  }
  struct JobResult {
    std::vector<int64_t> pixels;
    std::vector<int> instances;
  };
  std::vector<JobResult> results(jobs.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards first_error, done and the progress callback
  std::exception_ptr first_error;
  int done = 0;
  const int total = static_cast<int>(jobs.size());
  const int progress_step = std::max(1, total / 50);

  const auto work = [&] {
    for (size_t j = next++; j < jobs.size() && !failed; j = next++) {
      try {
        const SplitPlan& plan = plans[jobs[j].plan];
        const int index = jobs[j].index;
        Rng rng(derive_seed(options.seed(), static_cast<uint64_t>(plan.domain), static_cast<uint64_t>(plan.split),
                            static_cast<uint64_t>(index)));
        const InstancePool& pool = plan.test_instances ? test_pool : train_pools[static_cast<size_t>(plan.domain)];
        const int coverage =
            options.cover_all_things() ? (index + coverage_offset[jobs[j].plan]) % kFashionMnistClasses : -1;
        const RenderedScene scene = render_scene(contexts[static_cast<size_t>(plan.domain)], pool, rng, coverage);

        const fs::path root = out / kDomainNames[static_cast<size_t>(plan.domain)];
        const std::string id = image_id(plan, index);
        const fs::path image_file = root / "images" / (id + ".png");
        const fs::path label_file = root / "labels" / (id + ".png");
        cv::Mat bgr;
        cv::cvtColor(scene.rgb, bgr, cv::COLOR_RGB2BGR);  // imencode expects BGR
        write_file_atomically(image_file, encode_png(bgr, image_file));
        write_file_atomically(label_file, encode_png(scene.label, label_file));

        JobResult& result = results[j];
        result.pixels.assign(kSceneClasses, 0);
        for (int y = 0; y < scene.label.rows; ++y) {
          const uint8_t* row = scene.label.ptr<uint8_t>(y);
          for (int x = 0; x < scene.label.cols; ++x) ++result.pixels[row[x]];
        }
        result.instances = scene.instances;

        std::lock_guard<std::mutex> lock(mutex);
        ++done;
        if (progress && (done % progress_step == 0 || done == total)) progress({done, total});
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  // OpenCV builds the Ziggurat tables of its normal generator lazily, behind a
  // plain static flag: workers reaching the first RNG::fill(NORMAL) together
  // could read half-built tables and draw other numbers. Building them here,
  // on one thread, keeps the bytes independent of scheduling.
  {
    cv::Mat warm(1, 1, CV_32F);
    cv::RNG(1).fill(warm, cv::RNG::NORMAL, 0.0, 1.0);
  }
  const int threads = resolve_threads(options.threads(), jobs.size());
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (auto& worker : workers) worker.join();
  if (first_error) std::rethrow_exception(first_error);

  // Per-split totals in job order, so they never depend on scheduling.
  for (size_t d = 0; d < kDomainNames.size(); ++d) {
    SceneDomainReport domain;
    domain.name = kDomainNames[d];
    domain.root = out / domain.name;
    domain.frequency_splits = frequency_splits(static_cast<int>(d));
    for (size_t p = 0; p < plans.size(); ++p) {
      if (plans[p].domain != static_cast<int>(d)) continue;
      SceneSplitReport split;
      split.name = plans[p].name;
      split.count = plans[p].count;
      split.class_pixels.assign(kSceneClasses, 0);
      std::vector<int> instances;
      for (size_t j = 0; j < jobs.size(); ++j) {
        if (jobs[j].plan != p) continue;
        for (size_t c = 0; c < kSceneClasses; ++c) split.class_pixels[c] += results[j].pixels[c];
        instances.insert(instances.end(), results[j].instances.begin(), results[j].instances.end());
      }
      std::sort(instances.begin(), instances.end());
      instances.erase(std::unique(instances.begin(), instances.end()), instances.end());
      (plans[p].test_instances ? split.fashion_test_indices : split.fashion_train_indices) = std::move(instances);
      domain.splits.push_back(std::move(split));
    }
    compute_domain_frequency(domain);
    report.domains.push_back(std::move(domain));
  }
  report.images_written = total;
  report.seconds_render = seconds_since(render_start);

  // Manifests, then scenes.json: the last file makes the directory complete.
  for (const auto& domain : report.domains) {
    write_file_atomically(domain.root / kManifestFile,
                          manifest_json(domain, plans, options, report.fingerprint).dump(1) + "\n");
  }
  report.seconds = seconds_since(start);
  write_file_atomically(out / kScenesFile, scenes_json(report, options, threads).dump(1) + "\n");
  return report;
}

SceneReport generate_scenes(const SceneOptions& options) { return generate_scenes(options, options.out()); }

SceneReport read_scenes_report(const fs::path& out) {
  const fs::path file = out / kScenesFile;
  json recorded;
  try {
    recorded = json::parse(read_file(file));
  } catch (const json::exception& e) {
    REGAL_FAIL(file, " is not valid JSON: ", e.what());
  }
  SceneReport report;
  try {
    report.fingerprint = recorded.at("fingerprint").get<std::string>();
    report.generator_version = recorded.at("generator_version").get<int>();
    const json& timings = recorded.at("timings");
    report.seconds_load = timings.at("load_fashion_mnist_s").get<double>();
    report.seconds_render = timings.at("render_s").get<double>();
    report.seconds = timings.at("total_s").get<double>();
    const json& domains = recorded.at("domains");
    for (const char* name : kDomainNames) {
      const json& entry = domains.at(name);
      SceneDomainReport domain;
      domain.name = name;
      domain.root = out / entry.at("root").get<std::string>();
      domain.frequency_splits = entry.at("frequency_splits").get<std::vector<std::string>>();
      domain.class_frequency = entry.at("class_frequency").get<std::vector<double>>();
      // Keep the generator's split order (JSON objects are sorted by key).
      for (const auto& plan : split_plans(SceneOptions())) {
        if (kDomainNames[static_cast<size_t>(plan.domain)] != std::string(name)) continue;
        const json& split_entry = entry.at("splits").at(plan.name);
        SceneSplitReport split;
        split.name = plan.name;
        split.count = split_entry.at("count").get<int>();
        split.class_pixels = split_entry.at("class_pixels").get<std::vector<int64_t>>();
        REGAL_CHECK(split.class_pixels.size() == kSceneClasses, file, ": ", name, ".", plan.name, " has ",
                    split.class_pixels.size(), " class counts, expected ", kSceneClasses);
        domain.splits.push_back(std::move(split));
      }
      report.domains.push_back(std::move(domain));
    }
  } catch (const json::exception& e) {
    REGAL_FAIL(file, " is missing a field or has one of the wrong type: ", e.what());
  }
  return report;
}

SceneReport generate_or_reuse_scenes(const SceneOptions& options, const fs::path& out, bool force,
                                     const SceneProgressFn& progress) {
  const auto start = Clock::now();
  const std::string stale = scenes_stale_reason(options, out);
  if (!force && stale.empty()) {
    SceneReport report = read_scenes_report(out);
    report.reused = true;
    report.reason = "fingerprint " + report.fingerprint + " matches " + (out / kScenesFile).string();
    report.images_written = 0;
    report.seconds_load = report.seconds_render = 0.0;
    report.seconds = seconds_since(start);
    return report;
  }
  SceneReport report = generate_scenes(options, out, progress);
  report.reason = force ? "forced" : stale;
  return report;
}

}  // namespace regal::data
