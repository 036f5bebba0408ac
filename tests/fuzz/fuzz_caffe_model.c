/* Fuzz target: the Caffe caffemodel reader (binary NetParameter through
 * protobuf-c, blobs matched to layers by name, shape checks) with a fixed,
 * valid deploy prototxt: the layer zoo of tests/caffe/make_caffe_models.py
 * (every supported layer type; its zoo.caffemodel is the seed). Nets that
 * parse are built for the CPU and run once. */
#include "fuzz_target.h"

#define MAX_MODEL_BYTES (1u << 20)

/* tests/caffe/make_caffe_models.py's zoo/deploy.prototxt */
static const char deploy[] =
    "# Every other supported layer type once; shapes in the comments.\n"
    "name: \"Zoo\"\n"
    "input: \"data\"\n"
    "input_dim: 1 input_dim: 4 input_dim: 16 input_dim: 16\n"
    "layer {  # 8x16x16, two groups\n"
    "  name: \"conv_a\" type: \"Convolution\" bottom: \"data\" top: \"conv_a\"\n"
    "  convolution_param { num_output: 8 kernel_size: 3 pad: 1 group: 2 }\n"
    "}\n"
    "layer { name: \"bn_a\" type: \"BatchNorm\" bottom: \"conv_a\" top: \"conv_a\"\n"
    "        batch_norm_param { use_global_stats: true eps: 1e-4 } }\n"
    "layer { name: \"sc_a\" type: \"Scale\" bottom: \"conv_a\" top: \"conv_a\" scale_param { bias_term: true } }\n"
    "layer { name: \"prelu_a\" type: \"PReLU\" bottom: \"conv_a\" top: \"conv_a\" }\n"
    "layer {  # dilated, no bias: 8x16x16\n"
    "  name: \"conv_b\" type: \"Convolution\" bottom: \"conv_a\" top: \"conv_b\"\n"
    "  convolution_param { num_output: 8 kernel_h: 3 kernel_w: 3 pad_h: 2 pad_w: 2 dilation: 2\n"
    "                      bias_term: false }\n"
    "}\n"
    "layer { name: \"lrn_b\" type: \"LRN\" bottom: \"conv_b\" top: \"lrn_b\"\n"
    "        lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 2 } }\n"
    "layer { name: \"elt_sum\" type: \"Eltwise\" bottom: \"conv_a\" bottom: \"lrn_b\" top: \"elt_sum\"\n"
    "        eltwise_param { operation: SUM coeff: 0.5 coeff: -1 } }\n"
    "layer { name: \"elt_prod\" type: \"Eltwise\" bottom: \"elt_sum\" bottom: \"conv_b\" top: \"elt_prod\"\n"
    "        eltwise_param { operation: PROD } }\n"
    "layer { name: \"elt_max\" type: \"Eltwise\" bottom: \"elt_prod\" bottom: \"elt_sum\" bottom: \"lrn_b\"\n"
    "        top: \"elt_max\" eltwise_param { operation: MAX } }\n"
    "layer {  # ceil rounding: 8x9x9, the last window clipped at the padded edge\n"
    "  name: \"pool_ave\" type: \"Pooling\" bottom: \"elt_max\" top: \"pool_ave\"\n"
    "  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }\n"
    "}\n"
    "layer { name: \"lrn_w\" type: \"LRN\" bottom: \"pool_ave\" top: \"lrn_w\"\n"
    "        lrn_param { norm_region: WITHIN_CHANNEL local_size: 3 alpha: 0.2 beta: 0.75 } }\n"
    "layer {  # 6x18x18\n"
    "  name: \"deconv\" type: \"Deconvolution\" bottom: \"pool_ave\" top: \"deconv\"\n"
    "  convolution_param { num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 2 }\n"
    "}\n"
    "layer { name: \"gpool\" type: \"Pooling\" bottom: \"deconv\" top: \"gpool\"\n"
    "        pooling_param { pool: AVE global_pooling: true } }\n"
    "layer {  # ceil without padding: 6x9x9\n"
    "  name: \"pool_max\" type: \"Pooling\" bottom: \"deconv\" top: \"pool_max\"\n"
    "  pooling_param { pool: MAX kernel_size: 3 stride: 2 }\n"
    "}\n"
    "layer { name: \"slice\" type: \"Slice\" bottom: \"pool_max\" top: \"s0\" top: \"s1\" top: \"s2\"\n"
    "        slice_param { axis: 1 slice_point: 2 slice_point: 5 } }\n"
    "layer { name: \"power\" type: \"Power\" bottom: \"s0\" top: \"pw\"\n"
    "        power_param { power: 2 scale: 0.5 shift: 1.5 } }\n"
    "layer { name: \"sig\" type: \"Sigmoid\" bottom: \"s1\" top: \"s1\" }\n"
    "layer { name: \"tanh\" type: \"TanH\" bottom: \"s2\" top: \"s2\" }\n"
    "layer { name: \"concat\" type: \"Concat\" bottom: \"pw\" bottom: \"s1\" bottom: \"s2\" top: \"concat\"\n"
    "        concat_param { axis: 1 } }\n"
    "layer { name: \"permute\" type: \"Permute\" bottom: \"concat\" top: \"permute\"\n"
    "        permute_param { order: 0 order: 2 order: 3 order: 1 } }\n"
    "layer { name: \"reshape\" type: \"Reshape\" bottom: \"permute\" top: \"reshape\"\n"
    "        reshape_param { shape { dim: 0 dim: -1 dim: 6 } } }\n"
    "layer { name: \"ip_t\" type: \"InnerProduct\" bottom: \"reshape\" top: \"ip_t\"\n"
    "        inner_product_param { num_output: 5 axis: 2 transpose: true } }\n"
    "layer { name: \"flat\" type: \"Flatten\" bottom: \"ip_t\" top: \"flat\" }\n"
    "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"flat\" top: \"ip\"\n"
    "        inner_product_param { num_output: 10 } }\n"
    "layer { name: \"drop\" type: \"Dropout\" bottom: \"ip\" top: \"ip\" dropout_param { dropout_ratio: 0.3 } }\n"
    "layer { name: \"relu_leaky\" type: \"ReLU\" bottom: \"ip\" top: \"ip\" relu_param { negative_slope: 0.1 } }\n"
    "layer { name: \"prob\" type: \"Softmax\" bottom: \"ip\" top: \"prob\" }\n"
    "layer { name: \"train_only\" type: \"Accuracy\" bottom: \"prob\" top: \"accuracy\"\n"
    "        include { phase: TRAIN } }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_MODEL_BYTES) return 0;
  InferNetwork *net = NULL;
  /* model_size 0 means "no weights" (pattern-filled): keep it a model */
  static const uint8_t empty[1];
  InferStatus *st = infer_caffe_parse_memory(deploy, sizeof deploy - 1, "zoo.prototxt",
                                             size ? data : empty, size, "fuzz.caffemodel", NULL,
                                             &net);
  if (st) {
    fuzz_check_status(st);
    infer_status_free(st);
    return 0;
  }
  fuzz_build_and_run(net);
  infer_network_release(net);
  return 0;
}
