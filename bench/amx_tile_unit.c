/*===- amx_tile_unit.c - Where the AMX kernel's time goes, by construction -===*
 *
 * A probe, not an attnc kernel: hand-written intrinsics that repeat what the
 * bf16 kernel on the AMX tile unit (dialects/lib/Conversion/AttnToLoops/
 * BlockedAMX.cpp) does for one query tile of 16 rows and one key tile of 128
 * keys at d = d_v = 128, so that each part can be timed alone and together:
 *
 *   S       Q K^T: 8 panels of 16 keys, each 4 tdpbf16ps (D in chunks of
 *           32) into one accumulator tile, stored into a [16, 128] f32
 *           scratch (the packed layouts of BlockedDot.cpp);
 *   softmax scale, row maxima, exp (the kernel's 13-operation polynomial),
 *           rounded to bf16 into P;
 *   PV      P V: 8 groups of 16 value columns, each 4 tdpbf16ps (keys in
 *           chunks of 32), stored into a [16, 128] f32 scratch;
 *   acc     the accumulators rescaled and the products added.
 *
 * and before that the rate of tdpbf16ps alone and with 32, 64 or 128
 * independent FMAs after each 4 (how far the tile unit and the vector
 * units overlap).
 *
 *   attnc-amx-probe [KEYS]     (KEYS: keys streamed, 4096 by default)
 *
 * Needs a CPU with AMX-BF16 and a kernel that grants the tile state
 * (Linux 5.16 or later); says so and exits 1 otherwise. Build: part of the
 * bench folder's CMake targets when the compiler takes -mamx-bf16.
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { D = 128, QT = 16, KT = 128, ROUNDS = 5 };

struct tile_config {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} __attribute__((packed));

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint16_t *keyPanels, *valuePairs, *queries; /* bf16 */
static float scores[QT * KT] __attribute__((aligned(64)));
static uint16_t probabilities[QT * KT] __attribute__((aligned(64)));
static float products[QT * D] __attribute__((aligned(64)));
static float accumulators[QT * D] __attribute__((aligned(64)));
static volatile float sink;

enum { SKIP_S = 1, SKIP_SOFTMAX = 2, SKIP_PV = 4, SKIP_ACC = 8 };

