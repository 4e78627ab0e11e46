import { describe, expect, it } from 'vitest';

import {
  validateField,
  validateModel,
  type FieldSpec,
} from '../../src/http/pydantic-validation.js';
import { isPyFloat, pyFloat } from '../../src/python-format.js';

const int: FieldSpec = { name: 'n', type: { kind: 'int' }, nullable: true, default: 1 };
const float: FieldSpec = {
  name: 'f',
  type: { kind: 'float' },
  nullable: false,
  default: pyFloat(1),
};
const bool: FieldSpec = { name: 'b', type: { kind: 'bool' }, nullable: true, default: null };

function value(field: FieldSpec, input: unknown): unknown {
  const result = validateField(field, input, ['body', field.name]);
  if (!result.ok) throw new Error(result.issues[0]?.type);
  return result.value;
}

function issueType(field: FieldSpec, input: unknown): string | undefined {
  const result = validateField(field, input, ['body', field.name]);
  return result.ok ? undefined : result.issues[0]?.type;
}

describe('lax coercion', () => {
  it('coerces ints like pydantic 2', () => {
    expect(value(int, '20')).toBe(20);
    expect(value(int, ' 7 ')).toBe(7);
    expect(value(int, 20.0)).toBe(20);
    expect(value(int, '3.0')).toBe(3);
    expect(value(int, true)).toBe(1);
    expect(value(int, null)).toBeNull();
    expect(issueType(int, 20.5)).toBe('int_from_float');
    expect(issueType(int, 'abc')).toBe('int_parsing');
    expect(issueType(int, [])).toBe('int_type');
  });

  it('turns numbers into Python floats and refuses null where the type is not Optional', () => {
    const seven = value(float, 7);
    expect(isPyFloat(seven) && seven.value === 7).toBe(true);
    expect(Number(value(float, '2.5'))).toBe(2.5);
    expect(issueType(float, 'x')).toBe('float_parsing');
    expect(issueType(float, null)).toBe('float_type');
  });

  it('reads booleans from words and 0/1 only', () => {
    expect(value(bool, 'yes')).toBe(true);
    expect(value(bool, 'OFF')).toBe(false);
    expect(value(bool, 1)).toBe(true);
    expect(issueType(bool, 2)).toBe('bool_parsing');
    expect(issueType(bool, 'maybe')).toBe('bool_parsing');
    expect(issueType(bool, {})).toBe('bool_type');
  });

  it('checks Field constraints with their ctx', () => {
    const ranged: FieldSpec = {
      name: 'v',
      type: { kind: 'float' },
      nullable: false,
      default: 0,
      ge: 0,
      le: 1,
    };
    const result = validateField(ranged, 1.5, ['body', 'v']);
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          type: 'less_than_equal',
          loc: ['body', 'v'],
          msg: 'Input should be less than or equal to 1',
          input: 1.5,
          ctx: { le: 1 },
          url: 'https://errors.pydantic.dev/2.8/v/less_than_equal',
        },
      ],
    });
  });
});

describe('validateModel', () => {
  const model = {
    title: 'M',
    fields: [int, { name: 'req', type: { kind: 'str' }, nullable: false } as FieldSpec],
  };

  it('fills defaults, ignores unknown keys and reports missing required fields', () => {
    expect(validateModel(model, { req: 'x', other: 1 }, ['body'])).toEqual({
      ok: true,
      value: { n: 1, req: 'x' },
    });
    const missing = validateModel(model, {}, ['body']);
    expect(missing.ok ? [] : missing.issues.map((entry) => [entry.type, entry.loc])).toEqual([
      ['missing', ['body', 'req']],
    ]);
  });

  it('refuses a body that is not an object', () => {
    const result = validateModel(model, [1], ['body']);
    expect(result.ok ? undefined : result.issues[0]?.type).toBe('model_attributes_type');
  });
});
