import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  bool, decodeParquet, encodeParquet, float64, int32, int64, listInt32, makeTable, tableRows, utf8,
} from '../src/io/tables.ts';

interface Row { id: string; i: number; n: number; f: number; ok: boolean; toks: number[] }

const rows: Row[] = [
  { id: 'img-001', i: 1, n: 10, f: 0.5, ok: true, toks: [1, 5, 9, 2] },
  { id: 'çaption ✓', i: -2, n: 2 ** 40, f: -1.25, ok: false, toks: [] },
  { id: '', i: 2147483647, n: -5, f: 1e300, ok: true, toks: [-7] },
  { id: 'img-004', i: -2147483648, n: 0, f: Number.MIN_VALUE, ok: false, toks: [3, 3, 3] },
];
const table = (rs: readonly Row[] = rows) =>
  makeTable({
    id: utf8(rs.map((r) => r.id)),
    i: int32(rs.map((r) => r.i)),
    n: int64(rs.map((r) => r.n)),
    f: float64(rs.map((r) => r.f)),
    ok: bool(rs.map((r) => r.ok)),
    toks: listInt32(rs.map((r) => r.toks)),
  });

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-tables-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('parquet: utf8/int32/int64/float64/bool/listInt32 columns round trip through tableRows', () => {
  const bytes = encodeParquet(table());
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'PAR1');
  const back = decodeParquet(bytes);
  assert.equal(back.numRows, rows.length);
  assert.deepEqual(back.schema.fields.map((f) => `${f.name}:${f.type}`), [
    'id:Utf8', 'i:Int32', 'n:Int64', 'f:Float64', 'ok:Bool', 'toks:List<Int32>',
  ]);
  assert.deepEqual(tableRows<Row>(back), rows);
});

test('parquet: the same table encodes to identical bytes twice; a changed value does not', () => {
  const a = encodeParquet(table());
  const b = encodeParquet(table());
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
  const changed = table(rows.map((r, k) => (k === 3 ? { ...r, toks: [3, 3, 4] } : r)));
  assert.notDeepEqual(Buffer.from(encodeParquet(changed)), Buffer.from(a));
});

test('tableRows: int64 comes back as number, lists as number[]', () => {
  const [r] = tableRows<Record<string, unknown>>(makeTable({ n: int64([2 ** 53 - 1]), l: listInt32([Int32Array.of(4, 5)]) }));
  assert.equal(typeof r.n, 'number');
  assert.equal(r.n, 2 ** 53 - 1);
  assert.ok(Array.isArray(r.l));
  assert.deepEqual(r.l, [4, 5]);
});

test('parquet written by encodeParquet opens in DuckDB', async () => {
  await withTemp(async (dir) => {
    const file = path.join(dir, 'rows.parquet');
    fs.writeFileSync(file, encodeParquet(table()));
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const q = (sql: string) => conn.runAndReadAll(sql.replace('<file>', `'${file.replace(/'/g, "''")}'`));
      const agg = (await q('select count(*) as c, sum(n) as s from <file>')).getRowsJS();
      assert.deepEqual(agg, [[4n, BigInt(10 + 2 ** 40 - 5 + 0)]]);
      const detail = (await q('select id, i, ok, toks, len(toks) as k from <file> order by i')).getRowObjectsJS();
      assert.deepEqual(
        detail.map((r) => [r.id, r.i, r.ok, r.toks, r.k]),
        [...rows].sort((a, b) => a.i - b.i).map((r) => [r.id, r.i, r.ok, r.toks, BigInt(r.toks.length)]),
      );
      const types = (await q("select column_name, column_type from (describe select * from <file>)")).getRowsJS();
      assert.deepEqual(types, [
        ['id', 'VARCHAR'], ['i', 'INTEGER'], ['n', 'BIGINT'], ['f', 'DOUBLE'], ['ok', 'BOOLEAN'], ['toks', 'INTEGER[]'],
      ]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
