import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError, isForgeToolError } from '../../src/errors.js';
import {
  MAX_CYCLICAL_INDEX,
  expandCombinations,
  expandPrompt,
  previewExpansion,
} from '../../src/wildcards/expander.js';
import { WildcardLibrary } from '../../src/wildcards/wildcard-library.js';
import { expectWildcardError, openLibrary, removeFolders, track } from './helpers.js';

afterEach(removeFolders);

const NESTED = {
  'level1.txt': 'one {a|b} __level2__\n',
  'level2.txt': 'two {c|d} __level3__\n',
  'level3.txt': 'three {e|f}\n',
};

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('expandPrompt: reproducibility', () => {
  it('gives the same prompt and trace for the same files, seed and index', async () => {
    const { library, folder } = await openLibrary({
      ...NESTED,
      'colors/warm.txt': 'red\norange\n',
      'colors/cold.txt': 'blue\n',
    });
    const template = '{2$$ and $$__colors/*__} __level1__ {0.3::x|y|2::z} ${v=!{p|q}}${v}';
    const again = track(new WildcardLibrary({ roots: [{ name: 'user', path: folder }] }));
    await again.load();

    for (let seed = 0; seed < 50; seed += 1) {
      const first = expandPrompt(library, template, { seed, index: 3 });
      expect(expandPrompt(library, template, { seed, index: 3 })).toEqual(first);
      expect(expandPrompt(again, template, { seed, index: 3 })).toEqual(first);
    }
  });

  it('varies with the seed and with the index', async () => {
    const { library } = await openLibrary(NESTED);
    const bySeed = new Set<string>();
    const byIndex = new Set<string>();
    for (let step = 0; step < 40; step += 1) {
      bySeed.add(expandPrompt(library, '__level1__', { seed: step }).prompt);
      byIndex.add(expandPrompt(library, '__level1__', { seed: 7, index: step }).prompt);
    }
    expect(bySeed.size).toBe(8);
    expect(byIndex.size).toBe(8);
    const run = (seed: number): string =>
      Array.from(
        { length: 20 },
        (_, index) => expandPrompt(library, '{a|b|c|d|e|f|g|h}', { seed, index }).prompt,
      ).join('');
    expect(run(2 ** 32 + 5)).not.toBe(run(5));
  });

  it('expands a negative prompt on its own, with the same seed', async () => {
    const { library } = await openLibrary({ 'flaws.txt': 'blurry\nlow quality\n' });
    const positive = expandPrompt(library, '${x=!{a|b}} a cat, ${x}', { seed: 11 });
    const negative = expandPrompt(library, '__flaws__, ${x:none}', { seed: 11 });

    expect(positive.prompt).toMatch(/^ a cat, [ab]$/);
    expect(negative.prompt).toMatch(/^(blurry|low quality), none$/);
    expect(Object.keys(negative.trace.files)).toEqual(['user/flaws.txt']);
  });
});

describe('expandPrompt: trace', () => {
  it('records each choice and the hash of every file used', async () => {
    const { library, folder } = await openLibrary({
      'colors/warm.txt': '# warm\nred\norange\n',
      'colors/cold.txt': 'blue\n',
      'animal.txt': 'cat\n',
    });
    const result = expandPrompt(library, 'a {big|small} __animal__ in __colors/*__', { seed: 4 });

    const { choices, files } = result.trace;
    expect(result.trace).toMatchObject({ template: 'a {big|small} __animal__ in __colors/*__' });
    expect(result.trace).toMatchObject({ mode: 'random', seed: 4, index: 0, libraryVersion: 1 });
    expect(choices).toHaveLength(3);
    const [size, animal, color] = choices;
    expect(size).toMatchObject({ kind: 'variant', source: 'template', position: 2 });
    expect(size?.kind === 'variant' && size.values).toEqual([
      result.prompt.startsWith('a big') ? 'big' : 'small',
    ]);
    expect(animal).toEqual({
      kind: 'wildcard',
      name: 'animal',
      collection: 'animal',
      index: 0,
      value: 'cat',
      file: 'user/animal.txt',
    });
    expect(color).toMatchObject({ kind: 'wildcard', name: 'colors/*' });
    expect(result.prompt.endsWith(color?.kind === 'wildcard' ? color.value : '?')).toBe(true);
    expect(files).toEqual({
      'user/animal.txt': sha256(await readFile(join(folder, 'animal.txt'))),
      'user/colors/cold.txt': sha256(await readFile(join(folder, 'colors/cold.txt'))),
      'user/colors/warm.txt': sha256(await readFile(join(folder, 'colors/warm.txt'))),
    });
  });

  it('records choices inside wildcard values with their file and line', async () => {
    const { library } = await openLibrary({ 'outer.txt': '# comment\n\nx {p|q}\n' });
    const { choices } = expandPrompt(library, '__outer__', { seed: 1 }).trace;

    expect(choices[1]).toMatchObject({ kind: 'variant', source: 'user/outer.txt:3', position: 2 });
  });

  it("leaves a missing wildcard or variable as written with missing: 'keep', and records it", async () => {
    const { library } = await openLibrary({ 'known.txt': 'yes\n' });
    const result = expandPrompt(library, '__known__ __unknown__ ${nothing} __@gone(x=1)__', {
      seed: 1,
      missing: 'keep',
    });

    expect(result.prompt).toBe('yes __unknown__ ${nothing} __@gone(x=1)__');
    expect(result.trace.choices.filter((choice) => choice.kind === 'missing')).toEqual([
      { kind: 'missing', name: 'unknown', source: 'template', position: 10 },
      { kind: 'missing', name: 'nothing', source: 'template', position: 22 },
      { kind: 'missing', name: 'gone', source: 'template', position: 33 },
    ]);
  });
});

