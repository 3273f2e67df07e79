import { describe, expect, it } from 'vitest';
import { parseRecipe, recipeOffsets, serializeRecipe, type RecipeChunk } from '../../src/formats/recipe.js';
import { E } from '../../src/util/errors.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;

describe('file recipe', () => {
  it('serializes canonically and round-trips', () => {
    const chunks: RecipeChunk[] = [[oid('a'), 300], [oid('b'), 200], [oid('a'), 300]];
    const text = serializeRecipe(chunks);
    expect(text).toBe(`{"v":1,"size":800,"chunks":[["${oid('a')}",300],["${oid('b')}",200],["${oid('a')}",300]]}`);
    const recipe = parseRecipe(Buffer.from(text), 'r');
    expect(recipe).toEqual({ v: 1, size: 800, chunks });
    expect(recipeOffsets(recipe)).toEqual([0, 300, 500]);
    expect(parseRecipe(serializeRecipe([]), 'r')).toEqual({ v: 1, size: 0, chunks: [] });
  });

  it('refuses to write an invalid chunk', () => {
    expect(() => serializeRecipe([[oid('a'), 0]])).toThrow(expect.objectContaining({ code: E.BAD_RECIPE }));
    expect(() => serializeRecipe([['nope', 10]])).toThrow(expect.objectContaining({ code: E.BAD_RECIPE }));
  });

  it('rejects malformed recipes with EBADRECIPE', () => {
    const bad = [
      'not json',
      '{}',
      `{"v":2,"size":1,"chunks":[["${oid('a')}",1]]}`,
      `{"v":1,"size":2,"chunks":[["${oid('a')}",1]]}`,
      `{"v":1,"size":0,"chunks":[["${oid('a')}",0]]}`,
      `{"v":1,"size":1,"chunks":[["b3:short",1]]}`,
      `{"v":1,"size":1,"chunks":[["${oid('a')}",1,2]]}`,
      `{"v":1,"size":1,"chunks":[{"o":"${oid('a')}","s":1}]}`,
      `{"v":1,"size":1.5,"chunks":[]}`,
      `{"v":1,"size":1,"chunks":[["${oid('a')}",1]],"x":1}`,
    ];
    for (const text of bad) {
      expect(() => parseRecipe(text, 'recipes/x'), text).toThrow(expect.objectContaining({ code: E.BAD_RECIPE }));
    }
    expect(() => parseRecipe(`{"v":1,"size":2,"chunks":[["${oid('a')}",1]]}`, 'recipes/x')).toThrow(/add up to 1, not the file size 2/);
  });
});
