/** The defaults a params schema declares (what a pipeline YAML that omits the stage would get). */
import { Ajv } from 'ajv';

export function defaultsOf<T>(schema: object): T {
  const value = {};
  new Ajv({ useDefaults: true, strict: false }).compile(schema)(value);
  return value as T;
}
