//===- RuntimeTest.cpp - Tests of the runtime's argument checks -----------===//
//
// attnc_rt_invoke with hand-written signatures and a thunk that records the
// memref descriptors it receives: every refusal class, dynamic-dimension
// consistency, the leniencies (size-1 strides, empty tensors), and the
// descriptor layout the generated code relies on.
//
//===----------------------------------------------------------------------===//

#include "attnc/runtime.h"
#include "Signature.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

/// What the thunk saw: one word vector per argument (3 + 2 * rank words).
struct Recorder {
  std::vector<int> ranks; ///< Set by the test before the call.
  int calls = 0;
  std::vector<std::vector<int64_t>> descs;
};
Recorder *recorder;

void recordingThunk(void **descriptors) {
  ++recorder->calls;
  recorder->descs.clear();
  for (size_t i = 0; i < recorder->ranks.size(); ++i) {
    const int64_t *words = static_cast<const int64_t *>(descriptors[i]);
    recorder->descs.emplace_back(words, words + 3 + 2 * recorder->ranks[i]);
  }
}

/// A contiguous row-major tensor over `data`.
attnc_tensor makeTensor(void *data, attnc_dtype dtype,
                        std::vector<int64_t> shape) {
  attnc_tensor t;
  std::memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = dtype;
  t.rank = static_cast<int32_t>(shape.size());
  int64_t stride = 1;
  for (int i = t.rank - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    stride *= shape[i];
  }
  return t;
}

void *ptrOf(int64_t word) {
  void *p;
  std::memcpy(&p, &word, sizeof p);
  return p;
}

// X : f32[b, n, 4], W : f32[3, 4], Y : f32[b, n, 3]
const char *kSig =
    R"({"name":"lin","args":[{"name":"X","role":"input","dtype":"f32","shape":["b","n",4]},)"
    R"({"name":"W","role":"param","dtype":"f32","shape":[3,4]},)"
    R"({"name":"Y","role":"output","dtype":"f32","shape":["b","n",3]}]})";

class RuntimeTest : public ::testing::Test {
protected:
  void SetUp() override {
    recorder = &rec;
    rec = Recorder();
    rec.ranks = {3, 2, 3};
    x.assign(2 * 5 * 4, 1.0f);
    w.assign(3 * 4, 2.0f);
    y.assign(2 * 5 * 3, 0.0f);
    args[0] = makeTensor(x.data(), ATTNC_F32, {2, 5, 4});
    args[1] = makeTensor(w.data(), ATTNC_F32, {3, 4});
    args[2] = makeTensor(y.data(), ATTNC_F32, {2, 5, 3});
  }

  int32_t invoke(const char *sig = kSig, int32_t nargs = 3) {
    return attnc_rt_invoke(sig, args, nargs, recordingThunk);
  }

  /// Expects a refusal with `code`, a message containing every fragment, and
  /// no call of the thunk.
  void expectRefused(int32_t rc, int32_t code,
                     std::vector<std::string> fragments) {
    EXPECT_EQ(rc, code);
    EXPECT_EQ(rec.calls, 0);
    std::string msg = attnc_rt_last_error();
    for (const std::string &f : fragments)
      EXPECT_NE(msg.find(f), std::string::npos)
          << "message \"" << msg << "\" lacks \"" << f << "\"";
  }

  /// expectRefused for a thunk that ran before (rec.calls unchanged).
  void expectRefusedAfter(int32_t rc, int32_t code,
                          std::vector<std::string> fragments) {
    int calls = rec.calls;
    rec.calls = 0;
    expectRefused(rc, code, fragments);
    rec.calls = calls;
  }

  Recorder rec;
  std::vector<float> x, w, y;
  attnc_tensor args[3];
};

TEST_F(RuntimeTest, AcceptsAndBuildsDescriptors) {
  ASSERT_EQ(invoke(), ATTNC_RT_OK) << attnc_rt_last_error();
  ASSERT_EQ(rec.calls, 1);
  ASSERT_EQ(rec.descs.size(), 3u);
  // X: {allocated, aligned, offset, sizes[3], strides[3]}
  const std::vector<int64_t> &dx = rec.descs[0];
  EXPECT_EQ(ptrOf(dx[0]), x.data());
  EXPECT_EQ(ptrOf(dx[1]), x.data());
  EXPECT_EQ(dx[2], 0);
  EXPECT_EQ(std::vector<int64_t>(dx.begin() + 3, dx.end()),
            (std::vector<int64_t>{2, 5, 4, 20, 4, 1}));
  const std::vector<int64_t> &dw = rec.descs[1];
  EXPECT_EQ(ptrOf(dw[0]), w.data());
  EXPECT_EQ(std::vector<int64_t>(dw.begin() + 2, dw.end()),
            (std::vector<int64_t>{0, 3, 4, 4, 1}));
  EXPECT_EQ(ptrOf(rec.descs[2][1]), y.data());
}

