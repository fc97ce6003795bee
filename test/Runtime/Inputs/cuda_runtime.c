/* The CUDA entry points of the runtime (runtime/lib/CudaRuntime.c) without a
 * GPU: a hand-written thunk does what the code that gpu-to-llvm generates
 * does (mgpuStreamCreate, mgpuMemAlloc, mgpuModuleLoad/GetFunction/
 * LaunchKernel, mgpuMemcpy, mgpuMemFree, mgpuStreamSynchronize/Destroy,
 * mgpuModuleUnload), and the "kernel" is a host function of this program that
 * the fake driver (test/Runtime/FakeCuda, via ATTNC_LIBCUDA) calls by name.
 * Linked statically with libattnc_runtime.a and -rdynamic (the fake finds the
 * kernel with dlsym).
 *
 *   cuda_runtime nodriver   ATTNC_LIBCUDA names no library
 *   cuda_runtime fake       the fake driver: results, refusals, caching
 *   cuda_runtime fail       the fake with FAKE_CUDA_FAIL=<cuFunction> set
 */
#include "attnc/runtime.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MLIR 19's gpu-to-llvm ABI, implemented by the runtime (hidden there, but
 * this program links the archive statically). */
void *mgpuModuleLoad(void *data, int64_t size);
void *mgpuModuleGetFunction(void *module, const char *name);
void *mgpuStreamCreate(void);
void mgpuLaunchKernel(void *function, int64_t gridX, int64_t gridY,
                      int64_t gridZ, int64_t blockX, int64_t blockY,
                      int64_t blockZ, int32_t smem, void *stream, void **params,
                      void **extra, int64_t paramsCount);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamDestroy(void *stream);
void mgpuModuleUnload(void *module);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream);

static const char kSig[] =
    "{\"name\":\"dbl\",\"args\":["
    "{\"name\":\"x\",\"role\":\"input\",\"dtype\":\"f32\",\"shape\":[\"n\"]},"
    "{\"name\":\"y\",\"role\":\"output\",\"dtype\":\"f32\",\"shape\":[\"n\"]}]"
    "}";
static void *cpuCache, *devCache, *hostCache;

/* The "device image" (the fake only measures it). */
static const char kImage[] = "// fake PTX of the dbl model";

/* The kernel: out[i] = 2 * in[i] for the threads of the grid; exported. */
void attnc_test_double(unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                       unsigned by, unsigned bz, void **params) {
  (void)gy, (void)gz, (void)by, (void)bz;
  const float *in = *(const float **)params[0];
  float *out = *(float **)params[1];
  int64_t n = *(int64_t *)params[2];
  for (int64_t i = 0; i < (int64_t)gx * bx; ++i)
    if (i < n)
      out[i] = 2 * in[i];
}

/* What the thunk does besides the normal work. */
static enum { NORMAL, LEAK, HUGE_GRID, HUGE_BLOCK } mode;

static void thunk(void **descs) {
  int64_t *x = descs[0], *y = descs[1];
  float *in, *out;
  memcpy(&in, &x[1], sizeof in);
  memcpy(&out, &y[1], sizeof out);
  int64_t n = x[3];
  void *s = mgpuStreamCreate();
  float *tmp = mgpuMemAlloc((uint64_t)n * 4, s, false);
  mgpuMemset32(tmp, 0, (size_t)n, s);
  void *m = mgpuModuleLoad((void *)kImage, sizeof kImage);
  void *f = mgpuModuleGetFunction(m, "attnc_test_double");
  void *params[] = {&in, &tmp, &n};
  int64_t gx = (n + 127) / 128, gy = 1, bx = 128;
  if (mode == HUGE_GRID)
    gy = 70000;
  if (mode == HUGE_BLOCK)
    bx = 2048;
  mgpuLaunchKernel(f, gx, gy, 1, bx, 1, 1, 0, s, params, NULL, 3);
  mgpuModuleUnload(m);
  mgpuMemcpy(out, tmp, (size_t)n * 4, s);
  if (mode != LEAK)
    mgpuMemFree(tmp, s);
  mgpuStreamSynchronize(s);
  mgpuStreamDestroy(s);
}

static void cpuThunk(void **descs) { (void)descs; }

static attnc_tensor vec(float *data, int64_t n) {
  attnc_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = ATTNC_F32;
  t.rank = 1;
  t.shape[0] = n;
  t.strides[0] = 1;
  return t;
}

static int checkDoubled(const float *in, const float *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (out[i] != 2 * in[i])
      return 0;
  return 1;
}

