//===- FrontendTest.cpp - Unit tests of parsing and Sema -------------------===//
//
// Parses and analyzes .attn text held in strings, and checks the ModelSpec
// fields the rest of the compiler relies on (argument order, shapes, maps,
// score parameters) and that bad input ends in diagnostics, never a crash.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace attnc;
using mlir::attn::ScoreKind;

namespace {

struct Result {
  std::optional<std::vector<ModelSpec>> specs;
  std::string diagnostics;
  bool parsed = false;
};

Result analyze(llvm::StringRef text) {
  Result result;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "test.attn"), llvm::SMLoc());
  llvm::raw_string_ostream os(result.diagnostics);
  DiagnosticReporter diag(sourceMgr, os);
  std::unique_ptr<ast::File> file = parseFile(sourceMgr, diag);
  result.parsed = file != nullptr;
  if (file)
    result.specs = analyzeFile(*file, diag);
  os.flush();
  return result;
}

/// The argument a value stands for, or -1 when it is not an argument.
int argOf(const ModelSpec &s, ValueId v) {
  if (v < 0 || s.values[v].kind != ValueSpec::Kind::Arg)
    return -1;
  return s.values[v].arg;
}

std::vector<int> argsOf(const ModelSpec &s, const std::vector<ValueId> &vs) {
  std::vector<int> out;
  for (ValueId v : vs)
    out.push_back(argOf(s, v));
  return out;
}

ModelSpec analyzeOne(llvm::StringRef text) {
  Result r = analyze(text);
  EXPECT_TRUE(r.specs) << r.diagnostics;
  if (!r.specs || r.specs->size() != 1)
    return ModelSpec();
  return r.specs->front();
}

void expectError(llvm::StringRef text, llvm::StringRef message) {
  Result r = analyze(text);
  EXPECT_FALSE(r.specs);
  EXPECT_NE(r.diagnostics.find(message.str()), std::string::npos)
      << "expected '" << message.str() << "' in:\n"
      << r.diagnostics;
}

std::string shapeOf(const ArgSpec &arg) {
  std::string s;
  for (const ShapeEntry &e : arg.shape)
    s += (s.empty() ? "" : ",") +
         (e.isDynamic() ? e.dynName : std::to_string(e.staticSize));
  return "[" + s + "]";
}

const char *kBahdanau = R"(
model bahdanau {
  dims   n_f, d_f = 64, d_q = 32, d_w = 48, d_y = 10
  batch  b
  input  X  : f32[b, n_f, d_f]
  input  s  : f32[b, d_q]
  param  W1 : f32[d_w, d_q]
  param  W2 : f32[d_w, d_f]
  param  bw : f32[d_w]
  param  w  : f32[d_w]
  param  Wc : f32[d_y, d_f]
  param  bc : f32[d_y]
  feature F = X
  query   q = s
  keys    K = F
  values  V = F
  score   e = additive(q, K; W1, W2, bw, w, act = tanh)
  align   a = softmax(e)
  context c = sum(a * V)
  output  y = softmax(Wc c + bc)
  output  weights = a
}
)";