TEST_F(RuntimeTest, WhitespaceInSignature) {
  const char *sig = " { \"name\" : \"lin\" ,\n\t\"args\" : [ { \"shape\" : [ "
                    "\"b\" , \"n\" , 4 ] , \"name\" : \"X\" , \"role\" : "
                    "\"input\" , \"dtype\" : \"f32\" } , {\"name\":\"W\","
                    "\"role\":\"param\",\"dtype\":\"f32\",\"shape\":[3,4]},"
                    "{\"name\":\"Y\",\"role\":\"output\",\"dtype\":\"f32\","
                    "\"shape\":[\"b\",\"n\",3]} ] }\r\n";
  EXPECT_EQ(invoke(sig), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, WrongArgumentCount) {
  expectRefused(invoke(kSig, 2), ATTNC_RT_ERR_NARGS,
                {"attnc_lin", "expected 3 arguments but got 2"});
  expectRefused(invoke(kSig, -1), ATTNC_RT_ERR_NARGS, {"got -1"});
  expectRefused(attnc_rt_invoke(kSig, nullptr, 3, recordingThunk),
                ATTNC_RT_ERR_NARGS, {"args is NULL"});
}

TEST_F(RuntimeTest, WrongRankOrDType) {
  args[1] = makeTensor(w.data(), ATTNC_F32, {12});
  expectRefused(invoke(), ATTNC_RT_ERR_TYPE,
                {"attnc_lin", "argument 'W' (#1)", "rank is 1 but must be 2",
                 "f32[3, 4]"});
  SetUp();
  args[0].dtype = ATTNC_F64;
  expectRefused(invoke(), ATTNC_RT_ERR_TYPE,
                {"argument 'X' (#0)", "dtype is f64 but must be f32"});
  SetUp();
  args[2].dtype = 42;
  expectRefused(invoke(), ATTNC_RT_ERR_TYPE,
                {"output 'Y' (#2)", "dtype 42 is not an attnc_dtype"});
  SetUp();
  args[0].rank = 99; // must not index shape[] out of bounds
  expectRefused(invoke(), ATTNC_RT_ERR_TYPE, {"rank is 99"});
}

TEST_F(RuntimeTest, StaticDimension) {
  args[1] = makeTensor(w.data(), ATTNC_F32, {4, 3});
  expectRefused(invoke(), ATTNC_RT_ERR_SHAPE,
                {"argument 'W' (#1)", "dimension 0 is 4 but must be 3"});
}

TEST_F(RuntimeTest, NegativeSize) {
  args[0].shape[1] = -5;
  expectRefused(invoke(), ATTNC_RT_ERR_SHAPE,
                {"argument 'X' (#0)", "dimension 1 has negative size -5"});
}

TEST_F(RuntimeTest, DynamicDimensionsAgreeAcrossArguments) {
  // Y has n = 4 where X says 5: the message names both arguments.
  args[2] = makeTensor(y.data(), ATTNC_F32, {2, 4, 3});
  expectRefused(invoke(), ATTNC_RT_ERR_SHAPE,
                {"output 'Y' (#2)", "dimension 1 is 4 but 'n' is 5",
                 "argument 'X' (#0)"});
}

TEST_F(RuntimeTest, InputsDetermineDynamicDimensionsBeforeOutputs) {
  // The output comes first in this signature, but X (an input) still
  // determines n: the complaint is about the output.
  const char *sig =
      R"({"name":"m","args":[{"name":"Y","role":"output","dtype":"f32","shape":["n"]},)"
      R"({"name":"X","role":"input","dtype":"f32","shape":["n"]}]})";
  float a[4] = {0}, b[3] = {0};
  args[0] = makeTensor(a, ATTNC_F32, {4});
  args[1] = makeTensor(b, ATTNC_F32, {3});
  rec.ranks = {1, 1};
  expectRefused(invoke(sig, 2), ATTNC_RT_ERR_SHAPE,
                {"output 'Y' (#0)", "dimension 0 is 4 but 'n' is 3",
                 "argument 'X' (#1)"});
}

TEST_F(RuntimeTest, RepeatedDimensionWithinOneArgument) {
  const char *sig =
      R"({"name":"sq","args":[{"name":"A","role":"input","dtype":"f32","shape":["n","n"]},)"
      R"({"name":"B","role":"output","dtype":"f32","shape":["n"]}]})";
  std::vector<float> a(12), b(3);
  args[0] = makeTensor(a.data(), ATTNC_F32, {3, 4});
  args[1] = makeTensor(b.data(), ATTNC_F32, {3});
  rec.ranks = {2, 1};
  expectRefused(invoke(sig, 2), ATTNC_RT_ERR_SHAPE,
                {"argument 'A' (#0): dimension 1 is 4 but 'n' is 3 from "
                 "dimension 0 of argument 'A' (#0)"});
  args[0] = makeTensor(a.data(), ATTNC_F32, {3, 3});
  EXPECT_EQ(invoke(sig, 2), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, OutputOnlyDimension) {
  // m appears only in outputs: the first output fixes it.
  const char *sig =
      R"({"name":"o","args":[{"name":"X","role":"input","dtype":"f32","shape":[2]},)"
      R"({"name":"A","role":"output","dtype":"f32","shape":["m"]},)"
      R"({"name":"B","role":"output","dtype":"f32","shape":["m"]}]})";
  float xs[2], as[3], bs[4];
  args[0] = makeTensor(xs, ATTNC_F32, {2});
  args[1] = makeTensor(as, ATTNC_F32, {3});
  args[2] = makeTensor(bs, ATTNC_F32, {4});
  rec.ranks = {1, 1, 1};
  expectRefused(invoke(sig), ATTNC_RT_ERR_SHAPE,
                {"output 'B' (#2)", "'m' is 3", "output 'A' (#1)"});
  args[2] = makeTensor(bs, ATTNC_F32, {3});
  EXPECT_EQ(invoke(sig), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, ElementCountOverflow) {
  const char *sig =
      R"({"name":"big","args":[{"name":"X","role":"input","dtype":"f32","shape":["a","b","c"]},)"
      R"({"name":"Y","role":"output","dtype":"f32","shape":[1]}]})";
  float one = 0;
  args[0] = makeTensor(x.data(), ATTNC_F32, {1, 1, 1});
  args[0].shape[0] = args[0].shape[1] = args[0].shape[2] = int64_t(1) << 30;
  args[1] = makeTensor(&one, ATTNC_F32, {1});
  rec.ranks = {3, 1};
  expectRefused(invoke(sig, 2), ATTNC_RT_ERR_SHAPE,
                {"argument 'X' (#0)", "overflows"});
  // 2^61 elements fit int64 but not in bytes (x4).
  args[0].shape[0] = int64_t(1) << 61;
  args[0].shape[1] = args[0].shape[2] = 1;
  expectRefused(invoke(sig, 2), ATTNC_RT_ERR_SHAPE, {"overflows"});
  // ... but an empty tensor never overflows, whatever its other sizes.
  args[0].shape[0] = int64_t(1) << 62;
  args[0].shape[1] = int64_t(1) << 62;
  args[0].shape[2] = 0;
  args[0].data = nullptr;
  EXPECT_EQ(invoke(sig, 2), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, NullData) {
  args[1].data = nullptr;
  expectRefused(invoke(), ATTNC_RT_ERR_NULL_DATA,
                {"argument 'W' (#1)", "data is NULL"});
}

TEST_F(RuntimeTest, EmptyTensors) {
  // n = 0: X and Y are empty; NULL data and any strides are accepted, and
  // the thunk still gets a non-null pointer.
  args[0] = makeTensor(nullptr, ATTNC_F32, {2, 0, 4});
  args[0].strides[0] = 12345;
  args[0].strides[2] = -7;
  args[2] = makeTensor(nullptr, ATTNC_F32, {2, 0, 3});
  ASSERT_EQ(invoke(), ATTNC_RT_OK) << attnc_rt_last_error();
  ASSERT_EQ(rec.calls, 1);
  EXPECT_NE(ptrOf(rec.descs[0][0]), nullptr);
  EXPECT_EQ(rec.descs[0][0], rec.descs[0][1]);
  EXPECT_NE(ptrOf(rec.descs[2][1]), nullptr);
  // Canonical strides, not the caller's.
  EXPECT_EQ(std::vector<int64_t>(rec.descs[0].begin() + 3, rec.descs[0].end()),
            (std::vector<int64_t>{2, 0, 4, 0, 4, 1}));
}

TEST_F(RuntimeTest, NonContiguousStridesRefused) {
  std::vector<float> big(3 * 8);
  args[1] = makeTensor(big.data(), ATTNC_F32, {3, 4});
  args[1].strides[0] = 8; // a row-padded view
  expectRefused(invoke(), ATTNC_RT_ERR_STRIDES,
                {"argument 'W' (#1)",
                 "stride of dimension 0 is 8 but must be 4",
                 "only contiguous row-major"});
  SetUp();
  // Transposed (column-major) layout.
  args[1].strides[0] = 1;
  args[1].strides[1] = 3;
  expectRefused(invoke(), ATTNC_RT_ERR_STRIDES,
                {"stride of dimension 1 is 3 but must be 1"});
}

TEST_F(RuntimeTest, StridesOfSizeOneDimensionsIgnored) {
  // b = 1: the stride of dimension 0 is never used, so anything goes; the
  // descriptor gets the canonical one.
  args[0] = makeTensor(x.data(), ATTNC_F32, {1, 5, 4});
  args[0].strides[0] = 999;
  args[2] = makeTensor(y.data(), ATTNC_F32, {1, 5, 3});
  args[2].strides[0] = 0;
  ASSERT_EQ(invoke(), ATTNC_RT_OK) << attnc_rt_last_error();
  EXPECT_EQ(rec.descs[0][3 + 3], 20);
  EXPECT_EQ(rec.descs[2][3 + 3], 15);
}

TEST_F(RuntimeTest, OutputOverlappingInputRefused) {
  // Y shares its last element's bytes with the start of X.
  std::vector<float> buf(30 + 40 - 1);
  args[2] = makeTensor(buf.data(), ATTNC_F32, {2, 5, 3});
  args[0] = makeTensor(buf.data() + 29, ATTNC_F32, {2, 5, 4});
  expectRefused(
      invoke(), ATTNC_RT_ERR_OVERLAP,
      {"output 'Y' (#2) overlaps argument 'X' (#0)", "must not share memory"});
  // Adjacent ranges do not overlap.
  std::vector<float> buf2(30 + 40);
  args[2] = makeTensor(buf2.data(), ATTNC_F32, {2, 5, 3});
  args[0] = makeTensor(buf2.data() + 30, ATTNC_F32, {2, 5, 4});
  EXPECT_EQ(invoke(), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, OutputsOverlappingEachOtherRefused) {
  const char *sig =
      R"({"name":"two","args":[{"name":"X","role":"input","dtype":"f32","shape":[4]},)"
      R"({"name":"A","role":"output","dtype":"f32","shape":[4]},)"
      R"({"name":"B","role":"output","dtype":"f32","shape":[4]}]})";
  float xs[4], out[6];
  args[0] = makeTensor(xs, ATTNC_F32, {4});
  args[1] = makeTensor(out, ATTNC_F32, {4});
  args[2] = makeTensor(out + 2, ATTNC_F32, {4});
  rec.ranks = {1, 1, 1};
  expectRefused(invoke(sig), ATTNC_RT_ERR_OVERLAP,
                {"output 'A' (#1) overlaps output 'B' (#2)"});
}

TEST_F(RuntimeTest, InputsMayAliasEachOther) {
  const char *sig =
      R"({"name":"alias","args":[{"name":"A","role":"input","dtype":"f32","shape":[4]},)"
      R"({"name":"B","role":"input","dtype":"f32","shape":[4]},)"
      R"({"name":"Y","role":"output","dtype":"f32","shape":[4]}]})";
  float in[4], out[4];
  args[0] = makeTensor(in, ATTNC_F32, {4});
  args[1] = makeTensor(in, ATTNC_F32, {4});
  args[2] = makeTensor(out, ATTNC_F32, {4});
  rec.ranks = {1, 1, 1};
  EXPECT_EQ(invoke(sig), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, EmptyOutputNeverOverlaps) {
  args[0] = makeTensor(x.data(), ATTNC_F32, {0, 5, 4});
  args[2] = makeTensor(x.data(), ATTNC_F32, {0, 5, 3});
  EXPECT_EQ(invoke(), ATTNC_RT_OK) << attnc_rt_last_error();
}

TEST_F(RuntimeTest, RankZeroAndOtherDTypes) {
  const char *sig =
      R"({"name":"s","args":[{"name":"L","role":"input","dtype":"i32","shape":[]},)"
      R"({"name":"H","role":"param","dtype":"bf16","shape":[2]},)"
      R"({"name":"Y","role":"output","dtype":"i64","shape":[]}]})";
  int32_t l = 3;
  uint16_t h[2] = {0, 0};
  int64_t out = 0;
  args[0] = makeTensor(&l, ATTNC_I32, {});
  args[1] = makeTensor(h, ATTNC_BF16, {2});
  args[2] = makeTensor(&out, ATTNC_I64, {});
  rec.ranks = {0, 1, 0};
  ASSERT_EQ(invoke(sig), ATTNC_RT_OK) << attnc_rt_last_error();
  ASSERT_EQ(rec.descs[0].size(), 3u);
  EXPECT_EQ(ptrOf(rec.descs[0][0]), &l);
  EXPECT_EQ(rec.descs[0][2], 0);
  // A scalar is one element: NULL data is refused.
  SetUp();
  args[0] = makeTensor(nullptr, ATTNC_I32, {});
  args[1] = makeTensor(h, ATTNC_BF16, {2});
  args[2] = makeTensor(&out, ATTNC_I64, {});
  expectRefused(invoke(sig), ATTNC_RT_ERR_NULL_DATA, {"argument 'L' (#0)"});
}

/// A kernel whose temporaries cannot all be allocated: two blocks succeed,
/// the third (too large for any malloc) fails.
int allocationsBeforeFailure;
void allocatingThunk(void **) {
  void *a = _mlir_memref_to_llvm_alloc(64);
  void *b = _mlir_memref_to_llvm_alloc(1 << 20);
  allocationsBeforeFailure = (a != nullptr) + (b != nullptr);
  std::memset(b, 0, 1 << 20);
  _mlir_memref_to_llvm_alloc(SIZE_MAX - 8);
  ADD_FAILURE() << "the failed allocation returned";
}

void balancedThunk(void **) {
  void *a = _mlir_memref_to_llvm_alloc(16);
  void *b = _mlir_memref_to_llvm_alloc(0);
  _mlir_memref_to_llvm_free(a);
  _mlir_memref_to_llvm_free(b);
  _mlir_memref_to_llvm_free(nullptr);
}

TEST_F(RuntimeTest, FailedAllocationEndsTheCall) {
  allocationsBeforeFailure = 0;
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, allocatingThunk),
            ATTNC_RT_ERR_NO_MEMORY);
  EXPECT_EQ(allocationsBeforeFailure, 2);
  EXPECT_NE(std::string(attnc_rt_last_error()).find("out of memory"),
            std::string::npos)
      << attnc_rt_last_error();
  // The runtime is usable afterwards (the interrupted call's blocks were
  // freed: LeakSanitizer would report them otherwise).
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, balancedThunk), ATTNC_RT_OK);
  EXPECT_EQ(invoke(), ATTNC_RT_OK);
}

/// Large blocks are kept when freed and reused by the next calls (malloc
/// would give fresh pages each time); small ones are not; an injected
/// failure still fails with a cached block at hand; a block is not reused
/// for a request of less than half its size; the cache stays bounded.
std::vector<void *> seen;
std::vector<int> firstBytes;
void largeBlocksThunk(void **) {
  void *big = _mlir_memref_to_llvm_alloc(1 << 20);
  void *small = _mlir_memref_to_llvm_alloc(1024);
  // What the previous call left there, if it is the same memory (fresh
  // pages from malloc's mmap would read 0).
  firstBytes.push_back(static_cast<unsigned char *>(big)[(1 << 20) - 1]);
  std::memset(big, 1, 1 << 20);
  seen.push_back(big);
  seen.push_back(small);
  _mlir_memref_to_llvm_free(big);
  _mlir_memref_to_llvm_free(small);
}

TEST_F(RuntimeTest, LargeBlocksAreReusedAcrossCalls) {
  seen.clear();
  firstBytes.clear();
  ASSERT_EQ(attnc_rt_invoke(kSig, args, 3, largeBlocksThunk), ATTNC_RT_OK);
  ASSERT_EQ(attnc_rt_invoke(kSig, args, 3, largeBlocksThunk), ATTNC_RT_OK);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], seen[2]) << "the 1 MiB block was not reused";
  EXPECT_EQ(firstBytes[1], 1) << "the second call got fresh memory";
  EXPECT_EQ(attnc_rt_live_blocks(), 0);
  // Half the size or less: a fresh block (the cached one stays cached).
  void *quarter = _mlir_memref_to_llvm_alloc(256 << 10);
  EXPECT_NE(quarter, seen[0]);
  // An injected failure fails although a fitting block is cached.
  attnc_rt_fail_next_allocations(1);
  EXPECT_EQ(_mlir_memref_to_llvm_alloc(1 << 20), nullptr);
  void *again = _mlir_memref_to_llvm_alloc(1 << 20);
  EXPECT_EQ(again, seen[0]);
  _mlir_memref_to_llvm_free(again);
  _mlir_memref_to_llvm_free(quarter);
  // Many large blocks freed at once: the cache keeps some, frees the rest
  // (LeakSanitizer checks that nothing is lost), and serves them again.
  std::vector<void *> blocks;
  for (int i = 0; i < 20; ++i)
    blocks.push_back(_mlir_memref_to_llvm_alloc((300 + i) << 10));
  for (void *b : blocks)
    _mlir_memref_to_llvm_free(b);
  void *reused = _mlir_memref_to_llvm_alloc(319 << 10);
  EXPECT_NE(std::find(blocks.begin(), blocks.end(), reused), blocks.end());
  _mlir_memref_to_llvm_free(reused);
  EXPECT_EQ(attnc_rt_live_blocks(), 0);
}

