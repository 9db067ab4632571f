/**
 * Pipeline YAML -> validated, defaulted config. Errors name the key and the line it sits on, e.g.
 * `pipelines/demo.yaml:14: train.epoch: unknown key (allowed: epochs, batchSize, ...)`.
 */
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import { PipelineError } from '../errors.ts';

/** The YAML as written (no defaults), for telling keys a user set from defaulted ones. */
export function parseYaml(text: string, file: string): unknown {
  return parse(text, file).value;
}

export function validateYaml<T>(text: string, file: string, schema: SchemaObject): T {
  const { doc, value, lineCounter } = parse(text, file);
  // verbose: errors carry parentSchema, which the 'unknown key (allowed: ...)' message reads
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
  const check = ajv.compile(schema);
  if (check(value)) return value as T;

  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  const messages = (check.errors ?? []).filter(relevant).map((err) => {
    const keys = err.instancePath.split('/').slice(1).map(unescapePointer);
    if (err.keyword === 'additionalProperties') {
      const extra = String(err.params.additionalProperty);
      const map = keys.length ? doc.getIn(keys, true) : doc.contents;
      const pair = isMap(map) ? map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === extra) : undefined;
      const allowed = Object.keys((err.parentSchema?.properties ?? {}) as object).join(', ');
      return `${file}:${lineOf(pair?.key as Node)}: ${[...keys, extra].join('.')}: unknown key (allowed: ${allowed})`;
    }
    const node = doc.getIn(keys, true) as Node | undefined;
    // ajv's enum message does not say what is allowed
    const message = err.keyword === 'enum' ? `must be one of: ${(err.params.allowedValues as unknown[]).join(', ')}` : err.message;
    return `${file}:${lineOf(node)}: ${keys.join('.') || '(root)'}: ${message}${describeFound(node)}`;
  });
  throw new PipelineError('config', `invalid pipeline:\n  ${[...new Set(messages)].join('\n  ')}`);
}

// `oneOf`/`anyOf` wrappers repeat what their branches already said.
const relevant = (e: ErrorObject) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if';
const unescapePointer = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');
const describeFound = (node: Node | undefined) =>
  isScalar(node) ? ` (found ${JSON.stringify(node.value)})` : '';

function parse(text: string, file: string) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new PipelineError('config', `${file}:${line}: YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS() ?? {};
  } catch (err) {
    // e.g. an alias whose anchor was never set (`*nope`): yaml only finds out while converting
    throw new PipelineError('config', `${file}: YAML error: ${(err as Error).message}`);
  }
  return { doc, value, lineCounter };
}
