/*===- RuntimeFuzzer.c - libFuzzer target: the runtime's argument checks --===*
 *
 * Calls a compiled model (Inputs/fuzzabi.attn, linked in as an object file
 * with this build's sanitized runtime) with attnc_tensor arrays derived from
 * the fuzz bytes: dimensions near the model's signature or anywhere (negative,
 * huge, overflowing), ranks, dtypes, strides, null pointers, outputs that
 * alias other arguments, nargs and a null args pointer. One mode instead
 * feeds the bytes to attnc_rt_invoke as a signature (the JSON parser).
 *
 * Memory is never a lie the runtime could not see: every data pointer is
 * NULL or points to a buffer of exactly the bytes its shape claims, ending
 * at a guard page (so that the kernel, which is not instrumented, faults on
 * the first byte past the end); a tensor claiming more than kBufferCap bytes
 * gets NULL. Any memory error is then a defect of the runtime or the kernel.
 *
 * The fuzzer checks the runtime's decision against its own reading of the
 * ABI (attnc.h, runtime.h): a call is valid exactly when nargs and args are
 * right, every rank and dtype is the signature's, no size is negative,
 * static sizes match, each dynamic dimension has one value, no byte size
 * overflows, non-empty tensors have data and row-major strides, and no
 * output shares a byte with another argument. A disagreement either way
 * aborts, as does a refusal without a message.
 *
 *===----------------------------------------------------------------------===*/

#include "attnc/attnc.h"
#include "attnc/runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int32_t attnc_fuzzabi(attnc_tensor *args, int32_t nargs);
const char *attnc_fuzzabi_signature(void);
const char *attnc_fuzzabi_last_error(void);

/* The signature of fuzzabi, in ABI order; a negative size is dynamic
 * dimension -1-size (b, n, m). */
enum { kDimB = -1, kDimN = -2, kDimM = -3, kNumDyn = 3 };
typedef struct {
  const char *name;
  int output;
  int32_t dtype;
  int32_t rank;
  int64_t dims[3];
} sig_arg;
static const sig_arg kSignature[] = {
    {"Xk", 0, ATTNC_F32, 3, {kDimB, kDimN, 4}},
    {"W", 0, ATTNC_F32, 2, {3, 4}},
    {"Xv", 0, ATTNC_F32, 3, {kDimB, kDimN, 4}},
    {"S", 0, ATTNC_F32, 3, {kDimB, kDimM, 4}},
    {"L", 0, ATTNC_I32, 1, {kDimB}},
    {"bias", 0, ATTNC_F32, 1, {3}},
    {"y", 1, ATTNC_F32, 3, {kDimB, kDimM, 3}},
    {"A", 1, ATTNC_F32, 3, {kDimB, kDimM, kDimN}},
};
enum { kNumArgs = sizeof kSignature / sizeof kSignature[0] };
/* Room for a few arguments too many; nargs stays within it. */
enum { kMaxArgs = kNumArgs + 4 };
static const int64_t kBufferCap = 1 << 20;

/* The fuzz bytes, consumed front to back; zeros once exhausted. */
typedef struct {
  const uint8_t *p;
  size_t n;
} bytes;
static uint8_t take8(bytes *b) {
  if (!b->n)
    return 0;
  --b->n;
  return *b->p++;
}
static uint64_t take64(bytes *b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = v << 8 | take8(b);
  return v;
}

static int64_t dtypeSize(int32_t dtype) {
  switch (dtype) {
  case ATTNC_F32:
  case ATTNC_I32:
    return 4;
  case ATTNC_F64:
  case ATTNC_I64:
    return 8;
  case ATTNC_F16:
  case ATTNC_BF16:
    return 2;
  default:
    return 0;
  }
}

/* Values where size arithmetic goes wrong. */
static const int64_t kInterestingSizes[] = {
    0, 1, 2, -1, 3, 4, 5, INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN,
    (int64_t)1 << 32, ((int64_t)1 << 32) + 1, 3037000500 /* ~sqrt(2^63) */,
    (int64_t)1 << 61, (int64_t)1 << 62, INT64_MAX, INT64_MIN, INT64_MAX / 4 + 1,
};

/* A buffer that ends at a guard page. */
typedef struct {
  void *base;
  size_t mapped;
} mapping;
static size_t pageSize;
static void *guardedBuffer(size_t size, mapping *m) {
  size_t body = (size + pageSize - 1) / pageSize * pageSize;
  m->mapped = body + pageSize;
  m->base = mmap(NULL, m->mapped, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m->base == MAP_FAILED) {
    perror("mmap");
    abort();
  }
  if (mprotect((char *)m->base + body, pageSize, PROT_NONE)) {
    perror("mprotect");
    abort();
  }
  return (char *)m->base + body - size;
}

/* The byte size a tensor claims (the product of its sizes times its
 * element size): 0 when a size is 0, -1 when a size is negative, the rank
 * or dtype is not an ABI one, or the product overflows. */
