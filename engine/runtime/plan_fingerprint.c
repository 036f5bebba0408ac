/* Device fingerprints: what a plan was built for. For the CPU backend the
 * processor's model name and the instruction-set features that kernels may
 * depend on; a CUDA backend reports the GPU, its compute capability and the
 * CUDA/cuDNN/cuBLAS versions. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "plan_format.h"

static void copy_trimmed(char *dst, size_t size, const char *src) {
  while (*src == ' ' || *src == '\t') src++;
  size_t n = strlen(src);
  while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\t' || src[n - 1] == '\n' ||
                   src[n - 1] == '\r'))
    n--;
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  /* collapse runs of spaces ("Intel(R) Xeon(R)   CPU" in some brand strings) */
  char *w = dst;
  for (char *r = dst; *r; r++)
    if (!(*r == ' ' && w > dst && w[-1] == ' ')) *w++ = *r;
  *w = '\0';
}

/* The value of the first "key : value" line of /proc/cpuinfo, if any. */
static bool cpuinfo_value(const char *key, char *out, size_t size) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return false;
  char line[4096];
  bool found = false;
  size_t klen = strlen(key);
  while (!found && fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) != 0) continue;
    const char *p = line + klen;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != ':') continue;
    copy_trimmed(out, size, p + 1);
    found = out[0] != '\0';
  }
  fclose(f);
  return found;
}

static void cpu_name(char *out, size_t size) {
  out[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
  unsigned int max = __get_cpuid_max(0x80000000u, NULL);
  if (max >= 0x80000004u) {
    unsigned int regs[12];
    for (unsigned int i = 0; i < 3; i++)
      __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                  &regs[4 * i + 3]);
    char brand[49];
    memcpy(brand, regs, 48);
    brand[48] = '\0';
    copy_trimmed(out, size, brand);
  }
#endif
  if (!out[0]) cpuinfo_value("model name", out, size);
  if (!out[0]) cpuinfo_value("Hardware", out, size);
  if (!out[0]) cpuinfo_value("cpu model", out, size);
  if (!out[0]) {
    char part[64] = "", impl[64] = "";
    if (cpuinfo_value("CPU part", part, sizeof part) &&
        cpuinfo_value("CPU implementer", impl, sizeof impl))
      snprintf(out, size, "CPU implementer %s part %s", impl, part);
  }
  if (!out[0]) snprintf(out, size, "unknown CPU");
}

static void append_word(char *buf, size_t size, const char *word) {
  size_t n = strlen(buf);
  if (n + 1 + strlen(word) + 1 > size) return;
  snprintf(buf + n, size - n, "%s%s", n ? " " : "", word);
}

static void cpu_features(char *out, size_t size) {
  out[0] = '\0';
  struct utsname u;
  append_word(out, size, uname(&u) == 0 ? u.machine : "unknown-arch");
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.1")) append_word(out, size, "sse4.1");
  if (__builtin_cpu_supports("sse4.2")) append_word(out, size, "sse4.2");
  if (__builtin_cpu_supports("avx")) append_word(out, size, "avx");
  if (__builtin_cpu_supports("avx2")) append_word(out, size, "avx2");
  if (__builtin_cpu_supports("fma")) append_word(out, size, "fma");
  if (__builtin_cpu_supports("avx512f")) append_word(out, size, "avx512f");
  if (__builtin_cpu_supports("avx512bw")) append_word(out, size, "avx512bw");
  if (__builtin_cpu_supports("avx512vl")) append_word(out, size, "avx512vl");
  if (__builtin_cpu_supports("avx512vnni")) append_word(out, size, "avx512vnni");
#else
  /* Other architectures: the kernel's feature words that matter for SIMD. */
  char flags[4096];
  if (cpuinfo_value("Features", flags, sizeof flags)) {
    static const char *const wanted[] = {"neon", "asimd", "fphp", "asimdhp", "asimddp",
                                         "sve",  "sve2",  "i8mm", "bf16"};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
      const char *p = flags;
      size_t n = strlen(wanted[i]);
      while ((p = strstr(p, wanted[i])) != NULL) {
        bool start = p == flags || p[-1] == ' ';
        bool end = p[n] == '\0' || p[n] == ' ';
        if (start && end) {
          append_word(out, size, wanted[i]);
          break;
        }
        p += n;
      }
    }
  }
