/*===- FakeCuda.c - A test double of the CUDA driver library ------*- C -*-===*
 *
 * NOT A DRIVER. libattnc_fake_cuda.so implements the subset of the CUDA
 * driver API that runtime/lib/CudaRuntime.c resolves, on host memory, so
 * that the CUDA entry points of the runtime can be tested on machines
 * without a GPU (CI): point ATTNC_LIBCUDA at it.
 *
 *  - "Device memory" is host memory (aligned_alloc, 256 bytes) kept in a
 *    registry: cuPointerGetAttribute(MEMORY_TYPE) answers DEVICE for an
 *    address inside a live block and CUDA_ERROR_INVALID_VALUE otherwise,
 *    as the driver does for memory it does not know.
 *  - Copies and memsets are memcpy/loops; streams and events are ignored
 *    (everything is synchronous).
 *  - cuModuleLoadDataEx counts its calls and returns a module;
 *    cuModuleGetFunction looks the kernel name up as a HOST function with
 *    dlsym(RTLD_DEFAULT, name) (the test program exports it, -rdynamic),
 *    and cuLaunchKernel calls it once per launch as
 *        void kernel(unsigned gridX, unsigned gridY, unsigned gridZ,
 *                    unsigned blockX, unsigned blockY, unsigned blockZ,
 *                    void **params);
 *    (the kernel loops over the grid itself). A zero dimension is refused
 *    with CUDA_ERROR_INVALID_VALUE, like the driver.
 *  - Device limits: grid 2147483647 x 65535 x 65535, block 1024 x 1024 x 64,
 *    1024 threads per block.
 *  - FAKE_CUDA_LOG=1 logs launches, allocations and module loads to stderr
 *    ("fake-cuda: ...").
 *  - FAKE_CUDA_FAIL=<cuFunction> makes that function (its exported name,
 *    e.g. cuLaunchKernel, cuMemAlloc_v2) fail with CUDA_ERROR_LAUNCH_FAILED
 *    (cuInit: CUDA_ERROR_NO_DEVICE; cuModuleLoadDataEx: CUDA_ERROR_INVALID_PTX
 *    with a JIT log in the error log buffer).
 *  - Queries for tests: fake_cuda_live_allocations(),
 *    fake_cuda_module_loads(), fake_cuda_launches().
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
/* The handle types of cuda.h, exactly: UBSan's -fsanitize=function (the
 * sanitized tree) checks that the runtime calls these functions through
 * pointers of their own types. */
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_LAUNCH_FAILED = 719,
};

typedef void (*fake_kernel)(unsigned, unsigned, unsigned, unsigned, unsigned,
                            unsigned, void **);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int contextObject, moduleObject;
static _Thread_local CUcontext current;
static long long moduleLoads, launches;

typedef struct blk {
  struct blk *next;
  uintptr_t base;
  size_t size;
} blk;
static blk *blocks;
static long long liveBlocks;

typedef struct fn {
  struct fn *next;
  fake_kernel kernel;
  char name[];
} fn;
static fn *functions; /* never freed: handles stay valid */

static int logging(void) {
  const char *v = getenv("FAKE_CUDA_LOG");
  return v && strcmp(v, "1") == 0;
}

/* Non-zero if FAKE_CUDA_FAIL names `name`. */
static int failing(const char *name) {
  const char *v = getenv("FAKE_CUDA_FAIL");
  return v && strcmp(v, name) == 0;
}

#define FAIL_IF_ASKED(name)                                                    \
  do {                                                                         \
    if (failing(name))                                                         \
      return CUDA_ERROR_LAUNCH_FAILED;                                         \
  } while (0)

long long fake_cuda_live_allocations(void) {
  pthread_mutex_lock(&lock);
  long long n = liveBlocks;
  pthread_mutex_unlock(&lock);
  return n;
}
long long fake_cuda_module_loads(void) {
  pthread_mutex_lock(&lock);
  long long n = moduleLoads;
  pthread_mutex_unlock(&lock);
  return n;
}
long long fake_cuda_launches(void) {
  pthread_mutex_lock(&lock);
  long long n = launches;
  pthread_mutex_unlock(&lock);
  return n;
}

