// Checkpoint dtypes: scalar conversions at known bit patterns, FP8 128x128 block-scale dequant on
// synthetic data, and the loader's BF16/F16/FP8 paths through a real safetensors file.
#include <cmath>
#include <cstring>

#include "check.h"
#include "engine/engine.h"
#include "common/dtype.h"
#include "loader/safetensors.h"
#include "loader/weight_loader.h"
#include "test_util.h"

using namespace dse;

TEST(bf16_conversions) {
  CHECK_EQ(bf16_to_f32(0x3f80), 1.0f);
  CHECK_EQ(bf16_to_f32(0xc000), -2.0f);
  CHECK_EQ(f32_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between two bf16 values: ties to even (down to 1.0).
  CHECK_EQ(f32_to_bf16(1.0f + 1.0f / 256), 0x3f80);
  CHECK_EQ(f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
  for (float v : testutil::random_vec(1000, 1, 100.f)) CHECK_NEAR(bf16_to_f32(f32_to_bf16(v)), v, std::fabs(v) / 128);
}

TEST(f16_conversions) {
  CHECK_EQ(f16_to_f32(0x3c00), 1.0f);
  CHECK_EQ(f16_to_f32(0xc000), -2.0f);
  CHECK_EQ(f16_to_f32(0x7bff), 65504.0f);
  CHECK_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  CHECK(std::isinf(f16_to_f32(0x7c00)));
  CHECK_EQ(f32_to_f16(1.0f), 0x3c00);
  CHECK_EQ(f32_to_f16(-2.0f), 0xc000);
  for (float v : testutil::random_vec(1000, 2, 1000.f)) CHECK_NEAR(f16_to_f32(f32_to_f16(v)), v, std::fabs(v) / 1024);
}

TEST(fp8_e4m3_conversions) {
  CHECK_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
  CHECK_EQ(fp8_e4m3_to_f32(0xb8), -1.0f);
  CHECK_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);
  CHECK_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
  CHECK_EQ(fp8_e4m3_to_f32(0x3c), 1.5f);
  CHECK(std::isnan(fp8_e4m3_to_f32(0x7f)));
}

namespace {

// Reference decode of an E4M3 byte by enumerating the format definition.
double fp8_ref(uint8_t b) {
  int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
  double v = e == 0 ? m / 8.0 * std::pow(2.0, -6) : (1 + m / 8.0) * std::pow(2.0, e - 7);
  return s ? -v : v;
}

}  // namespace

TEST(fp8_blockscale_dequant_matches_reference) {
  const int64_t rows = 130, cols = 260;  // partial blocks on both axes
  std::vector<uint8_t> w(rows * cols);
  for (size_t i = 0; i < w.size(); ++i) {
    uint8_t b = static_cast<uint8_t>((i * 37 + 11) & 0xff);
    if ((b & 0x7f) == 0x7f) b = 0x10;  // skip NaN encodings
    w[i] = b;
  }
  std::vector<float> scales = {0.5f, 2.f, 0.25f, 3.f, 1.5f, 0.125f};  // [2, 3]
  std::vector<float> out(rows * cols);
  dequant_fp8_blockscale(w.data(), scales.data(), rows, cols, 128, out.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      CHECK_NEAR(out[r * cols + c], fp8_ref(w[r * cols + c]) * scales[(r / 128) * 3 + c / 128], 1e-6);
}

TEST(loader_decodes_bf16_f16_fp8_tensors) {
  const int64_t rows = 129, cols = 200;
  auto v = testutil::random_vec(rows * cols, 3, 2.f);
  std::map<std::string, testutil::RawTensor> t;
  testutil::RawTensor b{DType::kBF16, {rows, cols}, {}}, h{DType::kF16, {rows, cols}, {}}, f8{DType::kF8E4M3, {rows, cols}, {}};
  for (float x : v) {
    uint16_t bb = f32_to_bf16(x), hh = f32_to_f16(x);
    b.bytes.insert(b.bytes.end(), reinterpret_cast<uint8_t*>(&bb), reinterpret_cast<uint8_t*>(&bb) + 2);
    h.bytes.insert(h.bytes.end(), reinterpret_cast<uint8_t*>(&hh), reinterpret_cast<uint8_t*>(&hh) + 2);
  }
  for (size_t i = 0; i < v.size(); ++i) f8.bytes.push_back(static_cast<uint8_t>((i * 13) % 0x7e));
  std::vector<float> scales = {0.5f, 4.f, 2.f, 0.25f};  // [2, 2]
  t["b"] = b;
  t["h"] = h;
  t["f8"] = f8;
  t["f8_scale_inv"] = testutil::f32_tensor({2, 2}, scales);
  std::string dir = testutil::temp_dir("dtypes");
  testutil::write_safetensors(dir + "/model.safetensors", t);

  SafetensorsSource src(dir);
  WeightLoader wl(src, LoadOptions{});
  Weight wb = wl.matrix("b", rows, cols), wh = wl.matrix("h", rows, cols), w8 = wl.matrix("f8", rows, cols);
  CHECK(wb.format == WFormat::kBF16);
  CHECK(wh.format == WFormat::kF32);
  auto fb = wb.to_f32(), fh = wh.to_f32(), f8v = w8.to_f32();
  for (size_t i = 0; i < v.size(); ++i) {
    CHECK_EQ(fb[i], bf16_to_f32(f32_to_bf16(v[i])));
    CHECK_EQ(fh[i], f16_to_f32(f32_to_f16(v[i])));
    const int64_t r = static_cast<int64_t>(i) / cols, c = static_cast<int64_t>(i) % cols;
    double ref = fp8_ref(f8.bytes[i]) * scales[(r / 128) * 2 + c / 128];
    CHECK_NEAR(f8v[i], ref, std::fabs(ref) / 128 + 1e-12);  // stored as bf16 after dequant
  }
  // FP8 without its block scale is a clear error.
  t.erase("f8_scale_inv");
  testutil::write_safetensors(dir + "/model.safetensors", t);
  SafetensorsSource src2(dir);
  WeightLoader wl2(src2, LoadOptions{});
  CHECK_THROWS(wl2.matrix("f8", rows, cols), ErrorKind::kBadCheckpoint, "f8_scale_inv");
}

namespace {

// Nearest E4M3 encoding by search over the 254 finite codes (test-only, so simplicity wins).
uint8_t encode_fp8(float v) {
  uint8_t best = 0;
  for (int b = 0; b < 256; ++b) {
    if ((b & 0x7f) == 0x7f) continue;
    if (std::fabs(fp8_ref(static_cast<uint8_t>(b)) - v) < std::fabs(fp8_ref(best) - v)) best = static_cast<uint8_t>(b);
  }
  return best;
}

// Rewrites every 2-D weight of a fixture as `dtype` (FP8 with DeepSeek-V3 block scales of
// `block`), runs the model and returns the max logit difference to float32 and the logit range.
std::pair<double, double> convert_and_compare(const std::string& model, DType dtype, int block) {
  const std::string src = testutil::model_dir(model);
  const std::string dir = testutil::temp_dir(std::string("conv-") + dtype_name(dtype));
  auto tensors = testutil::read_safetensors(src + "/model.safetensors");
  std::map<std::string, testutil::RawTensor> out;
  for (auto& kv : tensors) {
    const auto& t = kv.second;
    if (t.shape.size() != 2 || kv.first.find("embed_tokens") != std::string::npos) {
      out[kv.first] = t;
      continue;
    }
    auto v = testutil::tensor_f32(t);
    const int64_t rows = t.shape[0], cols = t.shape[1];
    testutil::RawTensor r{dtype, t.shape, {}};
    if (dtype == DType::kF8E4M3) {
      const int64_t br = (rows + block - 1) / block, bc = (cols + block - 1) / block;
      std::vector<float> scale(br * bc, 0.f);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          scale[(i / block) * bc + j / block] = std::max(scale[(i / block) * bc + j / block], std::fabs(v[i * cols + j]));
      for (auto& s : scale) s = s > 0 ? s / 448.f : 1.f;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) r.bytes.push_back(encode_fp8(v[i * cols + j] / scale[(i / block) * bc + j / block]));
      out[kv.first + "_scale_inv"] = testutil::f32_tensor({br, bc}, scale);
    } else {
      for (float x : v) {
        uint16_t h = dtype == DType::kBF16 ? f32_to_bf16(x) : f32_to_f16(x);
        r.bytes.push_back(static_cast<uint8_t>(h & 0xff));
        r.bytes.push_back(static_cast<uint8_t>(h >> 8));
      }
    }
    out[kv.first] = r;
  }
  testutil::write_safetensors(dir + "/model.safetensors", out);
  std::string cfg = testutil::read_file(src + "/config.json");
  if (dtype == DType::kF8E4M3) {
    auto j = nlohmann::json::parse(cfg);
    j["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"weight_block_size", {block, block}}};
    cfg = j.dump();
  }
  testutil::write_file(dir + "/config.json", cfg);

  auto ids = testutil::read_json(src + "/golden.json")["input_ids"].get<std::vector<int>>();
  EngineOptions o;
  o.threads = 2;
  auto ref = Engine::load(src, o)->forward_logits(ids, true);
  auto got = Engine::load(dir, o)->forward_logits(ids, true);
  double worst = 0, lo = 1e30, hi = -1e30;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::fabs(double(ref[i]) - got[i]));
    lo = std::min(lo, double(ref[i]));
    hi = std::max(hi, double(ref[i]));
  }
  std::printf("  %s as %s: max |dlogit| = %.4f over range %.2f\n", model.c_str(), dtype_name(dtype), worst, hi - lo);
  return {worst, hi - lo};
}

}  // namespace

// Whole-model checks: the same fixture stored as BF16 / F16 / FP8 (block 32, so the 64-wide
// matrices have several blocks) gives float32's logits within the format's precision.
TEST(model_in_bf16_f16_fp8_matches_f32) {
  auto bf = convert_and_compare("tiny-deepseek-v3", DType::kBF16, 0);
  CHECK(bf.first <= 0.01 * bf.second);
  auto h = convert_and_compare("tiny-llama", DType::kF16, 0);
  CHECK(h.first <= 0.002 * h.second);
  auto f8 = convert_and_compare("tiny-deepseek-v3", DType::kF8E4M3, 32);
  CHECK(f8.first <= 0.08 * f8.second);
}

TEST_MAIN()
