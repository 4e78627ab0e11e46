/**
 * Forge's settings (`shared.opts`) and `modules/sysinfo.py` `set_config`, which both
 * `POST /sdapi/v1/options` and per-request `override_settings` go through.
 */
import { defaultOptions, formatOptionsResponse, isKnownOption } from '../catalog/index.js';
import { keyError, PythonException, pythonTypeName } from '../http/errors.js';
import { isPyFloat, pyRepr } from '../python-format.js';
import type { ModelRegistry } from './model-registry.js';

const MEMORY_KEYS: ReadonlySet<string> = new Set([
  'forge_inference_memory',
  'forge_async_loading',
  'forge_pin_shared_memory',
]);

/** The option values, plus the rules for changing them. */
export class OptionsStore {
  #data: Record<string, unknown>;
  readonly #initial: Readonly<Record<string, unknown>>;
  readonly #models: () => ModelRegistry;

  /**
   * @param overrides - values that replace the defaults at start (e.g. the preview interval)
   * @param models - the model registry, read lazily because it reads these options too
   */
  constructor(overrides: Readonly<Record<string, unknown>>, models: () => ModelRegistry) {
    this.#initial = { ...defaultOptions(), ...overrides };
    this.#data = { ...this.#initial };
    this.#models = models;
  }

  /** `opts.data.get(key)`: `undefined` for a key never set. */
  get(key: string): unknown {
    return this.#data[key];
  }

  /** The `GET /sdapi/v1/options` body. */
  response(): Record<string, unknown> {
    return formatOptionsResponse(this.#data);
  }

  /** The values `process_images` saves before applying overrides (known keys only). */
  snapshot(keys: readonly string[]): Record<string, unknown> {
    const stored: Record<string, unknown> = {};
    for (const key of keys) {
      if (Object.hasOwn(this.#data, key)) stored[key] = this.#data[key];
    }
    return stored;
  }

  /** Sets a value directly, as Forge's own code does (e.g. `sd_checkpoint_hash` after a load). */
  assign(key: string, value: unknown): void {
    this.#data[key] = value;
  }

  /**
   * `main_entry.checkpoint_change` without the alias check: stores `value` when it resolves to a
   * different checkpoint than the current choice.
   *
   * @returns whether the choice changed
   */
  changeCheckpoint(value: string | null): boolean {
    const models = this.#models();
    const next = models.findClosest(value);
    const current = models.findClosest(stringOrNull(this.#data['sd_model_checkpoint']));
    if (next?.name === current?.name) return false;
    this.#data['sd_model_checkpoint'] = value;
    return true;
  }

  /** `refresh_model_loading_parameters`. */
  refreshModelLoading(): void {
    this.#models().refreshLoadingParameters((key) => this.get(key));
  }

  /** Back to the values at start (the simulator's reset route). */
  reset(): void {
    this.#data = { ...this.#initial };
  }

  /**
   * `set_config`: applies each key in order (earlier keys stay applied when a later one fails),
   * skipping values equal to the current one.
   *
   * @throws PythonException RuntimeError for an unknown checkpoint, KeyError for an unknown
   *   option, TypeError for a module list that is not iterable
   */
  setConfig(request: Readonly<Record<string, unknown>>): void {
    let refresh = false;
    const memoryChanges: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(request)) {
      if (pyEquals(value, this.#data[key])) continue;
      if (key === 'sd_model_checkpoint') refresh = this.#setCheckpoint(value) || refresh;
      else if (key === 'forge_additional_modules') refresh = this.changeModules(value) || refresh;
      else if (MEMORY_KEYS.has(key)) memoryChanges[key] = value;
      else this.#set(key, value);
    }
    if (Object.keys(memoryChanges).length > 0) {
      Object.assign(this.#data, memoryChanges);
      refresh = true;
    }
    if (refresh) this.refreshModelLoading();
  }

  /** `Options.set`: unknown keys fail unless the value equals what `data.get` returns. */
  #set(key: string, value: unknown): void {
    if (pyEquals(this.#data[key], value)) return;
    if (!isKnownOption(key)) throw keyError(key);
    this.#data[key] = value;
  }

  #setCheckpoint(value: unknown): boolean {
    const models = this.#models();
    if (value !== null) {
      if (Array.isArray(value) || (typeof value === 'object' && !isPyFloat(value))) {
        throw new PythonException('TypeError', `unhashable type: '${pythonTypeName(value)}'`);
      }
      if (typeof value !== 'string' || !models.findExact(value)) {
        throw new PythonException('RuntimeError', `model ${pyRepr(value)} not found`);
      }
    }
    return this.changeCheckpoint(value as string | null);
  }

  /**
   * `main_entry.modules_change`: maps file names (or paths) to the install's module paths,
   * silently dropping unknown ones, and stores the list when it differs from the current one.
   *
   * @returns whether the list changed
   * @throws PythonException TypeError when `value` is not iterable or holds non-strings
   */
  changeModules(value: unknown): boolean {
    const models = this.#models();
    const paths: string[] = [];
    for (const entry of pythonIterate(value)) {
      if (typeof entry !== 'string') {
        const type = pythonTypeName(entry);
        throw new PythonException(
          'TypeError',
          `expected str, bytes or os.PathLike object, not ${type}`,
        );
      }
      const path = models.modulePath(basename(entry));
      if (path !== undefined) paths.push(path);
    }
    const current = this.#data['forge_additional_modules'];
    const currentList = Array.isArray(current) ? current.map(String) : [];
    if (JSON.stringify([...paths].sort()) === JSON.stringify([...currentList].sort())) return false;
    this.#data['forge_additional_modules'] = paths;
    return true;
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Python's `os.path.basename` on a POSIX path. */
function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** What a Python `for` loop over a JSON value visits; non-iterables raise TypeError. */
function pythonIterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (typeof value === 'object' && value !== null && !isPyFloat(value)) return Object.keys(value);
  throw new PythonException('TypeError', `'${pythonTypeName(value)}' object is not iterable`);
}

/**
 * Python's `==` between JSON values: `1 == 1.0 == True`, lists and dicts compare by content,
 * and `None` only equals `None` (an absent key reads as `None`).
 */
export function pyEquals(left: unknown, right: unknown): boolean {
  const a = normalize(left);
  const b = normalize(right);
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => pyEquals(item, b[index]));
  }
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  const keys = Object.keys(recordA);
  if (keys.length !== Object.keys(recordB).length) return false;
  return keys.every((key) => Object.hasOwn(recordB, key) && pyEquals(recordA[key], recordB[key]));
}

function normalize(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (isPyFloat(value)) return value.value;
  return value;
}
