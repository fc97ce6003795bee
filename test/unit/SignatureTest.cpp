//===- SignatureTest.cpp - Tests of the signature JSON and C header -------===//
//
// signatureJSON and headerText for hand-built ModelABIs, and a round trip
// through the runtime's parser: the runtime must read back exactly what the
// compiler embeds.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Signature.h"

#include "Signature.h"

#include "gtest/gtest.h"

#include <string>

using namespace attnc;

namespace {

ShapeEntry dyn(const char *name) {
  ShapeEntry e;
  e.dynName = name;
  return e;
}
ShapeEntry fixed(int64_t size) {
  ShapeEntry e;
  e.staticSize = size;
  return e;
}

ArgSpec arg(const char *name, Role role, DType dtype,
            std::vector<ShapeEntry> shape) {
  ArgSpec a;
  a.name = name;
  a.role = role;
  a.dtype = dtype;
  a.shape = std::move(shape);
  return a;
}

/// The multi-head attention of docs/language.md.
ModelABI mha() {
  ModelABI m;
  m.name = "mha";
  m.args = {
      arg("X", Role::Input, DType::F32, {dyn("b"), dyn("n"), fixed(64)}),
      arg("Wq", Role::Param, DType::F32, {fixed(4), fixed(16), fixed(64)}),
      arg("Wk", Role::Param, DType::F32, {fixed(4), fixed(16), fixed(64)}),
      arg("Wv", Role::Param, DType::F32, {fixed(4), fixed(16), fixed(64)}),
      arg("Wo", Role::Param, DType::F32, {fixed(64), fixed(64)}),
      arg("Y", Role::Output, DType::F32, {dyn("b"), dyn("n"), fixed(64)}),
  };
  return m;
}

/// A single-query model with a scalar param, lengths and other dtypes.
ModelABI other() {
  ModelABI m;
  m.name = "q1";
  m.args = {
      arg("s", Role::Input, DType::F16, {fixed(8)}),
      arg("L", Role::Input, DType::I32, {}),
      arg("b", Role::Param, DType::BF16, {}),
      arg("W", Role::Param, DType::F64, {fixed(0), fixed(1)}),
      arg("a", Role::Output, DType::I64, {dyn("n_k")}),
  };
  return m;
}

TEST(SignatureTest, JSONOfMultiHeadAttention) {
  EXPECT_EQ(
      signatureJSON(mha()),
      R"({"name":"mha","args":[)"
      R"({"name":"X","role":"input","dtype":"f32","shape":["b","n",64]},)"
      R"({"name":"Wq","role":"param","dtype":"f32","shape":[4,16,64]},)"
      R"({"name":"Wk","role":"param","dtype":"f32","shape":[4,16,64]},)"
      R"({"name":"Wv","role":"param","dtype":"f32","shape":[4,16,64]},)"
      R"({"name":"Wo","role":"param","dtype":"f32","shape":[64,64]},)"
      R"({"name":"Y","role":"output","dtype":"f32","shape":["b","n",64]}]})");
}

TEST(SignatureTest, JSONOfScalarsAndDTypes) {
  EXPECT_EQ(signatureJSON(other()),
            R"({"name":"q1","args":[)"
            R"({"name":"s","role":"input","dtype":"f16","shape":[8]},)"
            R"({"name":"L","role":"input","dtype":"i32","shape":[]},)"
            R"({"name":"b","role":"param","dtype":"bf16","shape":[]},)"
            R"({"name":"W","role":"param","dtype":"f64","shape":[0,1]},)"
            R"({"name":"a","role":"output","dtype":"i64","shape":["n_k"]}]})");
}

TEST(SignatureTest, JSONEscapesNames) {
  ModelABI m;
  m.name = "we\"ird\\";
  m.args = {arg("a\nb\x01", Role::Output, DType::F32, {dyn("t\tab")})};
  EXPECT_EQ(
      signatureJSON(m),
      R"({"name":"we\"ird\\","args":[{"name":"a\nb\u0001","role":"output",)"
      R"("dtype":"f32","shape":["t\tab"]}]})");
}

TEST(SignatureTest, EmptyModel) {
  ModelABI m;
  m.name = "none";
  EXPECT_EQ(signatureJSON(m), R"({"name":"none","args":[]})");
}

/// The runtime parses what the compiler emits, escapes included.
TEST(SignatureTest, RoundTripThroughRuntimeParser) {
  for (const ModelABI &m : {mha(), other()}) {
    std::string json = signatureJSON(m);
    attnc_signature sig;
    char err[256];
    ASSERT_EQ(attnc_rt_parse_signature(json.c_str(), &sig, err, sizeof err), 0)
        << err;
    EXPECT_EQ(std::string(sig.name.ptr, sig.name.len), m.name);
    ASSERT_EQ(sig.nargs, static_cast<int32_t>(m.args.size()));
    for (size_t i = 0; i < m.args.size(); ++i) {
      const ArgSpec &a = m.args[i];
      const attnc_sig_arg &s = sig.args[i];
      EXPECT_EQ(std::string(s.name.ptr, s.name.len), a.name);
      EXPECT_EQ(s.role, static_cast<int32_t>(a.role));
      EXPECT_EQ(s.dtype, static_cast<int32_t>(a.dtype));
      ASSERT_EQ(s.rank, static_cast<int32_t>(a.shape.size()));
      for (size_t d = 0; d < a.shape.size(); ++d) {
        EXPECT_EQ(s.dims[d].size, a.shape[d].staticSize);
        EXPECT_EQ(std::string(s.dims[d].dyn.ptr, s.dims[d].dyn.len),
                  a.shape[d].dynName);
      }
    }
  }
  ModelABI weird;
  weird.name = "we\"ird\\";
  weird.args = {arg("a\nb\x01", Role::Output, DType::F32, {dyn("t\tab")})};
  std::string json = signatureJSON(weird);
  attnc_signature sig;
  char err[256];
  EXPECT_EQ(attnc_rt_parse_signature(json.c_str(), &sig, err, sizeof err), 0)
      << err;
}

TEST(SignatureTest, HeaderOfOneModel) {
  std::string h = headerText({mha()}, "MHA_H");
  auto has = [&](const std::string &s) {
    EXPECT_NE(h.find(s), std::string::npos) << "missing: " << s << "\n" << h;
  };
  has("#ifndef MHA_H\n#define MHA_H\n");
  has("#include <attnc/attnc.h>\n");
  has("#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
  has("int32_t attnc_mha(attnc_tensor *args, int32_t nargs);\n");
  has("const char *attnc_mha_signature(void);\n");
  has("const char *attnc_mha_last_error(void);\n");
  has("enum {\n"
      "  ATTNC_mha_ARG_X = 0,\n"
      "  ATTNC_mha_ARG_Wq = 1,\n"
      "  ATTNC_mha_ARG_Wk = 2,\n"
      "  ATTNC_mha_ARG_Wv = 3,\n"
      "  ATTNC_mha_ARG_Wo = 4,\n"
      "  ATTNC_mha_ARG_Y = 5,\n"
      "  ATTNC_mha_NUM_ARGS = 6\n"
      "};\n");
  // The argument list of the doc comment: index, name, role, type.
  has(" *   #   name  role    type\n");
  has(" *   0   X     input   f32[b, n, 64]\n");
  has(" *   4   Wo    param   f32[64, 64]\n");
  has(" *   5   Y     output  f32[b, n, 64]\n");
  has(" * Dynamic dimensions: b, n ");
  has("#endif /* MHA_H */\n");
  // The guard comes first, the declarations before the closing brace.
  EXPECT_LT(h.find("#ifndef MHA_H"), h.find("#include"));
  EXPECT_LT(h.find("attnc_mha_last_error"), h.rfind("}\n#endif"));
}

TEST(SignatureTest, HeaderOfSeveralModels) {
  std::string h = headerText({mha(), other()}, "TWO_H");
  EXPECT_NE(h.find("int32_t attnc_mha("), std::string::npos);
  EXPECT_NE(h.find("int32_t attnc_q1("), std::string::npos);
  EXPECT_NE(h.find("  ATTNC_q1_ARG_L = 1,\n"), std::string::npos);
  EXPECT_NE(h.find("  ATTNC_q1_NUM_ARGS = 5\n"), std::string::npos);
  EXPECT_NE(h.find(" *   1   L     input   i32[]\n"), std::string::npos) << h;
  // Only one guard, one extern "C" block.
  EXPECT_EQ(h.find("extern \"C\""), h.rfind("extern \"C\""));
}

TEST(SignatureTest, HeaderWithoutDynamicDimensions) {
  ModelABI m;
  m.name = "fixed";
  m.args = {arg("Y", Role::Output, DType::F32, {fixed(3)})};
  std::string h = headerText({m}, "F_H");
  EXPECT_NE(h.find("All dimensions are static."), std::string::npos) << h;
}

} // namespace
