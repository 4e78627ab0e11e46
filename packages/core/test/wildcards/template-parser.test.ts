import { describe, expect, it } from 'vitest';

import type {
  SequenceNode,
  TemplateNode,
  VariantNode,
  WildcardNode,
} from '../../src/wildcards/template-ast.js';
import {
  MAX_NESTING,
  MAX_TEMPLATE_CHARS,
  parseTemplate,
} from '../../src/wildcards/template-parser.js';
import { expectWildcardError } from './helpers.js';

function root(text: string): TemplateNode {
  return parseTemplate(text).root;
}

function variant(text: string): VariantNode {
  const node = root(text);
  if (node.type !== 'variant') throw new Error(`expected a variant, got ${node.type}`);
  return node;
}

function wildcard(text: string): WildcardNode {
  const node = root(text);
  if (node.type !== 'wildcard') throw new Error(`expected a wildcard, got ${node.type}`);
  return node;
}

function sequence(text: string): SequenceNode {
  const node = root(text);
  if (node.type !== 'sequence') throw new Error(`expected a sequence, got ${node.type}`);
  return node;
}

/** The text of a node made only of text. */
function textOf(node: TemplateNode | undefined): string {
  if (node?.type !== 'text') throw new Error(`expected text, got ${node?.type}`);
  return node.text;
}

describe('parseTemplate: text', () => {
  it('keeps plain text as one node, and reuses the tree of a template parsed before', () => {
    const first = parseTemplate('a photo of a cat, (detailed:1.2)');

    expect(first.root).toEqual({ type: 'text', text: 'a photo of a cat, (detailed:1.2)' });
    expect(parseTemplate('a photo of a cat, (detailed:1.2)')).toBe(first);
  });

  it('leaves characters that only look like syntax as text', () => {
    expect(textOf(root('50% off, $5, a}b|c, ^__^, snake_case, a__b, __ a __'))).toBe(
      '50% off, $5, a}b|c, ^__^, snake_case, a__b, __ a __',
    );
  });

  it('turns escaped syntax characters into text and keeps other backslashes for Forge', () => {
    expect(textOf(root('\\{a\\|b\\} \\$\\{x\\} \\#1 \\_\\_n\\_\\_ \\%\\{ \\(paren\\) \\\\'))).toBe(
      '{a|b} ${x} #1 __n__ %{ \\(paren\\) \\\\',
    );
  });

  it('drops # comments to the end of the line, also inside variants', () => {
    const node = sequence('one # note\ntwo {cat # | dog\n|bird}');

    expect(textOf(node.parts[0])).toBe('one \ntwo ');
    const inner = node.parts[1];
    expect(inner?.type).toBe('variant');
    expect((inner as VariantNode).options.map((option) => option.raw)).toEqual([
      'cat # | dog\n',
      'bird',
    ]);
    expect((inner as VariantNode).options.map((option) => textOf(option.body))).toEqual([
      'cat \n',
      'bird',
    ]);
  });
});