describe('expandPrompt: limits', () => {
  it('refuses nesting deeper than maxDepth, naming the chain', async () => {
    const { library } = await openLibrary(NESTED);

    expect(expandPrompt(library, '__level1__', { seed: 1, maxDepth: 3 }).prompt).toMatch(
      /^one [ab] two [cd] three [ef]$/,
    );
    const error = expectWildcardError(
      () => expandPrompt(library, '__level1__', { seed: 1, maxDepth: 2 }),
      'FT_ERR_WILDCARD_DEPTH',
    );
    expect(error.message).toContain('level1 -> level2 -> level3');
    expect(error.details).toMatchObject({ name: 'level3', limit: 2 });
  });

  it('names the cycle of wildcards that refer to each other', async () => {
    const { library } = await openLibrary({
      'a.txt': 'to __b__\n',
      'b.txt': 'then __c__\n',
      'c.txt': 'back to __A__\n',
      'self.txt': 'me and __self__\n',
    });

    const error = expectWildcardError(
      () => expandPrompt(library, 'x __a__', { seed: 1, maxDepth: 50 }),
      'FT_ERR_WILDCARD_CYCLE',
    );
    expect(error.details.cycle).toEqual(['a', 'b', 'c', 'a']);
    expect(error.message).toContain('a -> b -> c -> a');
    expect(
      expectWildcardError(
        () => expandPrompt(library, '__self__', { seed: 1 }),
        'FT_ERR_WILDCARD_CYCLE',
      ).details.cycle,
    ).toEqual(['self', 'self']);
  });

  it('names a variable defined through itself', async () => {
    const { library } = await openLibrary({});
    const error = expectWildcardError(
      () => expandPrompt(library, '${x=more ${x}}${x}', { seed: 1 }),
      'FT_ERR_WILDCARD_CYCLE',
    );
    expect(error.details.cycle).toEqual(['${x}', '${x}']);
  });

  it('refuses prompts longer than maxLength', async () => {
    const { library } = await openLibrary({ 'long.txt': `${'x'.repeat(60)}\n` });
    const template = '${l=__long__}${l}${l}${l}';

    expect(expandPrompt(library, template, { seed: 1, maxLength: 180 }).prompt).toHaveLength(180);
    const error = expectWildcardError(
      () => expandPrompt(library, template, { seed: 1, maxLength: 179 }),
      'FT_ERR_WILDCARD_LIMIT',
    );
    expect(error.details.limit).toBe(179);
  });

  it('stops a template whose expansion grows without end', async () => {
    const { library } = await openLibrary({});
    // Every level doubles the work: 2^25 visits, far over the step budget.
    const layers = Array.from(
      { length: 25 },
      (_, level) => `\${v${level + 1}=\${v${level}}\${v${level}}}`,
    );
    const template = `\${v0={a|b}}${layers.join('')}\${v25}`;
    const error = expectWildcardError(
      () => expandPrompt(library, template, { seed: 1, maxLength: 1_000_000 }),
      'FT_ERR_WILDCARD_LIMIT',
    );
    expect(error.message).toMatch(/steps|characters/);
  });

  it('turns nesting too deep for the call stack into a limit error', async () => {
    const nest = (inner: string): string => '{'.repeat(95) + inner + '}'.repeat(95);
    const files = Object.fromEntries(
      Array.from({ length: 100 }, (_, level) => [
        `w${level}.txt`,
        `${nest(level === 99 ? 'end' : `__w${level + 1}__`)}\n`,
      ]),
    );
    const { library } = await openLibrary(files);

    for (const run of [
      () => expandPrompt(library, '__w0__', { seed: 1, maxDepth: 100 }),
      () => expandCombinations(library, '__w0__', { maxDepth: 100 }),
    ]) {
      const error = expectWildcardError(run, 'FT_ERR_WILDCARD_LIMIT');
      expect(error.message).toContain('nest too deeply');
      expect(error.cause).toBeInstanceOf(RangeError);
    }
    expect(expandPrompt(library, '__w95__', { seed: 1 }).prompt).toBe('end');
  });

  it('reports a missing wildcard or variable by name by default', async () => {
    const { library } = await openLibrary({});

    const wildcard = expectWildcardError(
      () => expandPrompt(library, 'a __nowhere__', { seed: 1 }),
      'FT_ERR_WILDCARD_NOT_FOUND',
    );
    expect(wildcard.details).toMatchObject({ name: 'nowhere', source: 'template', position: 2 });
    const variable = expectWildcardError(
      () => expandPrompt(library, '${season}', { seed: 1 }),
      'FT_ERR_WILDCARD_NOT_FOUND',
    );
    expect(variable.message).toContain('${season:default}');
  });

  it('reports a syntax error in a wildcard file with the file and line', async () => {
    const { library } = await openLibrary({ 'broken.txt': 'fine\n{never closed\n' });
    const errors = new Set<string>();
    for (let seed = 0; seed < 20; seed += 1) {
      try {
        expandPrompt(library, '__broken__', { seed });
      } catch (error) {
        expect(isForgeToolError(error, 'FT_ERR_WILDCARD_SYNTAX')).toBe(true);
        errors.add((error as Error).message);
      }
    }
    expect([...errors]).toEqual([
      "'{' is never closed: close it with '}', or write '\\{' for a brace " +
        '(in user/broken.txt:2 at line 1, column 1)',
    ]);
  });
});

