/* Batching for the infer element: model instances (an engine, its context,
 * batch buffers and one worker thread) shared by elements through a global
 * registry keyed by model-instance-id.
 *
 * Streaming threads reserve a slot of the batch being filled, preprocess a
 * frame (or an object's region) into it and commit it. The worker runs a
 * batch when it is full, when batch-timeout has passed since its first slot
 * was reserved, or when someone drains; then it calls each slot's client
 * back with the outputs (on the worker thread). A model swap waits until no
 * batch holds slots, so every batch runs with the model its slots were
 * preprocessed for. */
#ifndef GST_INFER_BATCHER_H
#define GST_INFER_BATCHER_H

#include <gst/gst.h>

#include "infer_model.h"

G_BEGIN_DECLS

typedef struct InferInstance InferInstance;
typedef struct InferClient InferClient;
typedef struct InferSlot InferSlot;

/* Called on the worker thread for each slot of a batch that ran: `item` is
 * the slot's index in the outputs; `error` is set when the batch (or the
 * slot's preprocessing) failed, then outputs are NULL. */
typedef void (*InferSlotDoneFn)(InferClient *client, InferSlot *slot, const InferModel *model,
                                const InferNamedTensor *outputs, gint n_outputs, gint item,
                                const gchar *error);

struct InferClient {
  InferSlotDoneFn done;
  gpointer user;          /* the element */
  /* owned by the instance, under its lock */
  gint outstanding;       /* reserved slots not called back yet */
};

struct InferSlot {
  /* filled by the instance */
  gpointer dst;                /* where the preprocessed item goes (backend memory) */
  const InferModel *model;     /* the model the item is for (input size and layout) */
  InferClient *client;
  /* filled by the client */
  gpointer frame;              /* the client's frame */
  gint object_index;           /* -1: the whole frame */
  gint frame_width, frame_height;
  InferLetterbox letterbox;
  gboolean failed;             /* preprocessing failed */
  gpointer priv;               /* the instance's */
  /* filled by the instance before the callback, when the batch's
     detections were decoded on the GPU (see InferOutputNeeds): the slot's
     detections in model-input pixels (not yet mapped through the
     letterbox), valid during the callback */
  gboolean decoded;
  const InferDetection *detections;
  gint n_detections;
};

/* What a client's slots need of a batch's outputs. Device engines ask when
 * a batch starts: when every client of the batch wants detections with the
 * same parameters and the outputs are YOLOv8, YOLOv5 or SSD ones, they are
 * decoded on the GPU behind the run (kernels/cuda/cuda_detect.h: the same
 * results as infer_decode_detections) and only the detections come back to
 * the host (slot->decoded); the detector outputs are then downloaded only
 * when a client wants the raw outputs too (in the callback, outputs not
 * downloaded have NULL data). Anything else downloads every output as
 * before and the client decodes on the host. */
typedef struct InferOutputNeeds {
  gboolean outputs;            /* the raw outputs */
  gboolean detections;         /* detections with `detector`, at most max_detections */
  InferDetectorParams detector;
  gint max_detections;
} InferOutputNeeds;

/* The needs of a client's slots for batches of `model` (implemented by the
 * infer element's results code, from its settings; called on the worker). */
void infer_client_output_needs(InferClient *client, const InferModel *model,
                               InferOutputNeeds *needs);

typedef struct InferInstanceOptions {
  InferModelOptions model;
  guint64 batch_timeout_us;    /* 0: wait for a full batch (or a drain) */
} InferInstanceOptions;

/* Attaches `client` to the instance named `id` (created, with its model
 * loaded, when it does not exist yet; NULL id: a private instance). On
 * failure: FALSE with error/debug as infer_model_load. *loaded_model is the
 * model loaded by this call (NULL when the instance already existed). */
gboolean infer_instance_acquire(const gchar *id, const InferInstanceOptions *o,
                                InferModelProgressFn progress, gpointer user,
                                InferClient *client, InferInstance **out,
                                const InferModel **loaded_model, GError **error, gchar **debug);
/* Runs what the client still has in batches, waits for its callbacks,
 * detaches it; the last client stops the worker and frees the instance. */
void infer_instance_release(InferInstance *inst, InferClient *client);

/* A slot of the batch being filled (blocks while no batch buffer is free or
 * a model swap is pending). Never NULL. */
InferSlot *infer_instance_reserve(InferInstance *inst, InferClient *client);
/* Preprocesses a frame into the slot with the backend's implementation
 * (output size, layout and element type come from slot->model, the rest
 * from params); fills slot->letterbox. */
InferStatus *infer_instance_preprocess(InferInstance *inst, InferSlot *slot,
                                       const InferImage *image, const InferRect *roi,
                                       const InferPreprocessParams *params);
/* TRUE when the model runs on a GPU and items are preprocessed there: the
 * client then passes frames in device memory to
 * infer_instance_preprocess_device, uploading system-memory frames itself
 * on infer_instance_device_stream (so that the upload is ordered before the
 * kernel). Both stay as they are for the instance's life. */
gboolean infer_instance_on_device(InferInstance *inst);
void *infer_instance_device_stream(InferInstance *inst); /* cudaStream_t; NULL: host */
/* Queues the preprocessing of a frame in device memory (pitch-linear
 * planes that stay valid until the slot is called back) into the slot, on
 * the device stream; fills slot->letterbox. No waiting. */
InferStatus *infer_instance_preprocess_device(InferInstance *inst, InferSlot *slot,
                                              const InferImage *image, const InferRect *roi,
                                              const InferPreprocessParams *params);
/* The slot is filled (or slot->failed is set). */
void infer_instance_commit(InferInstance *inst, InferSlot *slot);
/* Closes the batch being filled so that it runs now (EOS, drain, backpressure). */
void infer_instance_drain(InferInstance *inst);
/* Closes the batch being filled when it holds a slot of the client's
 * `frame` (a frame the client must wait for); TRUE if it did. Call from the
 * thread that set the client's slot->frame fields. */
gboolean infer_instance_drain_frame(InferInstance *inst, InferClient *client, gpointer frame);
/* Swaps in another model between batches (takes ownership). */
void infer_instance_set_model(InferInstance *inst, InferModel *model);
/* The model batches are filled for now (changes only through set_model). */
const InferModel *infer_instance_model(InferInstance *inst);
/* Items per batch of the current model. */
gint infer_instance_batch_size(InferInstance *inst);

G_END_DECLS
#endif
