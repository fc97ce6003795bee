/*===- transformer_main.c - Host program of transformer.attn -------*- C -*-===*
 *
 *   transformer_main [b [n [seed]]]      (defaults: b = 2, n = 37, seed = 42)
 *
 * Calls the compiled multi-head causal self-attention of
 * examples/transformer.attn (d = 64, h = 4, d_k = 16; X : f32[b, n, d],
 * Wq/Wk/Wv : f32[h, d_k, d], Wo : f32[d, h * d_k], Y : f32[b, n, d]) through
 * its generated header, and checks Y against an independent double-precision
 * reference written with plain loops. Exits with status 1 when the largest
 * absolute difference exceeds 1e-4, or when a call that must be refused is
 * not.
 *
 * Build (after `attnc examples/transformer.attn` has produced
 * libtransformer.so and, with --emit=header, transformer.h):
 *   cc -I runtime/include -I <dir of transformer.h> transformer_main.c \
 *      -L. -ltransformer -lm
 *
 *===----------------------------------------------------------------------===*/

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transformer.h"

enum { D = 64, H = 4, DK = 16 };

/* The f32 kernel against a double reference on O(1) data (X in [-1, 1],
 * weights scaled by 1/sqrt(fan-in)): a correct kernel is off by ~1e-6. */
static const double kTolerance = 1e-4;

/* Deterministic data: splitmix64 -> uniform in [-1, 1). */
static uint64_t rngState;
static double randomUnit(void) {
  uint64_t z = (rngState += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

static float *randomArray(size_t count, double scale) {
  float *p = malloc((count ? count : 1) * sizeof(float));
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < count; ++i)
    p[i] = (float)(randomUnit() * scale);
  return p;
}

/* A contiguous row-major f32 tensor of rank 2 or 3. */
static attnc_tensor tensor(float *data, int32_t rank, int64_t d0, int64_t d1,
                           int64_t d2) {
  attnc_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = ATTNC_F32;
  t.rank = rank;
  int64_t dims[3] = {d0, d1, d2};
  int64_t stride = 1;
  for (int32_t i = rank - 1; i >= 0; --i) {
    t.shape[i] = dims[i];
    t.strides[i] = stride;
    stride *= dims[i];
  }
  return t;
}

/* Y = Wo concat_j(softmax_causal(Q_j K_j^T / sqrt(d_k)) V_j) with
 * Q_j = X Wq[j]^T, K_j = X Wk[j]^T, V_j = X Wv[j]^T, per batch entry. */
static void reference(int64_t b, int64_t n, const float *X, const float *Wq,
                      const float *Wk, const float *Wv, const float *Wo,
                      double *Y) {
  size_t rows = (size_t)(n ? n : 1);
  double *Q = malloc(rows * DK * sizeof(double));
  double *K = malloc(rows * DK * sizeof(double));
  double *V = malloc(rows * DK * sizeof(double));
  double *C = malloc(rows * H * DK * sizeof(double));
  double *a = malloc(rows * sizeof(double));
  if (!Q || !K || !V || !C || !a) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  for (int64_t bi = 0; bi < b; ++bi) {
    const float *x = X + bi * n * D;
    for (int j = 0; j < H; ++j) {
      for (int64_t i = 0; i < n; ++i)
        for (int k = 0; k < DK; ++k) {
          double q = 0, kk = 0, v = 0;
          for (int m = 0; m < D; ++m) {
            double xm = x[i * D + m];
            q += (double)Wq[(j * DK + k) * D + m] * xm;
            kk += (double)Wk[(j * DK + k) * D + m] * xm;
            v += (double)Wv[(j * DK + k) * D + m] * xm;
          }
          Q[i * DK + k] = q;
          K[i * DK + k] = kk;
          V[i * DK + k] = v;
        }
      for (int64_t i = 0; i < n; ++i) {
        /* causal: query i sees keys l <= i */
        double mx = -INFINITY;
        for (int64_t l = 0; l <= i; ++l) {
          double s = 0;
          for (int k = 0; k < DK; ++k)
            s += Q[i * DK + k] * K[l * DK + k];
          a[l] = s / sqrt((double)DK);
          if (a[l] > mx)
            mx = a[l];
        }
        double sum = 0;
        for (int64_t l = 0; l <= i; ++l)
          sum += (a[l] = exp(a[l] - mx));
        for (int k = 0; k < DK; ++k) {
          double c = 0;
          for (int64_t l = 0; l <= i; ++l)
            c += a[l] / sum * V[l * DK + k];
          C[i * H * DK + j * DK + k] = c;
        }
      }
    }
    for (int64_t i = 0; i < n; ++i)
      for (int o = 0; o < D; ++o) {
        double y = 0;
        for (int p = 0; p < H * DK; ++p)
          y += (double)Wo[o * H * DK + p] * C[i * H * DK + p];
        Y[(bi * n + i) * D + o] = y;
      }
  }
  free(Q);
  free(K);
  free(V);
  free(C);
  free(a);
}

static int parseArg(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v < lo || v > hi)
    return 0;
  *out = v;
  return 1;
}