CUresult cuInit(unsigned flags) {
  (void)flags;
  if (failing("cuInit"))
    return CUDA_ERROR_NO_DEVICE;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(int *dev, int ordinal) {
  FAIL_IF_ASKED("cuDeviceGet");
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_VALUE; /* CUDA_ERROR_INVALID_DEVICE really */
  *dev = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attr, int dev) {
  FAIL_IF_ASKED("cuDeviceGetAttribute");
  (void)dev;
  switch (attr) {
  case 1:
    *value = 1024;
    break; /* MAX_THREADS_PER_BLOCK */
  case 2:
  case 3:
    *value = 1024;
    break; /* MAX_BLOCK_DIM_X/Y */
  case 4:
    *value = 64;
    break; /* MAX_BLOCK_DIM_Z */
  case 5:
    *value = 2147483647;
    break; /* MAX_GRID_DIM_X */
  case 6:
  case 7:
    *value = 65535;
    break;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *ctx) {
  FAIL_IF_ASKED("cuCtxGetCurrent");
  *ctx = current;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
  FAIL_IF_ASKED("cuCtxSetCurrent");
  current = ctx;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(int *dev) {
  FAIL_IF_ASKED("cuCtxGetDevice");
  *dev = 0;
  return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, int dev) {
  FAIL_IF_ASKED("cuDevicePrimaryCtxRetain");
  (void)dev;
  *ctx = (CUcontext)&contextObject;
  return CUDA_SUCCESS;
}

/* options/values: CUjit_option (int) and void *; only the error log
 * buffer is honoured: a failure asked for writes a fake JIT log there. */
CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  if (failing("cuModuleLoadDataEx")) {
    char *log = NULL;
    size_t size = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == 5) /* CU_JIT_ERROR_LOG_BUFFER */
        log = values[i];
      if (options[i] == 6) /* CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES */
        size = (size_t)(uintptr_t)values[i];
    }
    if (log && size)
      snprintf(log, size,
               "ptxas fatal   : fake JIT failure (FAKE_CUDA_FAIL)\n");
    return CUDA_ERROR_INVALID_PTX;
  }
  pthread_mutex_lock(&lock);
  ++moduleLoads;
  pthread_mutex_unlock(&lock);
  if (logging())
    fprintf(stderr, "fake-cuda: cuModuleLoadDataEx image of %zu bytes\n",
            strlen((const char *)image));
  *module = (CUmodule)&moduleObject;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *out, CUmodule module,
                             const char *name) {
  FAIL_IF_ASKED("cuModuleGetFunction");
  (void)module;
  void *sym = dlsym(RTLD_DEFAULT, name);
  if (!sym)
    return CUDA_ERROR_NOT_FOUND;
  size_t len = strlen(name);
  fn *f = malloc(sizeof *f + len + 1);
  if (!f)
    return CUDA_ERROR_OUT_OF_MEMORY;
  memcpy(&f->kernel, &sym, sizeof sym);
  memcpy(f->name, name, len + 1);
  pthread_mutex_lock(&lock);
  f->next = functions;
  functions = f;
  pthread_mutex_unlock(&lock);
  *out = (CUfunction)f;
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        CUstream stream, void **params, void **extra) {
  (void)smem, (void)stream, (void)extra;
  FAIL_IF_ASKED("cuLaunchKernel");
  if (!f || !gx || !gy || !gz || !bx || !by || !bz)
    return CUDA_ERROR_INVALID_VALUE;
  fn *k = (fn *)f;
  if (logging())
    fprintf(stderr,
            "fake-cuda: launch %s grid %u x %u x %u block %u x %u x %u\n",
            k->name, gx, gy, gz, bx, by, bz);
  pthread_mutex_lock(&lock);
  ++launches;
  pthread_mutex_unlock(&lock);
  k->kernel(gx, gy, gz, bx, by, bz, params);
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream s) {
  (void)s;
  FAIL_IF_ASKED("cuStreamSynchronize");
  return CUDA_SUCCESS;
}

