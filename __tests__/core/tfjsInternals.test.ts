import * as tf from '@tensorflow/tfjs';
import { engineState, isRecordingGradient, wasmHeapView, webglRunner, webgpuRunner } from '../../src/core/tfjsInternals';
import { describeEachBackend } from '../helpers/backends';

/**
 * Canaries: each tfjs internal the library uses is still there, of the shape it expects. A tfjs
 * upgrade that renames one fails here, loudly, instead of quietly sending the losses to a slower
 * fallback. (The GPU program runners are checked where those backends run: the browser test.)
 */
describeEachBackend('tfjs internals', (backend) => {
  it("the engine's tape state is readable, and says when a gradient is being recorded", () => {
    expect(engineState()).not.toBeNull();
    expect(isRecordingGradient()).toBe(false);
    let insideGradient: boolean | undefined;
    const probe = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      insideGradient = isRecordingGradient();
      return { value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => dy };
    });
    const x = tf.scalar(2);
    tf.grad((v: tf.Tensor) => probe(v) as tf.Tensor)(x).dispose();
    expect(insideGradient).toBe(true);
    x.dispose();
  });

  it(backend === 'wasm' ? 'a wasm tensor is viewed in the WebAssembly heap, without a copy' : 'no heap view off wasm', () => {
    const t = tf.tensor1d([1.5, -2, 3]);
    const view = wasmHeapView(t);
    if (backend === 'wasm') {
      expect(Array.from(view ?? [])).toEqual([1.5, -2, 3]);
      expect(view?.buffer).not.toBe(t.dataSync().buffer);
    } else {
      expect(view).toBeNull();
    }
    t.dispose();
  });

  it('offers no GPU program runner off its own backend', () => {
    expect(webglRunner()).toBeNull();
    expect(webgpuRunner()).toBeNull();
  });
});
