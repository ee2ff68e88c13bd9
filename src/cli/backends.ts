import * as tf from '@tensorflow/tfjs-core';

/** The backends the CLI knows, best first: tfjs-node's native TensorFlow, WebAssembly, plain JavaScript. */
export const KNOWN_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof KNOWN_BACKENDS)[number];

const PACKAGES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/**
 * Loads the union package (it registers the gradients of tfjs' own ops, which the equivalence checks
 * differentiate through) and tries each backend's package. A backend whose package is missing or
 * whose native library fails to load is reported as unavailable, with the reason, never thrown.
 */
export async function loadBackends(): Promise<{ available: BackendName[]; unavailable: Record<string, string> }> {
  require('@tensorflow/tfjs');
  const available: BackendName[] = [];
  const unavailable: Record<string, string> = {};
  for (const name of KNOWN_BACKENDS) {
    try {
      require(PACKAGES[name]);
      if (!(await tf.setBackend(name))) throw new Error('setBackend returned false');
      await tf.ready();
      available.push(name);
    } catch (e) {
      unavailable[name] = `${PACKAGES[name]}: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return { available, unavailable };
}

/** The backends a `--backend` value asks for: one name, `all` (every available one), or the best available by default. */
export function selectBackends(
  requested: BackendName | 'all' | undefined,
  available: BackendName[],
  unavailable: Record<string, string>,
): BackendName[] {
  if (available.length === 0) {
    const reasons = Object.entries(unavailable).map(([name, reason]) => `${name}: ${reason}`);
    throw new Error(`no tfjs backend loads here (${reasons.join('; ')})`);
  }
  if (requested === undefined) return available.slice(0, 1);
  if (requested === 'all') return available;
  if (!available.includes(requested)) throw new Error(`backend '${requested}' is not available here (${unavailable[requested]})`);
  return [requested];
}