/// Allocation from worker threads (the kernels will run parallel loops):
/// several std::threads allocate and free inside one call, some blocks are
/// left for the runtime to free, and the call succeeds.
std::atomic<int> workerAllocations;
int64_t liveInsideCall;
void threadedThunk(void **) {
  void *mine = _mlir_memref_to_llvm_alloc(256); // left to the runtime
  std::memset(mine, 1, 256);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([t] {
      for (int i = 0; i < 50; ++i) {
        size_t size = 64 * (1 + (t * 50 + i) % 7);
        void *p = _mlir_memref_to_llvm_alloc(size);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
        std::memset(p, t, size);
        ++workerAllocations;
        if (i % 10 != 9) // 5 blocks per thread stay allocated
          _mlir_memref_to_llvm_free(p);
      }
    });
  for (std::thread &w : workers)
    w.join();
  liveInsideCall = attnc_rt_live_blocks();
}

TEST_F(RuntimeTest, AllocationFromSeveralThreadsInOneCall) {
  workerAllocations = 0;
  ASSERT_EQ(attnc_rt_live_blocks(), 0);
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, threadedThunk), ATTNC_RT_OK)
      << attnc_rt_last_error();
  EXPECT_EQ(workerAllocations, 200);
  // The worker threads' blocks belonged to the call: 1 + 4 x 5 were still
  // allocated when the thunk returned, and the end of the call freed them.
  EXPECT_EQ(liveInsideCall, 21);
  EXPECT_EQ(attnc_rt_live_blocks(), 0);
}

