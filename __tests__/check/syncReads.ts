import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

const SOURCES = path.resolve(__dirname, '../../src') + path.sep;

/**
 * The synchronous reads made while `run` runs, each named by the file of this library that made it
 * (the innermost frame under `src/`), or `outside src` when none did. A synchronous read is a call of
 * `Tensor.dataSync` or `Tensor.arraySync`, or of the backend's `readSync` other than from its own
 * asynchronous `read` (cpu and wasm answer `data()` with it) or from inside a kernel (their kernels
 * read host memory directly, as webgpu's never do).
 */
export async function syncReadsDuring(run: () => unknown): Promise<string[]> {
  const reads: string[] = [];
  // The innermost frames are enough to find the caller: tfjs' and the spies' own frames, then it.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const record = () => {
    // The files of the frames, without the source-map look-up of a formatted stack (slow, and not needed).
    const prepare = Error.prepareStackTrace;
    Error.prepareStackTrace = (_error, sites) => sites.map((site) => site.getFileName() ?? '');
    const files = new Error().stack as unknown as string[];
    Error.prepareStackTrace = prepare;
    const file = files.find((name) => name.startsWith(SOURCES));
    reads.push(file === undefined ? 'outside src' : `src/${file.slice(SOURCES.length).split(path.sep).join('/')}`);
  };
  const backend = tf.backend();
  const engineState = (tf.engine() as unknown as { state: { kernelDepth: number } }).state;
  let inAsyncRead = 0;
  const read = backend.read.bind(backend);
  const readSync = backend.readSync.bind(backend);
  const { dataSync, arraySync } = tf.Tensor.prototype;
  // dataSync and arraySync read through the backend's readSync: one read, recorded once.
  let inTensorRead = 0;
  const recordedOnce = (original: (this: tf.Tensor) => unknown) =>
    function (this: tf.Tensor) {
      if (inTensorRead === 0) record();
      inTensorRead++;
      try {
        return original.call(this);
      } finally {
        inTensorRead--;
      }
    } as never;
  const spies = [
    jest.spyOn(backend, 'read').mockImplementation((dataId) => {
      inAsyncRead++;
      try {
        return read(dataId);
      } finally {
        inAsyncRead--;
      }
    }),
    jest.spyOn(backend, 'readSync').mockImplementation((dataId) => {
      if (inAsyncRead === 0 && inTensorRead === 0 && engineState.kernelDepth === 0) record();
      return readSync(dataId);
    }),
    jest.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementation(recordedOnce(dataSync)),
    jest.spyOn(tf.Tensor.prototype, 'arraySync').mockImplementation(recordedOnce(arraySync)),
  ];
  try {
    await run();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
    Error.stackTraceLimit = stackTraceLimit;
  }
  return reads;
}

/** The reads of `syncReadsDuring` that the checking toolkit made (src/check, src/jest). */
export const byToolkit = (reads: string[]): string[] => reads.filter((file) => /^src\/(check|jest)\//.test(file));