int main(int argc, char **argv) {
  long long b = 2, n = 37, seed = 42;
  if (argc > 4 || (argc > 1 && !parseArg(argv[1], 0, 1 << 16, &b)) ||
      (argc > 2 && !parseArg(argv[2], 0, 1 << 16, &n)) ||
      (argc > 3 && !parseArg(argv[3], 0, INT64_MAX, &seed))) {
    fprintf(stderr, "usage: %s [b [n [seed]]]\n", argv[0]);
    return 2;
  }
  rngState = (uint64_t)seed;

  size_t xCount = (size_t)(b * n * D);
  float *X = randomArray(xCount, 1.0);
  float *Wq = randomArray(H * DK * D, 1.0 / sqrt((double)D));
  float *Wk = randomArray(H * DK * D, 1.0 / sqrt((double)D));
  float *Wv = randomArray(H * DK * D, 1.0 / sqrt((double)D));
  float *Wo = randomArray(D * H * DK, 1.0 / sqrt((double)(H * DK)));
  float *Y = malloc((xCount ? xCount : 1) * sizeof(float));
  double *Yref = malloc((xCount ? xCount : 1) * sizeof(double));
  if (!Y || !Yref) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }

  /* The argument order comes from the generated header. */
  attnc_tensor args[ATTNC_transformer_NUM_ARGS];
  args[ATTNC_transformer_ARG_X] = tensor(X, 3, b, n, D);
  args[ATTNC_transformer_ARG_Wq] = tensor(Wq, 3, H, DK, D);
  args[ATTNC_transformer_ARG_Wk] = tensor(Wk, 3, H, DK, D);
  args[ATTNC_transformer_ARG_Wv] = tensor(Wv, 3, H, DK, D);
  args[ATTNC_transformer_ARG_Wo] = tensor(Wo, 2, D, H * DK, 0);
  args[ATTNC_transformer_ARG_Y] = tensor(Y, 3, b, n, D);

  printf("attnc_transformer: b = %lld, n = %lld, d = %d, h = %d, d_k = %d\n", b,
         n, D, H, DK);
  int32_t status = attnc_transformer(args, ATTNC_transformer_NUM_ARGS);
  if (status != 0) {
    printf("FAIL: attnc_transformer returned %d: %s\n", (int)status,
           attnc_transformer_last_error());
    return 1;
  }

  reference(b, n, X, Wq, Wk, Wv, Wo, Yref);
  double maxErr = 0;
  size_t worst = 0;
  for (size_t i = 0; i < xCount; ++i) {
    double e = fabs((double)Y[i] - Yref[i]);
    if (!(e <= maxErr)) { /* also catches NaN */
      maxErr = e;
      worst = i;
      if (isnan(e))
        break;
    }
  }
  for (size_t i = 0; i < xCount && i < 6; ++i)
    printf("  Y[%zu] = %+.6f   (reference %+.6f)\n", i, (double)Y[i], Yref[i]);
  printf("max abs error vs double reference: %.3g (at %zu; tolerance %g)\n",
         maxErr, worst, kTolerance);
  int failed = !(maxErr <= kTolerance);
  if (failed)
    printf("FAIL: error above tolerance\n");

  /* Refused calls: the runtime checks every argument before any compiled
   * code runs. First X with a wrong static dimension (d = 63), then Y whose
   * dynamic n disagrees with X's. */
  attnc_tensor bad[ATTNC_transformer_NUM_ARGS];
  memcpy(bad, args, sizeof bad);
  bad[ATTNC_transformer_ARG_X] = tensor(X, 3, b, n, D - 1);
  status = attnc_transformer(bad, ATTNC_transformer_NUM_ARGS);
  printf("wrong shape of X: status %d: %s\n", (int)status,
         attnc_transformer_last_error());
  failed |= status == 0;

  memcpy(bad, args, sizeof bad);
  bad[ATTNC_transformer_ARG_Y] = tensor(Y, 3, b, n > 0 ? n - 1 : 1, D);
  status = attnc_transformer(bad, ATTNC_transformer_NUM_ARGS);
  printf("n of Y differs from X: status %d: %s\n", (int)status,
         attnc_transformer_last_error());
  failed |= status == 0;

  free(X);
  free(Wq);
  free(Wk);
  free(Wv);
  free(Wo);
  free(Y);
  free(Yref);
  printf(failed ? "FAIL\n" : "PASS\n");
  return failed;
}
