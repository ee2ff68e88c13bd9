// A TypeDoc plugin: names each entry point's module as users import it (`tfjs-loss-adapter/layers`)
// instead of by its file (`layers`).
import { resolve } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';
import { ENTRIES, entrySource } from './entries.mjs';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const entry = file && ENTRIES.find((candidate) => entrySource(candidate) === resolve(file));
    if (entry) reflection.name = `tfjs-loss-adapter${entry.subpath.slice(1)}`;
  });
}