/// A failed allocation on a worker thread: the worker gets NULL (no jump
/// across threads), the kernel goes on to its end, and the call then
/// reports ATTNC_RT_ERR_NO_MEMORY and frees everything it allocated.
bool workerGotNull, thunkFinished;
void workerFailureThunk(void **) {
  void *before = _mlir_memref_to_llvm_alloc(128);
  std::thread worker([] {
    void *ok = _mlir_memref_to_llvm_alloc(1 << 16); // stays allocated
    std::memset(ok, 0, 1 << 16);
    workerGotNull = _mlir_memref_to_llvm_alloc(SIZE_MAX - 8) == nullptr;
  });
  worker.join();
  // The invoking thread is not interrupted; its later allocations work.
  void *after = _mlir_memref_to_llvm_alloc(64);
  std::memset(after, 0, 64);
  _mlir_memref_to_llvm_free(before);
  thunkFinished = true;
}

TEST_F(RuntimeTest, FailedAllocationOnAWorkerThread) {
  workerGotNull = thunkFinished = false;
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, workerFailureThunk),
            ATTNC_RT_ERR_NO_MEMORY);
  EXPECT_TRUE(workerGotNull);
  EXPECT_TRUE(thunkFinished);
  std::string msg = attnc_rt_last_error();
  EXPECT_NE(msg.find("attnc_lin: out of memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("on a worker thread"), std::string::npos) << msg;
  EXPECT_EQ(attnc_rt_live_blocks(), 0);
  // The next calls are not affected.
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, balancedThunk), ATTNC_RT_OK);
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, threadedThunk), ATTNC_RT_OK);
  EXPECT_EQ(attnc_rt_live_blocks(), 0);
}