TEST(FrontendTest, Bahdanau) {
  ModelSpec s = analyzeOne(kBahdanau);
  EXPECT_EQ(s.name, "bahdanau");
  ASSERT_EQ(s.args.size(), 10u);
  EXPECT_EQ(s.args[0].name, "X");
  EXPECT_EQ(shapeOf(s.args[0]), "[b,n_f,64]");
  EXPECT_EQ(s.args[7].name, "bc");
  EXPECT_EQ(s.args[7].role, Role::Param);
  EXPECT_EQ(s.args[8].name, "y");
  EXPECT_EQ(s.args[8].role, Role::Output);
  EXPECT_EQ(shapeOf(s.args[8]), "[b,10]");
  EXPECT_EQ(shapeOf(s.args[9]), "[b,n_f]");
  EXPECT_EQ(s.numBatchDims, 1u);
  ASSERT_EQ(s.attentions.size(), 1u);
  const AttentionSpec &att = s.attentions[0];
  EXPECT_EQ(argOf(s, att.query.source), 1);
  EXPECT_FALSE(att.multiQuery);
  EXPECT_FALSE(att.hasHeads);
  EXPECT_EQ(att.numGroupDims, 1u);
  EXPECT_EQ(argOf(s, att.keys.source), 0);
  EXPECT_EQ(argOf(s, att.values.source), 0);
  EXPECT_EQ(att.score, ScoreKind::additive);
  EXPECT_EQ(att.scoreAct, Activation::Tanh);
  EXPECT_EQ(argsOf(s, att.scoreParams), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_FALSE(att.causal);
  EXPECT_EQ(att.lengths, -1);
  EXPECT_EQ(att.weightsOutputs, (std::vector<int>{9}));
  // y = softmax(Wc c + bc): a softmax of a linear map of the context.
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0].first, 8);
  const ValueSpec &y = s.values[s.outputs[0].second];
  EXPECT_EQ(y.kind, ValueSpec::Kind::Softmax);
  const ValueSpec &linear = s.values[y.operands[0]];
  EXPECT_EQ(linear.kind, ValueSpec::Kind::Linear);
  EXPECT_EQ(s.values[linear.operands[0]].kind, ValueSpec::Kind::Attention);
  EXPECT_EQ(argOf(s, linear.operands[1]), 6);
  EXPECT_EQ(argOf(s, linear.operands[2]), 7);
  EXPECT_EQ(att.scoreLoc.line, 17u);
  EXPECT_EQ(att.scoreLoc.col, 3u);
}
TEST(FrontendTest, DumpAST) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(kBahdanau, "b.attn"), llvm::SMLoc());
  std::string errors, dump;
  llvm::raw_string_ostream es(errors), ds(dump);
  DiagnosticReporter diag(sourceMgr, es);
  auto file = parseFile(sourceMgr, diag);
  ASSERT_TRUE(file) << es.str();
  dumpAST(*file, ds);
  EXPECT_NE(ds.str().find("output y = softmax(((Wc c) + bc)) @20:3"),
            std::string::npos)
      << ds.str();
}

TEST(FrontendTest, MultiHead) {
  ModelSpec s = analyzeOne(R"(
model mha {
  dims  n, d = 64, h = 4, d_k = 16
  batch b
  input X  : f32[b, n, d]
  input L  : i32[b]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param Wo : f32[d, h * d_k]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = scaled_dot(Q, K)
    mask    causal, lengths(L)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c)
  output A = a
})");
  ASSERT_EQ(s.attentions.size(), 1u);
  const AttentionSpec &att = s.attentions[0];
  EXPECT_TRUE(att.hasHeads);
  EXPECT_EQ(att.numHeads.staticSize, 4);
  EXPECT_TRUE(att.multiQuery);
  EXPECT_EQ(argOf(s, att.query.source), 0);
  EXPECT_EQ(argOf(s, att.query.weight), 2);
  EXPECT_EQ(argOf(s, att.keys.source), 0);
  EXPECT_EQ(argOf(s, att.keys.weight), 3);
  EXPECT_EQ(argOf(s, att.values.weight), 4);
  EXPECT_EQ(att.score, ScoreKind::scaled_dot);
  EXPECT_EQ(att.scoreAct, Activation::Identity);
  EXPECT_TRUE(att.causal);
  EXPECT_EQ(argOf(s, att.lengths), 1);
  ASSERT_EQ(s.args.size(), 8u);
  EXPECT_EQ(shapeOf(s.args[5]), "[64,64]");
  EXPECT_EQ(shapeOf(s.args[6]), "[b,n,64]");
  EXPECT_EQ(shapeOf(s.args[7]), "[b,4,n,n]");
}

/// A model around one score call, with every param a score could need.
std::string scoreModel(llvm::StringRef score) {
  return (R"(
model m {
  dims n, d_q = 5, d_k = 5, d_w = 4
  input X : f32[n, d_k]
  param qv : f32[d_q]
  param W1 : f32[d_w, d_q]
  param W2 : f32[d_w, d_k]
  param bw, w : f32[d_w]
  param W : f32[d_k, d_q]
  param bk : f32[d_k]
  param bs : f32[]
  query q = qv
  keys K = X
  values V = X
  score e = )" + score + R"(
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
})")
      .str();
}

