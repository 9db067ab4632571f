/**
 * The TypeScript type of a params schema's value once ajv has validated it and filled its defaults, so a stage
 * declares each param once (in its `as const` JSON schema) and writes `type XParams = ParamsOf<typeof xSchema>`.
 *
 * Covers the subset of JSON Schema the stages' params use:
 *   { type: 'integer' | 'number' | 'string' | 'boolean' }   -> number | string | boolean
 *   { enum: [...] }                                          -> the union of the listed literals
 *   { oneOf: [...] }                                         -> the union of the branches' types
 *   { type: 'object', properties: {...} }                    -> an object: a key with a `default` (or listed in
 *                                                               `required`) is present, any other is optional
 *   { type: 'object', additionalProperties: <schema> }       -> Record<string, that schema's type>
 * Anything else maps to `unknown`, so an unsupported construct shows up as a type error, never as `any`.
 * Type only: nothing here exists at run time.
 */

/** JSON Schema `type` names -> TypeScript types. */
interface TypeNames {
  integer: number;
  number: number;
  string: string;
  boolean: boolean;
  null: null;
}

export type ParamsOf<S> =
  S extends { readonly oneOf: readonly (infer B)[] } ? ParamsOf<B> // distributes over the branches
  : S extends { readonly enum: readonly (infer E)[] } ? E
  : S extends { readonly type: 'object' } ? ObjectOf<S>
  : S extends { readonly type: infer T extends keyof TypeNames } ? TypeNames[T]
  : unknown;

type ObjectOf<S> =
  S extends { readonly properties: infer P extends object } ? PropertiesOf<P, RequiredOf<S>>
  : S extends { readonly additionalProperties: infer A extends object } ? Record<string, ParamsOf<A>>
  : Record<string, unknown>;

type RequiredOf<S> = S extends { readonly required: readonly (infer K extends PropertyKey)[] } ? K : never;

/** A property is present after validation when ajv fills its default or the schema requires it. */
type Present<P, K extends keyof P, R> = K extends R ? true : P[K] extends { readonly default: unknown } ? true : false;

type PropertiesOf<P, R> = Flatten<
  { -readonly [K in keyof P as Present<P, K, R> extends true ? K : never]: ParamsOf<P[K]> } &
  { -readonly [K in keyof P as Present<P, K, R> extends true ? never : K]?: ParamsOf<P[K]> }
>;

/** One object type instead of an intersection (reads better in editor hovers, and compares equal to an interface). */
type Flatten<T> = { [K in keyof T]: T[K] };
