/* Engine plan files: the on-disk layout (private to the runtime and tools).
 *
 * Everything is little-endian. A plan is
 *
 *   header (INFER_PLAN_FIXED_HEADER bytes, fixed offsets below)
 *   section table (n_sections entries of INFER_PLAN_SECTION_ENTRY bytes)
 *   sections (TENSORS, LAYERS, IO, PLUGINS, each starting 8-aligned; DATA
 *   64-aligned)
 *
 * Header:
 *     0  char[8]  magic "INFERPLN"
 *     8  u32      format version (INFER_PLAN_FORMAT_VERSION)
 *    12  u32      header size: fixed header + section table
 *    16  u64      checksum of everything but itself: infer_hash64 of bytes
 *                 [0,16) seeds a word-wise hash (infer_plan_checksum, four
 *                 xxHash64-style lanes) of bytes [24, total size)
 *    24  u64      total size of the plan in bytes
 *    32  char[32] library version (infer_version_string(), NUL padded)
 *    64  u32      backend (InferBackendKind)
 *    68  u32      number of sections
 *    72  u64      source model hash (infer_engine_source_hash)
 *    80  device fingerprint:
 *        80 u32 backend, 84 i32 cc major, 88 i32 cc minor,
 *        92 u32 CUDA version, 96 u32 cuDNN version, 100 u32 cuBLAS version,
 *       104 char[128] device name, 232 char[256] CPU features,
 *       488 char[64] compiler (informational: not compared)
 *   552  section table: per section
 *        u32 kind, u32 flags (bit 0: optional, a reader may skip it),
 *        u64 offset (from the file start), u64 size, u64 count
 *
 * TENSORS (count = tensors), one record per tensor in id order:
 *   u32 name length, name bytes (no NUL)
 *   u32 flags (INFER_PLAN_TENSOR_*), u32 dtype, i32 rank, i64 dims[rank]
 *   per dim: u32 dim-name length + 1 (0: no name), name bytes
 *   constants only: u64 data offset (from the file start, 64-aligned),
 *                   u64 data size
 * Ids are such that inputs come first and every layer's inputs precede its
 * outputs, which are consecutive: the order the network API recreates.
 *
 * LAYERS (count = layers), in execution order:
 *   u32 name length, name bytes, u32 op, u32 params size (the op's
 *   InferOpInfo.params_size), params bytes, u32 n_inputs, i32 inputs[]
 *   (-1: absent), u32 n_outputs, i32 outputs[]
 *
 * IO (count = io entries):
 *   u32 n_inputs, u32 n_io, i32 io[n_io] (inputs, then outputs),
 *   io_shapes[n_io], then per input its build (opt), min and max shapes
 *   (input_build_shapes, input_min_shapes, input_max_shapes; each shape:
 *   i32 rank, i64 dims[rank]), u32 precisions, i32 n_source_layers
 *
 * PLUGINS (count = plugin entries; absent in plans without plugin layers
 * read as none), the serialized plugin instances the plugin layers use
 * (a plugin layer's params.plugin.data_index is an entry's index here):
 *   u32 name length, name bytes, u32 version length, version bytes,
 *   u64 size, the bytes the instance serialized itself to
 *
 * DATA: constant values, each blob starting at a multiple of 64 bytes from
 * the start of the file (zero padding between), so that it can be mapped. */
#ifndef INFER_PLAN_FORMAT_H
#define INFER_PLAN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infer/engine.h"

#define INFER_PLAN_MAGIC "INFERPLN"
#define INFER_PLAN_MAGIC_SIZE 8
#define INFER_PLAN_FORMAT_VERSION 3u /* 3: the PLUGINS section */
#define INFER_PLAN_DATA_ALIGN 64

/* Header field offsets. */
enum {
  INFER_PLAN_OFF_MAGIC = 0,
  INFER_PLAN_OFF_VERSION = 8,
  INFER_PLAN_OFF_HEADER_SIZE = 12,
  INFER_PLAN_OFF_CHECKSUM = 16,
  INFER_PLAN_OFF_TOTAL_SIZE = 24,
  INFER_PLAN_OFF_LIB_VERSION = 32,
  INFER_PLAN_OFF_BACKEND = 64,
  INFER_PLAN_OFF_N_SECTIONS = 68,
  INFER_PLAN_OFF_SOURCE_HASH = 72,
  INFER_PLAN_OFF_FP_BACKEND = 80,
  INFER_PLAN_OFF_FP_CC_MAJOR = 84,
  INFER_PLAN_OFF_FP_CC_MINOR = 88,
  INFER_PLAN_OFF_FP_CUDA = 92,
  INFER_PLAN_OFF_FP_CUDNN = 96,
  INFER_PLAN_OFF_FP_CUBLAS = 100,
  INFER_PLAN_OFF_FP_DEVICE = 104,
  INFER_PLAN_OFF_FP_FEATURES = 232,
  INFER_PLAN_OFF_FP_COMPILER = 488,
  INFER_PLAN_FIXED_HEADER = 552,
  INFER_PLAN_SECTION_ENTRY = 32,
};

