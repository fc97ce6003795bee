/*===- CudaRuntime.c - The CUDA side of compiled models -----------*- C -*-===*
 *
 * The host code of a model compiled with --target=cuda is lowered by MLIR's
 * gpu-to-llvm to calls of the mgpu* functions below (MLIR 19's ABI, the same
 * signatures as MLIR's own CudaRuntimeWrappers). MLIR's implementation links
 * libcuda; this one opens the CUDA driver library with dlopen at first use,
 * so that a CUDA model .so loads (and its CPU entry point runs) on a machine
 * without a GPU or driver.
 *
 * The entry points attnc_rt_invoke_cuda_cached (device pointers, the
 * caller's stream) and attnc_rt_invoke_cuda_host_cached (host pointers,
 * copied to the device and back) share the argument checks of Runtime.c
 * (attnc_rt_invoke_with) and then set up a per-call state on the invoking
 * thread: the context, the stream, the first error and the device memory
 * that the thunk allocated. The mgpu* functions cannot return errors: the
 * first failing driver call records its message in the call (the thread's
 * attnc_rt_last_error) and every later mgpu* of the call is a no-op.
 *
 * Global state (per copy of this runtime, i.e. per model .so): the driver
 * table (filled once, pthread_once), the primary context retained when a
 * calling thread has none (retained once, never released), and the caches
 * of loaded modules and their functions (under a mutex, never unloaded: the
 * images live as long as their context).
 *
 * docs/gpu.md, "The CUDA runtime", is the user-level description.
 *
 *===----------------------------------------------------------------------===*/

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* As in Runtime.c: nothing of this file is exported from a model .so. */
#pragma GCC visibility push(hidden)
#include "Invoke.h"
#pragma GCC visibility pop

/*===----------------------------------------------------------------------===*
 * The CUDA driver API subset we use, declared here from cuda.h (the CUDA
 * toolkit's driver API header, CUDA 12): the build needs no toolkit. Only
 * ABI-stable names are used (the _v2 entry points where the driver has
 * them).
 *===----------------------------------------------------------------------===*/

typedef int CUresult;                   /* cuda.h: enum cudaError_enum */
typedef int CUdevice;                   /* cuda.h: typedef int CUdevice_v1 */
typedef unsigned long long CUdeviceptr; /* cuda.h: CUdeviceptr_v2 */
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1 /* also: memory the driver does not know */
/* cuda.h: CU_STREAM_PER_THREAD, the calling thread's default stream. */
#define CU_STREAM_PER_THREAD ((CUstream)0x2)
/* cuda.h: CUpointer_attribute */
#define CU_POINTER_ATTRIBUTE_MEMORY_TYPE 2
/* cuda.h: CUmemorytype */
#define CU_MEMORYTYPE_HOST 1
#define CU_MEMORYTYPE_DEVICE 2
#define CU_MEMORYTYPE_UNIFIED 4
/* cuda.h: CUdevice_attribute */
#define CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK 1
#define CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X 2 /* _Y 3, _Z 4 */
#define CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X 5  /* _Y 6, _Z 7 */
/* cuda.h: CUevent_flags, CUmemAttach_flags */
#define CU_EVENT_DISABLE_TIMING 2
#define CU_MEM_ATTACH_GLOBAL 1
/* cuda.h: CUjit_option */
#define CU_JIT_ERROR_LOG_BUFFER 5
#define CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES 6

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*CtxGetCurrent)(CUcontext *);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxGetDevice)(CUdevice *);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                               void **); /* options: CUjit_option * */
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*StreamSynchronize)(CUstream);
  CUresult (*MemAlloc)(CUdeviceptr *, size_t);
  CUresult (*MemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*MemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*MemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*MemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*PointerGetAttribute)(void *, int, CUdeviceptr);
  CUresult (*GetErrorName)(CUresult, const char **);
  CUresult (*GetErrorString)(CUresult, const char **);
  CUresult (*EventCreate)(CUevent *, unsigned);
  CUresult (*EventDestroy)(CUevent);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventSynchronize)(CUevent);
  CUresult (*StreamWaitEvent)(CUstream, CUevent, unsigned);
} cu;

