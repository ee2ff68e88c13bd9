import * as tf from '@tensorflow/tfjs';
import {
  engineState,
  isRecordingBackward,
  isRecordingGradient,
  wasmHeapView,
  webglRunner,
  webgpuRunner,
} from '../../src/core/tfjsInternals';
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

  it('says when a gradient function runs recorded: only for a gradient of a gradient', () => {
    const recorded: boolean[] = [];
    const probe = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const x = args[0] as tf.Tensor;
      (args[1] as tf.GradSaveFunc)([x]);
      return {
        value: tf.square(x),
        gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
          recorded.push(isRecordingBackward());
          return tf.mul(dy, tf.mul(saved, 2));
        },
      };
    });
    const f = (v: tf.Tensor) => probe(v) as tf.Tensor;
    const x = tf.scalar(3);
    tf.dispose([tf.grad(f)(x), tf.grad((v: tf.Tensor) => tf.grad(f)(v))(x)]);
    expect(recorded).toEqual([false, true]);
    expect(isRecordingBackward()).toBe(false);
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