describe('expandPrompt: options', () => {
  it.each([
    [{ seed: -1 }, 'options.seed must be an integer from 0'],
    [{ seed: 1.5 }, 'options.seed'],
    [{ seed: Number.NaN }, 'options.seed'],
    [{ seed: 1, index: -1 }, 'options.index'],
    [{ seed: 1, maxDepth: 0 }, 'options.maxDepth must be an integer from 1 to 100'],
    [{ seed: 1, maxLength: 0 }, 'options.maxLength'],
    [{ seed: 1, mode: 'sequential' }, "options.mode must be one of 'random', 'cyclical'"],
    [{ seed: 1, missing: 'skip' }, "options.missing must be one of 'error', 'keep'"],
    [{ seed: 1, variables: { 'bad name': 'x' } }, 'options.variables.bad name'],
  ])('rejects %j with a ConfigError', async (options, message) => {
    const { library } = await openLibrary({});
    expect(() => expandPrompt(library, 'x', options as never)).toThrow(ConfigError);
    expect(() => expandPrompt(library, 'x', options as never)).toThrow(message);
  });

  it('refuses an unloaded library and a template that is not text', async () => {
    const { library } = await openLibrary({});
    const unloaded = new WildcardLibrary({ roots: ['/nonexistent'] });

    expect(() => expandPrompt(unloaded, 'x', { seed: 1 })).toThrow('await library.load()');
    expect(() => expandPrompt(library, 42 as never, { seed: 1 })).toThrow(ConfigError);
  });

  it('reads variables passed in as fixed text', async () => {
    const { library } = await openLibrary({ 'who.txt': 'a ${role}\n' });
    const result = expandPrompt(library, '__who__ and ${role}', {
      seed: 1,
      variables: { role: 'knight' },
    });
    expect(result.prompt).toBe('a knight and knight');
  });
});