static int64_t claimedBytes(const attnc_tensor *t) {
  if (t->rank < 0 || t->rank > ATTNC_MAX_RANK || !dtypeSize(t->dtype))
    return -1;
  for (int32_t d = 0; d < t->rank; ++d)
    if (t->shape[d] == 0)
      return 0;
  int64_t count = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    if (t->shape[d] < 0 || __builtin_mul_overflow(count, t->shape[d], &count))
      return -1;
  int64_t size;
  if (__builtin_mul_overflow(count, dtypeSize(t->dtype), &size))
    return -1;
  return size;
}

/* Whether the ABI says the call is valid (see the file comment). */
static const char *whyInvalid(const attnc_tensor *args, int32_t nargs,
                              const int64_t *bytes) {
  if (nargs != kNumArgs)
    return "nargs";
  if (!args)
    return "args is NULL";
  int64_t dyn[kNumDyn];
  int known[kNumDyn] = {0, 0, 0};
  for (int32_t i = 0; i < nargs; ++i) {
    const sig_arg *s = &kSignature[i];
    const attnc_tensor *t = &args[i];
    if (t->rank != s->rank || t->dtype != s->dtype)
      return "rank or dtype";
    for (int32_t d = 0; d < t->rank; ++d) {
      if (t->shape[d] < 0)
        return "negative size";
      if (s->dims[d] >= 0) {
        if (t->shape[d] != s->dims[d])
          return "static size";
        continue;
      }
      int k = (int)(-1 - s->dims[d]);
      if (known[k] && dyn[k] != t->shape[d])
        return "dynamic size";
      known[k] = 1;
      dyn[k] = t->shape[d];
    }
    if (bytes[i] < 0)
      return "byte size overflows";
  }
  for (int32_t i = 0; i < nargs; ++i) {
    const attnc_tensor *t = &args[i];
    if (bytes[i] == 0)
      continue;
    if (!t->data)
      return "null data";
    int64_t expect = 1;
    for (int32_t d = t->rank - 1; d >= 0; --d) {
      if (t->shape[d] != 1 && t->strides[d] != expect)
        return "strides";
      expect *= t->shape[d];
    }
  }
  for (int32_t i = 0; i < nargs; ++i) {
    if (!kSignature[i].output || bytes[i] == 0)
      continue;
    uintptr_t lo = (uintptr_t)args[i].data, hi = lo + (uintptr_t)bytes[i];
    for (int32_t j = 0; j < nargs; ++j) {
      if (j == i || bytes[j] == 0)
        continue;
      uintptr_t lo2 = (uintptr_t)args[j].data;
      uintptr_t hi2 = lo2 + (uintptr_t)bytes[j];
      if (lo < hi2 && lo2 < hi)
        return "output overlaps";
    }
  }
  return NULL;
}

static void printCall(const attnc_tensor *args, int32_t nargs,
                      const int64_t *bytes) {
  fprintf(stderr, "nargs %d, args %p\n", (int)nargs, (const void *)args);
  for (int32_t i = 0; args && i < nargs && i < kMaxArgs; ++i) {
    const attnc_tensor *t = &args[i];
    fprintf(stderr, "  arg %d: dtype %d rank %d data %p bytes %lld shape",
            (int)i, (int)t->dtype, (int)t->rank, t->data, (long long)bytes[i]);
    for (int32_t d = 0; d < t->rank && d < ATTNC_MAX_RANK; ++d)
      fprintf(stderr, " %lld", (long long)t->shape[d]);
    fprintf(stderr, " strides");
    for (int32_t d = 0; d < t->rank && d < ATTNC_MAX_RANK; ++d)
      fprintf(stderr, " %lld", (long long)t->strides[d]);
    fprintf(stderr, "\n");
  }
}

static void noKernel(void **descriptors) { (void)descriptors; }

/* Mode 1: the bytes are a signature for attnc_rt_invoke (its JSON parser
 * and the checks against whatever it describes), with valid-looking tensors.
 * The thunk does nothing, so only the runtime reads the arguments. */
static void fuzzSignature(bytes *in) {
  char *text = malloc(in->n + 1);
  memcpy(text, in->p, in->n);
  text[in->n] = 0;
  static float storage[4][16];
  attnc_tensor args[kMaxArgs];
  memset(args, 0, sizeof args);
  for (int i = 0; i < kMaxArgs; ++i) {
    args[i].data = storage[i % 4];
    args[i].dtype = i % 3 == 2 ? ATTNC_I32 : ATTNC_F32;
    args[i].rank = 1 + i % 3;
    for (int d = 0; d < args[i].rank; ++d) {
      args[i].shape[d] = 2;
      args[i].strides[d] = (int64_t)1 << (args[i].rank - 1 - d);
    }
  }
  for (int32_t nargs = 0; nargs <= kMaxArgs; nargs += 4) {
    int32_t rc = attnc_rt_invoke(text, args, nargs, noKernel);
    if (rc != 0 && !attnc_rt_last_error()[0]) {
      fprintf(stderr, "refused (%d) without a message\n", (int)rc);
      abort();
    }
  }
  free(text);
}