/* The fake's functions, from the library the runtime opened. */
static long long (*liveAllocations)(void);
static long long (*moduleLoads)(void);
static long long (*launches)(void);
/* The caller's device buffers: managed memory, so that
 * FAKE_CUDA_FAIL=cuMemAlloc_v2 fails only the runtime's allocations. */
static int (*devAllocManaged)(unsigned long long *, size_t, unsigned);
static int (*devFree)(unsigned long long);

static void openFake(void) {
  const char *lib = getenv("ATTNC_LIBCUDA");
  void *h = lib ? dlopen(lib, RTLD_NOW) : NULL;
  if (!h) {
    printf("cannot open the fake driver: %s\n", dlerror());
    exit(1);
  }
  *(void **)&liveAllocations = dlsym(h, "fake_cuda_live_allocations");
  *(void **)&moduleLoads = dlsym(h, "fake_cuda_module_loads");
  *(void **)&launches = dlsym(h, "fake_cuda_launches");
  *(void **)&devAllocManaged = dlsym(h, "cuMemAllocManaged");
  *(void **)&devFree = dlsym(h, "cuMemFree_v2");
}

static float *deviceBuffer(int64_t n) {
  unsigned long long p = 0;
  if (devAllocManaged(&p, (size_t)n * 4, 1)) {
    printf("fake cuMemAlloc failed\n");
    exit(1);
  }
  return (float *)(uintptr_t)p;
}

static void report(const char *what, int32_t rc) {
  printf("%s: rc=%d %s\n", what, (int)rc, rc ? attnc_rt_last_error() : "");
}

/* The three entry points give the same refusal for bad arguments. */
static void badArguments(void) {
  float a[4] = {1, 2, 3, 4}, b[4];
  attnc_tensor args[2] = {vec(a, 4), vec(b, 3)};
  struct {
    const char *what;
    int32_t nargs;
  } cases[] = {{"nargs", 1}, {"shape", 2}};
  for (int k = 0; k < 2; ++k) {
    char cpu[1024];
    int32_t rc =
        attnc_rt_invoke_cached(kSig, &cpuCache, args, cases[k].nargs, cpuThunk);
    snprintf(cpu, sizeof cpu, "%s", attnc_rt_last_error());
    int32_t rcDev = attnc_rt_invoke_cuda_cached(kSig, &devCache, args,
                                                cases[k].nargs, NULL, thunk);
    int same = strcmp(cpu, attnc_rt_last_error()) == 0;
    int32_t rcHost = attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args,
                                                      cases[k].nargs, thunk);
    same &= strcmp(cpu, attnc_rt_last_error()) == 0;
    printf("bad %s: cpu rc=%d cuda rc=%d host rc=%d %s: %s\n", cases[k].what,
           (int)rc, (int)rcDev, (int)rcHost,
           same ? "same messages" : "DIFFERENT messages", cpu);
  }
}

static int noDriver(void) {
  badArguments();
  float a[4] = {1, 2, 3, 4}, b[4];
  attnc_tensor args[2] = {vec(a, 4), vec(b, 4)};
  report("nodriver cuda",
         attnc_rt_invoke_cuda_cached(kSig, &devCache, args, 2, NULL, thunk));
  report("nodriver host",
         attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args, 2, thunk));
  report("nodriver cpu",
         attnc_rt_invoke_cached(kSig, &cpuCache, args, 2, cpuThunk));
  return 0;
}

/* Several threads at once, each with its own size (and, in the fake, its own
 * current context: none, so each retains the primary one). */
static void *worker(void *arg) {
  int64_t n = 100 + 37 * (int64_t)(intptr_t)arg;
  float *in = malloc((size_t)n * 4), *out = malloc((size_t)n * 4);
  intptr_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    in[i] = (float)(i * (intptr_t)arg);
  for (int k = 0; k < 10; ++k) {
    attnc_tensor args[2] = {vec(in, n), vec(out, n)};
    memset(out, 0, (size_t)n * 4);
    if (attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args, 2, thunk) ||
        !checkDoubled(in, out, n))
      bad = 1;
  }
  free(in);
  free(out);
  return (void *)bad;
}

