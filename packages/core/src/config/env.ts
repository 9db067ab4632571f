/** `${VAR}` expansion in paths from pipeline YAML, done at run time so resolved params stay portable. */
import { PipelineError } from '../errors.ts';

export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') {
      throw new PipelineError('config', `'${value}' uses \${${name}}, but the environment variable ${name} is not set`);
    }
    return v;
  });
}
