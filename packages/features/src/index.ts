export { runFeatures, FEATURES_SCHEMA_VERSION } from './stage.ts';
export { featuresParamsSchema, type FeaturesParams } from './params.ts';
