#!/usr/bin/env node
// Run one SQL query with DuckDB (npm @duckdb/node-api) and print the rows as a table:
//   pnpm sql "select split, count(*) from 'artifacts/ingest/captions.parquet' group by split"
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv.slice(2).join(' ');
if (!sql) {
  console.error('usage: pnpm sql "<query>"');
  process.exit(2);
}
const db = await (await DuckDBInstance.create(':memory:')).connect();
const rows = (await db.runAndReadAll(sql)).getRowObjectsJS();
console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))));
