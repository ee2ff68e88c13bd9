import { readFileSync } from 'fs';
import { CLIP_LOGIT, maxRelativeDifference, SVG_PATH, whyCurves, WhyCurves, drawWhyFigure } from '../../tools/why-figure/generate';

/**
 * docs/images/why.svg is what tools/why-figure/generate.ts draws (regenerate it with
 * `npx tsx tools/why-figure/generate.ts`), and it shows what it says: this library's curve on PyTorch's
 * recorded one, tfjs-layers' built-in flat below the clip. On the cpu backend, which the script sets.
 */
describe('the why figure (docs/images/why.svg)', () => {
  let curves: WhyCurves;

  beforeAll(async () => {
    curves = await whyCurves();
  });

  it('is the committed file, byte for byte', () => {
    expect(drawWhyFigure(curves)).toBe(readFileSync(SVG_PATH, 'utf8'));
  });

  it("draws this library's loss and gradient on PyTorch's", () => {
    expect(maxRelativeDifference(curves.ours.loss, curves.pytorch.loss)).toBeLessThan(1e-6);
    expect(maxRelativeDifference(curves.ours.gradient, curves.pytorch.gradient)).toBeLessThan(1e-6);
  });

  it("draws the built-in's defect: past the clip, a loss of 16.12 and a gradient of exactly 0, where PyTorch's is -1", () => {
    const clipped = curves.z.map((z, i) => [z, i] as const).filter(([z]) => z < CLIP_LOGIT - 0.1);
    expect(clipped.length).toBeGreaterThan(0);
    for (const [, i] of clipped) {
      expect(curves.builtIn.gradient[i]).toBe(0);
      expect(curves.builtIn.loss[i]).toBeCloseTo(-Math.log(1e-7), 4);
      expect(curves.pytorch.gradient[i]).toBeCloseTo(-1, 6);
    }
  });
});
