import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { initTf, tf } from '@caption/core/tf';
if (isMainThread) {
  console.log(process.execArgv);
  const w = new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`, { eval: true });
  w.on('message', (m) => { console.log('main got', m); w.terminate(); });
  w.on('error', (e) => console.error('worker error', e));
  console.log('main backend', await initTf('wasm'));
} else {
  const b = await initTf('wasm');
  parentPort!.postMessage({ b, v: tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync()[0] });
}