/* Mode 0: a call of fuzzabi. */
static void fuzzCall(bytes *in) {
  int64_t dyn[kNumDyn];
  dyn[0] = take8(in) % 5;
  dyn[1] = take8(in) % 40;
  dyn[2] = take8(in) % 40;
  int32_t nargs = kNumArgs;
  uint8_t shape = take8(in);
  if (shape % 16 == 1)
    nargs = (int32_t)(take8(in) % (kMaxArgs + 3)) - 2;
  int nullArgs = shape % 32 == 2;

  attnc_tensor args[kMaxArgs];
  int64_t bytes[kMaxArgs];
  mapping maps[kMaxArgs];
  memset(args, 0, sizeof args);
  memset(maps, 0, sizeof maps);
  for (int i = 0; i < kMaxArgs; ++i) {
    attnc_tensor *t = &args[i];
    if (i < kNumArgs) {
      const sig_arg *s = &kSignature[i];
      t->dtype = s->dtype;
      t->rank = s->rank;
      for (int d = 0; d < s->rank; ++d)
        t->shape[d] = s->dims[d] >= 0 ? s->dims[d] : dyn[-1 - s->dims[d]];
    } else {
      t->dtype = ATTNC_F32;
      t->rank = 1;
      t->shape[0] = 1;
    }
    int64_t stride = 1;
    for (int d = t->rank - 1; d >= 0; --d) {
      t->strides[d] = stride;
      stride *= t->shape[d];
    }
    for (int k = take8(in) % 4; k > 0; --k) {
      uint8_t what = take8(in);
      int d = take8(in) % ATTNC_MAX_RANK;
      switch (what % 8) {
      case 1:
        t->rank = (int8_t)take8(in);
        break;
      case 2:
        t->dtype = (int8_t)take8(in) % 8;
        break;
      case 3:
        t->shape[d] = (int64_t)take64(in);
        break;
      case 4:
        t->shape[d] = kInterestingSizes[take8(in) % (sizeof kInterestingSizes /
                                                     sizeof(int64_t))];
        break;
      case 5:
        t->strides[d] = (int64_t)take64(in);
        break;
      case 6: /* off by one, wrapping */
        t->shape[d] = (int64_t)((uint64_t)t->shape[d] + 1);
        break;
      case 7:
        t->strides[d] = kInterestingSizes[take8(in) % (sizeof kInterestingSizes /
                                                       sizeof(int64_t))];
        break;
      default:
        break;
      }
    }
    bytes[i] = claimedBytes(t);
    uint8_t where = take8(in);
    if (bytes[i] <= 0 || bytes[i] > kBufferCap || where % 8 == 0) {
      /* Nothing to point to, or NULL on purpose. */
      t->data = NULL;
      continue;
    }
    if (where % 8 == 1 && i > 0) {
      /* Inside an earlier argument's buffer, when it fits there. */
      int j = take8(in) % i;
      int64_t offset = (int64_t)take8(in) * 4;
      if (args[j].data && bytes[j] >= 0 && offset + bytes[i] <= bytes[j]) {
        t->data = (char *)args[j].data + offset;
        continue;
      }
    }
    t->data = guardedBuffer((size_t)bytes[i], &maps[i]);
    /* Lengths (the kernel reads them) from the bytes, floats small. */
    if (t->dtype == ATTNC_I32 || t->dtype == ATTNC_I64) {
      for (int64_t k = 0; k < bytes[i]; ++k)
        ((uint8_t *)t->data)[k] = take8(in);
    } else if (t->dtype == ATTNC_F32) {
      for (int64_t k = 0; k < bytes[i] / 4; ++k)
        ((float *)t->data)[k] = (float)(k % 7) * 0.25f - 0.5f;
    }
  }

  attnc_tensor *argsPtr = nullArgs ? NULL : args;
  const char *why = whyInvalid(argsPtr, nargs, bytes);
  int32_t rc = attnc_fuzzabi(argsPtr, nargs);
  if ((rc == 0) != (why == NULL)) {
    fprintf(stderr,
            "the runtime %s a call the ABI says is %s%s (rc %d, \"%s\")\n",
            rc == 0 ? "accepted" : "refused", why ? "invalid: " : "valid",
            why ? why : "", (int)rc, attnc_fuzzabi_last_error());
    printCall(argsPtr, nargs, bytes);
    abort();
  }
  if (rc != 0 && !attnc_fuzzabi_last_error()[0]) {
    fprintf(stderr, "refused (%d) without a message\n", (int)rc);
    abort();
  }
  for (int i = 0; i < kMaxArgs; ++i)
    if (maps[i].base)
      munmap(maps[i].base, maps[i].mapped);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  pageSize = (size_t)sysconf(_SC_PAGESIZE);
  /* The table above must be fuzzabi's signature: every name, in order. */
  const char *signature = attnc_fuzzabi_signature();
  const char *at = signature;
  for (int i = 0; i < kNumArgs; ++i) {
    char key[64];
    snprintf(key, sizeof key, "\"name\":\"%s\"", kSignature[i].name);
    at = strstr(at, key);
    if (!at) {
      fprintf(stderr, "RuntimeFuzzer's table does not match %s\n", signature);
      abort();
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bytes in = {data, size};
  if (take8(&in) % 8 == 7)
    fuzzSignature(&in);
  else
    fuzzCall(&in);
  return 0;
}
