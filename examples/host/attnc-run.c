/*===- attnc-run.c - Run any compiled model through its signature -*- C -*-===*
 *
 *   attnc-run libM.so [--model M] [--dim name=value ...] [--seed S]
 *             [--repeat R] [--print K]
 *
 * Loads a library built by attnc, reads attnc_M_signature(), allocates
 * contiguous tensors for every argument (dynamic dimensions from --dim,
 * default 8), fills inputs and params with seeded random values in [-1, 1]
 * (i32/i64 inputs, the lengths of `mask lengths`, with integers in [0, n]
 * where n is the row count of the float inputs), calls attnc_M R times and
 * prints the status, each output's shape and first K values, and the median
 * time per call. Outputs start as NaN so that elements the model fails to
 * write show up.
 *
 * The model name defaults to M of a file named libM.so. Exit status: 0 on
 * success, 1 when loading fails or the model refuses the call, 2 on a usage
 * error.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "Signature.h"
#include "attnc/attnc.h"

typedef int32_t (*model_fn)(attnc_tensor *, int32_t);
typedef const char *(*string_fn)(void);

#define MAX_DIM_OPTS 64
#define DEFAULT_DIM 8

static const char *progName = "attnc-run";

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s libM.so [--model M] [--dim name=value ...] [--seed S]\n"
          "       [--repeat R] [--print K]\n"
          "Runs the model M (default: from the file name libM.so) of a\n"
          "library built by attnc on random data. Dynamic dimensions not\n"
          "given with --dim are %d; S defaults to 1, R to 5, K to 8.\n",
          progName, DEFAULT_DIM);
}

static int usageError(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", progName);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(%s --help for usage)\n", progName);
  return 2;
}

/* Parses a non-negative decimal integer filling the whole string. */
static int parseCount(const char *s, int64_t *out) {
  if (!*s || *s == '-' || *s == '+')
    return 0;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < 0)
    return 0;
  *out = v;
  return 1;
}

/* splitmix64: small, seedable and identical on every platform, so that a
 * given --seed always produces the same data. */
static uint64_t rngState;
static uint64_t nextRandom(void) {
  uint64_t z = (rngState += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* Uniform in [-1, 1). */
static double randomUnit(void) {
  return (double)(nextRandom() >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* IEEE half and bfloat16 conversions (round to nearest even), for models
 * with f16/bf16 arguments. */
static uint16_t floatToHalf(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) /* inf, nan */
    return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31)
    return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) { /* subnormal or zero */
    if (exp < -10)
      return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1),
             half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1)))
      ++h;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
    ++h; /* may carry into the exponent, which is still correct */
  return (uint16_t)(sign | h);
}

static float halfToFloat(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, x;
  if (exp == 0x1f)
    x = sign | 0x7f800000u | (mant << 13);
  else if (exp)
    x = sign | ((exp + 112) << 23) | (mant << 13);
  else if (!mant)
    x = sign;
  else {
    /* subnormal: normalize */
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400u));
    x = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  memcpy(&f, &x, 4);
  return f;
}

static uint16_t floatToBF16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((x >> 16) | 0x40u); /* quiet nan */
  x += 0x7fffu + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

static float bf16ToFloat(uint16_t b) {
  uint32_t x = (uint32_t)b << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}

/* Element `k` of a tensor of `dtype` as a double, for printing. */
static double elementAt(const void *data, int32_t dtype, int64_t k) {
  switch (dtype) {
  case ATTNC_F32:
    return ((const float *)data)[k];
  case ATTNC_F64:
    return ((const double *)data)[k];
  case ATTNC_F16:
    return halfToFloat(((const uint16_t *)data)[k]);
  case ATTNC_BF16:
    return bf16ToFloat(((const uint16_t *)data)[k]);
  case ATTNC_I32:
    return ((const int32_t *)data)[k];
  case ATTNC_I64:
    return (double)((const int64_t *)data)[k];
  }
  return NAN;
}

