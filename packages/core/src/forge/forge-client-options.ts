/**
 * Options of {@link ForgeClient}: their defaults, their validation and the resolved, frozen form.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';

/** Credentials for a Forge started with `--api-auth user:password` (HTTP Basic). */
export interface ForgeAuth {
  /** User name; HTTP Basic forbids a `:` in it. */
  username: string;
  /** Password. */
  password: string;
}

/** Options of one {@link ForgeClient}, i.e. one Forge server. */
export interface ForgeClientOptions {
  /**
   * Where Forge listens, e.g. `http://127.0.0.1:7860` (`--api`) or `http://gpu-1:7861`
   * (`--nowebui`). A path prefix is kept (`https://proxy.example/forge`).
   */
  baseUrl: string;
  /**
   * The backend's name in errors and logs.
   * @defaultValue `host:port` of {@link ForgeClientOptions.baseUrl}
   */
  name?: string;
  /** HTTP Basic credentials for `--api-auth`; without them no `Authorization` header is sent. */
  auth?: ForgeAuth;
  /**
   * Deadline for txt2img, img2img and extras, which hold the request open until every image is
   * done and may first wait for a model to load.
   * @defaultValue `600_000` (10 minutes)
   */
  generationTimeoutMs?: number;
  /**
   * Deadline for every other call (lists, options, progress, ...).
   * @defaultValue `10_000`
   */
  probeTimeoutMs?: number;
  /**
   * Size of the keep-alive connection pool to this server.
   * @defaultValue `4`
   */
  connections?: number;
  /**
   * How long an idle connection stays open.
   * @defaultValue `4_000`
   */
  keepAliveTimeoutMs?: number;
  /**
   * Where request lines go (debug level).
   * @defaultValue a logger that drops everything
   */
  logger?: Logger;
}

/** Per-call options every client method accepts. */
export interface ForgeCallOptions {
  /** Aborts the request; the call then fails with `FT_ERR_FORGE_ABORTED`. */
  signal?: AbortSignal;
  /** Overrides the client's deadline for this call, in milliseconds. */
  timeoutMs?: number;
}

/** Defaults of every optional {@link ForgeClientOptions} field except the derived `name`. */
export const DEFAULT_FORGE_CLIENT_OPTIONS = {
  generationTimeoutMs: 600_000,
  probeTimeoutMs: 10_000,
  connections: 4,
  // Forge serves through uvicorn, which drops idle connections after 5 s. Closing ours first
  // avoids sending a request on a socket the server is closing at that moment.
  keepAliveTimeoutMs: 4_000,
  logger: silentLogger,
} as const satisfies Required<Omit<ForgeClientOptions, 'baseUrl' | 'name' | 'auth'>>;

/** {@link ForgeClientOptions} after validation and defaults, frozen. */
export interface ResolvedForgeClientOptions {
  readonly baseUrl: URL;
  readonly origin: string;
  /** The base URL's path without a trailing slash (`''` for none). */
  readonly pathPrefix: string;
  readonly name: string;
  readonly authorization: string | undefined;
  readonly generationTimeoutMs: number;
  readonly probeTimeoutMs: number;
  readonly connections: number;
  readonly keepAliveTimeoutMs: number;
  readonly logger: Logger;
}

/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_CONNECTIONS = 256;

const durationMs = z
  .int({ error: `must be an integer number of milliseconds from 1 to ${MAX_TIMER_MS}` })
  .min(1, { error: `must be an integer number of milliseconds from 1 to ${MAX_TIMER_MS}` })
  .max(MAX_TIMER_MS, {
    error: `must be an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`,
  });

const baseUrlSchema = z
  .string({ error: 'is required: the URL Forge listens on, e.g. http://127.0.0.1:7860' })
  .refine((value) => URL.canParse(value), {
    error: 'must be an absolute URL such as http://127.0.0.1:7860',
  })
  .refine((value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol), {
    error: 'must use http: or https:',
  })
  .refine((value) => !URL.canParse(value) || !hasCredentials(new URL(value)), {
    error: 'must not contain a user or password; use options.auth',
  })
  .refine((value) => !URL.canParse(value) || !hasQueryOrHash(new URL(value)), {
    error: 'must not contain a query string or fragment',
  });

const authSchema = z.strictObject(
  {
    username: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .refine((value) => !value.includes(':'), { error: 'must not contain ":" (HTTP Basic)' }),
    password: z.string({ error: 'must be a string' }),
  },
  { error: 'must be an object {username, password}' },
);

const loggerSchema = z.custom<Logger>(isLogger, {
  error: 'must be a logger with debug, info, warn, error and child methods',
});