static CUresult allocate(CUdeviceptr *out, size_t size, const char *what) {
  if (size == 0)
    return CUDA_ERROR_INVALID_VALUE;
  blk *b = malloc(sizeof *b);
  void *p = aligned_alloc(256, (size + 255) / 256 * 256);
  if (!b || !p) {
    free(b);
    free(p);
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  b->base = (uintptr_t)p;
  b->size = size;
  pthread_mutex_lock(&lock);
  b->next = blocks;
  blocks = b;
  ++liveBlocks;
  pthread_mutex_unlock(&lock);
  if (logging())
    fprintf(stderr, "fake-cuda: %s %zu bytes\n", what, size);
  *out = (CUdeviceptr)(uintptr_t)p;
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr *out, size_t size) {
  FAIL_IF_ASKED("cuMemAlloc_v2");
  return allocate(out, size, "cuMemAlloc_v2");
}

CUresult cuMemAllocManaged(CUdeviceptr *out, size_t size, unsigned flags) {
  (void)flags;
  FAIL_IF_ASKED("cuMemAllocManaged");
  return allocate(out, size, "cuMemAllocManaged");
}

CUresult cuMemFree_v2(CUdeviceptr ptr) {
  FAIL_IF_ASKED("cuMemFree_v2");
  pthread_mutex_lock(&lock);
  blk **pp = &blocks;
  while (*pp && (*pp)->base != (uintptr_t)ptr)
    pp = &(*pp)->next;
  blk *b = *pp;
  if (b) {
    *pp = b->next;
    --liveBlocks;
  }
  pthread_mutex_unlock(&lock);
  if (!b)
    return CUDA_ERROR_INVALID_VALUE;
  if (logging())
    fprintf(stderr, "fake-cuda: cuMemFree_v2 %zu bytes\n", b->size);
  free((void *)b->base);
  free(b);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
  (void)s;
  FAIL_IF_ASKED("cuMemcpyAsync");
  memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n,
                              CUstream s) {
  (void)s;
  FAIL_IF_ASKED("cuMemcpyHtoDAsync_v2");
  memcpy((void *)(uintptr_t)dst, src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n,
                              CUstream s) {
  (void)s;
  FAIL_IF_ASKED("cuMemcpyDtoHAsync_v2");
  memcpy(dst, (const void *)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t n, CUstream s) {
  (void)s;
  FAIL_IF_ASKED("cuMemsetD32Async");
  for (size_t i = 0; i < n; ++i)
    memcpy((char *)(uintptr_t)dst + 4 * i, &v, 4);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short v, size_t n,
                          CUstream s) {
  (void)s;
  FAIL_IF_ASKED("cuMemsetD16Async");
  for (size_t i = 0; i < n; ++i)
    memcpy((char *)(uintptr_t)dst + 2 * i, &v, 2);
  return CUDA_SUCCESS;
}

CUresult cuPointerGetAttribute(void *data, int attr, CUdeviceptr ptr) {
  FAIL_IF_ASKED("cuPointerGetAttribute");
  if (attr != 2) /* MEMORY_TYPE */
    return CUDA_ERROR_INVALID_VALUE;
  int found = 0;
  pthread_mutex_lock(&lock);
  for (blk *b = blocks; b && !found; b = b->next)
    found = ptr >= b->base && ptr - b->base < b->size;
  pthread_mutex_unlock(&lock);
  if (!found)
    return CUDA_ERROR_INVALID_VALUE;
  *(unsigned *)data = 2; /* CU_MEMORYTYPE_DEVICE */
  return CUDA_SUCCESS;
}

/* The errors the fake returns: name and text as the driver gives them. */
static const struct {
  CUresult code;
  const char *name, *text;
} errorTable[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED",
     "unspecified launch failure"},
};

static CUresult describeError(CUresult r, const char **out, int text) {
  for (size_t i = 0; i < sizeof errorTable / sizeof errorTable[0]; ++i)
    if (errorTable[i].code == r) {
      *out = text ? errorTable[i].text : errorTable[i].name;
      return CUDA_SUCCESS;
    }
  *out = NULL;
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorName(CUresult r, const char **name) {
  return describeError(r, name, 0);
}

CUresult cuGetErrorString(CUresult r, const char **text) {
  return describeError(r, text, 1);
}

CUresult cuEventCreate(CUevent *e, unsigned flags) {
  (void)flags;
  FAIL_IF_ASKED("cuEventCreate");
  *e = (CUevent)malloc(1);
  return *e ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuEventDestroy_v2(CUevent e) {
  FAIL_IF_ASKED("cuEventDestroy_v2");
  free((void *)e);
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent e, CUstream s) {
  (void)e, (void)s;
  FAIL_IF_ASKED("cuEventRecord");
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent e) {
  (void)e;
  FAIL_IF_ASKED("cuEventSynchronize");
  return CUDA_SUCCESS;
}

CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned flags) {
  (void)s, (void)e, (void)flags;
  FAIL_IF_ASKED("cuStreamWaitEvent");
  return CUDA_SUCCESS;
}