/// A small allocation (a kernel's per-tile scratch) that fails on a worker
/// thread returns the thread's sink instead of NULL: the generated kernels
/// do not test their scratch for NULL, and must finish in bounds. The call
/// reports ATTNC_RT_ERR_NO_MEMORY; the sink is never freed nor leaked.
bool sinkWritable, sinkShared;
void workerScratchFailureThunk(void **) {
  std::thread worker([] {
    attnc_rt_fail_next_allocations(2);
    auto *a = static_cast<unsigned char *>(_mlir_memref_to_llvm_alloc(4096));
    auto *b = static_cast<unsigned char *>(_mlir_memref_to_llvm_alloc(64 << 10));
    sinkShared = a && a == b;
    if (a) {
      std::memset(a, 0x5a, 64 << 10); // the whole sink is writable
      sinkWritable = true;
    }
    _mlir_memref_to_llvm_free(a); // ignored
    // Larger requests still fail with NULL.
    attnc_rt_fail_next_allocations(1);
    EXPECT_EQ(_mlir_memref_to_llvm_alloc((64 << 10) + 1), nullptr);
  });
  worker.join();
}

TEST_F(RuntimeTest, FailedScratchOnAWorkerThreadGetsTheSink) {
  sinkWritable = sinkShared = false;
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, workerScratchFailureThunk),
            ATTNC_RT_ERR_NO_MEMORY);
  EXPECT_TRUE(sinkWritable);
  EXPECT_TRUE(sinkShared);
  EXPECT_NE(std::string(attnc_rt_last_error()).find("on a worker thread"),
            std::string::npos);
  EXPECT_EQ(attnc_rt_live_blocks(), 0);
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, balancedThunk), ATTNC_RT_OK);
}

