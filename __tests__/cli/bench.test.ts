import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { formatBenchReport, runBench } from '../../src/cli/bench';
import { getKernelPath } from '../../src/kernels/dispatch';
import { BACKENDS } from '../helpers/backends';

// Not a timing test: it checks that the benchmark runs every implementation on every backend,
// reports what it measured, restores the state it changed, and leaks no tensor. Timings are not asserted.
describe('runBench (quick, one small case)', () => {
  it('times ours, built-in and tfjs-layers (and the composite path when routed) on each backend, and prints a Markdown table', async () => {
    await tf.setBackend(BACKENDS[0]);
    const before = tf.memory().numTensors;
    const report = await runBench({ backends: BACKENDS, quick: true, torch: false, only: '[1024,10]' });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getBackend()).toBe(BACKENDS[0]);
    expect(getKernelPath()).toBe('auto');
    expect(report.rows.map((r) => r.backend)).toEqual(BACKENDS);
    for (const row of report.rows) {
      expect(row.case).toBe('softmax CE [1024,10]');
      for (const timing of [row.ours, row.builtin, row.layers]) {
        expect(timing).not.toBeNull();
        expect(timing!.repeats).toBe(3);
        expect(timing!.medianMs).toBeGreaterThan(0);
      }
      // The composite column is there once crossEntropy routes to the composite kernels (null before).
      if (row.oursComposite !== null) expect(row.oursComposite.repeats).toBe(3);
      expect(row.builtinOverOurs).toBeCloseTo(row.builtin.medianMs / row.ours.medianMs, 10);
      expect(row.torchMs).toBeNull();
      // The gradient (one logits' worth) is the only large tensor our fused path makes: the issue's bound is 2.5.
      expect(row.ours.peakOverLogits).toBeGreaterThanOrEqual(1);
      expect(row.ours.peakOverLogits).toBeLessThanOrEqual(2.5);
    }
    expect(report.torch).toEqual({ skipped: 'not asked for (torch: false)' });
    const table = formatBenchReport(report);
    expect(table).toContain('| backend | case | ours ms |');
    for (const backend of BACKENDS) expect(table).toContain(`| ${backend} | softmax CE [1024,10] |`);
    expect(table).toContain('PyTorch skipped');
  });

  it('names the cases when a filter matches none', async () => {
    await expect(runBench({ backends: ['cpu'], quick: true, torch: false, only: 'no such case' })).rejects.toThrow(
      /softmax CE \[1024,10\]/,
    );
  });
});