/* Fills element `k`: from `v` for float types, `iv` for integer ones. */
static void setElement(void *data, int32_t dtype, int64_t k, double v,
                       int64_t iv) {
  switch (dtype) {
  case ATTNC_F32:
    ((float *)data)[k] = (float)v;
    break;
  case ATTNC_F64:
    ((double *)data)[k] = v;
    break;
  case ATTNC_F16:
    ((uint16_t *)data)[k] = floatToHalf((float)v);
    break;
  case ATTNC_BF16:
    ((uint16_t *)data)[k] = floatToBF16((float)v);
    break;
  case ATTNC_I32:
    ((int32_t *)data)[k] = (int32_t)iv;
    break;
  case ATTNC_I64:
    ((int64_t *)data)[k] = iv;
    break;
  }
}

static int isIntType(int32_t dtype) {
  return dtype == ATTNC_I32 || dtype == ATTNC_I64;
}

static double nowSeconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* "M" from ".../libM.so[.*]", or NULL. */
static char *modelFromFileName(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strncmp(base, "lib", 3) != 0)
    return NULL;
  base += 3;
  const char *so = strstr(base, ".so");
  if (!so || so == base || (so[3] != '\0' && so[3] != '.'))
    return NULL;
  size_t n = (size_t)(so - base);
  char *m = malloc(n + 1);
  if (!m)
    return NULL;
  memcpy(m, base, n);
  m[n] = '\0';
  return m;
}

/* Sets the function pointer at `fn` to the symbol attnc_<model><suffix>, or
 * NULL. The memcpy is how POSIX code turns dlsym's object pointer into a
 * function pointer without a cast ISO C does not allow. */
static void lookup(void *lib, const char *model, const char *suffix, void *fn) {
  char name[512];
  void *sym = NULL;
  if (snprintf(name, sizeof name, "attnc_%s%s", model, suffix) <
      (int)sizeof name)
    sym = dlsym(lib, name);
  memcpy(fn, &sym, sizeof sym);
}

static void printType(const attnc_sig_arg *a, const int64_t *shape) {
  printf("%s[", attnc_rt_dtype_name(a->dtype));
  for (int32_t d = 0; d < a->rank; ++d)
    printf("%s%lld", d ? ", " : "", (long long)shape[d]);
  printf("]");
}

