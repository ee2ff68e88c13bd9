import { existsSync } from 'fs';
import { dirname, join } from 'path';
import { Command } from './args';

const SCRIPT = join('python', 'record_fixture.py');

/** The recorder shipped in the package: the first `python/record_fixture.py` above this module (in `dist/` or `src/`). */
export function recorderPath(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, SCRIPT))) return join(dir, SCRIPT);
    if (dirname(dir) === dir) throw new Error(`${SCRIPT} is missing from the package above ${__dirname}; reinstall tfjs-loss-adapter`);
  }
}

/** `tfjs-loss-adapter fixture-script`: prints the path of the PyTorch recorder. */
export const fixtureScriptCommand: Command<Record<string, never>> = {
  description: [
    'prints the path of python/record_fixture.py, which records PyTorch loss calls as fixtures for',
    'verify --fixtures (plain Python and torch; import it, e.g. PYTHONPATH="$(dirname "$(npx tfjs-loss-adapter fixture-script)")").',
  ].join('\n'),
  options: {},
  async run(_options, output) {
    output.out(recorderPath());
    return 0;
  },
};
