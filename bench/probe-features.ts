/**
 * `pnpm bench:probe --dataset <dir with Flickr8k_text/ and images> [--backbone mobilenet_v2] [--cut-layers a,b]`:
 * how much caption content each cut layer's features carry, before a 30-minute training run says so. For each
 * layer: mean-pooled features of the first `--train` train and `--test` test images (ONNX Runtime), one
 * L2-regularised logistic regression per word for the 100 most frequent content words of the captions ("does any
 * caption of this image use the word"), trained on the train images; prints the mean test AUC over the words:
 * `<backbone>@<input size> <layer> [L,D] meanAUC <value>`. `--input-size S` feeds the backbone S x S images;
 * `--fuse b:layer,...` also probes each layer concatenated with those sources (what fused sources could add).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initTf, tf } from '../packages/core/src/tf/runtime.ts';
import { BACKBONES, decodeImage, loadBackbone, onnxEngine, type Backbone } from '../packages/backbones/src/index.ts';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: path.join(process.env.CAPTION_DATASETS ?? '../shared/datasets', 'flickr8k') },
    backbone: { type: 'string', default: 'mobilenet_v2' },
    'input-size': { type: 'string' },  // feed the backbone this square size instead of the registry's
    fuse: { type: 'string' },          // backbone:layer[,...]: also probe the concatenation with these sources
    'cut-layers': { type: 'string', default: 'out_relu,block_16_project_BN,block_14_expand_relu,block_13_expand_relu,block_10_project_BN' },
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '1000' },
    words: { type: 'string', default: '100' },
    l2: { type: 'string', default: '0.1' },
  },
});
const STOP = new Set('a an the in on of and is are with to at his her its their while for by from two three one four some near into up down out over front next each as it that this there other another who'.split(' '));

const text = (f: string) => readFileSync(path.join(values.dataset!, 'Flickr8k_text', f), 'utf8');
const split = (f: string, n: number) => text(f).split('\n').map((l) => l.trim()).filter(Boolean).sort().slice(0, n);
const images = { train: split('Flickr_8k.trainImages.txt', Number(values.train)), test: split('Flickr_8k.testImages.txt', Number(values.test)) };
const words = new Map<string, Set<string>>();
for (const line of text('Flickr8k.token.txt').split('\n')) {
  const [key, caption] = line.split('\t');
  if (!caption) continue;
  const id = key.split('#')[0];
  words.set(id, new Set([...(words.get(id) ?? []), ...caption.toLowerCase().match(/[a-z]+/g) ?? []]));
}
const all = [...images.train, ...images.test];
const frequency = new Map<string, number>();
for (const id of images.train) for (const w of words.get(id) ?? []) if (!STOP.has(w)) frequency.set(w, (frequency.get(w) ?? 0) + 1);
const vocabulary = [...frequency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, Number(values.words)).map(([w]) => w);
const labels = Float32Array.from(all.flatMap((id) => vocabulary.map((w) => (words.get(id)?.has(w) ? 1 : 0))));
const imageDir = ['Flicker8k_Dataset', 'Images'].map((d) => path.join(values.dataset!, d)).find((d) => existsSync(path.join(d, all[0])))!;

await initTf();
// --fuse backbone:layer[,...]: also probe each layer's features concatenated with these sources' (fused sources)
const fused = values.fuse ? await Promise.all(values.fuse.split(',').map((spec) => {
  const [id, layer] = spec.split(':');
  return pooledFeatures(id, layer, undefined);
})) : [];
for (const cutLayer of values['cut-layers']!.split(',')) {
  const own = await pooledFeatures(values.backbone!, cutLayer, values['input-size'] ? Number(values['input-size']) : undefined);
  console.log(`${own.label} meanAUC ${probe(own.pooled, own.D).toFixed(4)}`);
  if (!fused.length) continue;
  const parts = [own, ...fused];
  const D = parts.reduce((a, p) => a + p.D, 0);
  const joined = new Float32Array(all.length * D);
  for (let i = 0; i < all.length; i++) {
    let at = i * D;
    for (const p of parts) (joined.set(p.pooled.subarray(i * p.D, (i + 1) * p.D), at), (at += p.D));
  }
  console.log(`${parts.map((p) => p.label).join(' + ')} meanAUC ${probe(joined, D).toFixed(4)}`);
}

/** Mean-pooled features [images, D] of one source, on ONNX Runtime. */
async function pooledFeatures(id: string, cutLayer: string | undefined, inputSize: number | undefined): Promise<{ label: string; pooled: Float32Array; D: number }> {
  const entry = BACKBONES[id as keyof typeof BACKBONES] as Backbone;
  const loaded = await loadBackbone({ ...entry, inputSize: inputSize ?? entry.inputSize }, { cutLayer });
  const engine = await onnxEngine(loaded.extractor, loaded.backbone, loaded.weightsHash);
  const [L, D] = loaded.backbone.shape;
  const S = loaded.backbone.inputSize;
  const pooled = new Float32Array(all.length * D);
  for (let i = 0; i < all.length; i += 16) {
    const batch = all.slice(i, i + 16);
    const pixels = new Float32Array(batch.length * S * S * 3);
    (await Promise.all(batch.map((name) => decodeImage(path.join(imageDir, name), S)))).forEach((px, j) => pixels.set(px, j * S * S * 3));
    const f = await engine.run(pixels, batch.length);
    for (let j = 0; j < batch.length; j++) for (let l = 0; l < L; l++) for (let d = 0; d < D; d++) pooled[(i + j) * D + d] += f[(j * L + l) * D + d] / L;
  }
  engine.dispose();
  return { label: `${id}@${S} ${loaded.backbone.cutLayer} [${L},${D}]`, pooled, D };
}

