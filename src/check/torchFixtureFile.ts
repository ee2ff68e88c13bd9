import { readFileSync } from 'fs';
import { parseTorchFixture, TorchFixture } from './torchFixture';

/**
 * A fixture file read and checked (Node only: the CLI and the Jest matchers). An error names the file:
 * one that does not exist, is not JSON, or is not a fixture of a version this library reads.
 */
export function readTorchFixture(path: string): TorchFixture {
  try {
    return parseTorchFixture(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
