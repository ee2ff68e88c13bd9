// `npm run docs`: the API reference of the package's entry points, from their doc comments, into
// docs/api/ (generated, not committed: see docs/README.md). scripts/docs-coverage.mjs then checks
// that every export of every entry is in it.
import { entrySource, landedEntries } from './scripts/entries.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'tfjs-loss-adapter',
  entryPoints: landedEntries().map(entrySource),
  tsconfig: 'tsconfig.build.json',
  plugin: ['./scripts/typedoc-entry-names.mjs'],
  out: 'docs/api',
  json: 'docs/api/api.json',
  readme: 'README.md',
  excludePrivate: true,
  excludeInternal: true,
  // No git remote to link sources to; "Defined in" links would be broken.
  disableSources: true,
  // A public signature that names an unexported type, or a broken {@link}, fails the run.
  validation: { notExported: true, invalidLink: true, notDocumented: false },
  treatValidationWarningsAsErrors: true,
};
