/* The timing cache file: round trip, other devices' entries kept, what the
 * layer key depends on (not the tactic), malformed files named by line. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "timing_cache.h"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static InferOpCall conv_call(InferOpParams *p, InferTensorView *in, InferTensorView *out,
                             int64_t batch) {
  memset(p, 0, sizeof *p);
  p->conv.spatial = 2;
  p->conv.group = 1;
  memset(in, 0, sizeof(InferTensorView) * 2);
  memset(out, 0, sizeof(InferTensorView));
  in[0] = (InferTensorView){INFER_DTYPE_F16, {4, {batch, 64, 56, 56}}, NULL};
  in[1] = (InferTensorView){INFER_DTYPE_F16, {4, {64, 64, 3, 3}}, NULL};
  out[0] = (InferTensorView){INFER_DTYPE_F16, {4, {batch, 64, 54, 54}}, NULL};
  return (InferOpCall){INFER_OP_CONV, "c", p, in, 2, out, 1, 0};
}

static void test_keys(void) {
  InferOpParams p1, p2;
  InferTensorView in1[2], out1[1], in2[2], out2[1];
  InferOpCall a = conv_call(&p1, in1, out1, 8), b = conv_call(&p2, in2, out2, 8);
  CHECK(infer_timing_key(&a) == infer_timing_key(&b));
  p2.conv.tactic = 7; /* the choice itself is not part of the key */
  CHECK(infer_timing_key(&a) == infer_timing_key(&b));
  p2.conv.channels_last = true;
  CHECK(infer_timing_key(&a) != infer_timing_key(&b));
  p2.conv.channels_last = false;
  in2[0].shape.d[0] = out2[0].shape.d[0] = 16;
  CHECK(infer_timing_key(&a) != infer_timing_key(&b));
  in2[0].shape.d[0] = out2[0].shape.d[0] = 8;
  in2[0].dtype = in2[1].dtype = out2[0].dtype = INFER_DTYPE_F32;
  CHECK(infer_timing_key(&a) != infer_timing_key(&b));
  in2[0].dtype = in2[1].dtype = out2[0].dtype = INFER_DTYPE_F16;
  b.flags = INFER_CALL_TF32;
  CHECK(infer_timing_key(&a) != infer_timing_key(&b));
}

static void test_round_trip(void) {
  char path[] = "/tmp/infer_tc_XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) close(fd);
  remove(path);
  InferTimingCache c;
  CHECK_OK(infer_timing_cache_load(&c, path)); /* absent: empty */
  CHECK(c.n == 0);
  CHECK_OK(infer_timing_cache_put(&c, "GPU A", 0x1234abcdull, 3, 0.25));
  CHECK_OK(infer_timing_cache_put(&c, "GPU B", 0x1234abcdull, 6, 0.5));
  CHECK_OK(infer_timing_cache_put(&c, "GPU A", 0xffffffffffffffffull, 1, 1.0));
  CHECK_OK(infer_timing_cache_put(&c, "GPU A", 0x1234abcdull, 4, 0.2)); /* replaces */
  CHECK(c.n == 3 && c.dirty);
  CHECK_OK(infer_timing_cache_save(&c, path));
  infer_timing_cache_free(&c);
  InferTimingCache d;
  CHECK_OK(infer_timing_cache_load(&d, path));
  int32_t t = -1;
  CHECK(d.n == 3);
  CHECK(infer_timing_cache_find(&d, "GPU A", 0x1234abcdull, &t) && t == 4);
  CHECK(infer_timing_cache_find(&d, "GPU B", 0x1234abcdull, &t) && t == 6);
  CHECK(infer_timing_cache_find(&d, "GPU A", 0xffffffffffffffffull, &t) && t == 1);
  CHECK(!infer_timing_cache_find(&d, "GPU C", 0x1234abcdull, &t));
  infer_timing_cache_free(&d);
  remove(path);
}

static void test_malformed(void) {
  char path[] = "/tmp/infer_tc_XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) close(fd);
  char msg[1024];
  InferTimingCache c;
  write_file(path, "not a cache\n");
  CHECK_FAILS(infer_timing_cache_load(&c, path), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, ":1: not a timing cache") != NULL);
  write_file(path, "infer-timing-cache 1\nGPU\t00000000000000aa\t2\t0.5\nGPU\tzz\t2\t0.5\n");
  CHECK_FAILS(infer_timing_cache_load(&c, path), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, ":3: malformed entry") != NULL);
  write_file(path, "infer-timing-cache 1\nGPU 00aa 2 0.5\n");
  CHECK_FAILS(infer_timing_cache_load(&c, path), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, ":2: expected") != NULL);
  remove(path);
}

int main(void) {
  test_keys();
  test_round_trip();
  test_malformed();
  TEST_MAIN_END("timing_cache");
}
