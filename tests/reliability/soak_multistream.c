/* The soak run: one pipeline of 16 live camera-like branches (30 fps
 * each) into `infer` elements that share one model instance
 * (model-instance-id), batch 16, for a long time, with the process's host
 * memory and the GPU's memory sampled at a fixed interval. Half of the
 * branches hand frames over in CUDA memory (cudaupload) when the GPU path
 * and gstreamer-cuda are there, the others in system memory. A benchmark
 * program, not a test: it prints one row per sample and a summary, and
 * fails only when the pipeline errors or a branch stops receiving frames.
 *
 *   soak_multistream MODEL SECONDS [INTERVAL_S (60)] [BACKEND (auto)] [PRECISION (fp16)]
 *
 * Device memory: the process's own use through NVML when the driver
 * offers it, and the device's used memory (total - free) through the CUDA
 * runtime, both loaded at run time so the program builds without them. */
#include <dlfcn.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_BRANCHES 16
#define WARMUP_FRACTION 6 /* the first sixth of the run is warm-up */

typedef struct Branch {
  gint buffers; /* atomic */
  gint regions; /* atomic: detections seen */
  gint last_count;
} Branch;

static Branch branches[N_BRANCHES];
static gboolean failed;

/* ---- memory probes ------------------------------------------------------------- */

static long host_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  fclose(f);
  return kib;
}

typedef int (*MemGetInfoFn)(size_t *free_bytes, size_t *total_bytes);
static MemGetInfoFn cuda_mem_get_info;

/* NVML (facts of its C API): nvmlInit_v2, nvmlDeviceGetHandleByIndex_v2,
 * nvmlDeviceGetComputeRunningProcesses_v3 filling {pid, usedGpuMemory,
 * gpuInstanceId, computeInstanceId}. */
typedef struct NvmlProcess {
  unsigned int pid;
  unsigned long long used;
  unsigned int gpu_instance, compute_instance;
} NvmlProcess;
typedef int (*NvmlInitFn)(void);
typedef int (*NvmlHandleFn)(unsigned int index, void **device);
typedef int (*NvmlProcessesFn)(void *device, unsigned int *count, NvmlProcess *infos);
static NvmlProcessesFn nvml_processes;
static void *nvml_device;

static void load_probes(void) {
  const char *cudart[] = {"libcudart.so.13", "libcudart.so.12", "libcudart.so"};
  for (size_t i = 0; i < G_N_ELEMENTS(cudart) && !cuda_mem_get_info; i++) {
    void *h = dlopen(cudart[i], RTLD_NOW | RTLD_GLOBAL);
    if (h) cuda_mem_get_info = (MemGetInfoFn)dlsym(h, "cudaMemGetInfo");
  }
  void *nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW);
  if (!nvml) return;
  NvmlInitFn init = (NvmlInitFn)dlsym(nvml, "nvmlInit_v2");
  NvmlHandleFn handle = (NvmlHandleFn)dlsym(nvml, "nvmlDeviceGetHandleByIndex_v2");
  NvmlProcessesFn procs = (NvmlProcessesFn)dlsym(nvml, "nvmlDeviceGetComputeRunningProcesses_v3");
  if (init && handle && procs && init() == 0 && handle(0, &nvml_device) == 0)
    nvml_processes = procs;
}

/* MiB the GPU has in use (every process), -1 when unknown. */
static long device_used_mib(void) {
  size_t free_b = 0, total_b = 0;
  if (!cuda_mem_get_info || cuda_mem_get_info(&free_b, &total_b) != 0) return -1;
  return (long)((total_b - free_b) >> 20);
}

/* MiB this process has on the GPU (NVML), -1 when unknown. */
static long process_device_mib(void) {
  if (!nvml_processes) return -1;
  NvmlProcess infos[64];
  unsigned int n = G_N_ELEMENTS(infos);
  if (nvml_processes(nvml_device, &n, infos) != 0) return -1;
  for (unsigned int i = 0; i < n; i++)
    if (infos[i].pid == (unsigned int)getpid()) return (long)(infos[i].used >> 20);
  return -1;
}

