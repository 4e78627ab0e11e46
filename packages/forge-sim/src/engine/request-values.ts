/**
 * Typed reads of a validated request model (whose floats are {@link PyFloat}s).
 */
import { isPyFloat, type PyNumber } from '../python-format.js';

/** A validated request: every field of its model, Python-typed. */
export class RequestValues {
  readonly #values: Record<string, unknown>;

  constructor(values: Record<string, unknown>) {
    this.#values = values;
  }

  /** The raw (Python-typed) value; what the response echoes as `parameters`. */
  raw(key: string): unknown {
    return this.#values[key];
  }

  /** Replaces a value, as Forge's handlers mutate the request object. */
  set(key: string, value: unknown): void {
    this.#values[key] = value;
  }

  /** Every field, in model order (the `parameters` echo). */
  all(): Record<string, unknown> {
    return this.#values;
  }

  /** A number (int or float), or null. */
  number(key: string): number | null {
    const value = this.#values[key];
    if (isPyFloat(value)) return value.value;
    return typeof value === 'number' ? value : null;
  }

  /** A number keeping its Python type (for infotexts and `info`), or null. */
  pyNumber(key: string): PyNumber | null {
    const value = this.#values[key];
    return typeof value === 'number' || isPyFloat(value) ? value : null;
  }

  /** A string, or null. */
  text(key: string): string | null {
    const value = this.#values[key];
    return typeof value === 'string' ? value : null;
  }

  /** A boolean, or null. */
  flag(key: string): boolean | null {
    const value = this.#values[key];
    return typeof value === 'boolean' ? value : null;
  }

  /** An array, or null. */
  list(key: string): unknown[] | null {
    const value = this.#values[key];
    return Array.isArray(value) ? value : null;
  }

  /** A JSON object, or null. */
  record(key: string): Record<string, unknown> | null {
    const value = this.#values[key];
    return typeof value === 'object' && value !== null && !Array.isArray(value) && !isPyFloat(value)
      ? (value as Record<string, unknown>)
      : null;
  }
}