TEST(FrontendTest, EveryScoreKind) {
  struct Case {
    const char *text;
    ScoreKind kind;
    Activation act;
    std::vector<int> params;
  };
  const Case cases[] = {
      {"additive(q, K; W1, W2, bw, w)", ScoreKind::additive, Activation::Tanh,
       {2, 3, 4, 5}},
      {"additive(q, K; W1, W2, bw, w, act = relu)", ScoreKind::additive,
       Activation::Relu, {2, 3, 4, 5}},
      {"dot(q, K)", ScoreKind::dot, Activation::Identity, {}},
      {"scaled_dot(q, K)", ScoreKind::scaled_dot, Activation::Identity, {}},
      {"general(q, K; W)", ScoreKind::general, Activation::Identity, {6}},
      {"biased_general(q, K; W, bk)", ScoreKind::biased_general,
       Activation::Identity, {6, 7}},
      {"activated_general(q, K; W, bs)", ScoreKind::activated_general,
       Activation::Tanh, {6, 8}},
      {"activated_general(q, K; W, bs, act = identity)",
       ScoreKind::activated_general, Activation::Identity, {6, 8}},
      {"cosine(q, K)", ScoreKind::cosine, Activation::Identity, {}},
      {"neg_sq_euclidean(q, K)", ScoreKind::neg_sq_euclidean,
       Activation::Identity, {}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.text);
    ModelSpec s = analyzeOne(scoreModel(c.text));
    ASSERT_EQ(s.attentions.size(), 1u);
    const AttentionSpec &att = s.attentions[0];
    EXPECT_EQ(att.score, c.kind);
    EXPECT_EQ(att.scoreAct, c.act);
    EXPECT_EQ(argsOf(s, att.scoreParams), c.params);
    EXPECT_EQ(s.args[argOf(s, att.query.source)].role, Role::Param);
    EXPECT_FALSE(att.multiQuery);
    EXPECT_EQ(s.numBatchDims, 0u);
  }
}

TEST(FrontendTest, ScoreErrors) {
  expectError(scoreModel("dot(q, K, act = tanh)"),
              "'dot' takes no 'act' argument");
  expectError(scoreModel("general(q, K; bw)"),
              "'bw' has shape [d_w], but W of general must be [d_k, d_q]");
  expectError(scoreModel("activated_general(q, K; W, bk)"),
              "b of activated_general must be a scalar: [] or [1]");
  expectError(scoreModel("additive(q, K; W1, W2, bw)"),
              "'additive' takes 4 parameters (W1, W2, b, w) after ';', got 3");
  expectError(scoreModel("dot(q, K; W)"), "'dot' takes no parameters");
  expectError(scoreModel("q"), "unsupported score expression");
  expectError(scoreModel("additive(q, K; W1, W2, bw, w, act = gelu)"),
              "unknown activation");
}

TEST(FrontendTest, SelfAttentionWithFeatures) {
  ModelSpec s = analyzeOne(R"(
model sa {
  dims n, d_x = 10, d_f = 8
  batch b
  input X : f32[b, n, d_x]
  param Wf : f32[d_f, d_x]
  param bf : f32[d_f]
  feature F = Wf X + bf
  query Q = F
  keys K = F
  values V = F
  score e = dot(Q, K)
  align a = softmax(e)
  context c = sum(V * a)
  output y : f32[b, n, d_f] = c
})");
  ASSERT_EQ(s.attentions.size(), 1u);
  const AttentionSpec &att = s.attentions[0];
  // F = Wf X + bf is one linear value, read by the query, keys and values.
  const ValueSpec &f = s.values[att.query.source];
  EXPECT_EQ(f.kind, ValueSpec::Kind::Linear);
  EXPECT_EQ(argOf(s, f.operands[0]), 0);
  EXPECT_EQ(argOf(s, f.operands[1]), 1);
  EXPECT_EQ(argOf(s, f.operands[2]), 2);
  EXPECT_EQ(att.keys.source, att.query.source);
  EXPECT_TRUE(att.multiQuery);
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.values[s.outputs[0].second].kind, ValueSpec::Kind::Attention);
  EXPECT_EQ(s.outputs[0].first, 3);
}