/* ---- the pipeline ---------------------------------------------------------------- */

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  (void)pad;
  Branch *b = user;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  gint regions = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta_filtered(buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    regions++;
  g_atomic_int_inc(&b->buffers);
  g_atomic_int_add(&b->regions, regions);
  return GST_PAD_PROBE_OK;
}

static gchar *pipeline_text(const char *model, const char *backend, const char *precision,
                            gboolean cuda_memory) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < N_BRANCHES; i++) {
    gboolean up = cuda_memory && i % 2 == 1;
    g_string_append_printf(s,
        "videotestsrc is-live=true pattern=%s ! "
        "video/x-raw,format=NV12,width=640,height=360,framerate=30/1 ! %s"
        "infer name=infer%d model=%s backend=%s precision=%s batch-size=%d "
        "batch-timeout=40000 model-instance-id=soak ! fakesink name=sink%d sync=false ",
        i % 3 == 0 ? "ball" : i % 3 == 1 ? "smpte" : "snow", up ? "cudaupload ! " : "", i, model,
        backend, precision, N_BRANCHES, i);
  }
  return g_string_free(s, FALSE);
}

static gboolean cuda_upload_usable(const char *backend) {
  if (g_strcmp0(backend, "cpu") == 0) return FALSE;
  GstElementFactory *f = gst_element_factory_find("cudaupload");
  if (!f) return FALSE;
  gst_object_unref(f);
  /* the infer element takes CUDA memory only when built with gstreamer-cuda */
  GstElementFactory *inf = gst_element_factory_find("infer");
  gboolean ok = FALSE;
  if (inf) {
    for (const GList *l = gst_element_factory_get_static_pad_templates(inf); l; l = l->next) {
      const GstStaticPadTemplate *t = l->data;
      if (t->direction == GST_PAD_SINK && strstr(t->static_caps.string, "memory:CUDAMemory"))
        ok = TRUE;
    }
    gst_object_unref(inf);
  }
  return ok;
}

typedef struct Summary {
  long rss_min, rss_max, dev_min, dev_max, proc_min, proc_max;
  long rss_first, rss_last, dev_first, dev_last;
  int samples;
} Summary;

static void track(long v, long *lo, long *hi, long *first, long *last, int samples) {
  if (v < 0) return;
  if (samples == 0 || v < *lo) *lo = v;
  if (samples == 0 || v > *hi) *hi = v;
  if (first && samples == 0) *first = v;
  if (last) *last = v;
}

