// Watches the current tfjs backend while a loss runs: how often it reads data back to the host, how
// many GPU programs it dispatches, and the peak of `tf.memory().numBytes`. Every shader dispatch goes
// through the backend's `runWebGLProgram` / `runWebGPUProgram` (tf.profile misses those compileAndRun
// starts), every read-back through its `read` / `readSync`, and the byte count only grows when the
// engine tracks a new tensor.
import * as tf from '@tensorflow/tfjs';

const COUNTED = { reads: ['read', 'readSync', 'readToGPU'], programs: ['runWebGLProgram', 'runWebGPUProgram'] };

/**
 * Runs `f` (synchronous: it only queues GPU work) with the backend's read and program methods and the
 * engine's tensor tracking wrapped, then restores them. Returns f's result, the reads and programs it
 * caused (programs null on a backend without a program runner), and its peak bytes above the start.
 */
export function watch(f) {
  const backend = tf.backend();
  const engine = tf.engine();
  const counts = { reads: 0, programs: 0 };
  const restore = [];
  const wrap = (target, method, onCall) => {
    const original = target[method];
    if (typeof original !== 'function') return false;
    target[method] = function watched(...args) {
      const result = original.apply(this, args);
      onCall(this);
      return result;
    };
    restore.push(() => (target[method] = original));
    return true;
  };
  const before = tf.memory().numBytes;
  let peak = before;
  let hasRunner = false;
  for (const [key, methods] of Object.entries(COUNTED)) {
    for (const method of methods) {
      const wrapped = wrap(backend, method, () => counts[key]++);
      if (key === 'programs') hasRunner ||= wrapped;
    }
  }
  wrap(engine, 'trackTensor', (self) => (peak = Math.max(peak, self.state.numBytes)));
  try {
    return { result: f(), reads: counts.reads, programs: hasRunner ? counts.programs : null, peakBytes: peak - before };
  } finally {
    restore.forEach((undo) => undo());
  }
}
