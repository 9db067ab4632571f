/**
 * @caption/backbones: the CNN feature extractors: the registry (one file per backbone), architectures built in
 * code, weights loaders (Keras ImageNet files fetched into a verified cache, nsfwjs, Keras .h5, TF.js model directories, seeded random), the Keras -> ONNX converter,
 * the inference engines (ONNX Runtime, TF.js), image decoding, and batched extraction.
 */
export { BACKBONES, BACKBONE_IDS, WEIGHTS_NOTE, type Backbone, type BackboneId } from './registry/index.ts';
export { imagenetFile, loadBackbone, loadKerasBackbone, type LoadedBackbone } from './load.ts';
export type { GraphExtractor } from './weights/graph-model.ts';
export { fetchWeightsFile, weightsCacheDir } from './weights/fetch.ts';
export { decodeImage } from './decode.ts';
export { extractFeatures, type ImageRef, type FeatureBatch } from './extract.ts';
export { onnxEngine, tfjsEngine, type FeatureEngine } from './engines.ts';
export { openKerasH5, writeKerasH5, type KerasH5, type H5LayerToWrite } from './weights/h5.ts';
export { fileSystemHandler } from './weights/tfjs-dir.ts';
export { RANDOM_WEIGHTS_NOTE } from './weights/random.ts';
