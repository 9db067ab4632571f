/**
 * Feature shards: Arrow IPC files (memory-mappable, fast to read) with columns image_id, sha256 and
 * `features` = FixedSizeList<Float16|Float32>[L*D]; the shape [L, D], dtype, backbone and preprocessing
 * live in the schema metadata so a shard describes itself.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import { PipelineError } from '../errors.ts';
import { utf8 } from './tables.ts';

export type FeatureDtype = 'float16' | 'float32';

export interface FeatureShard {
  imageIds: string[];
  sha256s: string[];
  shape: [number, number];                 // [L locations, D channels] per image
  dtype: FeatureDtype;
  data: Uint16Array | Float32Array;        // row-major [n, L, D]; float16 kept as raw bits
  metadata: Record<string, string>;        // backbone, weights hash, preprocessing, engine ...
}

export function encodeFeatureShard(shard: FeatureShard): Uint8Array {
  const [L, D] = shard.shape;
  const n = shard.imageIds.length;
  if (shard.data.length !== n * L * D) {
    throw new PipelineError('internal', `feature shard holds ${shard.data.length} values, expected ${n}x${L}x${D}`);
  }
  const valueType = shard.dtype === 'float16' ? new arrow.Float16() : new arrow.Float32();
  const listType = new arrow.FixedSizeList(L * D, new arrow.Field('item', valueType, false));
  const values = arrow.makeData({ type: valueType, length: n * L * D, nullCount: 0, data: shard.data });
  const features = arrow.makeVector(arrow.makeData({ type: listType, length: n, nullCount: 0, child: values }));
  const table = new arrow.Table({ image_id: utf8(shard.imageIds), sha256: utf8(shard.sha256s), features });
  const meta = { ...shard.metadata, shape: JSON.stringify(shard.shape), dtype: shard.dtype };
  for (const k of Object.keys(meta).sort()) table.schema.metadata.set(k, meta[k as keyof typeof meta]);
  return arrow.tableToIPC(table, 'file');
}

export function decodeFeatureShard(bytes: Uint8Array): FeatureShard {
  const table = arrow.tableFromIPC(bytes);
  const metadata = Object.fromEntries(table.schema.metadata);
  const shape = JSON.parse(metadata.shape ?? 'null') as [number, number];
  const dtype = metadata.dtype as FeatureDtype;
  if (!shape || (dtype !== 'float16' && dtype !== 'float32')) {
    throw new PipelineError('input', 'feature shard lacks shape/dtype metadata');
  }
  const col = table.getChild('features')!;
  // IPC pads buffers to 8 bytes, so `values` may run past the child's length: cut it to the real count.
  const parts = col.data.map((d) => (d.children[0].values as Uint16Array | Float32Array).subarray(0, d.children[0].length));
  const data = parts.length === 1 ? parts[0] : concat(parts, dtype);
  const imageIds = Array.from(table.getChild('image_id')!.toArray() as string[]);
  const sha256s = Array.from(table.getChild('sha256')!.toArray() as string[]);
  return { imageIds, sha256s, shape, dtype, data, metadata };
}

function concat(parts: (Uint16Array | Float32Array)[], dtype: FeatureDtype) {
  const out = dtype === 'float16' ? new Uint16Array(sum(parts)) : new Float32Array(sum(parts));
  let o = 0;
  for (const p of parts) (out.set(p as never, o), (o += p.length));
  return out;
}
const sum = (parts: { length: number }[]) => parts.reduce((a, p) => a + p.length, 0);

export const readFeatureShard = async (file: string) => decodeFeatureShard(await readFile(file));
export const writeFeatureShard = (file: string, shard: FeatureShard) => writeFile(file, encodeFeatureShard(shard));