static int fake(void) {
  openFake();
  badArguments();
  enum { N = 1000 };
  static float in[N], out[N];
  for (int i = 0; i < N; ++i)
    in[i] = (float)i - 17.5f;
  attnc_tensor args[2] = {vec(in, N), vec(out, N)};

  /* Host pointers, many calls: the image is loaded once. */
  int good = 1;
  int32_t rc = 0;
  for (int k = 0; k < 20 && !rc; ++k) {
    memset(out, 0, sizeof out);
    rc = attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args, 2, thunk);
    good &= checkDoubled(in, out, N);
  }
  report("host x20", rc);
  printf("host outputs %s, module loads %lld, launches %lld, live %lld\n",
         good ? "correct" : "WRONG", moduleLoads(), launches(),
         liveAllocations());

  /* Device pointers. */
  float *din = deviceBuffer(N), *dout = deviceBuffer(N);
  memcpy(din, in, sizeof in);
  attnc_tensor dargs[2] = {vec(din, N), vec(dout, N)};
  rc = attnc_rt_invoke_cuda_cached(kSig, &devCache, dargs, 2, (void *)0x1234,
                                   thunk);
  report("device", rc);
  printf("device outputs %s, module loads %lld, live %lld\n",
         checkDoubled(in, dout, N) ? "correct" : "WRONG", moduleLoads(),
         liveAllocations());

  /* Host pointers given to the device entry point. */
  attnc_tensor mixed[2] = {vec(in, N), vec(dout, N)};
  report("device, host input",
         attnc_rt_invoke_cuda_cached(kSig, &devCache, mixed, 2, NULL, thunk));
  mixed[0] = vec(din, N);
  mixed[1] = vec(out, N);
  report("device, host output",
         attnc_rt_invoke_cuda_cached(kSig, &devCache, mixed, 2, NULL, thunk));
  /* Empty tensors need no device memory (NULL data is fine). */
  attnc_tensor empty[2] = {vec(NULL, 0), vec(NULL, 0)};
  long long before = launches();
  report("device, n=0",
         attnc_rt_invoke_cuda_cached(kSig, &devCache, empty, 2, NULL, thunk));
  report("host, n=0",
         attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, empty, 2, thunk));
  printf("n=0: %lld launches\n", launches() - before);

  /* Temporaries that the thunk forgets are freed with the call. */
  mode = LEAK;
  report("host, leaky thunk",
         attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args, 2, thunk));
  report("device, leaky thunk",
         attnc_rt_invoke_cuda_cached(kSig, &devCache, dargs, 2, NULL, thunk));
  printf("after the leaky thunk: live %lld\n", liveAllocations());

  /* Launch limits. */
  mode = HUGE_GRID;
  before = launches();
  report("huge grid",
         attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args, 2, thunk));
  mode = HUGE_BLOCK;
  report("huge block",
         attnc_rt_invoke_cuda_cached(kSig, &devCache, dargs, 2, NULL, thunk));
  printf("refused launches: %lld launches, live %lld\n", launches() - before,
         liveAllocations());
  mode = NORMAL;

  pthread_t threads[8];
  for (intptr_t t = 0; t < 8; ++t)
    pthread_create(&threads[t], NULL, worker, (void *)t);
  int bad = 0;
  for (int t = 0; t < 8; ++t) {
    void *r;
    pthread_join(threads[t], &r);
    bad |= r != NULL;
  }
  printf("8 threads x 10 host calls: %s, module loads %lld\n",
         bad ? "WRONG" : "correct", moduleLoads());

  devFree((unsigned long long)(uintptr_t)din);
  devFree((unsigned long long)(uintptr_t)dout);
  printf("end: live %lld, module loads %lld\n", liveAllocations(),
         moduleLoads());
  return 0;
}

static int fail(void) {
  openFake();
  enum { N = 300 };
  static float in[N], out[N];
  for (int i = 0; i < N; ++i)
    in[i] = (float)i;
  attnc_tensor args[2] = {vec(in, N), vec(out, N)};
  report("host",
         attnc_rt_invoke_cuda_host_cached(kSig, &hostCache, args, 2, thunk));
  printf("host: live %lld\n", liveAllocations());
  unsigned long long p = 0;
  if (devAllocManaged(&p, 2 * N * 4, 1) == 0) {
    float *din = (float *)(uintptr_t)p, *dout = din + N;
    memcpy(din, in, sizeof in);
    attnc_tensor dargs[2] = {vec(din, N), vec(dout, N)};
    report("device",
           attnc_rt_invoke_cuda_cached(kSig, &devCache, dargs, 2, NULL, thunk));
    printf("device: live %lld (the caller's buffer)\n", liveAllocations());
    devFree(p);
  } else {
    printf("device: skipped (cannot make device buffers)\n");
  }
  /* The CPU entry point is unaffected. */
  report("cpu", attnc_rt_invoke_cached(kSig, &cpuCache, args, 2, cpuThunk));
  printf("end: live %lld\n", liveAllocations());
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "nodriver") == 0)
    return noDriver();
  if (strcmp(what, "fake") == 0)
    return fake();
  if (strcmp(what, "fail") == 0)
    return fail();
  fprintf(stderr, "usage: %s nodriver|fake|fail\n", argv[0]);
  return 2;
}