/// Two calls in progress at once, each with a worker thread: a worker
/// cannot tell which call it works for, so its blocks are freed once both
/// calls are over, and its failed allocation fails both calls (a spurious
/// failure of the other call, never a missed one).
struct Rendezvous {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  void wait(int n) {
    std::unique_lock<std::mutex> lock(m);
    ++arrived;
    cv.notify_all();
    cv.wait(lock, [&] { return arrived >= n; });
  }
};
Rendezvous *bothInProgress, *bothAllocated;
std::atomic<int> failingWorkers;
void concurrentThunk(void **) {
  bothInProgress->wait(2);
  std::thread worker([] {
    void *p = _mlir_memref_to_llvm_alloc(512); // left to the runtime
    std::memset(p, 0, 512);
    if (failingWorkers-- > 0)
      EXPECT_EQ(_mlir_memref_to_llvm_alloc(SIZE_MAX - 8), nullptr);
  });
  worker.join();
  bothAllocated->wait(2);
}

TEST_F(RuntimeTest, WorkerThreadsOfConcurrentCalls) {
  for (int failing : {0, 1}) {
    Rendezvous a, b;
    bothInProgress = &a;
    bothAllocated = &b;
    failingWorkers = failing;
    int32_t rc[2];
    std::string msg[2];
    std::vector<std::thread> callers;
    for (int k = 0; k < 2; ++k)
      callers.emplace_back([&, k] {
        std::vector<float> x(40, 1.0f), w(12, 2.0f), y(30);
        attnc_tensor t[3] = {makeTensor(x.data(), ATTNC_F32, {2, 5, 4}),
                             makeTensor(w.data(), ATTNC_F32, {3, 4}),
                             makeTensor(y.data(), ATTNC_F32, {2, 5, 3})};
        rc[k] = attnc_rt_invoke(kSig, t, 3, concurrentThunk);
        msg[k] = attnc_rt_last_error();
      });
    for (std::thread &c : callers)
      c.join();
    for (int k = 0; k < 2; ++k) {
      if (failing) {
        EXPECT_EQ(rc[k], ATTNC_RT_ERR_NO_MEMORY) << "call " << k;
        EXPECT_NE(msg[k].find("on a worker thread"), std::string::npos)
            << msg[k];
      } else {
        EXPECT_EQ(rc[k], ATTNC_RT_OK) << "call " << k << ": " << msg[k];
      }
    }
    EXPECT_EQ(attnc_rt_live_blocks(), 0);
  }
}