/* exp(x) for x <= 0 as attnc's expNonPositive computes it. */
static inline __m512 expNonPositive(__m512 x) {
  const float shifter = 12583039.0f;
  __m512 y = _mm512_max_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                           _mm512_set1_ps(-127.0f));
  __m512 j = _mm512_add_ps(y, _mm512_set1_ps(shifter));
  __m512 r = _mm512_sub_ps(y, _mm512_sub_ps(j, _mm512_set1_ps(shifter)));
  __m512 p = _mm512_set1_ps(0.00132763879f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.00967551937f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.0555071332f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.240221201f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.693146967f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.00000007f));
  __m512i bits = _mm512_slli_epi32(_mm512_castps_si512(j), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

/* One key tile (keys [KT * tile, KT * (tile + 1))) for the query tile. */
static void keyTile(long tile, int skip) {
  const uint16_t *panels = keyPanels + tile * KT * D;
  const uint16_t *pairs = valuePairs + tile * KT * D;
  if (!(skip & SKIP_S)) {
    _tile_loadd(0, queries, 2 * D);
    _tile_loadd(1, queries + 32, 2 * D);
    _tile_loadd(2, queries + 64, 2 * D);
    _tile_loadd(3, queries + 96, 2 * D);
    for (int p = 0; p < KT / 16; ++p) {
      const uint16_t *panel = panels + p * 16 * D;
      _tile_zero(4);
      _tile_loadd(5, panel, 64);
      _tile_dpbf16ps(4, 0, 5);
      _tile_loadd(5, panel + 16 * 32, 64);
      _tile_dpbf16ps(4, 1, 5);
      _tile_loadd(5, panel + 32 * 32, 64);
      _tile_dpbf16ps(4, 2, 5);
      _tile_loadd(5, panel + 48 * 32, 64);
      _tile_dpbf16ps(4, 3, 5);
      _tile_stored(4, scores + 16 * p, 4 * KT);
    }
  }
  if (!(skip & SKIP_SOFTMAX)) {
    for (int r = 0; r < QT; ++r) {
      __m512 m = _mm512_set1_ps(-INFINITY);
      for (int v = 0; v < KT / 16; ++v) {
        __m512 s = _mm512_mul_ps(_mm512_load_ps(scores + r * KT + 16 * v),
                                 _mm512_set1_ps(0.0883883f));
        _mm512_store_ps(scores + r * KT + 16 * v, s);
        m = _mm512_max_ps(m, s);
      }
      __m512 rowMax = _mm512_set1_ps(_mm512_reduce_max_ps(m));
      for (int v = 0; v < KT / 16; ++v) {
        __m512 p = expNonPositive(
            _mm512_sub_ps(_mm512_load_ps(scores + r * KT + 16 * v), rowMax));
        _mm256_store_si256((__m256i *)(probabilities + r * KT + 16 * v),
                           (__m256i)_mm512_cvtneps_pbh(p));
      }
    }
  }
  if (!(skip & SKIP_PV)) {
    for (int g = 0; g < D / 16; ++g) {
      _tile_zero(4);
      for (int k = 0; k < KT / 32; ++k) {
        _tile_loadd(0, probabilities + 32 * k, 2 * KT);
        _tile_loadd(5, pairs + k * 16 * 2 * D + 32 * g, 4 * D);
        _tile_dpbf16ps(4, 0, 5);
      }
      _tile_stored(4, products + 16 * g, 4 * D);
    }
  }
  if (!(skip & SKIP_ACC))
    for (int i = 0; i < QT * D; i += 16)
      _mm512_store_ps(accumulators + i,
                      _mm512_fmadd_ps(_mm512_load_ps(accumulators + i),
                                      _mm512_set1_ps(0.9f),
                                      _mm512_load_ps(products + i)));
}

/* Best time per key tile over ROUNDS passes of 32 query tiles x keys. */
static double timeKeyTiles(long keys, int skip) {
  double best = 1e30;
  for (int round = 0; round < ROUNDS; ++round) {
    double start = now();
    for (int q = 0; q < 32; ++q)
      for (long t = 0; t < keys / KT; ++t)
        keyTile(t, skip);
    double each = (now() - start) / (32.0 * (keys / KT));
    if (each < best)
      best = each;
  }
  return best;
}

/* ns per tdpbf16ps on 4 accumulators, with `fmas` x 8 independent FMAs
 * after each group of 4 (0: the tile unit alone). */
static double tdpRate(int withTiles, int fmas) {
  const long iters = 1000000;
  __m512 a[8], m = _mm512_set1_ps(0.5f);
  for (int i = 0; i < 8; ++i) /* distinct, so that no chain is merged */
    a[i] = _mm512_set1_ps(0.01f * i);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  double start = now();
  for (long i = 0; i < iters; ++i) {
    if (withTiles) {
      _tile_dpbf16ps(0, 4, 5);
      _tile_dpbf16ps(1, 4, 5);
      _tile_dpbf16ps(2, 4, 5);
      _tile_dpbf16ps(3, 4, 5);
    }
    for (int k = 0; k < fmas; ++k)
      for (int j = 0; j < 8; ++j)
        a[j] = _mm512_fmadd_ps(a[j], m, m);
  }
  double each = (now() - start) / iters;
  float total = 0;
  for (int i = 0; i < 8; ++i)
    total += a[i][0];
  sink = total;
  return each * 1e9;
}

int main(int argc, char **argv) {
  long keys = argc > 1 ? atol(argv[1]) : 4096;
  if (keys < KT || keys % KT) {
    fprintf(stderr, "attnc-amx-probe: KEYS must be a multiple of %d\n", KT);
    return 2;
  }
  /* ARCH_REQ_XCOMP_PERM (0x1023) for XTILEDATA (18). */
  if (!__builtin_cpu_supports("amx-bf16") ||
      syscall(SYS_arch_prctl, 0x1023, 18)) {
    fprintf(stderr, "attnc-amx-probe: no AMX-BF16 here (or the kernel "
                    "refused the tile state)\n");
    return 1;
  }
  struct tile_config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
  keyPanels = aligned_alloc(64, keys * D * 2);
  valuePairs = aligned_alloc(64, keys * D * 2);
  queries = aligned_alloc(64, QT * D * 2);
  for (long i = 0; i < keys * D; ++i) {
    keyPanels[i] = 0x3c00 + i % 37; /* bf16 in [2^-7, 2^-6) */
    valuePairs[i] = 0x3c00 + i % 41;
  }
  for (int i = 0; i < QT * D; ++i)
    queries[i] = 0x3c00 + i % 13;

  double alone = tdpRate(1, 0);
  printf("tdpbf16ps (16x32 by 32x16 bf16, f32 sums), 4 accumulators:\n");
  printf("  4 tdpbf16ps alone                       %6.1f ns  (%.0f GFLOP/s)\n",
         alone, 4 * 16.0 * 16 * 32 * 2 / alone);
  for (int fmas = 4; fmas <= 16; fmas *= 2) {
    double vector = tdpRate(0, fmas), both = tdpRate(1, fmas);
    printf("  %3d independent FMAs alone / with them  %6.1f / %6.1f ns\n",
           8 * fmas, vector, both);
  }
  printf("\none key tile (16 queries x %d keys, d = %d), %ld keys streamed, "
         "ns per key tile:\n", KT, D, keys);
  static const struct {
    const char *name;
    int skip;
  } parts[] = {
      {"all four parts", 0},
      {"S alone", SKIP_SOFTMAX | SKIP_PV | SKIP_ACC},
      {"softmax alone", SKIP_S | SKIP_PV | SKIP_ACC},
      {"PV alone", SKIP_S | SKIP_SOFTMAX | SKIP_ACC},
      {"acc alone", SKIP_S | SKIP_SOFTMAX | SKIP_PV},
      {"softmax + acc (no tiles)", SKIP_S | SKIP_PV},
      {"S + PV (no vector work)", SKIP_SOFTMAX | SKIP_ACC},
  };
  double ideal = 64 * alone / 4;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; ++i)
    printf("  %-26s %7.0f\n", parts[i].name,
           1e9 * timeKeyTiles(keys, parts[i].skip));
  printf("  (64 tdpbf16ps at the rate above: %.0f)\n", ideal);
  sink = accumulators[7];
  return 0;
}
