/**
 * Options of the simulator, their defaults and their validation.
 */

/** Failures the simulator injects into generation requests, to test clients against them. */
export interface SimFaults {
  /**
   * Probability (0-1) that a generation fails part-way with a generic 500 in Forge's exception
   * shape (`RuntimeError`).
   * @defaultValue 0
   */
  failureRate: number;
  /**
   * Probability (0-1) that a generation fails at its first sampling step with a 500
   * `OutOfMemoryError` carrying PyTorch's CUDA out-of-memory message.
   * @defaultValue 0
   */
  oomRate: number;
  /**
   * Probability (0-1) that the connection is destroyed instead of answered: half of the drops
   * happen before any byte, the other half after the headers and half of the body.
   * @defaultValue 0
   */
  dropRate: number;
  /**
   * Milliseconds every generation stalls after taking the lock and before sampling (0 = never).
   * A hang longer than the client's timeout models a stuck server.
   * @defaultValue 0
   */
  hangMs: number;
  /**
   * After start, every Forge request waits until this many milliseconds have passed since the
   * start, as a server that is still booting (the `/_sim/*` routes do not wait).
   * @defaultValue 0
   */
  slowStartMs: number;
}

/** Options of {@link startForgeSim}. */
export interface ForgeSimOptions {
  /**
   * TCP port; 0 picks any free port.
   * @defaultValue 7860
   */
  port?: number;
  /**
   * Interface to listen on.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * `'webui'` behaves like `--api` (with `/internal/*` routes); `'nowebui'` like `--nowebui`.
   * @defaultValue 'webui'
   */
  mode?: 'webui' | 'nowebui';
  /**
   * Forge's `--api-auth` syntax, `user:pass,user2:pass2`; empty or absent means no auth.
   * @defaultValue ''
   */
  apiAuth?: string;
  /**
   * Time per sampling step, in milliseconds.
   * @defaultValue 25
   */
  stepMs?: number;
  /**
   * Time per image to decode the latent (VAE), in milliseconds.
   * @defaultValue 10
   */
  imageMs?: number;
  /**
   * Time to load a checkpoint when the requested one differs from the loaded one, in milliseconds.
   * @defaultValue 200
   */
  loadMs?: number;
  /**
   * Initial value of the `show_progress_every_n_steps` option; 0 means "keep Forge's default
   * of 10".
   * @defaultValue 0
   */
  previewEveryNSteps?: number;
  /**
   * Faults active from the start; see {@link SimFaults}.
   * @defaultValue no faults
   */
  faults?: Partial<SimFaults>;
  /**
   * Source of randomness for `-1` seeds, task ids and faults, returning numbers in [0, 1).
   * @defaultValue Math.random
   */
  random?: () => number;
  /**
   * Receives one line per request and per notable event.
   * @defaultValue silent
   */
  logger?: (line: string) => void;
}

/** Every option filled in. */
export type ResolvedSimOptions = Required<Omit<ForgeSimOptions, 'faults'>> & {
  readonly faults: SimFaults;
};

/** The faults when none are asked for. */
export const DEFAULT_SIM_FAULTS = Object.freeze({
  failureRate: 0,
  oomRate: 0,
  dropRate: 0,
  hangMs: 0,
  slowStartMs: 0,
} satisfies SimFaults);

/** Defaults of every {@link ForgeSimOptions} option. */
export const DEFAULT_SIM_OPTIONS = Object.freeze({
  port: 7860,
  host: '127.0.0.1',
  mode: 'webui',
  apiAuth: '',
  stepMs: 25,
  imageMs: 10,
  loadMs: 200,
  previewEveryNSteps: 0,
  faults: DEFAULT_SIM_FAULTS,
  random: Math.random,
  logger: () => undefined,
} satisfies Required<ForgeSimOptions>);

/** Thrown for an option or fault value that is not allowed. */
export class SimOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimOptionsError';
  }
}