#define INFER_PLAN_LIB_VERSION_SIZE 32
#define INFER_PLAN_DEVICE_NAME_SIZE 128
#define INFER_PLAN_FEATURES_SIZE 256
#define INFER_PLAN_COMPILER_SIZE 64
#define INFER_PLAN_MAX_SECTIONS 64

typedef enum InferPlanSectionKind {
  INFER_PLAN_SECTION_TENSORS = 1,
  INFER_PLAN_SECTION_LAYERS = 2,
  INFER_PLAN_SECTION_IO = 3,
  INFER_PLAN_SECTION_DATA = 4,
  INFER_PLAN_SECTION_PLUGINS = 5,
} InferPlanSectionKind;

#define INFER_PLAN_SECTION_OPTIONAL 1u

enum {
  INFER_PLAN_TENSOR_INPUT = 1u << 0,
  INFER_PLAN_TENSOR_OUTPUT = 1u << 1,
  INFER_PLAN_TENSOR_CONSTANT = 1u << 2,
  INFER_PLAN_TENSOR_SHAPE_KNOWN = 1u << 3,
  INFER_PLAN_TENSOR_ALL = (1u << 4) - 1,
};

/* What a plan was built for and with: the device and the libraries that
 * generated its kernels. Plans load only where this matches (compiler
 * aside). The CPU backend fills device_name and cpu_features; a CUDA
 * backend fills the GPU's name, compute capability and library versions
 * (versions as the libraries report them, e.g. 12020 for CUDA 12.2). */
typedef struct InferDeviceFingerprint {
  uint32_t backend;                               /* InferBackendKind */
  char device_name[INFER_PLAN_DEVICE_NAME_SIZE];  /* CPU model / GPU name */
  int32_t cc_major, cc_minor;                     /* 0 for the CPU */
  uint32_t cuda_version, cudnn_version, cublas_version; /* 0 for the CPU */
  char cpu_features[INFER_PLAN_FEATURES_SIZE];    /* "x86_64 avx avx2 fma ..." */
  char compiler[INFER_PLAN_COMPILER_SIZE];        /* "gcc 12.2.0" */
} InferDeviceFingerprint;

/* The fingerprint of this machine for a backend; INFER_ERR_UNSUPPORTED when
 * the backend is not built into this library. */
InferStatus *infer_device_fingerprint(InferBackendKind backend, InferDeviceFingerprint *out);
/* Same device and libraries (the compiler is not compared). */
bool infer_device_fingerprint_equal(const InferDeviceFingerprint *a,
                                    const InferDeviceFingerprint *b);
/* "AMD EPYC 7B13 (x86_64 avx avx2 fma avx512f)" or
 * "NVIDIA H100 (sm_90, CUDA 12.2, cuDNN 8.9.7, cuBLAS 12.2.5)". */
char *infer_device_fingerprint_describe(const InferDeviceFingerprint *fp, char *buf, size_t size);

#ifdef INFER_HAVE_CUDA
/* Provided by the CUDA backend: the current GPU and the CUDA, cuDNN and
 * cuBLAS versions in use. */
InferStatus *infer_cuda_device_fingerprint(InferDeviceFingerprint *out);
#endif

/* What a plan's header says, for tools that print what a plan was built
 * for. */
typedef struct InferPlanHeaderInfo {
  uint32_t format_version;
  uint64_t total_size;
  char library_version[INFER_PLAN_LIB_VERSION_SIZE];
  InferBackendKind backend;
  uint64_t source_hash;
  InferDeviceFingerprint device;
  uint64_t n_tensors, n_layers, n_io;
  uint64_t data_bytes;             /* size of the DATA section */
} InferPlanHeaderInfo;

/* Checks size, magic, format version and checksum (but not the library
 * version or device) and fills `out`. `name` names the plan in messages
 * (NULL: "plan"). */
InferStatus *infer_plan_read_header(const void *data, size_t size, const char *name,
                                    InferPlanHeaderInfo *out);

/* Little-endian field access (plan_write.c). */
void infer_plan_put_u32(uint8_t *p, uint32_t v);
void infer_plan_put_u64(uint8_t *p, uint64_t v);
uint32_t infer_plan_get_u32(const uint8_t *p);
uint64_t infer_plan_get_u64(const uint8_t *p);
/* The checksum of a whole plan of `size` bytes (size >= FIXED_HEADER). */
uint64_t infer_plan_checksum(const uint8_t *plan, size_t size);

#endif
