/**
 * Tables: Apache Arrow in memory, Parquet on disk (parquet-wasm, the Rust `parquet` crate compiled to wasm:
 * maintained, deterministic output, zstd, nested lists; reads back into Arrow without a row-object detour).
 */
import { readFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';

export function encodeParquet(table: arrow.Table): Uint8Array {
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setCreatedBy('caption-pipeline (parquet-wasm)')
    .build();
  return pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props);
}

export function decodeParquet(bytes: Uint8Array): arrow.Table {
  return arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream());
}

/** Rows of a Parquet file read straight from disk, unverified: for tests and tools, never for stage inputs. */
export async function readParquetRows<T>(file: string): Promise<T[]> {
  return tableRows<T>(decodeParquet(await readFile(file)));
}

// Column builders with explicit Arrow types (so schemas never depend on type inference).
export const utf8 = (v: readonly string[]) => arrow.vectorFromArray(v as string[], new arrow.Utf8());
export const int32 = (v: ArrayLike<number>) => arrow.makeVector(Int32Array.from(v));
export const int64 = (v: ArrayLike<number>) => arrow.makeVector(BigInt64Array.from(Array.from(v, BigInt)));
export const float64 = (v: ArrayLike<number>) => arrow.makeVector(Float64Array.from(v));
export const float32 = (v: ArrayLike<number>) => arrow.makeVector(Float32Array.from(v));
export const bool = (v: readonly boolean[]) => arrow.vectorFromArray(v as boolean[], new arrow.Bool());
export const listInt32 = (v: readonly ArrayLike<number>[]) =>
  arrow.vectorFromArray(v.map((a) => Array.from(a)), new arrow.List(new arrow.Field('item', new arrow.Int32(), false)));

export function makeTable(columns: Record<string, arrow.Vector>): arrow.Table {
  return new arrow.Table(columns);
}

/** Plain JS rows from an Arrow table (strings, numbers; int64 as number; lists as number[]). */
export function tableRows<T>(table: arrow.Table): T[] {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n)!);
  const out: T[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, j) => (row[n] = plain(cols[j].get(i))));
    out.push(row as T);
  }
  return out;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'toArray' in v) return Array.from((v as arrow.Vector).toArray(), plain);
  return v;
}