static gboolean bus_error(GstBus *bus) {
  GstMessage *m;
  gboolean err = FALSE;
  while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS))) {
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      gst_message_parse_error(m, &e, NULL);
      fprintf(stderr, "soak: error from %s: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)),
              e ? e->message : "?");
      g_clear_error(&e);
    } else {
      fprintf(stderr, "soak: unexpected EOS\n");
    }
    err = TRUE;
    gst_message_unref(m);
  }
  return err;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL SECONDS [INTERVAL_S] [BACKEND] [PRECISION]\n", argv[0]);
    return 2;
  }
  const char *model = argv[1];
  int seconds = atoi(argv[2]);
  int interval = argc > 3 ? atoi(argv[3]) : 60;
  const char *backend = argc > 4 ? argv[4] : "auto";
  const char *precision = argc > 5 ? argv[5] : "fp16";
  if (seconds <= 0 || interval <= 0) {
    fprintf(stderr, "soak: SECONDS and INTERVAL_S must be positive\n");
    return 2;
  }
  load_probes();
  gboolean cuda_memory = cuda_upload_usable(backend);
  gchar *text = pipeline_text(model, backend, precision, cuda_memory);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch(text, &err);
  g_free(text);
  if (!pipeline || err) {
    fprintf(stderr, "soak: cannot make the pipeline: %s\n", err ? err->message : "?");
    return 1;
  }
  for (int i = 0; i < N_BRANCHES; i++) {
    gchar *name = g_strdup_printf("sink%d", i);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), name);
    GstPad *pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &branches[i], NULL);
    gst_object_unref(pad);
    gst_object_unref(sink);
    g_free(name);
  }
  printf("soak: %d branches (%s), model %s, backend %s, precision %s, %d s, sample every %d s\n",
         N_BRANCHES, cuda_memory ? "8 in CUDA memory, 8 in system memory" : "system memory",
         model, backend, precision, seconds, interval);
  printf("soak: device memory probes: runtime %s, per process %s\n",
         cuda_mem_get_info ? "yes" : "no", nvml_processes ? "yes (NVML)" : "no");
  GstBus *bus = gst_element_get_bus(pipeline);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
      bus_error(bus)) {
    fprintf(stderr, "soak: the pipeline does not start\n");
    return 1;
  }
  printf("%8s %10s %8s %10s %12s %12s %8s\n", "t_s", "frames", "fps", "rss_MiB", "gpu_used_MiB",
         "gpu_proc_MiB", "regions");
  Summary sum;
  memset(&sum, 0, sizeof sum);
  int warmup = seconds / WARMUP_FRACTION;
  gint64 start = g_get_monotonic_time(), prev_frames = 0;
  for (int t = interval; t <= seconds && !failed; t += interval) {
    /* sleep in short steps so an error ends the run early */
    while (g_get_monotonic_time() - start < (gint64)t * G_USEC_PER_SEC && !failed) {
      g_usleep(200 * 1000);
      failed |= bus_error(bus);
    }
    gint64 frames = 0, regions = 0;
    int stalled = 0;
    for (int i = 0; i < N_BRANCHES; i++) {
      gint n = g_atomic_int_get(&branches[i].buffers);
      stalled += n == branches[i].last_count;
      branches[i].last_count = n;
      frames += n;
      regions += g_atomic_int_get(&branches[i].regions);
    }
    long rss = host_rss_kib(), dev = device_used_mib(), proc = process_device_mib();
    printf("%8d %10" G_GINT64_FORMAT " %8.1f %10.1f %12ld %12ld %8" G_GINT64_FORMAT "\n", t,
           frames, (double)(frames - prev_frames) / interval, rss / 1024.0, dev, proc, regions);
    fflush(stdout);
    prev_frames = frames;
    if (stalled) {
      fprintf(stderr, "soak: %d branch%s received no frame in the last %d s\n", stalled,
              stalled == 1 ? "" : "es", interval);
      failed = TRUE;
    }
    if (t > warmup) {
      track(rss, &sum.rss_min, &sum.rss_max, &sum.rss_first, &sum.rss_last, sum.samples);
      track(dev, &sum.dev_min, &sum.dev_max, &sum.dev_first, &sum.dev_last, sum.samples);
      track(proc, &sum.proc_min, &sum.proc_max, NULL, NULL, sum.samples);
      sum.samples++;
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  if (sum.samples > 0) {
    printf("soak: after %d s of warm-up, %d samples: host RSS %.1f..%.1f MiB (first %.1f, last "
           "%.1f)", warmup, sum.samples, sum.rss_min / 1024.0, sum.rss_max / 1024.0,
           sum.rss_first / 1024.0, sum.rss_last / 1024.0);
    if (sum.dev_max > 0)
      printf("; GPU used %ld..%ld MiB (first %ld, last %ld)", sum.dev_min, sum.dev_max,
             sum.dev_first, sum.dev_last);
    if (sum.proc_max > 0) printf("; this process on the GPU %ld..%ld MiB", sum.proc_min, sum.proc_max);
    printf("\n");
  }
  printf("soak: %s\n", failed ? "FAILED" : "finished");
  return failed ? 1 : 0;
}
