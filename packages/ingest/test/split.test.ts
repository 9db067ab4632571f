import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imagePath, isContainedPath, seededSplit } from '../src/split.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `img_${String(i).padStart(3, '0')}.jpg`);
const FR = { train: 0.8, dev: 0.1, test: 0.1 };
const sizes = (m: Map<string, string>) => {
  const s: Record<string, number> = { train: 0, dev: 0, test: 0 };
  for (const v of m.values()) s[v]++;
  return s;
};

test('seededSplit: deterministic for a seed, whatever the input order; another seed gives another split', () => {
  const list = ids(60);
  const a = seededSplit(list, FR, 42);
  const b = seededSplit([...list].reverse(), FR, 42);
  assert.deepEqual([...a].sort(), [...b].sort());
  const c = seededSplit(list, FR, 43);
  assert.notDeepEqual([...a].sort(), [...c].sort());
  assert.deepEqual(sizes(c), sizes(a)); // sizes come from the fractions, not the seed
});

test('seededSplit: one entry per distinct image (duplicates are the same image, never split apart)', () => {
  const list = ids(10);
  const withDupes = [...list, ...list.slice(0, 4), list[0]];
  const m = seededSplit(withDupes, FR, 1);
  assert.equal(m.size, 10);
  assert.deepEqual([...m.keys()].sort(), list);
  assert.deepEqual([...m].sort(), [...seededSplit(list, FR, 1)].sort());
});

const sizeCases: { n: number; fractions: { train: number; dev: number; test: number }; expected: Record<string, number> }[] = [
  { n: 100, fractions: FR, expected: { train: 80, dev: 10, test: 10 } },
  { n: 20, fractions: { train: 0.5, dev: 0.25, test: 0.25 }, expected: { train: 10, dev: 5, test: 5 } },
  { n: 40, fractions: { train: 2, dev: 1, test: 1 }, expected: { train: 20, dev: 10, test: 10 } }, // normalised
  { n: 10, fractions: { train: 1, dev: 0, test: 0 }, expected: { train: 10, dev: 0, test: 0 } },
  { n: 10, fractions: { train: 0, dev: 0, test: 1 }, expected: { train: 0, dev: 0, test: 10 } },
  { n: 7, fractions: FR, expected: { train: 6, dev: 1, test: 0 } }, // rounding: the test split takes the rest
  { n: 0, fractions: FR, expected: { train: 0, dev: 0, test: 0 } },
];
for (const c of sizeCases) {
  test(`seededSplit sizes: ${c.n} images at ${JSON.stringify(c.fractions)}`, () => {
    const m = seededSplit(ids(c.n), c.fractions, 5);
    assert.equal(m.size, c.n);
    assert.deepEqual(sizes(m), c.expected);
  });
}

test('seededSplit: the split is a shuffle (not the sorted order cut into pieces)', () => {
  const list = ids(100);
  const m = seededSplit(list, FR, 9);
  const firstEighty = list.slice(0, 80).filter((id) => m.get(id) === 'train').length;
  assert.ok(firstEighty < 80, 'the first 80 ids (sorted) should not all be train');
});

const containment: [string, boolean][] = [
  ['a/b.jpg', true],
  ['b.jpg', true],
  ['../x', false],
  ['../x.jpg', false],
  ['a/../../x', false],
  ['a/../b.jpg', true],
  ['/abs', false],
  ['/etc/passwd', false],
  ['a/./b', true],
  ['./a.jpg', true],
  ['C:/x', false],
  ['c:/x', false],
  ['C:\\x', false],
  ['a\\..\\..\\x', false],
  ['..', false],
  ['.', false],
  ['', false],
  ['a/..', false], // the directory itself, not a file in it
  ['a//b.jpg', true],
  ['..x/b.jpg', true], // a name that starts with dots is not a parent reference
];
for (const [rel, expected] of containment) {
  test(`isContainedPath(${JSON.stringify(rel)}) === ${expected}`, () => {
    assert.equal(isContainedPath(rel), expected);
  });
}

test('imagePath: joins a contained name to its folder; an escaping name stays as is (and stays uncontained)', () => {
  assert.equal(imagePath('Flicker8k_Dataset', 'a.jpg'), 'Flicker8k_Dataset/a.jpg');
  assert.equal(imagePath('images', 'val2014/a.jpg'), 'images/val2014/a.jpg');
  assert.equal(imagePath('', 'val2014/a.jpg'), 'val2014/a.jpg');
  for (const name of ['../x.jpg', '/etc/passwd', 'a/../../x.jpg', 'C:/x.jpg']) {
    const p = imagePath('Flicker8k_Dataset', name);
    assert.equal(p, name);
    assert.equal(isContainedPath(p), false, name);
  }
});