int main(int argc, char **argv) {
  const char *libPath = NULL, *modelOpt = NULL;
  const char *dimNames[MAX_DIM_OPTS];
  int64_t dimValues[MAX_DIM_OPTS];
  size_t dimNameLens[MAX_DIM_OPTS];
  int numDims = 0;
  int64_t seed = 1, repeat = 5, printK = 8;

  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    /* --opt value and --opt=value */
    const char *opts[] = {"--model", "--dim", "--seed", "--repeat", "--print"};
    const char *value = NULL;
    int which = -1;
    for (int o = 0; o < 5; ++o) {
      size_t n = strlen(opts[o]);
      if (!strncmp(a, opts[o], n) && (a[n] == '\0' || a[n] == '=')) {
        which = o;
        if (a[n] == '=')
          value = a + n + 1;
        else if (i + 1 < argc)
          value = argv[++i];
        else
          return usageError("missing value after %s", a);
        break;
      }
    }
    if (which < 0) {
      if (a[0] == '-' && a[1])
        return usageError("unknown option %s", a);
      if (libPath)
        return usageError("more than one library given (%s)", a);
      libPath = a;
      continue;
    }
    switch (which) {
    case 0:
      modelOpt = value;
      break;
    case 1: {
      const char *eq = strchr(value, '=');
      if (!eq || eq == value || !parseCount(eq + 1, &dimValues[numDims]))
        return usageError("--dim expects name=value with value >= 0, got %s",
                          value);
      if (numDims == MAX_DIM_OPTS)
        return usageError("too many --dim options (%s)", value);
      dimNames[numDims] = value;
      dimNameLens[numDims] = (size_t)(eq - value);
      ++numDims;
      break;
    }
    case 2:
      if (!parseCount(value, &seed))
        return usageError("--seed expects an integer >= 0, got %s", value);
      break;
    case 3:
      if (!parseCount(value, &repeat) || repeat < 1 || repeat > 1000000)
        return usageError("--repeat expects an integer in [1, 1e6], got %s",
                          value);
      break;
    case 4:
      if (!parseCount(value, &printK))
        return usageError("--print expects an integer >= 0, got %s", value);
      break;
    }
  }
  if (!libPath)
    return usageError("%s", "no library given");

  char *model = modelOpt ? strdup(modelOpt) : modelFromFileName(libPath);
  if (!model)
    return usageError("cannot derive the model name from %s: use --model",
                      libPath);

  /* dlopen searches the library path for a bare name; a user naming a file
   * in the current directory means that file. */
  char pathBuf[4096];
  if (!strchr(libPath, '/')) {
    snprintf(pathBuf, sizeof pathBuf, "./%s", libPath);
    libPath = pathBuf;
  }
  void *lib = dlopen(libPath, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "%s: cannot load %s: %s\n", progName, libPath, dlerror());
    return 1;
  }
  _Static_assert(sizeof(string_fn) == sizeof(void *) &&
                     sizeof(model_fn) == sizeof(void *),
                 "function pointers must be as wide as dlsym's result");
  string_fn sigFn, errFn;
  model_fn fn;
  lookup(lib, model, "_signature", &sigFn);
  lookup(lib, model, "", &fn);
  lookup(lib, model, "_last_error", &errFn);
  if (!sigFn || !fn || !errFn) {
    fprintf(stderr,
            "%s: %s does not export attnc_%s, attnc_%s_signature and "
            "attnc_%s_last_error (wrong --model?)\n",
            progName, libPath, model, model, model);
    return 1;
  }

  static attnc_signature sig;
  char err[512];
  const char *json = sigFn();
  if (attnc_rt_parse_signature(json, &sig, err, sizeof err)) {
    fprintf(stderr, "%s: attnc_%s_signature(): %s\n", progName, model, err);
    return 1;
  }

  /* Sizes of every argument; dynamic dimensions from --dim. */
  int64_t shapes[ATTNC_RT_MAX_ARGS][ATTNC_MAX_RANK];
  int dimUsed[MAX_DIM_OPTS] = {0};
  for (int32_t i = 0; i < sig.nargs; ++i) {
    const attnc_sig_arg *a = &sig.args[i];
    for (int32_t d = 0; d < a->rank; ++d) {
      shapes[i][d] = a->dims[d].size;
      if (shapes[i][d] >= 0)
        continue;
      shapes[i][d] = DEFAULT_DIM;
      for (int k = 0; k < numDims; ++k)
        if (dimNameLens[k] == (size_t)a->dims[d].dyn.len &&
            !memcmp(dimNames[k], a->dims[d].dyn.ptr, dimNameLens[k])) {
          shapes[i][d] = dimValues[k];
          dimUsed[k] = 1;
        }
    }
  }
  for (int k = 0; k < numDims; ++k)
    if (!dimUsed[k])
      fprintf(stderr, "%s: warning: model %s has no dynamic dimension '%.*s'\n",
              progName, model, (int)dimNameLens[k], dimNames[k]);

  /* Lengths (integer inputs) are drawn in [0, n], n the row count of the
   * float inputs (the model clamps them anyway, so this only makes the
   * interesting range likely). */
  int64_t maxLen = 0;
  for (int32_t i = 0; i < sig.nargs; ++i) {
    const attnc_sig_arg *a = &sig.args[i];
    if (a->role == ATTNC_ROLE_INPUT && !isIntType(a->dtype) && a->rank >= 2 &&
        shapes[i][a->rank - 2] > maxLen)
      maxLen = shapes[i][a->rank - 2];
  }
  if (maxLen == 0)
    maxLen = DEFAULT_DIM;

  printf("model %s (%s)\n", model, libPath);
  static attnc_tensor args[ATTNC_RT_MAX_ARGS];
  int64_t counts[ATTNC_RT_MAX_ARGS];
  rngState = (uint64_t)seed;
  for (int32_t i = 0; i < sig.nargs; ++i) {
    const attnc_sig_arg *a = &sig.args[i];
    attnc_tensor *t = &args[i];
    t->dtype = a->dtype;
    t->rank = a->rank;
    int64_t count = 1;
    for (int32_t d = a->rank - 1; d >= 0; --d) {
      t->shape[d] = shapes[i][d];
      t->strides[d] = count;
      if (__builtin_mul_overflow(count, shapes[i][d], &count) ||
          count > (int64_t)(SIZE_MAX / 16)) {
        fprintf(stderr, "%s: argument '%.*s' is too large\n", progName,
                (int)a->name.len, a->name.ptr);
        return 1;
      }
    }
    counts[i] = count;
    printf("  #%-2d %-6s %.*s : ", (int)i, attnc_rt_role_name(a->role),
           (int)a->name.len, a->name.ptr);
    printType(a, t->shape);
    printf("\n");
    if (count == 0) {
      t->data = NULL; /* the runtime accepts NULL for empty tensors */
      continue;
    }
    size_t esize = attnc_rt_dtype_size(a->dtype);
    t->data = malloc((size_t)count * esize);
    if (!t->data) {
      fprintf(stderr, "%s: out of memory for argument '%.*s'\n", progName,
              (int)a->name.len, a->name.ptr);
      return 1;
    }
    for (int64_t k = 0; k < count; ++k) {
      if (a->role == ATTNC_ROLE_OUTPUT)
        setElement(t->data, a->dtype, k, NAN, 0);
      else if (isIntType(a->dtype))
        setElement(t->data, a->dtype, k, 0,
                   (int64_t)(nextRandom() % (uint64_t)(maxLen + 1)));
      else
        setElement(t->data, a->dtype, k, randomUnit(), 0);
    }
  }

  double *times = malloc((size_t)repeat * sizeof(double));
  if (!times) {
    fprintf(stderr, "%s: out of memory\n", progName);
    return 1;
  }
  for (int64_t r = 0; r < repeat; ++r) {
    double t0 = nowSeconds();
    int32_t status = fn(args, sig.nargs);
    times[r] = nowSeconds() - t0;
    if (status != 0) {
      printf("status: %d\nerror: %s\n", (int)status, errFn());
      return 1;
    }
  }
  printf("status: 0\n");

  for (int32_t i = 0; i < sig.nargs; ++i) {
    const attnc_sig_arg *a = &sig.args[i];
    if (a->role != ATTNC_ROLE_OUTPUT)
      continue;
    printf("output %.*s: ", (int)a->name.len, a->name.ptr);
    printType(a, args[i].shape);
    int64_t shown = printK < counts[i] ? printK : counts[i];
    printf(" (%lld elements, first %lld)\n", (long long)counts[i],
           (long long)shown);
    for (int64_t k = 0; k < shown; ++k) {
      double v = elementAt(args[i].data, a->dtype, k);
      if (isIntType(a->dtype))
        printf("%s%.0f", k % 8 ? " " : "  ", v);
      else
        printf("%s%.6g", k % 8 ? " " : "  ", v);
      if (k % 8 == 7 || k + 1 == shown)
        printf("\n");
    }
  }

  qsort(times, (size_t)repeat, sizeof(double), compareDoubles);
  double median = repeat % 2
                      ? times[repeat / 2]
                      : 0.5 * (times[repeat / 2 - 1] + times[repeat / 2]);
  printf("time per call: %.3f ms (median of %lld)\n", median * 1e3,
         (long long)repeat);

  for (int32_t i = 0; i < sig.nargs; ++i)
    free(args[i].data);
  free(times);
  free(model);
  /* No dlclose: the model's thread-local error state may still be live. */
  return 0;
}
