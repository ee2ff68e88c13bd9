import * as tf from '@tensorflow/tfjs-core';

interface TapeState {
  gradientDepth: number;
  activeTape: Array<{ saved?: tf.Tensor[] }> | null;
}

/**
 * Disposes what tfjs keeps for a backward pass that an error aborted. When `tf.grads` throws (no path
 * from x to y, a gradient of the wrong shape, a gradient function that throws), tfjs 4 neither
 * disposes the tensors its tape saved nor drops the tape; on success it does both, exactly as here.
 * Call it right after catching such an error. If a future tfjs renames this state, nothing happens.
 */
export function releaseAbandonedTape(): void {
  const state = (tf.engine() as unknown as { state?: TapeState }).state;
  if (state === undefined || state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) node.saved?.forEach((t) => t.dispose());
  state.activeTape = null;
}
