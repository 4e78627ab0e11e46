import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ConfigError, ERROR_CODES, ForgeToolError, isForgeToolError } from '../src/errors.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const CODE_PATTERN = /FT_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)+/g;

async function documentedCodes(): Promise<Map<string, number>> {
  const page = await readFile(join(repoRoot, 'docs/errors.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const match of page.matchAll(/^\|\s*`(FT_ERR_[A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|/gm)) {
    rows.set(match[1] ?? '', Number(match[2]));
  }
  return rows;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('error registry', () => {
  it('documents every registered code with its status, and registers every documented code', async () => {
    const documented = await documentedCodes();
    const registered = new Map(Object.entries(ERROR_CODES));

    expect([...documented.keys()].sort()).toEqual([...registered.keys()].sort());
    for (const [code, status] of registered) {
      expect(documented.get(code), `status of ${code} in docs/errors.md`).toBe(status);
    }
  });

  it('uses no code in the sources that the registry lacks', async () => {
    const files = await sourceFiles(join(repoRoot, 'packages/core/src'));
    const unknown = new Set<string>();
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const [code] of text.matchAll(CODE_PATTERN)) {
        if (!(code in ERROR_CODES)) unknown.add(`${code} in ${file}`);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('gives each error its class name, code, status and cause', () => {
    const cause = new Error('low level');
    const error = new ConfigError('options.baseUrl must be a URL', { cause });

    expect(error).toBeInstanceOf(ForgeToolError);
    expect(error.name).toBe('ConfigError');
    expect(error.code).toBe('FT_ERR_CONFIG_INVALID');
    expect(error.statusCode).toBe(ERROR_CODES.FT_ERR_CONFIG_INVALID);
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({
      name: 'ConfigError',
      code: 'FT_ERR_CONFIG_INVALID',
      message: 'options.baseUrl must be a URL',
    });
  });

  it('narrows on a code', () => {
    const error = new ConfigError('bad');

    expect(isForgeToolError(error)).toBe(true);
    expect(isForgeToolError(error, 'FT_ERR_CONFIG_INVALID')).toBe(true);
    expect(isForgeToolError(error, 'FT_ERR_FORGE_TIMEOUT')).toBe(false);
    expect(isForgeToolError(new Error('plain'))).toBe(false);
  });
});
