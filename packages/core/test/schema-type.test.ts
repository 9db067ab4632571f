/**
 * ParamsOf: the type-level checks below are verified by `tsc` (npm run typecheck); the runtime test checks that
 * ajv's output for such a schema has the shape the type promises.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import type { ParamsOf } from '../src/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;

// Scalars.
type _integer = Expect<Equal<ParamsOf<{ readonly type: 'integer'; readonly minimum: 1 }>, number>>;
type _number = Expect<Equal<ParamsOf<{ readonly type: 'number'; readonly maximum: 1 }>, number>>;
type _string = Expect<Equal<ParamsOf<{ readonly type: 'string'; readonly minLength: 1 }>, string>>;
type _boolean = Expect<Equal<ParamsOf<{ readonly type: 'boolean' }>, boolean>>;

// enum: an `as const` tuple, an `as const` constant (DECODERS), or a plain array of a literal union (BACKBONE_IDS).
const DECODER_NAMES = ['gru', 'lstm'] as const;
const REGISTRY = { a: 1, b: 2, c: 3 } as const;
const IDS = Object.keys(REGISTRY) as (keyof typeof REGISTRY)[];
type _enum = Expect<Equal<ParamsOf<{ readonly enum: readonly ['onnx', 'tfjs'] }>, 'onnx' | 'tfjs'>>;
type _enumConst = Expect<Equal<ParamsOf<{ readonly enum: typeof DECODER_NAMES; readonly default: 'gru' }>, 'gru' | 'lstm'>>;
type _enumArray = Expect<Equal<ParamsOf<{ readonly enum: typeof IDS }>, 'a' | 'b' | 'c'>>;
type _enumNumbers = Expect<Equal<ParamsOf<{ readonly enum: readonly [1, 2] }>, 1 | 2>>;

// oneOf: the union of the branches (tokenize.maxLength: 24 or 'p95').
type _oneOf = Expect<Equal<ParamsOf<{ readonly oneOf: readonly [{ readonly type: 'integer' }, { readonly type: 'string' }]; readonly default: 24 }>, number | string>>;
type _oneOfEnum = Expect<Equal<ParamsOf<{ readonly oneOf: readonly [{ readonly enum: readonly ['x'] }, { readonly type: 'boolean' }] }>, 'x' | boolean>>;

// Objects: a key with a default is present, one without is optional; nested objects with `default: {}` are present.
const schema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    name: { type: 'string', default: 'demo' },
    cutLayer: { type: 'string', minLength: 1 },
    engine: { enum: ['onnx', 'tfjs'], default: 'onnx' },
    decoder: { enum: DECODER_NAMES, default: 'gru' },
    ids: { enum: IDS, default: 'a' },
    maxLength: { oneOf: [{ type: 'integer', minimum: 3 }, { type: 'string', pattern: '^p[0-9]+$' }], default: 24 },
    demo: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { images: { type: 'integer', default: 480 }, seed: { type: 'integer', default: 7 } },
    },
    min: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { bleu4: { type: 'number', minimum: 0, maximum: 1 }, ciderD: { type: 'number', minimum: 0 } },
    },
    extra: { type: 'object', properties: { x: { type: 'boolean', default: true } } },
    splitMap: { type: 'object', additionalProperties: { enum: ['train', 'dev', 'test', 'none'] }, default: {} },
    anything: { type: 'object' },
  },
} as const;

type Resolved = ParamsOf<typeof schema>;
type _object = Expect<Equal<Resolved, {
  name: string;
  cutLayer?: string;
  engine: 'onnx' | 'tfjs';
  decoder: 'gru' | 'lstm';
  ids: 'a' | 'b' | 'c';
  maxLength: number | string;
  demo: { images: number; seed: number };
  min: { bleu4?: number; ciderD?: number };
  extra?: { x: boolean };
  splitMap: Record<string, 'train' | 'dev' | 'test' | 'none'>;
  anything?: Record<string, unknown>;
}>>;
// Indexed access keeps the literal unions (code such as `Exclude<Params['format'], 'auto'>` relies on it).
type _indexed = Expect<Equal<Resolved['decoder'], (typeof DECODER_NAMES)[number]>>;
type _record = Expect<Equal<Resolved['splitMap'][string], 'train' | 'dev' | 'test' | 'none'>>;
// The result is mutable, like the interfaces it replaces.
type _mutable = Expect<Equal<Resolved, { -readonly [K in keyof Resolved]: Resolved[K] }>>;

// `required` keys are present even without a default.
type _required = Expect<Equal<
  ParamsOf<{ readonly type: 'object'; readonly required: readonly ['name']; readonly properties: { readonly name: { readonly type: 'string' }; readonly seed: { readonly type: 'integer' } } }>,
  { name: string; seed?: number }
>>;

// Unsupported constructs become `unknown` (a type error at the use site), never `any`.
type _unknown = Expect<Equal<ParamsOf<{ readonly type: 'array'; readonly items: { readonly type: 'string' } }>, unknown>>;

test('ParamsOf: ajv output with defaults filled has the shape of ParamsOf<schema>', () => {
  const check = new Ajv({ useDefaults: true, strict: false }).compile(schema);
  const value: Record<string, unknown> = { cutLayer: 'block_16', maxLength: 'p95', min: { bleu4: 0.1 }, splitMap: { val: 'dev' } };
  assert.ok(check(value), JSON.stringify(check.errors));
  const resolved = value as Resolved;
  assert.deepEqual(resolved, {
    name: 'demo',
    cutLayer: 'block_16',
    engine: 'onnx',
    decoder: 'gru',
    ids: 'a',
    maxLength: 'p95',
    demo: { images: 480, seed: 7 },
    min: { bleu4: 0.1 },
    splitMap: { val: 'dev' },
  } satisfies Resolved);
  // every key the type says is present is present
  const present: (keyof Resolved)[] = ['name', 'engine', 'decoder', 'ids', 'maxLength', 'demo', 'min', 'splitMap'];
  for (const key of present) assert.ok(key in resolved, key);
});
