import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, isForgeToolError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { ForgeClient } from '../../src/forge/forge-client.js';
import {
  DEFAULT_FORGE_CLIENT_OPTIONS,
  checkCallOptions,
  resolveForgeClientOptions,
} from '../../src/forge/forge-client-options.js';

const BASE = { baseUrl: 'http://127.0.0.1:7860' };

/** Expects `resolveForgeClientOptions(input)` to fail with a message matching every pattern. */
function expectRejected(input: unknown, ...patterns: RegExp[]): ConfigError {
  let caught: unknown;
  try {
    resolveForgeClientOptions(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.code).toBe('FT_ERR_CONFIG_INVALID');
  for (const pattern of patterns) expect(error.message).toMatch(pattern);
  return error;
}

describe('ForgeClient options: defaults', () => {
  const clients: ForgeClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  it('fills every default and derives the name from host and port', () => {
    const resolved = resolveForgeClientOptions(BASE);
    expect(resolved).toMatchObject({
      name: '127.0.0.1:7860',
      origin: 'http://127.0.0.1:7860',
      pathPrefix: '',
      authorization: undefined,
      generationTimeoutMs: 600_000,
      probeTimeoutMs: 10_000,
      connections: 4,
      keepAliveTimeoutMs: 4_000,
    });
    expect(resolved.logger).toBe(silentLogger);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('keeps the numbers of DEFAULT_FORGE_CLIENT_OPTIONS', () => {
    expect(DEFAULT_FORGE_CLIENT_OPTIONS).toMatchObject({
      generationTimeoutMs: 10 * 60 * 1000,
      probeTimeoutMs: 10_000,
      connections: 4,
    });
  });

  it('uses the default port of the scheme in the name and keeps a path prefix', () => {
    const resolved = resolveForgeClientOptions({ baseUrl: 'https://proxy.example/forge/' });
    expect(resolved.name).toBe('proxy.example:443');
    expect(resolved.pathPrefix).toBe('/forge');
  });

  it('builds an HTTP Basic header from auth', () => {
    const resolved = resolveForgeClientOptions({
      ...BASE,
      auth: { username: 'alice', password: 'sécret:1' },
    });
    const encoded = Buffer.from('alice:sécret:1', 'utf8').toString('base64');
    expect(resolved.authorization).toBe(`Basic ${encoded}`);
  });

  it('exposes name and base URL on the client', () => {
    const client = new ForgeClient({ baseUrl: 'http://10.0.0.5:7861', name: 'gpu-1' });
    clients.push(client);
    expect(client.name).toBe('gpu-1');
    expect(client.baseUrl).toBe('http://10.0.0.5:7861/');
  });
});

describe('ForgeClient options: one test per rule', () => {
  it('rejects a non-object', () => {
    expectRejected('http://127.0.0.1:7860', /options must be an object/);
  });

  it('requires baseUrl', () => {
    expectRejected({}, /options\.baseUrl is required/);
  });

  it('rejects a baseUrl that is not an absolute URL', () => {
    expectRejected({ baseUrl: '127.0.0.1:7860/x' }, /options\.baseUrl must be an absolute URL/);
  });

  it('rejects a baseUrl that is not http or https', () => {
    expectRejected(
      { baseUrl: 'ftp://127.0.0.1:7860' },
      /options\.baseUrl must use http: or https:/,
    );
  });

  it('rejects credentials inside baseUrl and points at auth', () => {
    expectRejected(
      { baseUrl: 'http://u:p@127.0.0.1:7860' },
      /options\.baseUrl must not contain a user or password; use options\.auth/,
    );
  });

  it('rejects a query string in baseUrl', () => {
    expectRejected({ baseUrl: 'http://127.0.0.1:7860/?a=1' }, /must not contain a query string/);
  });

  it('rejects an empty name', () => {
    expectRejected({ ...BASE, name: '  ' }, /options\.name must not be empty/);
  });

  it('rejects a name longer than 100 characters', () => {
    expectRejected({ ...BASE, name: 'x'.repeat(101) }, /options\.name must be at most 100/);
  });

  it('rejects auth that is not an object', () => {
    expectRejected({ ...BASE, auth: 'alice:pw' }, /options\.auth must be an object/);
  });

  it('rejects an empty auth.username', () => {
    expectRejected({ ...BASE, auth: { username: '', password: 'x' } }, /auth\.username must not/);
  });

  it('rejects a colon in auth.username', () => {
    expectRejected(
      { ...BASE, auth: { username: 'a:b', password: 'x' } },
      /options\.auth\.username must not contain ":"/,
    );
  });

  it('rejects a non-string auth.password without echoing it', () => {
    const error = expectRejected(
      { ...BASE, auth: { username: 'alice', password: 12345678 } },
      /options\.auth\.password must be a string/,
    );
    expect(error.message).not.toContain('12345678');
  });

  it.each([
    ['generationTimeoutMs', 0],
    ['generationTimeoutMs', 1.5],
    ['generationTimeoutMs', 2_147_483_648],
    ['probeTimeoutMs', -5],
    ['keepAliveTimeoutMs', '4000'],
  ])('rejects %s = %j: not an integer from 1 to 2147483647', (option, value) => {
    expectRejected(
      { ...BASE, [option]: value },
      new RegExp(`options\\.${option} must be an integer number of milliseconds from 1 to`),
      new RegExp(`got ${JSON.stringify(value)}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
  });

  it.each([0, 257, 2.5])('rejects connections = %j: not an integer from 1 to 256', (value) => {
    expectRejected(
      { ...BASE, connections: value },
      /options\.connections must be an integer from 1/,
    );
  });

  it('rejects a logger without the logger methods', () => {
    expectRejected({ ...BASE, logger: { info: () => {} } }, /options\.logger must be a logger/);
  });

  it('rejects a renamed option and names its replacement', () => {
    expectRejected(
      { url: 'http://127.0.0.1:7860', baseUrl: 'http://127.0.0.1:7860' },
      /options\.url is not a known option; use baseUrl/,
    );
  });

  it('rejects an unknown option', () => {
    expectRejected({ ...BASE, retries: 3 }, /options\.retries is not a known option/);
  });

  it('reports every broken rule at once', () => {
    expectRejected({ baseUrl: 'nope', connections: 0 }, /baseUrl/, /connections/);
  });

  it('throws from the ForgeClient constructor too', () => {
    expect(() => new ForgeClient({ baseUrl: 'nope' })).toThrow(ConfigError);
  });
});

describe('per-call options', () => {
  it('accepts nothing, a signal and a timeout', () => {
    expect(checkCallOptions(undefined)).toEqual({});
    const signal = new AbortController().signal;
    expect(checkCallOptions({ signal, timeoutMs: 50 })).toEqual({ signal, timeoutMs: 50 });
  });

  it('rejects a timeoutMs that is not a positive integer', () => {
    expect(() => checkCallOptions({ timeoutMs: 0 })).toThrow(
      /call\.timeoutMs must be an integer number of milliseconds/,
    );
  });

  it('rejects a signal that is not an AbortSignal', () => {
    expect(() => checkCallOptions({ signal: {} })).toThrow(/call\.signal must be an AbortSignal/);
  });

  it('rejects an unknown call option', () => {
    let caught: unknown;
    try {
      checkCallOptions({ timeout: 5 });
    } catch (error) {
      caught = error;
    }
    expect(isForgeToolError(caught, 'FT_ERR_CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/call\.timeout is not a known option/);
  });
});
