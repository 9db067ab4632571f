export { runFeatures, FEATURES_SCHEMA_VERSION } from './stage.ts';
export { featuresParamsSchema, type FeaturesParams } from './params.ts';
export { BACKBONES, BACKBONE_IDS, WEIGHTS_NOTE, type Backbone } from './backbones.ts';
export { loadBackbone } from './model.ts';
export { decodeImage } from './decode.ts';
export { extractFeatures, type ImageRef, type FeatureBatch } from './transform.ts';
export { onnxEngine, tfjsEngine, type FeatureEngine } from './engines.ts';