/* The symbol of each member of `cu`, in order. */
static const struct {
  const char *name;
  size_t offset;
} kSymbols[] = {
#define SYM(member, name)                                                      \
  { name, offsetof(__typeof__(cu), member) }
    SYM(Init, "cuInit"),
    SYM(DeviceGet, "cuDeviceGet"),
    SYM(DeviceGetAttribute, "cuDeviceGetAttribute"),
    SYM(CtxGetCurrent, "cuCtxGetCurrent"),
    SYM(CtxSetCurrent, "cuCtxSetCurrent"),
    SYM(CtxGetDevice, "cuCtxGetDevice"),
    SYM(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
    SYM(ModuleLoadDataEx, "cuModuleLoadDataEx"),
    SYM(ModuleGetFunction, "cuModuleGetFunction"),
    SYM(LaunchKernel, "cuLaunchKernel"),
    SYM(StreamSynchronize, "cuStreamSynchronize"),
    SYM(MemAlloc, "cuMemAlloc_v2"),
    SYM(MemAllocManaged, "cuMemAllocManaged"),
    SYM(MemFree, "cuMemFree_v2"),
    SYM(MemcpyAsync, "cuMemcpyAsync"),
    SYM(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
    SYM(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
    SYM(MemsetD32Async, "cuMemsetD32Async"),
    SYM(MemsetD16Async, "cuMemsetD16Async"),
    SYM(PointerGetAttribute, "cuPointerGetAttribute"),
    SYM(GetErrorName, "cuGetErrorName"),
    SYM(GetErrorString, "cuGetErrorString"),
    SYM(EventCreate, "cuEventCreate"),
    SYM(EventDestroy, "cuEventDestroy_v2"),
    SYM(EventRecord, "cuEventRecord"),
    SYM(EventSynchronize, "cuEventSynchronize"),
    SYM(StreamWaitEvent, "cuStreamWaitEvent"),
#undef SYM
};

/*===----------------------------------------------------------------------===*
 * Opening the driver (once per process and model .so)
 *===----------------------------------------------------------------------===*/

static pthread_once_t driverOnce = PTHREAD_ONCE_INIT;
static int driverReady;       /* written once, under driverOnce */
static char driverError[768]; /* why not, when !driverReady */
static int deviceOrdinal;     /* $ATTNC_CUDA_DEVICE, default 0 */

/* "CUDA_ERROR_X: text" for a driver result. */
static void errorText(CUresult r, char *buf, size_t n) {
  const char *name = NULL, *text = NULL;
  if (!cu.GetErrorName || cu.GetErrorName(r, &name) != CUDA_SUCCESS || !name)
    name = NULL;
  if (!cu.GetErrorString || cu.GetErrorString(r, &text) != CUDA_SUCCESS ||
      !text)
    text = NULL;
  if (name)
    snprintf(buf, n, "%s: %s", name, text ? text : "(no description)");
  else
    snprintf(buf, n, "CUDA error %d", (int)r);
}

static void loadDriver(void) {
  const char *lib = getenv("ATTNC_LIBCUDA");
  if (!lib || !*lib)
    lib = "libcuda.so.1";
  const char *dev = getenv("ATTNC_CUDA_DEVICE");
  if (dev && *dev) {
    char *end;
    long v = strtol(dev, &end, 10);
    if (*end || v < 0 || v > 1024) {
      snprintf(driverError, sizeof driverError,
               "ATTNC_CUDA_DEVICE='%s' is not a device ordinal", dev);
      return;
    }
    deviceOrdinal = (int)v;
  }
  void *handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    snprintf(driverError, sizeof driverError,
             "cannot open the CUDA driver library '%s' (no NVIDIA driver? "
             "ATTNC_LIBCUDA names another): %s",
             lib, why ? why : "unknown dlopen error");
    return;
  }
  for (size_t i = 0; i < sizeof kSymbols / sizeof kSymbols[0]; ++i) {
    void *sym = dlsym(handle, kSymbols[i].name);
    if (!sym) {
      snprintf(driverError, sizeof driverError,
               "the CUDA driver library '%s' has no %s (driver too old?)", lib,
               kSymbols[i].name);
      memset(&cu, 0, sizeof cu);
      return; /* the handle stays open: dlclose of a driver is not safe */
    }
    memcpy((char *)&cu + kSymbols[i].offset, &sym, sizeof sym);
  }
  CUresult r = cu.Init(0);
  if (r != CUDA_SUCCESS) {
    char et[256];
    errorText(r, et, sizeof et);
    snprintf(driverError, sizeof driverError,
             "CUDA error in cuInit (no usable CUDA device?): %s", et);
    return;
  }
  driverReady = 1;
}

/*===----------------------------------------------------------------------===*
 * The call in progress on this thread
 *===----------------------------------------------------------------------===*/

typedef struct {
  const attnc_rt_call *call;
  CUcontext ctx;
  CUstream stream;
  int32_t code; /* 0, or the code of the first failure (then all mgpu* are
                   no-ops) */
  int haveLimits;
  int maxThreads, maxBlock[3], maxGrid[3];
  /* Device memory allocated by the thunk and not freed yet. */
  CUdeviceptr *allocs;
  size_t nallocs, capAllocs;
  CUdeviceptr inlineAllocs[16];
} cudacall;

static _Thread_local cudacall *currentCuda;

/* Records the first failure of the call. */
static void failCall(cudacall *c, int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failCall(cudacall *c, int32_t code, const char *fmt, ...) {
  if (c->code)
    return;
  c->code = code;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  attnc_rt_refuse(c->call, code, "%s", msg);
}

/* 1 if `r` is success; else records "CUDA error in fn: ..." and returns 0. */
static int ok(cudacall *c, const char *fn, CUresult r) {
  if (r == CUDA_SUCCESS)
    return 1;
  char et[256];
  errorText(r, et, sizeof et);
  failCall(c, ATTNC_RT_ERR_CUDA, "CUDA error in %s: %s", fn, et);
  return 0;
}

/* The call whose mgpu* calls are to be carried out (NULL: outside a call,
 * or after its first failure). */
static cudacall *live(void) {
  cudacall *c = currentCuda;
  return c && !c->code ? c : NULL;
}

/*===----------------------------------------------------------------------===*
 * Contexts
 *===----------------------------------------------------------------------===*/

static pthread_mutex_t primaryLock = PTHREAD_MUTEX_INITIALIZER;
static CUcontext primaryCtx; /* retained once, never released */

/* Makes c->ctx the thread's current context: the one it has, else the
 * primary context of deviceOrdinal (made current on the thread). */
static int setupContext(cudacall *c) {
  CUcontext ctx = NULL;
  if (!ok(c, "cuCtxGetCurrent", cu.CtxGetCurrent(&ctx)))
    return 0;
  if (!ctx) {
    pthread_mutex_lock(&primaryLock);
    if (!primaryCtx) {
      CUdevice dev;
      CUcontext p = NULL;
      if (ok(c, "cuDeviceGet", cu.DeviceGet(&dev, deviceOrdinal)) &&
          ok(c, "cuDevicePrimaryCtxRetain", cu.DevicePrimaryCtxRetain(&p, dev)))
        primaryCtx = p;
    }
    ctx = primaryCtx;
    pthread_mutex_unlock(&primaryLock);
    if (!ctx || !ok(c, "cuCtxSetCurrent", cu.CtxSetCurrent(ctx)))
      return 0;
  }
  c->ctx = ctx;
  return 1;
}

/* The launch limits of devices 0..63, queried once (0: not yet). */
#define MAX_CACHED_DEVICES 64
static int limitsCache[MAX_CACHED_DEVICES][7];

static int queryLimits(cudacall *c) {
  if (c->haveLimits)
    return 1;
  CUdevice dev;
  if (!ok(c, "cuCtxGetDevice", cu.CtxGetDevice(&dev)))
    return 0;
  int cached = dev >= 0 && dev < MAX_CACHED_DEVICES;
  if (cached && __atomic_load_n(&limitsCache[dev][6], __ATOMIC_ACQUIRE)) {
    c->maxThreads = __atomic_load_n(&limitsCache[dev][0], __ATOMIC_RELAXED);
    for (int d = 0; d < 3; ++d) {
      c->maxBlock[d] =
          __atomic_load_n(&limitsCache[dev][1 + d], __ATOMIC_RELAXED);
      c->maxGrid[d] =
          __atomic_load_n(&limitsCache[dev][4 + d], __ATOMIC_RELAXED);
    }
    c->haveLimits = 1;
    return 1;
  }
  if (!ok(c, "cuDeviceGetAttribute",
          cu.DeviceGetAttribute(
              &c->maxThreads, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, dev)))
    return 0;
  for (int d = 0; d < 3; ++d)
    if (!ok(c, "cuDeviceGetAttribute",
            cu.DeviceGetAttribute(&c->maxBlock[d],
                                  CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X + d,
                                  dev)) ||
        !ok(c, "cuDeviceGetAttribute",
            cu.DeviceGetAttribute(&c->maxGrid[d],
                                  CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X + d, dev)))
      return 0;
  c->haveLimits = 1;
  if (cached) { /* the same values from any thread: relaxed stores, then
                   the flag (maxGrid[2], non-zero) last, released */
    __atomic_store_n(&limitsCache[dev][0], c->maxThreads, __ATOMIC_RELAXED);
    for (int d = 0; d < 3; ++d) {
      __atomic_store_n(&limitsCache[dev][1 + d], c->maxBlock[d],
                       __ATOMIC_RELAXED);
      if (d < 2)
        __atomic_store_n(&limitsCache[dev][4 + d], c->maxGrid[d],
                         __ATOMIC_RELAXED);
    }
    __atomic_store_n(&limitsCache[dev][6], c->maxGrid[2], __ATOMIC_RELEASE);
  }
  return 1;
}

/*===----------------------------------------------------------------------===*
 * Modules and functions, cached per (context, image) and (module, name)
 *===----------------------------------------------------------------------===*/

typedef struct modentry {
  struct modentry *next;
  CUcontext ctx;
  const void *image;
  CUmodule module;
} modentry;

typedef struct fnentry {
  struct fnentry *next;
  CUmodule module;
  CUfunction fn;
  char name[]; /* a copy: the generated code's names are globals, but a
                  caller's may not be */
} fnentry;

static pthread_mutex_t cacheLock = PTHREAD_MUTEX_INITIALIZER;
static modentry *modules;
static fnentry *functions;

/* The name of a cached function, for messages ("?" if unknown). */
static const char *functionName(CUfunction fn) {
  const char *name = "?";
  pthread_mutex_lock(&cacheLock);
  for (fnentry *e = functions; e; e = e->next)
    if (e->fn == fn) {
      name = e->name;
      break;
    }
  pthread_mutex_unlock(&cacheLock);
  return name; /* entries are never freed */
}

/*===----------------------------------------------------------------------===*
 * MLIR's gpu-to-llvm runtime ABI
 *===----------------------------------------------------------------------===*/

/* cuModuleLoadDataEx with the JIT's error log in the message. */
static int loadModule(cudacall *c, CUmodule *module, const void *image) {
  char log[512] = "";
  int options[2] = {CU_JIT_ERROR_LOG_BUFFER,
                    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[2] = {log, (void *)(uintptr_t)sizeof log};
  CUresult r = cu.ModuleLoadDataEx(module, image, 2, options, values);
  if (r == CUDA_SUCCESS)
    return 1;
  log[sizeof log - 1] = '\0';
  size_t n = strlen(log);
  while (n && (log[n - 1] == '\n' || log[n - 1] == ' '))
    log[--n] = '\0';
  char et[256];
  errorText(r, et, sizeof et);
  failCall(c, ATTNC_RT_ERR_CUDA, "CUDA error in cuModuleLoadDataEx: %s%s%s", et,
           n ? "; JIT log: " : "", log);
  return 0;
}

/* Called before every launch with the same image: loads (and, for PTX,
 * JIT-compiles) it once per context. */
void *mgpuModuleLoad(void *data, int64_t size) {
  (void)size; /* the driver finds the end of the image itself */
  cudacall *c = live();
  if (!c || !data)
    return NULL;
  CUmodule module = NULL;
  pthread_mutex_lock(&cacheLock);
  for (modentry *e = modules; e; e = e->next)
    if (e->ctx == c->ctx && e->image == data) {
      module = e->module;
      break;
    }
  if (!module) {
    /* Under the lock: two threads never load the same image twice. */
    modentry *e = malloc(sizeof *e);
    if (!e)
      failCall(c, ATTNC_RT_ERR_NO_MEMORY, "out of memory for the module cache");
    else if (!loadModule(c, &module, data))
      free(e);
    else {
      e->ctx = c->ctx;
      e->image = data;
      e->module = module;
      e->next = modules;
      modules = e;
    }
  }
  pthread_mutex_unlock(&cacheLock);
  return module;
}

/* The PTX-only form of a library built without the CUDA toolkit
 * (gpu-to-llvm's call for an "assembly" object): the image is the PTX, a
 * NUL-terminated string, which cuModuleLoadDataEx JIT-compiles; cached like
 * the fat binaries. `optLevel` is the driver JIT's default (4) anyway. */
void *mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel;
  return mgpuModuleLoad(data, 0);
}

/* Cached modules stay loaded (every module is cached). */
void mgpuModuleUnload(void *module) { (void)module; }

void *mgpuModuleGetFunction(void *module, const char *name) {
  cudacall *c = live();
  if (!c || !module || !name)
    return NULL;
  CUfunction fn = NULL;
  pthread_mutex_lock(&cacheLock);
  for (fnentry *e = functions; e; e = e->next)
    if (e->module == (CUmodule)module && strcmp(e->name, name) == 0) {
      fn = e->fn;
      break;
    }
  if (!fn) {
    size_t len = strlen(name);
    fnentry *e = malloc(sizeof *e + len + 1);
    if (!e)
      failCall(c, ATTNC_RT_ERR_NO_MEMORY,
               "out of memory for the function cache");
    else if (!ok(c, "cuModuleGetFunction",
                 cu.ModuleGetFunction(&fn, (CUmodule)module, name)))
      free(e);
    else {
      e->module = (CUmodule)module;
      e->fn = fn;
      memcpy(e->name, name, len + 1);
      e->next = functions;
      functions = e;
    }
  }
  pthread_mutex_unlock(&cacheLock);
  return fn;
}

/* Every stream of the generated code is the call's stream. */
void *mgpuStreamCreate(void) {
  cudacall *c = currentCuda;
  return c ? (void *)c->stream : NULL;
}

void mgpuStreamDestroy(void *stream) { (void)stream; }

void mgpuStreamSynchronize(void *stream) {
  cudacall *c = live();
  if (c)
    ok(c, "cuStreamSynchronize", cu.StreamSynchronize((CUstream)stream));
}

void mgpuLaunchKernel(void *function, int64_t gridX, int64_t gridY,
                      int64_t gridZ, int64_t blockX, int64_t blockY,
                      int64_t blockZ, int32_t smem, void *stream, void **params,
                      void **extra, int64_t paramsCount) {
  (void)paramsCount;
  cudacall *c = live();
  if (!c || !function)
    return;
  int64_t dims[6] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
  for (int d = 0; d < 6; ++d)
    if (dims[d] < 0) {
      failCall(c, ATTNC_RT_ERR_CUDA,
               "kernel '%s': negative launch dimension (grid %lld x %lld x "
               "%lld, block %lld x %lld x %lld)",
               functionName((CUfunction)function), (long long)gridX,
               (long long)gridY, (long long)gridZ, (long long)blockX,
               (long long)blockY, (long long)blockZ);
      return;
    }
  for (int d = 0; d < 6; ++d)
    if (dims[d] == 0)
      return; /* no work; the driver would refuse the launch */
  if (!queryLimits(c))
    return;
  if (gridX > c->maxGrid[0] || gridY > c->maxGrid[1] || gridZ > c->maxGrid[2]) {
    failCall(c, ATTNC_RT_ERR_CUDA,
             "kernel '%s': grid %lld x %lld x %lld exceeds the device's "
             "limits %d x %d x %d (the problem is too large for one launch)",
             functionName((CUfunction)function), (long long)gridX,
             (long long)gridY, (long long)gridZ, c->maxGrid[0], c->maxGrid[1],
             c->maxGrid[2]);
    return;
  }
  if (blockX > c->maxBlock[0] || blockY > c->maxBlock[1] ||
      blockZ > c->maxBlock[2] ||
      blockX * blockY * blockZ > (int64_t)c->maxThreads) {
    failCall(c, ATTNC_RT_ERR_CUDA,
             "kernel '%s': block %lld x %lld x %lld exceeds the device's "
             "limits %d x %d x %d, %d threads",
             functionName((CUfunction)function), (long long)blockX,
             (long long)blockY, (long long)blockZ, c->maxBlock[0],
             c->maxBlock[1], c->maxBlock[2], c->maxThreads);
    return;
  }
  CUresult r = cu.LaunchKernel(
      (CUfunction)function, (unsigned)gridX, (unsigned)gridY, (unsigned)gridZ,
      (unsigned)blockX, (unsigned)blockY, (unsigned)blockZ, (unsigned)smem,
      (CUstream)stream, params, extra);
  if (r != CUDA_SUCCESS) {
    char et[256];
    errorText(r, et, sizeof et);
    failCall(c, ATTNC_RT_ERR_CUDA,
             "CUDA error in cuLaunchKernel (kernel '%s', grid %lld x %lld x "
             "%lld, block %lld x %lld x %lld): %s",
             functionName((CUfunction)function), (long long)gridX,
             (long long)gridY, (long long)gridZ, (long long)blockX,
             (long long)blockY, (long long)blockZ, et);
  }
}

/* Makes room for one more tracked allocation. */
static int reserveAlloc(cudacall *c) {
  if (c->nallocs < c->capAllocs)
    return 1;
  size_t cap = c->capAllocs * 2;
  CUdeviceptr *grown = malloc(cap * sizeof *grown);
  if (!grown) {
    failCall(c, ATTNC_RT_ERR_NO_MEMORY,
             "out of memory for the list of device buffers of the call");
    return 0;
  }
  memcpy(grown, c->allocs, c->nallocs * sizeof *grown);
  if (c->allocs != c->inlineAllocs)
    free(c->allocs);
  c->allocs = grown;
  c->capAllocs = cap;
  return 1;
}

/* Zero bytes: NULL without error (MLIR's wrappers do the same; the kernels
 * never read an empty buffer). */
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared) {
  (void)stream;
  cudacall *c = live();
  if (!c || sizeBytes == 0 || !reserveAlloc(c))
    return NULL;
  CUdeviceptr ptr = 0;
  if (isHostShared) {
    if (!ok(c, "cuMemAllocManaged",
            cu.MemAllocManaged(&ptr, (size_t)sizeBytes, CU_MEM_ATTACH_GLOBAL)))
      return NULL;
  } else if (!ok(c, "cuMemAlloc_v2", cu.MemAlloc(&ptr, (size_t)sizeBytes))) {
    return NULL;
  }
  c->allocs[c->nallocs++] = ptr;
  return (void *)(uintptr_t)ptr;
}

/* After a failure this is a no-op: the call frees the block when it ends. */
void mgpuMemFree(void *ptr, void *stream) {
  (void)stream;
  cudacall *c = live();
  if (!c || !ptr)
    return;
  CUdeviceptr p = (CUdeviceptr)(uintptr_t)ptr;
  for (size_t i = c->nallocs; i-- > 0;)
    if (c->allocs[i] == p) {
      c->allocs[i] = c->allocs[--c->nallocs];
      break;
    }
  ok(c, "cuMemFree_v2", cu.MemFree(p));
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  cudacall *c = live();
  if (c && sizeBytes)
    ok(c, "cuMemcpyAsync",
       cu.MemcpyAsync((CUdeviceptr)(uintptr_t)dst, (CUdeviceptr)(uintptr_t)src,
                      sizeBytes, (CUstream)stream));
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  cudacall *c = live();
  if (c && count)
    ok(c, "cuMemsetD32Async",
       cu.MemsetD32Async((CUdeviceptr)(uintptr_t)dst, value, count,
                         (CUstream)stream));
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  cudacall *c = live();
  if (c && count)
    ok(c, "cuMemsetD16Async",
       cu.MemsetD16Async((CUdeviceptr)(uintptr_t)dst, value, count,
                         (CUstream)stream));
}

void *mgpuEventCreate(void) {
  cudacall *c = live();
  CUevent e = NULL;
  if (c && !ok(c, "cuEventCreate", cu.EventCreate(&e, CU_EVENT_DISABLE_TIMING)))
    e = NULL;
  return e;
}

void mgpuEventDestroy(void *event) {
  cudacall *c = live();
  if (c && event)
    ok(c, "cuEventDestroy_v2", cu.EventDestroy((CUevent)event));
}

void mgpuEventSynchronize(void *event) {
  cudacall *c = live();
  if (c && event)
    ok(c, "cuEventSynchronize", cu.EventSynchronize((CUevent)event));
}

void mgpuEventRecord(void *event, void *stream) {
  cudacall *c = live();
  if (c && event)
    ok(c, "cuEventRecord", cu.EventRecord((CUevent)event, (CUstream)stream));
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  cudacall *c = live();
  if (c && event)
    ok(c, "cuStreamWaitEvent",
       cu.StreamWaitEvent((CUstream)stream, (CUevent)event, 0));
}

/* The device is the call's context's: nothing to do. */
void mgpuSetDefaultDevice(int32_t device) { (void)device; }

/*===----------------------------------------------------------------------===*
 * The entry points
 *===----------------------------------------------------------------------===*/

typedef struct {
  CUstream stream; /* attnc_rt_invoke_cuda_cached's */
} cudaopts;

/* Opens the driver and sets up the call's context; 0 or the code. */
static int32_t beginCall(cudacall *c, const attnc_rt_call *cl,
                         CUstream stream) {
  memset(c, 0, sizeof *c);
  c->call = cl;
  c->stream = stream;
  c->allocs = c->inlineAllocs;
  c->capAllocs = sizeof c->inlineAllocs / sizeof c->inlineAllocs[0];
  pthread_once(&driverOnce, loadDriver);
  if (!driverReady) {
    failCall(c, ATTNC_RT_ERR_CUDA, "%s", driverError);
    return c->code;
  }
  setupContext(c);
  return c->code;
}

/* Frees what the thunk left allocated (errors ignored: the call has its
 * outcome already, and a context with a sticky error refuses everything). */
static void endCall(cudacall *c) {
  for (size_t i = 0; i < c->nallocs; ++i)
    cu.MemFree(c->allocs[i]);
  c->nallocs = 0;
  if (c->allocs != c->inlineAllocs)
    free(c->allocs);
  c->allocs = c->inlineAllocs;
}

/* Runs the thunk with `c` as the thread's CUDA call; the result of the
 * call context (Runtime.c) or the first CUDA failure. */
static int32_t runOnDevice(cudacall *c, const attnc_rt_call *cl,
                           attnc_rt_thunk thunk, void **descs) {
  cudacall *outer = currentCuda;
  currentCuda = c;
  int32_t rc = attnc_rt_run_thunk(cl, thunk, descs);
  currentCuda = outer;
  return rc;
}

static int32_t runDevice(const attnc_rt_call *cl, attnc_rt_thunk thunk,
                         void **descs, const int64_t *bytes, void *user) {
  const cudaopts *o = user;
  cudacall c;
  if (beginCall(&c, cl, o->stream))
    return c.code;
  char ad[192];
  for (int32_t i = 0; i < cl->sig->nargs; ++i) {
    if (bytes[i] == 0)
      continue;
    unsigned type = 0;
    CUresult r =
        cu.PointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                               (CUdeviceptr)(uintptr_t)cl->args[i].data);
    if (r == CUDA_SUCCESS &&
        (type == CU_MEMORYTYPE_DEVICE || type == CU_MEMORYTYPE_UNIFIED))
      continue;
    if (r != CUDA_SUCCESS && r != CUDA_ERROR_INVALID_VALUE) {
      ok(&c, "cuPointerGetAttribute",
         r); /* the driver failed, not the caller */
      return c.code;
    }
    char why[256];
    if (r != CUDA_SUCCESS) {
      char et[200];
      errorText(r, et, sizeof et);
      snprintf(why, sizeof why, "memory unknown to the CUDA driver, %s", et);
    } else {
      snprintf(why, sizeof why, "%s memory",
               type == CU_MEMORYTYPE_HOST ? "host" : "non-device");
    }
    return attnc_rt_refuse(
        cl, ATTNC_RT_ERR_DEVICE_POINTER,
        "%s: data %p is not device memory (%s): attnc_%.*s_cuda takes "
        "device or managed pointers, attnc_%.*s host pointers",
        attnc_rt_arg_desc(cl, i, ad, sizeof ad), cl->args[i].data, why,
        (int)cl->sig->name.len, cl->sig->name.ptr, (int)cl->sig->name.len,
        cl->sig->name.ptr);
  }
  int32_t rc = runOnDevice(&c, cl, thunk, descs);
  if (!rc && !c.code)
    ok(&c, "cuStreamSynchronize", cu.StreamSynchronize(c.stream));
  else
    cu.StreamSynchronize(c.stream); /* before freeing what it may use */
  endCall(&c);
  return rc ? rc : c.code;
}

#define ARG_ALIGN 256 /* cuMemAlloc's alignment, kept for every argument */

static int32_t runHost(const attnc_rt_call *cl, attnc_rt_thunk thunk,
                       void **descs, const int64_t *bytes, void *user) {
  (void)user;
  cudacall c;
  if (beginCall(&c, cl, CU_STREAM_PER_THREAD))
    return c.code;
  int32_t nargs = cl->sig->nargs;
  int64_t offset[ATTNC_RT_MAX_ARGS];
  int64_t total = 0;
  for (int32_t i = 0; i < nargs; ++i) {
    offset[i] = total;
    int64_t padded;
    if (__builtin_add_overflow(bytes[i], ARG_ALIGN - 1, &padded) ||
        __builtin_add_overflow(total, padded / ARG_ALIGN * ARG_ALIGN, &total))
      return attnc_rt_refuse(cl, ATTNC_RT_ERR_SHAPE,
                             "the arguments together are too large for one "
                             "device block");
  }
  CUdeviceptr block = 0;
  int32_t rc = 0;
  if (total > 0 && !ok(&c, "cuMemAlloc_v2", cu.MemAlloc(&block, (size_t)total)))
    return c.code;
  for (int32_t i = 0; i < nargs && !c.code; ++i) {
    if (bytes[i] == 0)
      continue;
    CUdeviceptr dev = block + (CUdeviceptr)offset[i];
    if (cl->sig->args[i].role != ATTNC_ROLE_OUTPUT)
      ok(&c, "cuMemcpyHtoDAsync_v2",
         cu.MemcpyHtoDAsync(dev, cl->args[i].data, (size_t)bytes[i], c.stream));
    void *p = (void *)(uintptr_t)dev;
    memcpy((int64_t *)descs[i] + 0, &p, sizeof p);
    memcpy((int64_t *)descs[i] + 1, &p, sizeof p);
  }
  if (!c.code)
    rc = runOnDevice(&c, cl, thunk, descs);
  for (int32_t i = 0; i < nargs && !rc && !c.code; ++i)
    if (bytes[i] > 0 && cl->sig->args[i].role == ATTNC_ROLE_OUTPUT)
      ok(&c, "cuMemcpyDtoHAsync_v2",
         cu.MemcpyDtoHAsync(cl->args[i].data, block + (CUdeviceptr)offset[i],
                            (size_t)bytes[i], c.stream));
  if (!rc && !c.code)
    ok(&c, "cuStreamSynchronize", cu.StreamSynchronize(c.stream));
  else
    cu.StreamSynchronize(c.stream);
  endCall(&c);
  if (block)
    cu.MemFree(block);
  return rc ? rc : c.code;
}

int32_t attnc_rt_invoke_cuda_cached(const char *signature, void **cache,
                                    attnc_tensor *args, int32_t nargs,
                                    void *stream, attnc_rt_thunk thunk) {
  cudaopts o = {(CUstream)stream};
  return attnc_rt_invoke_with(signature, cache, args, nargs, thunk, runDevice,
                              &o);
}

int32_t attnc_rt_invoke_cuda_host_cached(const char *signature, void **cache,
                                         attnc_tensor *args, int32_t nargs,
                                         attnc_rt_thunk thunk) {
  return attnc_rt_invoke_with(signature, cache, args, nargs, thunk, runHost,
                              NULL);
}
