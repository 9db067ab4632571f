/** ingest params: where the data set is and how strictly to read it. */
export interface IngestParams {
  dataset: string;          // 'demo' (generated, embedded) or a directory path; ${ENV_VAR} allowed
  demo: { images: number; seed: number }; // size and seed of the generated demo data set
  format: 'auto' | 'flickr8k';            // caption file layout; auto = detect from the directory
  strict: boolean;          // true: any rejected row fails the stage
  concurrency: number;      // images probed with sharp in parallel
}

export const ingestParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    dataset: { type: 'string', minLength: 1, default: 'demo' },
    demo: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        images: { type: 'integer', minimum: 8, maximum: 20000, default: 480 },
        seed: { type: 'integer', minimum: 0, default: 7 },
      },
    },
    format: { enum: ['auto', 'flickr8k'], default: 'auto' },
    strict: { type: 'boolean', default: false },
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 8 },
  },
} as const;