describe('parseTemplate: variants', () => {
  it('reads options, dropping whitespace before each one and keeping it after', () => {
    const node = variant('{ summer |autumn| winter}');

    expect(node.options.map((option) => textOf(option.body))).toEqual([
      'summer ',
      'autumn',
      'winter',
    ]);
    expect([node.min, node.max, node.separator, node.sampler]).toEqual([1, 1, ',', null]);
    expect(node.cumulative).toBeNull();
  });

  it('reads weights, 1 where none is written, as cumulative weights', () => {
    const node = variant('{0.5::summer|autumn|2::winter|.5::spring|0::never}');

    expect(node.options.map((option) => option.weight)).toEqual([0.5, 1, 2, 0.5, 0]);
    expect(Array.from(node.cumulative ?? [])).toEqual([0.5, 1.5, 3.5, 4, 4]);
    expect(node.options.map((option) => option.raw)).toEqual([
      'summer',
      'autumn',
      'winter',
      'spring',
      'never',
    ]);
  });

  it.each([
    ['{2$$a|b|c}', 2, 2, ','],
    ['{1-3$$a|b|c}', 1, 3, ','],
    ['{-2$$a|b|c}', 1, 2, ','],
    ['{1-$$a|b|c}', 1, Number.POSITIVE_INFINITY, ','],
    ['{0-1$$a|b|c}', 0, 1, ','],
    ['{2$$ and $$a|b|c}', 2, 2, ' and '],
    ['{2$$|$$a|b|c}', 2, 2, '|'],
    ['{2$$  $$a|b|c}', 2, 2, '  '],
    ['{1-2$$, $$a|b}', 1, 2, ', '],
  ])('reads the count and separator of %s', (text, min, max, separator) => {
    const node = variant(text);

    expect([node.min, node.max, node.separator]).toEqual([min, max, separator]);
    expect(node.options.map((option) => textOf(option.body))).toEqual(
      text.endsWith('a|b}') ? ['a', 'b'] : ['a', 'b', 'c'],
    );
  });

  it('reads sampler marks: ~ random, @ cyclical, ! combinatorial', () => {
    expect(variant('{~a|b}').sampler).toBe('random');
    expect(variant('{@a|b}').sampler).toBe('cyclical');
    expect(variant('{!2$$a|b}').sampler).toBe('combinatorial');
    expect(parseTemplate('{@a|b}').usesCycles).toBe(true);
    expect(parseTemplate('{~a|b}').usesCycles).toBe(false);
  });

  it('marks a variant whose only option is a wildcard, for distinct picks of its values', () => {
    expect(variant('{2$$__flavours__}').wildcardOnly?.staticPath).toBe('flavours');
    expect(variant('{2$$__flavours__|__flavours__}').wildcardOnly).toBeNull();
    expect(variant('{2$$ __flavours__ and more}').wildcardOnly).toBeNull();
  });

  it('nests variants and wildcards in options, and reads empty options', () => {
    const node = variant('{a {b|c}|__d__||}');

    expect(node.options.map((option) => option.body.type)).toEqual([
      'sequence',
      'wildcard',
      'text',
      'text',
    ]);
    expect(node.options.map((option) => option.raw)).toEqual(['a {b|c}', '__d__', '', '']);
  });
});

describe('parseTemplate: wildcards', () => {
  it('reads names with folders, globs, sampler marks and the raw token', () => {
    expect(wildcard('__animals/cats__')).toMatchObject({
      staticPath: 'animals/cats',
      sampler: null,
      raw: '__animals/cats__',
      parameters: [],
    });
    expect(wildcard('__colors/*__').staticPath).toBe('colors/*');
    expect(wildcard('__@colours__')).toMatchObject({ staticPath: 'colours', sampler: 'cyclical' });
    expect(wildcard('__north_america__').staticPath).toBe('north_america');
    expect(wildcard('__hair color__').staticPath).toBe('hair color');
  });

  it('reads parameters as name=value pairs', () => {
    const node = wildcard('__season_clothes(season=winter, mood={calm|wild})__');

    expect(node.staticPath).toBe('season_clothes');
    expect(node.parameters.map((parameter) => parameter.name)).toEqual(['season', 'mood']);
    expect(textOf(node.parameters[0]?.value)).toBe('winter');
    expect(node.parameters[1]?.value.type).toBe('variant');
  });

  it('reads names built from variables and variants', () => {
    const node = wildcard('__${kind}/{big|small}__');

    expect(node.staticPath).toBeNull();
    expect(node.path.type).toBe('sequence');
    expect((node.path as SequenceNode).parts.map((part) => part.type)).toEqual([
      'variable',
      'text',
      'variant',
    ]);
  });

  it('keeps the token of a name that does not close as text', () => {
    expect(sequence('__a b__ and __x').parts.map((part) => part.type)).toEqual([
      'wildcard',
      'text',
    ]);
    expect(textOf(root('__ a__'))).toBe('__ a__');
    expect(textOf(root('__a #x__'))).toBe('__a ');
    expect(textOf(root('____'))).toBe('____');
  });
});

