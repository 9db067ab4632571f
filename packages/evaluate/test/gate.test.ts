/** The quality gate (`evaluate.min`): any of the six metrics, failures listed with their numbers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { PipelineError } from '@caption/core';
import { evaluateParamsSchema } from '../src/params.ts';
import { checkGate } from '../src/stage.ts';
import type { EvaluationReport } from '../src/transform.ts';

const report: EvaluationReport = {
  images: 3, bleu: [0.6, 0.4, 0.3, 0.2], ciderD: 0.5, rougeL: 0.45,
  baseline: { caption: 'a dog', bleu: [0.4, 0.2, 0.1, 0.05], ciderD: 0.1, rougeL: 0.3 },
  perImage: [], samples: [],
};

test('checkGate: passes at or above every minimum', () => {
  checkGate(report, {});
  checkGate(report, { bleu1: 0.6, bleu4: 0.2, ciderD: 0.5, rougeL: 0.45 });
});

test('checkGate: lists each failing metric with its value and minimum, in metric order', () => {
  assert.throws(() => checkGate(report, { rougeL: 0.5, bleu2: 0.3, ciderD: 0.75, bleu4: 0.25 }), (e: unknown) => {
    assert.ok(e instanceof PipelineError);
    assert.equal(e.code, 'quality');
    assert.equal(e.message, 'quality gate failed: bleu4 0.2000 < 0.25, ciderD 0.5000 < 0.75, rougeL 0.4500 < 0.5');
    return true;
  });
});

test('evaluate params: min accepts bleu1..4, ciderD (0..10) and rougeL (0..1), nothing else', () => {
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(evaluateParamsSchema);
  const ok = (min: object) => validate({ min });
  assert.ok(ok({ bleu1: 0.5, bleu4: 0.1, ciderD: 1.2, rougeL: 0.4 }), JSON.stringify(validate.errors));
  assert.ok(!ok({ cider: 0.5 }), 'unknown metric names are rejected');
  assert.ok(!ok({ rougeL: 1.5 }));
  assert.ok(!ok({ ciderD: 11 }));
});