TEST(FrontendTest, Diagnostics) {
  expectError("model m { dims d = 99999999999999999999 }",
              "test.attn:1:20: error: integer too large");
  expectError("model m { dims d = 4 # }", "1:22: error: invalid character '#'");
  expectError("model m {", "error: syntax error: unexpected end of file");
  expectError("", "test.attn:1:1: error: no model in file");
  std::string caret = analyze("model m { input s : f32[4]\n  query q = Wz s\n}").diagnostics;
  EXPECT_NE(caret.find("test.attn:2:13: error: undefined name 'Wz'\n"
                       "  query q = Wz s\n"
                       "            ^\n"),
            std::string::npos)
      << caret;
}

TEST(FrontendTest, NeverCrashes) {
  // Deep nesting, long chains, binary data, NUL bytes, invalid UTF-8.
  std::string deep = "model m { output y = " + std::string(100000, '(') + "c" +
                     std::string(100000, ')') + " }";
  expectError(deep, "nesting too deep");
  std::string chain = "model m { output y = c";
  for (int i = 0; i < 100000; ++i)
    chain += " + c";
  expectError(chain + " }", "expression too large");
  std::string apply = "model m { output y =";
  for (int i = 0; i < 100000; ++i)
    apply += " W";
  expectError(apply + " }", "expression too large");
  expectError(std::string("model m {\0}", 11), "invalid character '\\x00'");
  expectError("model m { // \xff\xfe\n }", "1:14: error: invalid UTF-8");
  std::string binary;
  for (int i = 0; i < 4096; ++i)
    binary.push_back(char((i * 7919) % 251));
  EXPECT_FALSE(analyze(binary).specs);
  // Columns count bytes (what SourceMgr expects), also after non-ASCII text.
  expectError("model m { /* é */ dims d = 4 $ }", "1:31: error: invalid character");
}

} // namespace

TEST(FrontendTest, ProgramOfBlocks) {
  ModelSpec s = analyzeOne(R"(
block hop(u, M) {
  param A : f32[d, d]
  keys    K = A M
  values  V = M
  score   e = dot(u, K)
  align   a = softmax(e)
  context o = sum(a * V)
}
model m {
  dims  n, d = 4
  batch b
  input X : f32[b, n, d]
  input q : f32[b, d]
  let u = q
  hops 2 untied {
    let u = u + hop(u, X) with h
  }
  output y = layer_norm(u)
})");
  // Inputs, then the block params per untied hop, then the output.
  ASSERT_EQ(s.args.size(), 5u);
  EXPECT_EQ(s.args[2].name, "h_1_A");
  EXPECT_EQ(s.args[3].name, "h_2_A");
  EXPECT_EQ(s.args[4].name, "y");
  // One attention per hop, the second reading the first through u1 + o1.
  ASSERT_EQ(s.attentions.size(), 2u);
  const AttentionSpec &second = s.attentions[1];
  EXPECT_FALSE(second.multiQuery);
  EXPECT_EQ(second.numGroupDims, 1u);
  const ValueSpec &u1 = s.values[second.query.source];
  EXPECT_EQ(u1.kind, ValueSpec::Kind::Binary);
  EXPECT_EQ(u1.name, "u");
  EXPECT_EQ(s.values[u1.operands[1]].kind, ValueSpec::Kind::Attention);
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.values[s.outputs[0].second].kind, ValueSpec::Kind::LayerNorm);
  // The keys of each hop are a linear value of X through that hop's A.
  const ValueSpec &k2 = s.values[second.keys.source];
  EXPECT_EQ(k2.kind, ValueSpec::Kind::Linear);
  EXPECT_EQ(argOf(s, k2.operands[1]), 3);
}
