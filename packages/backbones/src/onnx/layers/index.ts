/**
 * The one table from Keras layer class name to converter. Supporting a new layer means adding it to one
 * of the per-kind tables below; the walk, the unsupported-layer message and SUPPORTED_LAYERS all read
 * this table, so they can't disagree. A class registered twice is a programming error and fails at load.
 */
import { ACTIVATION_CONVERTERS } from './activation.ts';
import { AFFINE_CONVERTERS } from './affine.ts';
import { one, type Converter } from './context.ts';
import { CONV_CONVERTERS } from './conv.ts';
import { MERGE_CONVERTERS } from './merge.ts';
import { POOLING_CONVERTERS } from './pooling.ts';
import { VECTOR_CONVERTERS } from './vector.ts';

export type { Config, Converter, Ctx } from './context.ts';

const identity: Converter = (c) => one(c);

/** Layers that do nothing at inference time. */
const IDENTITY_CONVERTERS: Record<string, Converter> = {
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

export const CONVERTERS: Readonly<Record<string, Converter>> = merge(
  CONV_CONVERTERS,
  AFFINE_CONVERTERS,
  ACTIVATION_CONVERTERS,
  POOLING_CONVERTERS,
  MERGE_CONVERTERS,
  VECTOR_CONVERTERS,
  IDENTITY_CONVERTERS,
);

function merge(...tables: Record<string, Converter>[]): Record<string, Converter> {
  const out: Record<string, Converter> = {};
  for (const table of tables) {
    for (const [cls, convert] of Object.entries(table)) {
      if (Object.hasOwn(out, cls)) throw new Error(`keras-to-onnx: layer class ${cls} has two converters`);
      out[cls] = convert;
    }
  }
  return out;
}
