/**
 * Property tests: no input makes the engine throw anything but its coded errors, expansion is a
 * function of (files, template, seed, index), and every random prompt is one the combinatorial
 * expansion lists.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isForgeToolError } from '../../src/errors.js';
import {
  expandCombinations,
  expandPrompt,
  previewExpansion,
} from '../../src/wildcards/expander.js';
import { parseTemplate } from '../../src/wildcards/template-parser.js';
import { WildcardError } from '../../src/wildcards/wildcard-error.js';
import { WildcardLibrary } from '../../src/wildcards/wildcard-library.js';
import { openLibrary, removeFolders, track } from './helpers.js';

const FILES = {
  'color.txt': 'red\ngreen\nblue\n',
  'shape.txt': 'square\ncircle\n',
  'nested/deep.txt': 'deep {one|two}\n__color__ thing\n',
  'loop.txt': 'again __loop__\n',
  'weighted.yaml': 'mood:\n  - 3::calm\n  - {text: wild, weight: 0.5}\n  - plain\n',
  'broken.txt': 'fine\n{never closed\n',
};

let library: WildcardLibrary;
let folder: string;

beforeAll(async () => {
  ({ library, folder } = await openLibrary(FILES));
});

afterAll(removeFolders);

/** Text made mostly of the grammar's characters, so the parser's corners are reached. */
const syntaxSoup = fc.string({
  unit: fc.constantFrom(
    '{',
    '}',
    '|',
    '$',
    '$$',
    '${',
    '%{',
    '__',
    '_',
    '#',
    '\\',
    '(',
    ')',
    '=',
    '!',
    '?',
    ':',
    '::',
    '@',
    '~',
    '-',
    '0',
    '2',
    '.',
    '...',
    'a',
    'b',
    ' ',
    '\n',
    '*',
    '/',
    'color',
    'loop',
    'x',
    ',',
  ),
  maxLength: 40,
});
const anyText = fc.oneof(syntaxSoup, fc.string({ unit: 'binary', maxLength: 60 }));

function onlyCodedErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof WildcardError) || !isForgeToolError(error)) throw error;
    expect(error.code.startsWith('FT_ERR_WILDCARD_')).toBe(true);
  }
}

describe('properties: only coded errors', () => {
  it('the parser accepts any text or throws a WildcardError', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyCodedErrors(() => parseTemplate(text));
      }),
      { numRuns: 3_000 },
    );
  });

  it('expansion of any text gives a bounded prompt or throws a WildcardError', () => {
    fc.assert(
      fc.property(
        anyText,
        fc.nat(),
        fc.nat({ max: 20 }),
        fc.constantFrom('error', 'keep'),
        fc.constantFrom('random', 'cyclical'),
        (text, seed, index, missing, mode) => {
          onlyCodedErrors(() => {
            const { prompt } = expandPrompt(library, text, {
              seed,
              index,
              missing,
              mode,
              maxLength: 500,
              maxDepth: 4,
            });
            expect(prompt.length).toBeLessThanOrEqual(500);
          });
          onlyCodedErrors(() => {
            const results = expandCombinations(library, text, {
              cap: 20,
              overflow: 'truncate',
              missing,
              maxLength: 500,
            });
            expect(results.length).toBeLessThanOrEqual(20);
          });
        },
      ),
      { numRuns: 1_500 },
    );
  });
});

/** Templates that parse: text, variants (weights, counts), wildcards and variables, nested. */
const wordArb = fc.constantFrom('cat', 'dog', 'hat', 'sun', 'moon', 'tree', 'boat');
const wildcardArb = fc.constantFrom('__color__', '__shape__', '__nested/deep__', '__mood__');
const { template: templateArb } = fc.letrec<{ template: string; part: string }>((tie) => ({
  template: fc.array(tie('part'), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(' ')),
  part: fc.oneof(
    { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
    wordArb,
    wildcardArb,
    fc
      .array(fc.tuple(fc.constantFrom('', '2::', '0.5::'), tie('template')), {
        minLength: 1,
        maxLength: 3,
      })
      .map((options) => `{${options.map(([weight, body]) => weight + body).join('|')}}`),
    fc
      .uniqueArray(wordArb, { minLength: 2, maxLength: 4 })
      .chain((words) =>
        fc
          .tuple(fc.nat({ max: words.length }), fc.nat({ max: words.length }))
          .map(([a, b]) => `{${Math.min(a, b)}-${Math.max(a, b)}$$ + $$${words.join('|')}}`),
      ),
    fc.constantFrom('{2$$__color__}', '{1-2$$ & $$__shape__}'),
    fc
      .tuple(fc.constantFrom('v', 'w'), tie('template'))
      .map(([name, value]) => `\${${name}=!${value}} \${${name}}`),
    fc
      .tuple(fc.constantFrom('v', 'w'), tie('template'))
      .map(([name, value]) => `\${${name}=${value}}\${${name}}`),
  ),
}));

describe('properties: determinism', () => {
  it('the same template, seed and index give the same result, also from a fresh load', async () => {
    const fresh = track(new WildcardLibrary({ roots: [{ name: 'user', path: folder }] }));
    await fresh.load();
    fc.assert(
      fc.property(
        templateArb,
        fc.nat(),
        fc.nat({ max: 1_000 }),
        fc.constantFrom('random', 'cyclical'),
        (template, seed, index, mode) => {
          const options = { seed, index: mode === 'cyclical' ? index % 20 : index, mode };
          const first = expandPrompt(library, template, options);
          expect(expandPrompt(library, template, options)).toEqual(first);
          expect(expandPrompt(fresh, template, options)).toEqual(first);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a preview equals one expansion per index', () => {
    fc.assert(
      fc.property(
        templateArb,
        fc.nat(),
        fc.constantFrom('random', 'cyclical'),
        (template, seed, mode) => {
          const preview = previewExpansion(library, template, { seed, count: 4, mode });
          preview.forEach((result, index) => {
            expect(expandPrompt(library, template, { seed, index, mode })).toEqual(result);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('every random prompt is one of the combinatorial prompts', () => {
    fc.assert(
      fc.property(
        templateArb,
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        (template, seeds) => {
          let all;
          try {
            all = expandCombinations(library, template, { cap: 2_000, overflow: 'truncate' });
          } catch (error) {
            // A template whose enumeration needs too much work proves nothing here.
            fc.pre(!isForgeToolError(error, 'FT_ERR_WILDCARD_LIMIT'));
            throw error;
          }
          fc.pre(all.length < 2_000);
          const prompts = new Set(all.map((result) => result.prompt));
          for (const seed of seeds) {
            expect(prompts).toContain(expandPrompt(library, template, { seed }).prompt);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
