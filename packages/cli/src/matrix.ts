/**
 * Matrix experiments: `matrix: { features.backbone: [a, b], train.decoder: [c, d] }` in a pipeline YAML
 * expands to one variant per combination. The schema below is built from the stages' own params schemas, so
 * a key must name a real param and each listed value is checked against that param's schema (with its YAML
 * line) before anything runs.
 */
import { STAGES } from '@caption/core';

type Schema = { type?: string; properties?: Record<string, Schema>; [k: string]: unknown };

/** A variant: param path (e.g. `train.decoder`, or `seed`) -> the value it takes in this variant. */
export type Variant = Record<string, unknown>;
export type Matrix = Record<string, unknown[]>;

/**
 * Every settable param path with its schema: leaves, and nested objects both as a whole
 * (`evaluate.min`) and by field (`evaluate.min.bleu4`).
 */
export function paramPaths(stageSchemas: Record<string, Schema>, topLevel: Record<string, Schema>): Map<string, Schema> {
  const out = new Map<string, Schema>(Object.entries(topLevel));
  const walk = (prefix: string, schema: Schema) => {
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      out.set(`${prefix}.${key}`, sub);
      if (sub.type === 'object' && sub.properties) walk(`${prefix}.${key}`, sub);
    }
  };
  for (const stage of STAGES) walk(stage, stageSchemas[stage]);
  return out;
}

/** JSON schema of the `matrix` key: known param paths only, each a non-empty list of values valid for it. */
export function matrixSchema(paths: Map<string, Schema>) {
  return {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: Object.fromEntries(
      [...paths].map(([p, schema]) => {
        // A value inside a list gets no default filled in, so drop `default` to keep ajv from trying.
        const { default: _unused, ...item } = schema;
        return [p, { type: 'array', minItems: 1, uniqueItems: true, items: item }];
      }),
    ),
  };
}

/** The cartesian product in a fixed order: keys as written in the YAML (first key outermost), values as listed. */
export function expandMatrix(matrix: Matrix): Variant[] {
  let variants: Variant[] = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    variants = variants.flatMap((v) => values.map((value) => ({ ...v, [key]: value })));
  }
  return variants;
}

/** Set `a.b.c` in a (cloned) resolved config. */
export function applyVariant<T extends Record<string, unknown>>(config: T, variant: Variant): T {
  const out = structuredClone(config);
  for (const [key, value] of Object.entries(variant)) {
    const parts = key.split('.');
    let node = out as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = structuredClone(value);
  }
  return out;
}

/** `features.backbone=inception_v3 train.decoder=transformer`, for logs. */
export function variantLabel(variant: Variant): string {
  return Object.entries(variant).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
}

export const formatValue = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