/** Logistic regressions on standardised features (train images), mean AUC over the words on the test images. */
function probe(pooled: Float32Array, Dm: number): number {
  const nTrain = images.train.length;
  const W = Number(values.words);
  const scores = tf.tidy(() => {
    const x = tf.tensor2d(pooled, [all.length, Dm]);
    const train = x.slice([0, 0], [nTrain, Dm]);
    const { mean, variance } = tf.moments(train, 0);
    const z = tf.concat([tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), tf.ones([all.length, 1])], 1);
    const zTrain = z.slice([0, 0], [nTrain, Dm + 1]);
    const y = tf.tensor2d(labels, [all.length, W]).slice([0, 0], [nTrain, W]);
    const weights = tf.variable(tf.zeros([Dm + 1, W]));
    const optimizer = tf.train.adam(0.01);
    for (let step = 0; step < 300; step++) {
      // per word: mean log loss over the images + l2/2·‖w‖² (summed over the words, so each word's fit is its own)
      optimizer.minimize(() => tf.add(tf.mul(tf.losses.sigmoidCrossEntropy(y, tf.matMul(zTrain, weights)), W), tf.mul(Number(values.l2) / 2, tf.sum(tf.square(weights)))) as tf.Scalar);
    }
    return tf.matMul(z.slice([nTrain, 0], [all.length - nTrain, Dm + 1]), weights);
  });
  const s = scores.dataSync();
  scores.dispose();
  const nTest = all.length - nTrain;
  let sum = 0;
  let counted = 0;
  for (let w = 0; w < W; w++) {
    const rows = Array.from({ length: nTest }, (_, i) => ({ s: s[i * W + w], y: labels[(nTrain + i) * W + w] })).sort((a, b) => a.s - b.s);
    const positives = rows.filter((r) => r.y === 1).length;
    if (positives === 0 || positives === nTest) continue;
    const rankSum = rows.reduce((a, r, rank) => a + (r.y === 1 ? rank + 1 : 0), 0);
    sum += (rankSum - (positives * (positives + 1)) / 2) / (positives * (nTest - positives));
    counted++;
  }
  return sum / counted;
}