describe('parseTemplate: variables and wraps', () => {
  it('reads reads, defaults and the three kinds of assignment', () => {
    const node = sequence('${a=red }${b=!{x|y}}${c?=blue}${d?=!__e__} ${a} ${f:plain }');

    expect(node.assignments.map((a) => [a.name, a.immediate, a.keepExisting])).toEqual([
      ['a', false, false],
      ['b', true, false],
      ['c', false, true],
      ['d', true, true],
    ]);
    expect(textOf(node.assignments[0]?.value)).toBe('red');
    expect(node.parts.map((part) => part.type)).toEqual(['text', 'variable', 'text', 'variable']);
    const withDefault = node.parts[3];
    expect(withDefault?.type === 'variable' && textOf(withDefault.fallback ?? undefined)).toBe(
      'plain',
    );
  });

  it('lifts assignments out of the sequence they are written in', () => {
    const node = sequence('${x} then ${x=late}');

    expect(node.assignments.map((a) => a.name)).toEqual(['x']);
    expect(node.parts.map((part) => part.type)).toEqual(['variable', 'text']);
  });

  it('reads a wrap into its wrapper and inner parts', () => {
    const node = root('%{happy ... on a meadow$${fox|cow}}');

    expect(node.type).toBe('wrap');
    if (node.type !== 'wrap') return;
    expect(textOf(node.wrapper)).toBe('happy ... on a meadow');
    expect(node.inner.type).toBe('variant');
  });
});

describe('parseTemplate: errors', () => {
  it.each([
    ['a {b|c', 2, "'{' is never closed"],
    ['x\n  {a|{b}', 4, "'{' is never closed"],
    ['${season=summer', 0, "'${' is never closed"],
    ['${ }', 0, 'expected a variable name'],
    ['${1x}', 0, 'expected a variable name'],
    ['${x!}', 3, "expected '}', ':' or '='"],
    ['%{a b}', 0, "needs '$$'"],
    ['%{a$$b', 0, "'%{' is never closed"],
    ['{3-1$$a|b}', 0, 'lower bound above its upper'],
    ['{-1::a|b}', 1, 'weights are 0 or more'],
    ['__f(x)__', 4, 'name=value'],
  ])('rejects %j with its position', (text, position, message) => {
    const error = expectWildcardError(() => parseTemplate(text), 'FT_ERR_WILDCARD_SYNTAX');

    expect(error.message).toContain(message);
    expect(error.details.position).toBe(position);
    expect(error.details.source).toBe('template');
    expect(error.message).toMatch(/\(in template at line \d+, column \d+\)$/);
  });

  it('gives line and column from the start of the source text', () => {
    const error = expectWildcardError(
      () => parseTemplate('ok\n{a|b', { source: 'user/x.txt:7', firstLine: 7 }),
      'FT_ERR_WILDCARD_SYNTAX',
    );

    expect(error.details).toMatchObject({ source: 'user/x.txt:7', line: 8, column: 1 });
  });

  it('refuses nesting deeper than the limit, and templates longer than the limit', () => {
    const deep = '{'.repeat(MAX_NESTING + 1) + '}'.repeat(MAX_NESTING + 1);
    expect(
      expectWildcardError(() => parseTemplate(deep), 'FT_ERR_WILDCARD_SYNTAX').message,
    ).toContain(`more than ${MAX_NESTING} levels`);
    expect(() => parseTemplate('{'.repeat(MAX_NESTING) + '}'.repeat(MAX_NESTING))).not.toThrow();

    const long = 'a'.repeat(MAX_TEMPLATE_CHARS + 1);
    const error = expectWildcardError(() => parseTemplate(long), 'FT_ERR_WILDCARD_LIMIT');
    expect(error.details.limit).toBe(MAX_TEMPLATE_CHARS);
  });
});