/// attnc_rt_invoke_cached parses the signature on the first call only.
TEST_F(RuntimeTest, SignatureParsedOnce) {
  void *cache = nullptr;
  ASSERT_EQ(attnc_rt_invoke_cached(kSig, &cache, args, 3, recordingThunk),
            ATTNC_RT_OK)
      << attnc_rt_last_error();
  ASSERT_NE(cache, nullptr);
  const auto *sig = static_cast<const attnc_signature *>(cache);
  EXPECT_EQ(std::string(sig->name.ptr, sig->name.len), "lin");
  ASSERT_EQ(sig->nargs, 3);
  EXPECT_EQ(sig->args[2].role, ATTNC_ROLE_OUTPUT);
  EXPECT_EQ(sig->args[1].dims[1].size, 4);
  void *first = cache;
  // Later calls use the cached copy: the text is not read again (a cache
  // belongs to one constant signature; here a different text proves it).
  EXPECT_EQ(attnc_rt_invoke_cached("not json", &cache, args, 3, recordingThunk),
            ATTNC_RT_OK);
  EXPECT_EQ(cache, first);
  EXPECT_EQ(rec.calls, 2);
  // The checks still run on every call.
  args[1].data = nullptr;
  expectRefusedAfter(
      attnc_rt_invoke_cached(kSig, &cache, args, 3, recordingThunk),
      ATTNC_RT_ERR_NULL_DATA, {"attnc_lin", "'W' (#1)"});
  // Without a cache it is attnc_rt_invoke.
  SetUp();
  EXPECT_EQ(attnc_rt_invoke_cached(kSig, nullptr, args, 3, recordingThunk),
            ATTNC_RT_OK);
  free(cache); // the test owns this cache, unlike a model's
}

/// A model on the AMX tile unit: when the OS refuses the tile state, every
/// call is refused with the reason before any check or kernel; when it
/// grants it, the call is attnc_rt_invoke_cached's.
TEST_F(RuntimeTest, AMXModelNeedsTheTileState) {
  void *cache = nullptr;
  attnc_rt_set_amx_request_result(EPERM);
  expectRefused(
      attnc_rt_invoke_amx_cached(kSig, &cache, args, 3, recordingThunk),
      ATTNC_RT_ERR_CPU_STATE,
      {"AMX tile unit", "--amx=false",
       "arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA): ", strerror(EPERM)});
  EXPECT_EQ(cache, nullptr);
  args[1].data = nullptr; // refused for the tile state first
  expectRefused(
      attnc_rt_invoke_amx_cached(kSig, &cache, args, 3, recordingThunk),
      ATTNC_RT_ERR_CPU_STATE, {"refused the tile state"});
  SetUp();
  attnc_rt_set_amx_request_result(0);
  EXPECT_EQ(attnc_rt_invoke_amx_cached(kSig, &cache, args, 3, recordingThunk),
            ATTNC_RT_OK)
      << attnc_rt_last_error();
  EXPECT_EQ(rec.calls, 1);
  args[1].data = nullptr;
  expectRefusedAfter(
      attnc_rt_invoke_amx_cached(kSig, &cache, args, 3, recordingThunk),
      ATTNC_RT_ERR_NULL_DATA, {"attnc_lin", "'W' (#1)"});
  free(cache);
}

TEST_F(RuntimeTest, MalformedSignatureIsNotCached) {
  void *cache = nullptr;
  expectRefused(attnc_rt_invoke_cached(R"({"name":"m","args":[}]})", &cache,
                                       args, 3, recordingThunk),
                ATTNC_RT_ERR_SIGNATURE,
                {"bad signature at offset 20: expected '{' but found '}'"});
  EXPECT_EQ(cache, nullptr);
}

TEST_F(RuntimeTest, ConcurrentFirstCallsShareOneSignature) {
  for (int round = 0; round < 20; ++round) {
    void *cache = nullptr;
    std::atomic<bool> go{false};
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        std::vector<float> x(40, 1.0f), w(12, 2.0f), y(30);
        attnc_tensor t3[3] = {makeTensor(x.data(), ATTNC_F32, {2, 5, 4}),
                              makeTensor(w.data(), ATTNC_F32, {3, 4}),
                              makeTensor(y.data(), ATTNC_F32, {2, 5, 3})};
        while (!go)
          std::this_thread::yield();
        if (attnc_rt_invoke_cached(kSig, &cache, t3, 3, balancedThunk) ==
            ATTNC_RT_OK)
          ++ok;
      });
    go = true;
    for (std::thread &t : threads)
      t.join();
    EXPECT_EQ(ok, 8);
    ASSERT_NE(cache, nullptr);
    EXPECT_EQ(static_cast<const attnc_signature *>(cache)->nargs, 3);
    free(cache); // the test owns this cache, unlike a model's
  }
}

TEST_F(RuntimeTest, ErrorIsPerThread) {
  args[1].data = nullptr;
  ASSERT_EQ(invoke(), ATTNC_RT_ERR_NULL_DATA);
  std::string other = "unset";
  std::thread([&] { other = attnc_rt_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_NE(std::string(attnc_rt_last_error()), "");
}

TEST_F(RuntimeTest, NoThunk) {
  EXPECT_EQ(attnc_rt_invoke(kSig, args, 3, nullptr), ATTNC_RT_ERR_SIGNATURE);
}

TEST_F(RuntimeTest, TooManyArgumentsOrDimensions) {
  std::string sig = R"({"name":"many","args":[)";
  for (int i = 0; i < ATTNC_RT_MAX_ARGS + 1; ++i)
    sig += std::string(i ? "," : "") + R"({"name":"A)" + std::to_string(i) +
           R"(","role":"input","dtype":"f32","shape":[]})";
  sig += "]}";
  expectRefused(invoke(sig.c_str()), ATTNC_RT_ERR_SIGNATURE,
                {"more than 64 arguments"});
  const char *deep =
      R"({"name":"deep","args":[{"name":"A","role":"input","dtype":"f32","shape":[1,1,1,1,1,1,1,1,1]}]})";
  expectRefused(invoke(deep, 1), ATTNC_RT_ERR_SIGNATURE,
                {"rank exceeds the maximum of 8"});
}