const RATE_KEYS = ['failureRate', 'oomRate', 'dropRate'] as const;
const DURATION_KEYS = ['hangMs', 'slowStartMs'] as const;
const FAULT_KEYS: ReadonlySet<string> = new Set([...RATE_KEYS, ...DURATION_KEYS]);

/**
 * Checks a partial set of faults and merges it over `base`.
 *
 * @throws SimOptionsError naming the first bad key and what it allows
 */
export function mergeFaults(base: SimFaults, update: unknown, prefix = 'faults'): SimFaults {
  if (typeof update !== 'object' || update === null || Array.isArray(update)) {
    throw new SimOptionsError(
      `${prefix} must be an object with any of: ${[...FAULT_KEYS].join(', ')}`,
    );
  }
  const merged: SimFaults = { ...base };
  for (const [key, value] of Object.entries(update)) {
    if (!FAULT_KEYS.has(key)) {
      throw new SimOptionsError(
        `${prefix}.${key} is not a fault; known: ${[...FAULT_KEYS].join(', ')}`,
      );
    }
    if (value === undefined) continue;
    merged[key as keyof SimFaults] = checkFault(key, value, prefix);
  }
  return merged;
}

function checkFault(key: string, value: unknown, prefix: string): number {
  const isRate = (RATE_KEYS as readonly string[]).includes(key);
  if (isRate) {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new SimOptionsError(
        `${prefix}.${key} must be a number from 0 to 1, got ${show(value)}`,
      );
    }
    return value;
  }
  return checkDuration(`${prefix}.${key}`, value);
}

function checkDuration(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SimOptionsError(
      `${name} must be a finite number of milliseconds >= 0, got ${show(value)}`,
    );
  }
  return value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Fills in defaults and checks every option.
 *
 * @throws SimOptionsError naming the option and what it allows
 */
export function resolveSimOptions(options: ForgeSimOptions = {}): ResolvedSimOptions {
  const port = options.port ?? DEFAULT_SIM_OPTIONS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new SimOptionsError(`options.port must be an integer from 0 to 65535, got ${show(port)}`);
  }
  const mode = options.mode ?? DEFAULT_SIM_OPTIONS.mode;
  if (mode !== 'webui' && mode !== 'nowebui') {
    throw new SimOptionsError(`options.mode must be 'webui' or 'nowebui', got ${show(mode)}`);
  }
  const previewEveryNSteps = options.previewEveryNSteps ?? DEFAULT_SIM_OPTIONS.previewEveryNSteps;
  if (!Number.isInteger(previewEveryNSteps) || previewEveryNSteps < -1) {
    throw new SimOptionsError(
      `options.previewEveryNSteps must be an integer >= -1 (0 keeps the option's default), got ${show(previewEveryNSteps)}`,
    );
  }
  return {
    port,
    host: checkText('host', options.host ?? DEFAULT_SIM_OPTIONS.host),
    mode,
    apiAuth: options.apiAuth ?? DEFAULT_SIM_OPTIONS.apiAuth,
    stepMs: checkDuration('options.stepMs', options.stepMs ?? DEFAULT_SIM_OPTIONS.stepMs),
    imageMs: checkDuration('options.imageMs', options.imageMs ?? DEFAULT_SIM_OPTIONS.imageMs),
    loadMs: checkDuration('options.loadMs', options.loadMs ?? DEFAULT_SIM_OPTIONS.loadMs),
    previewEveryNSteps,
    faults: mergeFaults(DEFAULT_SIM_FAULTS, options.faults ?? {}, 'options.faults'),
    random: checkFunction('random', options.random ?? DEFAULT_SIM_OPTIONS.random),
    logger: checkFunction('logger', options.logger ?? DEFAULT_SIM_OPTIONS.logger),
  };
}

function checkText(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new SimOptionsError(`options.${name} must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

function checkFunction<Fn>(name: string, value: Fn): Fn {
  if (typeof value !== 'function') {
    throw new SimOptionsError(`options.${name} must be a function, got ${typeof value}`);
  }
  return value;
}