describe('cyclical expansion', () => {
  it('takes every option once before any repeats, also below other wildcards', async () => {
    const { library } = await openLibrary({
      'outer.txt': '__x__\n__y__\n',
      'x.txt': 'x1\nx2\nx3\n',
      'y.txt': 'y1\ny2\n',
    });
    const expected = ['x1', 'y1', 'x2', 'y2', 'x3', 'y1', 'x1'];

    const preview = previewExpansion(library, '__outer__', { seed: 5, count: 7, mode: 'cyclical' });
    expect(preview.map((result) => result.prompt)).toEqual(expected);
    for (const [index, text] of expected.entries()) {
      const single = expandPrompt(library, '__outer__', { seed: 5, index, mode: 'cyclical' });
      expect(single).toEqual(preview[index]);
      expect(single.prompt).toBe(text);
    }
  });

  it('cycles picks of several options in blocks', async () => {
    const { library } = await openLibrary({});
    const prompts = previewExpansion(library, '{2$$a|b|c}', {
      seed: 0,
      count: 3,
      mode: 'cyclical',
    });
    expect(prompts.map((result) => result.prompt)).toEqual(['a,b', 'c,a', 'b,c']);
  });

  it('cycles a {@...} written in a wildcard file by the image index in a random expansion', async () => {
    const { library } = await openLibrary({ 'tint.txt': '{@red|green|blue} light\n' });
    const prompts = [0, 1, 2, 3, 4].map(
      (index) => expandPrompt(library, 'a __tint__', { seed: 8, index }).prompt,
    );
    expect(prompts).toEqual([
      'a red light',
      'a green light',
      'a blue light',
      'a red light',
      'a green light',
    ]);
  });

  it('bounds the index it replays', async () => {
    const { library } = await openLibrary({});
    expect(() =>
      expandPrompt(library, '{a|b}', { seed: 0, index: MAX_CYCLICAL_INDEX + 1, mode: 'cyclical' }),
    ).toThrow(ConfigError);
  });
});

describe('expandCombinations', () => {
  it('enumerates wildcards, variables and picks, leftmost slowest, with a trace each', async () => {
    const { library } = await openLibrary({ 'food.txt': 'bread\nbutter\n', 'drink.txt': 'tea\n' });
    const results = expandCombinations(
      library,
      '${d=!__drink__}I love __food__ and {__drink__|${d}s}',
    );

    expect(results.map((result) => result.prompt)).toEqual([
      'I love bread and tea',
      'I love bread and teas',
      'I love butter and tea',
      'I love butter and teas',
    ]);
    expect(results.map((result) => result.trace.index)).toEqual([0, 1, 2, 3]);
    expect(results[3]?.trace.choices.map((choice) => choice.kind)).toEqual([
      'wildcard',
      'variable',
      'wildcard',
      'variant',
    ]);
    expect(Object.keys(results[3]?.trace.files ?? {}).sort()).toEqual([
      'user/drink.txt',
      'user/food.txt',
    ]);
    expect(results[0]?.trace.mode).toBe('combinatorial');
  });

  it('gives ordered picks without repeats, including none for a zero lower bound', async () => {
    const { library } = await openLibrary({});
    expect(expandCombinations(library, '[{0-1$$a|b}]').map((r) => r.prompt)).toEqual([
      '[]',
      '[a]',
      '[b]',
    ]);
    expect(expandCombinations(library, '{2$$x|x|y}').map((r) => r.prompt)).toEqual(['x,y', 'y,x']);
    expect(expandCombinations(library, '{0::never|a|b}').map((r) => r.prompt)).toEqual(['a', 'b']);
  });

  it('gives distinct picks of one wildcard for {n$$__name__}', async () => {
    const { library } = await openLibrary({ 'f.txt': 'a\nb\nc\n' });
    expect(expandCombinations(library, '{2$$ & $$__f__}').map((r) => r.prompt)).toEqual([
      'a & b',
      'a & c',
      'b & a',
      'b & c',
      'c & a',
      'c & b',
    ]);
  });

  it('refuses more combinations than the cap, or truncates when asked', async () => {
    const { library } = await openLibrary({});
    const template = '{a|b|c}{d|e|f}{g|h}';

    expect(expandCombinations(library, template, { cap: 18 })).toHaveLength(18);
    const error = expectWildcardError(
      () => expandCombinations(library, template, { cap: 17 }),
      'FT_ERR_WILDCARD_LIMIT',
    );
    expect(error.details.limit).toBe(17);
    const first = expandCombinations(library, template, { cap: 4, overflow: 'truncate' });
    expect(first.map((result) => result.prompt)).toEqual(['adg', 'adh', 'aeg', 'aeh']);
  });

  it('applies depth and cycle checks', async () => {
    const { library } = await openLibrary({ ...NESTED, 'loop.txt': '__loop__\n' });
    expectWildcardError(
      () => expandCombinations(library, '__level1__', { maxDepth: 2 }),
      'FT_ERR_WILDCARD_DEPTH',
    );
    expectWildcardError(() => expandCombinations(library, '__loop__'), 'FT_ERR_WILDCARD_CYCLE');
    expect(expandCombinations(library, '__level1__')).toHaveLength(8);
  });
});
