// Counters around the current tfjs backend, for the browser test and benchmark: how many times a
// loss reads data back to the host, and how many GPU programs it dispatches. Every shader dispatch
// goes through the backend's `runWebGLProgram` / `runWebGPUProgram` (tf.profile misses those that
// compileAndRun starts), and every read-back through its `read` / `readSync`.
import * as tf from '@tensorflow/tfjs';

/** The backend methods a probe wraps: the ones the current backend has. */
const READ_METHODS = ['read', 'readSync', 'readToGPU'];
const PROGRAM_METHODS = ['runWebGLProgram', 'runWebGPUProgram'];

/**
 * Counts the calls of the backend's read and program methods while `counting` is on. Install once
 * per backend (after tf.setBackend); `measure(f)` runs f and returns its result with the counts.
 */
export function installProbes() {
  const backend = tf.backend();
  const counts = { reads: 0, programs: 0 };
  let counting = false;
  const wrap = (methods, key) => {
    for (const method of methods) {
      const original = backend[method];
      if (typeof original !== 'function') continue;
      backend[method] = function counted(...args) {
        if (counting) counts[key]++;
        return original.apply(this, args);
      };
    }
  };
  wrap(READ_METHODS, 'reads');
  wrap(PROGRAM_METHODS, 'programs');
  return {
    /** Runs `f` (synchronous: it only queues GPU work) and counts what it read and dispatched. */
    measure(f) {
      counts.reads = 0;
      counts.programs = 0;
      counting = true;
      try {
        return { result: f(), reads: counts.reads, programs: counts.programs };
      } finally {
        counting = false;
      }
    },
  };
}
