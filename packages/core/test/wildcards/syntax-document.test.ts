/**
 * The cases of the dynamicprompts syntax document (docs/SYNTAX.md of adieyal/dynamicprompts),
 * section by section, against a real library folder. The examples' wording follows the document;
 * the files are written here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  expandCombinations,
  expandPrompt,
  previewExpansion,
} from '../../src/wildcards/expander.js';
import type { WildcardLibrary } from '../../src/wildcards/wildcard-library.js';
import { openLibrary, outcomes, removeFolders } from './helpers.js';

const FILES: Record<string, string> = {
  'season.txt': '# seasons.txt\nsummer\nautumn\nwinter\nspring\n',
  'seasons-variant.txt': '# seasons.txt\nsummer\n{autumn|fall}\nwinter\nspring\n',
  'flavours.txt': 'chocolate\nvanilla\nstrawberry\n',
  'people_of_the_world.txt': '__africa__\n__europe__\n',
  'africa.txt': 'Zimbabwean\nNamibian\nBasotho\n',
  'europe.txt': 'Portuguese\nLatvian\n',
  'colours-cold.txt': '# colours-cold.txt\nblue\ngreen\n',
  'colours-warm.txt': '# colours-warm.txt:\nred\nyellow\n',
  'artists/dutch.txt': 'Rembrandt van Rijn\n',
  'artists/finnish/classic.txt': 'Akseli Gallen-Kallela\n',
  'example.yaml': [
    '# example.yaml',
    'clothing:',
    '  - T-shirt',
    '  - Pants',
    '  - Shoes',
    'painters:',
    '  finnish:',
    '    - Eero Järnefelt',
    '    - Helene Schjerfbeck',
    '  1234: 5678  # not a list: skipped',
    '  flurp: 12345  # not a list: skipped',
    '',
  ].join('\n'),
  'weighted.yaml': 'tint:\n  - 2::red\n  - 3::blue\n  - {text: green, weight: 0}\n',
  'sculptors.json': JSON.stringify({ sculptors: { french: ['Rodin', 'Claudel'] } }),
  'season_clothes.txt': 'In ${season}, I wear ${season} shirts and ${season} trousers\n',
  'examples.yaml': [
    'examples:',
    '  prompt:',
    "    - '${subject?=!{man|woman}} ${weather?=!{sun|rain}} ${drink?=!{__examples/drink__}} a " +
      "${subject} standing in the ${weather} drinking ${drink}'",
    '  drink:',
    '    - coffee',
    '    - tea',
    '  winter:',
    "    - '${weather=snow} ${drink=hot chocolate} __examples/prompt__'",
    '',
  ].join('\n'),
  'wrappers.txt': [
    'Art Deco, ..., sleek, geometric forms, art deco style',
    'Pop Art, ....., vivid colors, flat color, 2D, strong lines, Pop Art',
    '',
  ].join('\n'),
};

let library: WildcardLibrary;

beforeAll(async () => {
  ({ library } = await openLibrary(FILES));
});

afterAll(removeFolders);

/** Collapses runs of whitespace, as the document's examples are written. */
function squashed(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function prompt(template: string, seed: number): string {
  return expandPrompt(library, template, { seed }).prompt;
}

describe('variants', () => {
  it('basic syntax: one option of the list', () => {
    expect(outcomes(library, '{summer|autumn|winter|spring} is coming')).toEqual(
      new Set(['summer', 'autumn', 'winter', 'spring'].map((s) => `${s} is coming`)),
    );
  });

  it('weighting options: relative weights, 1 when omitted', () => {
    const counts = new Map<string, number>();
    const template = '{0.5::summer|0.1::autumn|0.3::winter|0.1::spring}';
    for (let seed = 0; seed < 4_000; seed += 1) {
      const season = prompt(template, seed);
      counts.set(season, (counts.get(season) ?? 0) + 1);
    }
    expect((counts.get('summer') ?? 0) / 4_000).toBeGreaterThan(0.45);
    expect((counts.get('summer') ?? 0) / 4_000).toBeLessThan(0.55);
    expect((counts.get('winter') ?? 0) / 4_000).toBeGreaterThan(0.25);
    expect((counts.get('winter') ?? 0) / 4_000).toBeLessThan(0.35);
    expect((counts.get('autumn') ?? 0) / 4_000).toBeLessThan(0.15);

    const omitted = outcomes(library, '{0.5::summer|autumn}', 200);
    expect(omitted).toEqual(new Set(['summer', 'autumn']));
  });

  it('choosing multiple values: distinct values joined with a comma', () => {
    const found = outcomes(
      library,
      'My favourite ice-cream flavours are {2$$chocolate|vanilla|strawberry}',
    );
    for (const text of found) {
      const picked = text.replace('My favourite ice-cream flavours are ', '').split(',');
      expect(picked).toHaveLength(2);
      expect(new Set(picked).size).toBe(2);
    }
    // Order matters: 3 * 2 ordered pairs.
    expect(found.size).toBe(6);
  });

  it('custom separator', () => {
    const found = outcomes(library, '{2$$ and $$chocolate|vanilla|strawberry}');
    expect(found).toContain('chocolate and vanilla');
    expect(found).toContain('vanilla and chocolate');
    expect([...found].every((text) => / and /.test(text))).toBe(true);
  });

  it('range of options: one or two picks', () => {
    const found = outcomes(library, '{1-2$$ and $$chocolate|vanilla|strawberry}');
    expect(found.size).toBe(3 + 6);
    expect(found).toContain('strawberry');
    expect(found).toContain('vanilla and chocolate');
  });

  it('omitting bounds: an open bound is 1 or the number of options', () => {
    expect(outcomes(library, '{-2$$chocolate|vanilla|strawberry}')).toEqual(
      outcomes(library, '{1-2$$chocolate|vanilla|strawberry}'),
    );
    expect(outcomes(library, '{1-$$chocolate|vanilla|strawberry}')).toEqual(
      outcomes(library, '{1-3$$chocolate|vanilla|strawberry}'),
    );
  });

  it('limitations: asking for more than exist gives all of them', () => {
    for (const text of outcomes(library, '{4$$chocolate|vanilla|strawberry}', 50)) {
      expect(text.split(',').sort()).toEqual(['chocolate', 'strawberry', 'vanilla']);
    }
  });
});

describe('wildcards', () => {
  it('basic syntax: one line of the file, comment lines skipped', () => {
    expect(outcomes(library, '__season__ is coming')).toEqual(
      new Set(['summer', 'autumn', 'winter', 'spring'].map((s) => `${s} is coming`)),
    );
  });

  it('wildcards in variants: {2$$__flavours__} never repeats, two wildcard options may', () => {
    for (const text of outcomes(library, '{2$$__flavours__}')) {
      const [first, second] = text.split(',');
      expect(first).not.toBe(second);
    }
    const repeats = [...outcomes(library, '{2$$__flavours__|__flavours__}')].filter((text) => {
      const [first, second] = text.split(',');
      return first === second;
    });
    expect(repeats.length).toBeGreaterThan(0);
  });

  it('variants in wildcards', () => {
    expect(outcomes(library, '__seasons-variant__ is coming')).toEqual(
      new Set(['summer', 'autumn', 'fall', 'winter', 'spring'].map((s) => `${s} is coming`)),
    );
  });

  it('nested wildcards: a value that is a wildcard is expanded in turn', () => {
    expect(outcomes(library, '__people_of_the_world__')).toEqual(
      new Set(['Zimbabwean', 'Namibian', 'Basotho', 'Portuguese', 'Latvian']),
    );
  });

  it('globbing: every matching file', () => {
    expect(outcomes(library, 'The colour of my shirt is __colours*__')).toEqual(
      new Set(['blue', 'green', 'red', 'yellow'].map((c) => `The colour of my shirt is ${c}`)),
    );
  });

  it('recursive globbing: any depth below a folder', () => {
    expect(outcomes(library, '__artists/**__', 100)).toEqual(
      new Set(['Rembrandt van Rijn', 'Akseli Gallen-Kallela']),
    );
  });
});

describe('file formats', () => {
  it('YAML: key paths are names, lists are values, other values are skipped', () => {
    expect(outcomes(library, '__clothing__', 100)).toEqual(new Set(['T-shirt', 'Pants', 'Shoes']));
    expect(outcomes(library, '__painters/finnish__', 100)).toEqual(
      new Set(['Eero Järnefelt', 'Helene Schjerfbeck']),
    );
    expect(library.names()).not.toContain('painters/1234');
    expect(library.names()).not.toContain('example/clothing');
    expect(library.problems.map((problem) => problem.message).join('\n')).toMatch(
      /painters\/flurp/,
    );
  });

  it('weighted options in YAML: 2::red and {text, weight}', () => {
    const counts = { red: 0, blue: 0, green: 0 } as Record<string, number>;
    for (let seed = 0; seed < 2_000; seed += 1) {
      const tint = prompt('__tint__', seed);
      counts[tint] = (counts[tint] ?? 0) + 1;
    }
    expect(counts['green']).toBe(0);
    expect((counts['blue'] ?? 0) / 2_000).toBeGreaterThan(0.55);
    expect((counts['blue'] ?? 0) / 2_000).toBeLessThan(0.65);
  });

  it('JSON: like YAML', () => {
    expect(outcomes(library, '__sculptors/french__', 100)).toEqual(new Set(['Rodin', 'Claudel']));
  });
});

describe('variables', () => {
  it('immediate evaluation: one value for every use', () => {
    for (const template of [
      '${season=!{summer|autumn|winter|spring}}In ${season}, I wear ${season} shirts and ${season} trousers',
      '${season=!__season__}In ${season}, I wear ${season} shirts and ${season} trousers',
    ]) {
      for (const text of outcomes(library, template, 100)) {
        const season = /^In (\w+),/.exec(text)?.[1];
        expect(text).toBe(`In ${season}, I wear ${season} shirts and ${season} trousers`);
      }
    }
  });

  it('non-immediate evaluation: a fresh value at every use', () => {
    const template =
      '${season=__season__}In ${season}, I wear ${season} shirts and ${season} trousers';
    const mixed = [...outcomes(library, template, 100)].filter((text) => {
      const [, first, second, third] = /^In (\w+), I wear (\w+) shirts and (\w+)/.exec(text) ?? [];
      return first !== second || second !== third;
    });
    expect(mixed.length).toBeGreaterThan(0);
  });

  it('a variable holding a whole description, used twice', () => {
    const template =
      '${person_description={blond|redhead|brunette}, {green|blue|brown|hazel} eyes, {tall|average|short}}' +
      'A ${person_description} man and a ${person_description} woman';
    const text = prompt(template, 5);
    expect(text).toMatch(/^A \w+, \w+ eyes, \w+ man and a \w+, \w+ eyes, \w+ woman$/);
  });
});

describe('parameterised templates', () => {
  it('basic syntax: a literal value passed to the template', () => {
    expect(prompt('__season_clothes(season=winter)__', 1)).toBe(
      'In winter, I wear winter shirts and winter trousers',
    );
  });

  it('a variable set before the wildcard reaches it', () => {
    const found = outcomes(
      library,
      '${season={summer|autumn|winter|spring}} __season_clothes__',
      100,
    );
    expect(
      [...found].every((text) => /^ In \w+, I wear \w+ shirts and \w+ trousers$/.test(text)),
    ).toBe(true);
  });

  it('default values', () => {
    expect(
      prompt(
        'In ${season:summer}, I wear ${season:summer} shirts and ${season:summer} trousers',
        1,
      ),
    ).toBe('In summer, I wear summer shirts and summer trousers');
  });

  it.each([
    [
      '${subject=boy} __examples/prompt__',
      /^a boy standing in the (sun|rain) drinking (coffee|tea)$/,
    ],
    [
      '${subject=cowboy} ${weather=sun} ${drink=sasparilla} __examples/prompt__',
      /^a cowboy standing in the sun drinking sasparilla$/,
    ],
    ['__examples/winter__', /^a (man|woman) standing in the snow drinking hot chocolate$/],
    [
      '${subject=boy} ${weather=rain} ${drink=iced tea} __examples/winter__',
      /^a boy standing in the snow drinking hot chocolate$/,
    ],
  ])('preserving existing values: %s', (template, expected) => {
    for (let seed = 0; seed < 20; seed += 1)
      expect(squashed(prompt(template, seed))).toMatch(expected);
  });
});

describe('whitespace and comments', () => {
  it('reads a template spread over lines with comments', () => {
    // The document's example lacks the `}` that closes `${season=`; it is added here.
    const template = [
      '    # Set the season variable',
      '    ${season={',
      '        summer',
      '\t|autumn',
      '\t# | fall    # commented this value out',
      '\t|winter',
      '\t|spring',
      '    }}',
      '',
      '   In ${season:summer}, I wear ${season:summer} shirts and ${season:summer} trousers',
    ].join('\n');
    for (let seed = 0; seed < 50; seed += 1) {
      const text = squashed(prompt(template, seed));
      expect(text).toMatch(
        /^In (summer|autumn|winter|spring) , I wear \w+ shirts and \w+ trousers$/,
      );
      expect(text).not.toContain('fall');
    }
  });
});

describe('samplers', () => {
  const template = 'A {red|green|blue} {square|circle}';

  it('random: values drawn from both variants', () => {
    expect(outcomes(library, template).size).toBe(6);
  });

  it('combinatorial: every combination, leftmost slowest', () => {
    expect(expandCombinations(library, template).map((result) => result.prompt)).toEqual([
      'A red square',
      'A red circle',
      'A green square',
      'A green circle',
      'A blue square',
      'A blue circle',
    ]);
  });

  it('cyclical: every node takes its options in turn', () => {
    const prompts = previewExpansion(library, template, { seed: 1, count: 4, mode: 'cyclical' });
    expect(prompts.map((result) => result.prompt)).toEqual([
      'A red square',
      'A green circle',
      'A blue square',
      'A red circle',
    ]);
  });

  it('{@...} inside a random expansion cycles while the rest is random', () => {
    const prompts = previewExpansion(library, '{red|green|blue} {@square|circle}', {
      seed: 3,
      count: 6,
    }).map((result) => result.prompt.split(' ')[1]);
    expect(prompts).toEqual(['square', 'circle', 'square', 'circle', 'square', 'circle']);
  });

  it('{~...} inside a combinatorial expansion gives one random value per combination', () => {
    const prompts = expandCombinations(library, '{red|green|blue} {~square|circle}').map(
      (result) => result.prompt,
    );
    expect(prompts).toHaveLength(3);
    expect(prompts.map((text) => text.split(' ')[0])).toEqual(['red', 'green', 'blue']);
    expect(prompts.every((text) => /^\w+ (square|circle)$/.test(text))).toBe(true);
  });

  it('cyclical nodes keep two lists in step', () => {
    const prompts = previewExpansion(
      library,
      '{@embedding1|embedding2} and {@embedding3|embedding4}',
      { seed: 0, count: 3 },
    ).map((result) => result.prompt);
    expect(prompts).toEqual([
      'embedding1 and embedding3',
      'embedding2 and embedding4',
      'embedding1 and embedding3',
    ]);
  });

  it('__@name__ cycles through a wildcard', () => {
    const prompts = previewExpansion(library, '__@season__', { seed: 9, count: 5 }).map(
      (result) => result.prompt,
    );
    expect(prompts).toEqual(['summer', 'autumn', 'winter', 'spring', 'summer']);
  });
});

describe('wrap', () => {
  it('puts the inner text where the wrapper has an ellipsis', () => {
    expect(outcomes(library, '%{__wrappers__$${fox|cow}}', 200)).toEqual(
      new Set([
        'Art Deco, cow, sleek, geometric forms, art deco style',
        'Art Deco, fox, sleek, geometric forms, art deco style',
        'Pop Art, cow, vivid colors, flat color, 2D, strong lines, Pop Art',
        'Pop Art, fox, vivid colors, flat color, 2D, strong lines, Pop Art',
      ]),
    );
  });

  it.each(['…', '᠁', '.........', '...'])('accepts %s as the placeholder', (placeholder) => {
    expect(outcomes(library, `%{happy ${placeholder} on a meadow$\${fox|cow}}`, 50)).toEqual(
      new Set(['happy fox on a meadow', 'happy cow on a meadow']),
    );
  });

  it('without a placeholder the wrapper is a prefix; a leading one makes it a suffix', () => {
    expect(prompt('%{happy $${fox}}', 1)).toBe('happy fox');
    expect(prompt('%{... in jail$${fox}}', 1)).toBe('fox in jail');
    expect(expandCombinations(library, '%{... in jail$${fox|cow}}').map((r) => r.prompt)).toEqual([
      'fox in jail',
      'cow in jail',
    ]);
  });
});