/// Malformed signatures: each is refused with a message, never a crash.
class BadSignatureTest : public ::testing::TestWithParam<const char *> {};

TEST_P(BadSignatureTest, Refused) {
  Recorder rec;
  recorder = &rec;
  float v[4] = {0};
  attnc_tensor t = makeTensor(v, ATTNC_F32, {4});
  EXPECT_EQ(attnc_rt_invoke(GetParam(), &t, 1, recordingThunk),
            ATTNC_RT_ERR_SIGNATURE);
  EXPECT_EQ(rec.calls, 0);
  EXPECT_NE(std::string(attnc_rt_last_error()).find("bad signature"),
            std::string::npos)
      << attnc_rt_last_error();
}

#define ARG_OK R"({"name":"A","role":"input","dtype":"f32","shape":[4]})"
INSTANTIATE_TEST_SUITE_P(
    Runtime, BadSignatureTest,
    ::testing::Values(
        nullptr, "", "   ", "[]", "{", R"({"name":"m"})",
        R"({"args":[)" ARG_OK "]}", R"({"name":"m","args":[)" ARG_OK "]} x",
        R"({"name":"m","args":[)" ARG_OK "],}",
        R"({"name":"m","args":[)" ARG_OK ",]}",
        R"({"name":"m","args":[)" ARG_OK "],\"extra\":1}",
        R"({"name":"m","name":"m","args":[)" ARG_OK "]}",
        R"({"name":"","args":[)" ARG_OK "]}",
        R"({"name":"m,"args":[)" ARG_OK "]}",
        R"({"name":"m","args":[{"name":"A","role":"weight","dtype":"f32","shape":[4]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f8","shape":[4]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[-4]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[4.0]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[04]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[1e3]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[99999999999999999999]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[""]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[true]}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32"}]})",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[4],"x":0}]})",
        R"({"name":"m","args":[{"name":"A\q","role":"input","dtype":"f32","shape":[4]}]})",
        R"({"name":"m","args":[{"name":"A\u00g0","role":"input","dtype":"f32","shape":[4]}]})",
        "{\"name\":\"m\n\",\"args\":[]}",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[4])",
        R"({"name":"m","args":[{"name":"A","role":"input","dtype":"f32","shape":[4]})"));

TEST(SignatureParserTest, ParsesNamesRolesAndShapes) {
  attnc_signature sig;
  char err[256];
  ASSERT_EQ(attnc_rt_parse_signature(kSig, &sig, err, sizeof err), 0) << err;
  EXPECT_EQ(std::string(sig.name.ptr, sig.name.len), "lin");
  ASSERT_EQ(sig.nargs, 3);
  EXPECT_EQ(std::string(sig.args[0].name.ptr, sig.args[0].name.len), "X");
  EXPECT_EQ(sig.args[0].role, ATTNC_ROLE_INPUT);
  EXPECT_EQ(sig.args[1].role, ATTNC_ROLE_PARAM);
  EXPECT_EQ(sig.args[2].role, ATTNC_ROLE_OUTPUT);
  EXPECT_EQ(sig.args[0].dtype, ATTNC_F32);
  ASSERT_EQ(sig.args[0].rank, 3);
  EXPECT_LT(sig.args[0].dims[0].size, 0);
  EXPECT_EQ(
      std::string(sig.args[0].dims[1].dyn.ptr, sig.args[0].dims[1].dyn.len),
      "n");
  EXPECT_EQ(sig.args[0].dims[2].size, 4);
  EXPECT_EQ(sig.args[1].dims[0].size, 3);
}

TEST(SignatureParserTest, ReportsOffset) {
  attnc_signature sig;
  char err[256];
  EXPECT_EQ(attnc_rt_parse_signature(R"({"name":"m","args":[}]})", &sig, err,
                                     sizeof err),
            ATTNC_RT_ERR_SIGNATURE);
  EXPECT_STREQ(err, "bad signature at offset 20: expected '{' but found '}'");
  // A tiny buffer truncates but stays terminated.
  char tiny[8];
  EXPECT_EQ(attnc_rt_parse_signature("", &sig, tiny, sizeof tiny),
            ATTNC_RT_ERR_SIGNATURE);
  EXPECT_EQ(std::strlen(tiny), 7u);
}

TEST(SignatureParserTest, DTypeHelpers) {
  EXPECT_EQ(attnc_rt_dtype_size(ATTNC_F32), 4u);
  EXPECT_EQ(attnc_rt_dtype_size(ATTNC_BF16), 2u);
  EXPECT_EQ(attnc_rt_dtype_size(ATTNC_I64), 8u);
  EXPECT_EQ(attnc_rt_dtype_size(6), 0u);
  EXPECT_STREQ(attnc_rt_dtype_name(ATTNC_F16), "f16");
  EXPECT_STREQ(attnc_rt_dtype_name(-1), "?");
  EXPECT_STREQ(attnc_rt_role_name(ATTNC_ROLE_PARAM), "param");
}

} // namespace