const optionsSchema = z.strictObject(
  {
    baseUrl: baseUrlSchema,
    name: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, { error: 'must not be empty' })
      .max(100, { error: 'must be at most 100 characters' })
      .optional(),
    auth: authSchema.optional(),
    generationTimeoutMs: durationMs.optional(),
    probeTimeoutMs: durationMs.optional(),
    connections: z
      .int({ error: `must be an integer from 1 to ${MAX_CONNECTIONS}` })
      .min(1, { error: `must be an integer from 1 to ${MAX_CONNECTIONS}` })
      .max(MAX_CONNECTIONS, { error: `must be an integer from 1 to ${MAX_CONNECTIONS}` })
      .optional(),
    keepAliveTimeoutMs: durationMs.optional(),
    logger: loggerSchema.optional(),
  },
  { error: 'must be an object' },
);

const callOptionsSchema = z.strictObject(
  {
    signal: z.instanceof(AbortSignal, { error: 'must be an AbortSignal' }).optional(),
    timeoutMs: durationMs.optional(),
  },
  { error: 'must be an object' },
);

/** Options that were renamed or never existed under that name, with what to use instead. */
const RENAMED_OPTIONS: Readonly<Record<string, string>> = {
  url: 'baseUrl',
  baseURL: 'baseUrl',
  timeoutMs: 'generationTimeoutMs or probeTimeoutMs',
  timeout: 'generationTimeoutMs or probeTimeoutMs',
  username: 'auth.username',
  password: 'auth.password',
  apiAuth: 'auth: {username, password}',
};

/**
 * Validates client options and applies defaults.
 * @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming each bad option and its rule
 */
export function resolveForgeClientOptions(input: unknown): ResolvedForgeClientOptions {
  const result = optionsSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`Invalid ForgeClient options: ${describeIssues(result.error, input)}`, {
      cause: result.error,
    });
  }
  const options = result.data;
  const baseUrl = new URL(options.baseUrl);
  return Object.freeze({
    baseUrl,
    origin: baseUrl.origin,
    pathPrefix: baseUrl.pathname.replace(/\/+$/, ''),
    name: options.name ?? defaultName(baseUrl),
    authorization: options.auth === undefined ? undefined : basicAuthorization(options.auth),
    generationTimeoutMs:
      options.generationTimeoutMs ?? DEFAULT_FORGE_CLIENT_OPTIONS.generationTimeoutMs,
    probeTimeoutMs: options.probeTimeoutMs ?? DEFAULT_FORGE_CLIENT_OPTIONS.probeTimeoutMs,
    connections: options.connections ?? DEFAULT_FORGE_CLIENT_OPTIONS.connections,
    keepAliveTimeoutMs:
      options.keepAliveTimeoutMs ?? DEFAULT_FORGE_CLIENT_OPTIONS.keepAliveTimeoutMs,
    logger: options.logger ?? DEFAULT_FORGE_CLIENT_OPTIONS.logger,
  });
}

/**
 * Validates the per-call options of a client method.
 * @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming the bad option and its rule
 */
export function checkCallOptions(input: unknown): ForgeCallOptions {
  if (input === undefined) return {};
  const result = callOptionsSchema.safeParse(input);
  if (result.success) return input as ForgeCallOptions;
  throw new ConfigError(`Invalid call options: ${describeIssues(result.error, input, 'call')}`, {
    cause: result.error,
  });
}

function describeIssues(error: z.ZodError, input: unknown, root = 'options'): string {
  return error.issues.map((issue) => describeIssue(issue, input, root)).join('; ');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, root: string): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => describeUnknownKey(root, issue.path, key)).join('; ');
  }
  const path = [root, ...issue.path.map(String)].join('.');
  // Credentials never go into an error message.
  const value = issue.path[0] === 'auth' ? undefined : valueAt(input, issue.path);
  const got = value === undefined ? '' : ` (got ${showValue(value)})`;
  return `${path} ${issue.message}${got}`;
}

function describeUnknownKey(root: string, parent: readonly PropertyKey[], key: string): string {
  const path = [root, ...parent.map(String), key].join('.');
  const replacement = root === 'options' && parent.length === 0 ? RENAMED_OPTIONS[key] : undefined;
  const hint = replacement === undefined ? '' : `; use ${replacement}`;
  return `${path} is not a known option${hint}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function showValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function defaultName(url: URL): string {
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return `${url.hostname}:${port}`;
}

function basicAuthorization(auth: ForgeAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

function hasCredentials(url: URL): boolean {
  return url.username !== '' || url.password !== '';
}

function hasQueryOrHash(url: URL): boolean {
  return url.search !== '' || url.hash !== '';
}

function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const methods = ['debug', 'info', 'warn', 'error', 'child'] as const;
  return methods.every(
    (method) => typeof (value as Record<string, unknown>)[method] === 'function',
  );
}
