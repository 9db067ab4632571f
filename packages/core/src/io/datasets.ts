/**
 * Typed datasets (Kedro's model): one object per file of an artifact, with `load` from an opened artifact
 * (verified against its manifest), `save` into an artifact writer and `describe` for logs. A table's schema
 * is data (column -> Arrow type), and its row type is derived from it, so each column is declared once.
 */
import * as arrow from 'apache-arrow';
import { PipelineError } from '../errors.ts';
import { canonicalJson } from '../hash.ts';
import type { Artifact } from './artifact.ts';
import type { ArtifactWriter } from './artifact-writer.ts';
import { bool, decodeParquet, encodeParquet, float32, float64, int32, int64, listInt32, makeTable, tableRows, utf8 } from './tables.ts';
import { displayPath } from './verify.ts';

export type ColumnType = 'utf8' | 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'list<int32>';
export type TableSchema = Readonly<Record<string, ColumnType>>;

type ValueOf<C extends ColumnType> = C extends 'utf8' ? string : C extends 'bool' ? boolean : C extends 'list<int32>' ? ArrayLike<number> : number;
/** The row type a schema describes: `{ image_id: 'utf8', width: 'int32' }` -> `{ image_id: string; width: number }`. */
export type RowOf<S extends TableSchema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

const BUILDERS: Record<ColumnType, (values: never[]) => arrow.Vector> = {
  utf8: (v) => utf8(v as string[]),
  int32: (v) => int32(v as number[]),
  int64: (v) => int64(v as number[]),
  float32: (v) => float32(v as number[]),
  float64: (v) => float64(v as number[]),
  bool: (v) => bool(v as boolean[]),
  'list<int32>': (v) => listInt32(v as ArrayLike<number>[]),
};

/** Rows -> an Arrow table with exactly the schema's columns and types, in the schema's order. */
export function tableOf<S extends TableSchema>(schema: S, rows: readonly RowOf<S>[]): arrow.Table {
  return makeTable(Object.fromEntries(Object.entries(schema).map(([name, type]) => [
    name, BUILDERS[type](rows.map((r) => (r as Record<string, unknown>)[name]) as never[]),
  ])));
}

export interface Dataset<T> {
  readonly name: string;                          // file name inside the artifact
  load(artifact: Artifact): Promise<T>;
  save(writer: ArtifactWriter, value: T): Promise<void>;
  describe(): string;
}

/** A Parquet table of rows with a fixed schema. */
export class TableDataset<S extends TableSchema> implements Dataset<RowOf<S>[]> {
  constructor(readonly name: string, readonly schema: S) {}

  async load(artifact: Artifact): Promise<RowOf<S>[]> {
    return tableRows<RowOf<S>>(await this.loadTable(artifact));
  }

  /** The Arrow table itself (columns checked against the schema). */
  async loadTable(artifact: Artifact): Promise<arrow.Table> {
    const table = decodeParquet(await artifact.read(this.name));
    const missing = Object.keys(this.schema).filter((c) => !table.getChild(c));
    if (missing.length) {
      throw new PipelineError('input', `${displayPath(artifact.file(this.name))}: no column ${missing.join(', ')} (expected ${Object.keys(this.schema).join(', ')}): re-run its stage`);
    }
    return table;
  }

  async save(writer: ArtifactWriter, rows: readonly RowOf<S>[]): Promise<void> {
    await writer.write(this.name, encodeParquet(tableOf(this.schema, rows)));
  }

  describe(): string {
    return `TableDataset(${this.name}: ${Object.entries(this.schema).map(([c, t]) => `${c} ${t}`).join(', ')})`;
  }
}

/** A JSON file, written canonically (sorted keys) so equal values hash the same. */
export class JsonDataset<T> implements Dataset<T> {
  constructor(readonly name: string) {}
  async load(artifact: Artifact): Promise<T> {
    const text = await artifact.readText(this.name);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new PipelineError('input', `${displayPath(artifact.file(this.name))}: not valid JSON (${(err as Error).message})`);
    }
  }
  async save(writer: ArtifactWriter, value: T): Promise<void> {
    await writer.write(this.name, canonicalJson(value));
  }
  describe(): string {
    return `JsonDataset(${this.name})`;
  }
}

/** A text file (Markdown, HTML, SVG). */
export class TextDataset implements Dataset<string> {
  constructor(readonly name: string) {}
  load(artifact: Artifact): Promise<string> {
    return artifact.readText(this.name);
  }
  async save(writer: ArtifactWriter, text: string): Promise<void> {
    await writer.write(this.name, text);
  }
  describe(): string {
    return `TextDataset(${this.name})`;
  }
}
