import { describe, expect, it } from 'vitest';

import { ModelRegistry } from '../../src/engine/model-registry.js';
import { OptionsStore, pyEquals } from '../../src/engine/options-store.js';
import { PythonException } from '../../src/http/errors.js';
import { pyFloat } from '../../src/python-format.js';

function store(): { options: OptionsStore; models: ModelRegistry } {
  const holder: { models?: ModelRegistry } = {};
  const options = new OptionsStore({}, () => holder.models as ModelRegistry);
  const models = new ModelRegistry((key) => options.get(key));
  holder.models = models;
  return { options, models };
}

describe('pyEquals', () => {
  it('compares as Python ==', () => {
    expect(pyEquals(1, pyFloat(1))).toBe(true);
    expect(pyEquals(true, 1)).toBe(true);
    expect(pyEquals(undefined, null)).toBe(true);
    expect(pyEquals([1, { a: 'x' }], [1, { a: 'x' }])).toBe(true);
    expect(pyEquals('1', 1)).toBe(false);
  });
});

describe('OptionsStore.setConfig', () => {
  it('applies keys in order and keeps earlier ones when a later key fails', () => {
    const { options } = store();
    expect(() => options.setConfig({ jpeg_quality: 90, nope: 1 })).toThrow(PythonException);
    expect(options.get('jpeg_quality')).toBe(90);
  });

  it('skips unknown keys whose value is None, as Options.set does', () => {
    const { options } = store();
    expect(() => options.setConfig({ nope: null })).not.toThrow();
  });

  it('stores a checkpoint alias as given and refreshes the loading parameters', () => {
    const { options, models } = store();
    models.completeLoad();
    options.setConfig({ sd_model_checkpoint: '31e35c80fc' });
    expect(options.get('sd_model_checkpoint')).toBe('31e35c80fc');
    expect(models.needsLoad()).toBe(true);
  });

  it('raises TypeError for a module list that is not iterable', () => {
    const { options } = store();
    expect(() => options.setConfig({ forge_additional_modules: 5 })).toThrow(
      "'int' object is not iterable",
    );
  });
});
