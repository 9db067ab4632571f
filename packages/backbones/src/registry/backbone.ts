/**
 * What the registry knows about a backbone: input size, what the network expects (and the input transform
 * that gets the pipeline's RGB [0,1] pixels there, built into the network as its first layer), where it is cut,
 * the feature shape [L locations, D channels] and where its weights come from. One file per backbone beside this one.
 */
import type { ChannelAffineArgs } from '../architectures/layers.ts';

/** The networks built in code with Keras' layer names (architectures/): what `.h5` and `imagenet` weights load into. */
export type Architecture = 'mobilenet_v2' | 'inception_v3' | 'efficientnet_b0' | 'vgg16';

/** A `keras.applications` weight file: its name, canonical URL and what Keras pins for it (`get_file(file_hash=...)`). */
export interface KerasWeightsFile {
  file: string;
  url: string;
  md5?: string;     // Keras pins md5 (32 hex) for most files; none for MobileNetV2
  bytes?: number;   // size when known
}

export interface Backbone {
  id: string;
  inputSize: number;          // square input, pixels
  /**
   * The extractor's output layer: its output is the feature map (and the ONNX graph is cut there). For a
   * pooled backbone this is the GlobalAveragePooling2D layer `<pool.from>_avg_pool` added after `pool.from`.
   */
  cutLayer: string;
  /** pooled backbones: global average pooling of layer `from`, one feature vector per image (L = 1) */
  pool?: { from: string };
  shape: [number, number];    // [L locations, D channels]
  /** the network built in code (absent for graph-model backbones, which bring their own graph) */
  architecture?: Architecture;
  /**
   * `features.weights: imagenet`: the Keras file for the network up to the cut (the no-top file), and, where
   * the cut sits in the classifier (VGG16's fc2), the full file with `topLayers` the layers only it has.
   */
  imagenet: { notop?: KerasWeightsFile; top?: KerasWeightsFile; topLayers?: string[] };
  /** first layer `pipeline_input`: pipeline pixels (RGB, [0,1]) -> what Keras' `preprocess_input` gives the network */
  inputTransform?: Omit<ChannelAffineArgs, 'name'>;
  preprocessing: string;      // what the network sees (Keras weights), recorded in shard metadata
  /**
   * `features.weights: pretrained` (and `random`): the nsfwjs model of this network (folder under
   * nsfwjs/dist/models; its own topology, fed pixels in [0,1]) and what it sees.
   */
  nsfwjs?: { dir: string; preprocessing: string };
  /**
   * A TF.js graph model shipped in an npm package (`features.weights: pretrained`): `file` relative to the
   * package, the image placeholder `input`, what multiplies the pipeline's [0,1] pixels (`inputScale`), the
   * k x k average pooling of the cut's map (`pool`: a coarser grid) and what the weights are.
   */
  graph?: { package: string; file: string; input: string; inputScale: number; pool: number; note: string };
}

export const RESIZE = (s: number) => `sharp resize fill ${s}x${s} (linear), RGB`;
export const WEIGHTS_NOTE = 'nsfwjs@4.4.0 pretrained weights (ImageNet-initialised, NSFW fine-tuned, uint8-quantised)';
/** Keras `preprocess_input(mode='tf')` (MobileNetV2, InceptionV3): x/127.5 - 1, i.e. 2x - 1 on [0,1] pixels. */
export const TF_MODE = { scale: 2, offset: -1 } as const;
export const TF_MODE_NOTE = "in-graph: pipeline_input x*2 - 1 (Keras preprocess_input mode='tf': x/127.5 - 1 on 0..255)";
export const KERAS_APPLICATIONS = 'https://storage.googleapis.com/tensorflow/keras-applications';