#endif
}

static void compiler_name(char *out, size_t size) {
#if defined(__clang__)
  snprintf(out, size, "clang %d.%d.%d", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  snprintf(out, size, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  snprintf(out, size, "unknown compiler");
#endif
}

static InferDeviceFingerprint cpu_cached;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_fingerprint_init(void) {
  InferDeviceFingerprint fp;
  memset(&fp, 0, sizeof fp);
  fp.backend = INFER_BACKEND_CPU;
  cpu_name(fp.device_name, sizeof fp.device_name);
  cpu_features(fp.cpu_features, sizeof fp.cpu_features);
  compiler_name(fp.compiler, sizeof fp.compiler);
  cpu_cached = fp;
}

InferStatus *infer_device_fingerprint(InferBackendKind backend, InferDeviceFingerprint *out) {
  memset(out, 0, sizeof *out);
  out->backend = (uint32_t)backend;
  compiler_name(out->compiler, sizeof out->compiler);
  switch (backend) {
    case INFER_BACKEND_CPU:
      /* the CPU does not change while the process runs: look it up once */
      pthread_once(&cpu_once, cpu_fingerprint_init);
      *out = cpu_cached;
      return NULL;
    case INFER_BACKEND_CUDA:
#ifdef INFER_HAVE_CUDA
    {
      InferStatus *st = infer_cuda_device_fingerprint(out);
      out->backend = INFER_BACKEND_CUDA;
      if (!out->compiler[0]) compiler_name(out->compiler, sizeof out->compiler);
      return st;
    }
#else
      return infer_status_new(INFER_ERR_UNSUPPORTED,
                              "this library was built without the CUDA backend");
#endif
    default:
      return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "no backend of kind %d", (int)backend);
  }
}

bool infer_device_fingerprint_equal(const InferDeviceFingerprint *a,
                                    const InferDeviceFingerprint *b) {
  return a->backend == b->backend &&
         strncmp(a->device_name, b->device_name, sizeof a->device_name) == 0 &&
         a->cc_major == b->cc_major && a->cc_minor == b->cc_minor &&
         a->cuda_version == b->cuda_version && a->cudnn_version == b->cudnn_version &&
         a->cublas_version == b->cublas_version &&
         strncmp(a->cpu_features, b->cpu_features, sizeof a->cpu_features) == 0;
}

/* CUDA-style versions: 12020 -> "12.2"; cuDNN 8907 / 90100 -> "8.9.7" / "9.1.0". */
static void cuda_version_str(uint32_t v, char *buf, size_t size) {
  snprintf(buf, size, "%u.%u", v / 1000, (v % 1000) / 10);
}

static void cudnn_version_str(uint32_t v, char *buf, size_t size) {
  if (v >= 90000)
    snprintf(buf, size, "%u.%u.%u", v / 10000, (v % 10000) / 100, v % 100);
  else
    snprintf(buf, size, "%u.%u.%u", v / 1000, (v % 1000) / 100, v % 100);
}

char *infer_device_fingerprint_describe(const InferDeviceFingerprint *fp, char *buf, size_t size) {
  char name[INFER_PLAN_DEVICE_NAME_SIZE], features[INFER_PLAN_FEATURES_SIZE];
  snprintf(name, sizeof name, "%.*s", (int)sizeof fp->device_name - 1, fp->device_name);
  snprintf(features, sizeof features, "%.*s", (int)sizeof fp->cpu_features - 1, fp->cpu_features);
  if (fp->backend == INFER_BACKEND_CUDA) {
    char cuda[32], cudnn[32], cublas[32];
    cuda_version_str(fp->cuda_version, cuda, sizeof cuda);
    cudnn_version_str(fp->cudnn_version, cudnn, sizeof cudnn);
    snprintf(cublas, sizeof cublas, "%u.%u.%u", fp->cublas_version / 10000,
             (fp->cublas_version % 10000) / 100, fp->cublas_version % 100);
    snprintf(buf, size, "%s (sm_%d%d, CUDA %s, cuDNN %s, cuBLAS %s)", name[0] ? name : "GPU",
             (int)fp->cc_major, (int)fp->cc_minor, cuda, cudnn, cublas);
  } else {
    snprintf(buf, size, "%s (%s)", name[0] ? name : "unknown CPU", features);
  }
  return buf;
}
