import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConfigError, isForgeToolError } from '../../src/errors.js';
import {
  DEFAULT_IMAGE_KEY_TEMPLATES,
  ImageKeyLayout,
  type ImageKeyParts,
} from '../../src/images/image-store.js';
import {
  LocalImageStore,
  type LocalImageStoreOptions,
} from '../../src/images/local-image-store.js';

const DAY_MS = 86_400_000;
/** 2026-12-03 23:59 UTC: late enough that a local-time date would often be the 4th. */
const CREATED_AT = Date.UTC(2026, 11, 3, 23, 59);

let sandbox: string;
let root: string;

beforeEach(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'forge-tool-store-'));
  root = join(sandbox, 'outputs');
});

afterEach(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

function store(options: LocalImageStoreOptions = {}): LocalImageStore {
  return new LocalImageStore({ root, ...options });
}

function parts(overrides: Partial<ImageKeyParts> = {}): ImageKeyParts {
  return { jobId: 'job_01JABC', index: 0, createdAt: CREATED_AT, variant: 'image', ...overrides };
}

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp) {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isForgeToolError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  if (message !== undefined) expect((error as Error).message).toMatch(message);
}

async function ageFile(path: string, ageMs: number, now: number): Promise<void> {
  const seconds = (now - ageMs) / 1_000;
  await utimes(path, seconds, seconds);
}

describe('layout', () => {
  it('lays images and previews out by UTC date and job by default', () => {
    const images = store();
    expect(images.keyFor(parts())).toBe('2026-12-03/job_01JABC-0.png');
    expect(images.keyFor(parts({ index: 3, variant: 'thumbnail' }))).toBe(
      '2026-12-03/thumbs/job_01JABC-3.png',
    );
  });

  it('follows a custom template, making token values safe for a path', () => {
    const images = store({
      layout: {
        image: '{owner}/{date}/{job}_{index}.png',
        thumbnail: 'previews/{job}_{index}.png',
      },
    });
    const key = images.keyFor(parts({ owner: 'discord:12/../34' }));
    expect(key).toBe('discord_12_.._34/2026-12-03/job_01JABC_0.png');
    expect(images.keyFor(parts({ variant: 'thumbnail' }))).toBe('previews/job_01JABC_0.png');
    expect(images.keyFor(parts({ jobId: '../../etc' }))).toBe('unknown/2026-12-03/_._.._etc_0.png');
  });

  it('reads keys back into job, index and variant', () => {
    const layout = new ImageKeyLayout();
    expect(layout.parse('2026-12-03/job_01JABC-12.png')).toEqual({
      jobId: 'job_01JABC',
      index: 12,
      variant: 'image',
      date: '2026-12-03',
      owner: null,
    });
    expect(layout.parse('2026-12-03/thumbs/job_01JABC-2.png')).toMatchObject({
      variant: 'thumbnail',
      index: 2,
    });
    expect(layout.parse('notes/readme.txt')).toBeNull();
    const withOwner = new ImageKeyLayout({ image: '{owner}/{job}-{index}.png' });
    expect(withOwner.parse('alice/job_1-0.png')).toMatchObject({ owner: 'alice', jobId: 'job_1' });
  });

  it('names each bad template and its rule', () => {
    const bad =
      (image: string, thumbnail: string = DEFAULT_IMAGE_KEY_TEMPLATES.thumbnail) =>
      () =>
        new ImageKeyLayout({ image, thumbnail });
    expect(bad('{date}/{jobid}-{index}.png')).toThrow(
      /layout\.image uses \{jobid\}; the tokens are/,
    );
    expect(bad('{date}/{job}.png')).toThrow(/must contain \{job\} and \{index\}/);
    expect(bad('/srv/{job}-{index}.png')).toThrow(/makes a key that is absolute/);
    expect(bad('../{job}-{index}.png')).toThrow(/makes a key that climbs out with "\.\."/);
    expect(bad('{job}-{index}.png', '{job}-{index}.png')).toThrow(/must differ/);
    expect(bad('{job}-{index}.png', '{job}-{index}.png')).toThrow(ConfigError);
  });

  it('refuses parts it cannot make a key from', () => {
    const layout = new ImageKeyLayout();
    expect(() => layout.keyFor(parts({ index: -1, createdAt: Number.NaN }))).toThrow(
      /index must be an integer >= 0, got -1; createdAt must be a time in ms since the epoch/,
    );
  });
});

describe('put, get, has, stat, delete', () => {
  it('stores bytes under the root and reads them back', async () => {
    const images = store();
    const key = images.keyFor(parts());
    await images.put(key, Buffer.from('first'));

    expect(await readFile(join(root, '2026-12-03', 'job_01JABC-0.png'), 'utf8')).toBe('first');
    expect((await images.get(key)).toString()).toBe('first');
    expect(await images.has(key)).toBe(true);
    expect(await images.stat(key)).toMatchObject({ key, bytes: 5 });

    await images.put(key, Buffer.from('second!'));
    expect((await images.get(key)).toString()).toBe('second!');
    expect(await readdir(join(root, '2026-12-03'))).toEqual(['job_01JABC-0.png']);
  });

  it('answers a missing key with IMAGE_NOT_FOUND, and has/stat/delete with false/null', async () => {
    const images = store();
    await expectCode(
      images.get('2026-12-03/job_none-0.png'),
      'FT_ERR_IMAGE_NOT_FOUND',
      /never stored, or the retention policy removed it/,
    );
    await images.put('a/b.png', Buffer.from('x'));
    await expectCode(images.get('a'), 'FT_ERR_IMAGE_NOT_FOUND');
    await expectCode(images.get('a/b.png/c.png'), 'FT_ERR_IMAGE_NOT_FOUND');
    expect(await images.has('nothing.png')).toBe(false);
    expect(await images.stat('a')).toBeNull();
    expect(await images.delete('nothing.png')).toBe(false);
  });

  it('deletes, and removes the folders it emptied but not the root', async () => {
    const images = store();
    await images.put('2026-12-03/thumbs/job_1-0.png', Buffer.from('t'));
    expect(await images.delete('2026-12-03/thumbs/job_1-0.png')).toBe(true);
    expect(existsSync(join(root, '2026-12-03'))).toBe(false);
    expect(existsSync(root)).toBe(true);
  });

  it('rejects keys that would leave the root, on every call', async () => {
    const images = store();
    const outside = join(sandbox, 'escaped.png');
    const keys = [
      '../escaped.png',
      'a/../../escaped.png',
      outside,
      '/etc/passwd',
      'a\\..\\..\\escaped.png',
      '',
      'a//b.png',
      '.hidden/x.png',
      'a/./b.png',
      'C:/x.png',
    ];
    for (const key of keys) {
      await expectCode(
        images.put(key, Buffer.from('x')),
        'FT_ERR_IMAGE_KEY_INVALID',
        /a key is a relative path/,
      );
      await expectCode(images.get(key), 'FT_ERR_IMAGE_KEY_INVALID');
      await expectCode(images.delete(key), 'FT_ERR_IMAGE_KEY_INVALID');
      await expectCode(images.has(key), 'FT_ERR_IMAGE_KEY_INVALID');
    }
    expect(existsSync(outside)).toBe(false);
    expect(await readdir(sandbox)).toEqual([]);
  });
});

describe('atomic writes', () => {
  it('never shows a reader part of a file while it is replaced', async () => {
    const images = store();
    const key = 'big/image.png';
    const size = 4 * 1024 * 1024;
    const versions = [Buffer.alloc(size, 0xaa), Buffer.alloc(size, 0xbb), Buffer.alloc(size, 0xcc)];
    await images.put(key, versions[0] ?? Buffer.alloc(0));

    for (const next of versions.slice(1)) {
      let writing = true;
      const write = images.put(key, next).finally(() => {
        writing = false;
      });
      const seen: Buffer[] = [];
      while (writing) seen.push(await images.get(key));
      await write;
      for (const read of seen) {
        expect(read.length).toBe(size);
        expect(read.every((byte) => byte === read[0])).toBe(true);
      }
    }
    expect((await images.get(key))[0]).toBe(0xcc);
    expect(await readdir(join(root, 'big'))).toEqual(['image.png']);
  });

  it('leaves no temporary file behind when a write fails', async () => {
    const images = store();
    await images.put('blocker', Buffer.from('a file where a folder should be'));
    await expectCode(
      images.put('blocker/x.png', Buffer.from('x')),
      'FT_ERR_STORE_FAILURE',
      /could not store image blocker\/x\.png/,
    );
    expect(await readdir(root)).toEqual(['blocker']);
  });
});

describe('retention', () => {
  const now = Date.UTC(2027, 0, 10);

  async function fill(images: LocalImageStore, ages: readonly number[]): Promise<string[]> {
    const keys: string[] = [];
    for (const [index, ageMs] of ages.entries()) {
      for (const variant of ['image', 'thumbnail'] as const) {
        const key = images.keyFor(parts({ jobId: `job_${index}`, index: 0, variant }));
        await images.put(key, Buffer.alloc(variant === 'image' ? 1_000 : 100));
        await ageFile(join(root, key), ageMs, now);
        keys.push(key);
      }
    }
    return keys;
  }

  it('keeps everything without a policy', async () => {
    const images = store();
    await fill(images, [100 * DAY_MS]);
    expect(await images.enforceRetention(now)).toEqual([]);
    expect(await images.list()).toHaveLength(2);
  });

  it('removes what is older than maxAgeMs and says which job images they were', async () => {
    const images = store({ retention: { maxAgeMs: 7 * DAY_MS } });
    await fill(images, [30 * DAY_MS, 8 * DAY_MS, 1 * DAY_MS]);

    const removed = await images.enforceRetention(now);
    expect(removed.map(({ parsed }) => [parsed?.jobId, parsed?.index, parsed?.variant])).toEqual([
      ['job_0', 0, 'image'],
      ['job_0', 0, 'thumbnail'],
      ['job_1', 0, 'image'],
      ['job_1', 0, 'thumbnail'],
    ]);
    expect(removed[0]).toMatchObject({ key: '2026-12-03/job_0-0.png', bytes: 1_000 });
    const left = await images.list();
    expect(left.map(({ key }) => key)).toEqual([
      '2026-12-03/job_2-0.png',
      '2026-12-03/thumbs/job_2-0.png',
    ]);
    await expectCode(images.get('2026-12-03/job_0-0.png'), 'FT_ERR_IMAGE_NOT_FOUND');
  });

  it('removes the oldest until the total fits maxTotalBytes', async () => {
    const images = store({ retention: { maxTotalBytes: 2_250 } });
    await fill(images, [3 * DAY_MS, 2 * DAY_MS, 1 * DAY_MS]);
    // 3 x 1,100 bytes stored: only dropping both of job_0's files gets under 2,250.
    const removed = await images.enforceRetention(now);
    expect(removed.map(({ key }) => key)).toEqual([
      '2026-12-03/job_0-0.png',
      '2026-12-03/thumbs/job_0-0.png',
    ]);
    const total = (await images.list()).reduce((sum, { bytes }) => sum + bytes, 0);
    expect(total).toBe(2_200);
  });

  it('applies both limits together, oldest first', async () => {
    const images = store({ retention: { maxAgeMs: 5 * DAY_MS, maxTotalBytes: 1_100 } });
    await fill(images, [9 * DAY_MS, 3 * DAY_MS, 1 * DAY_MS]);
    const removed = await images.enforceRetention(now);
    expect(removed.map(({ parsed }) => parsed?.jobId)).toEqual([
      'job_0',
      'job_0',
      'job_1',
      'job_1',
    ]);
    expect(
      removed.every(
        (entry, index) => index === 0 || entry.storedAt >= (removed[index - 1]?.storedAt ?? 0),
      ),
    ).toBe(true);
  });

  it('reports files outside the layout without parsing them, and sweeps stale temporary files', async () => {
    const images = store({ retention: { maxAgeMs: DAY_MS } });
    await images.put('by-hand/notes.png', Buffer.from('x'));
    await ageFile(join(root, 'by-hand/notes.png'), 2 * DAY_MS, now);
    await writeFile(join(root, '.tmp-stale'), 'partial');
    await ageFile(join(root, '.tmp-stale'), 2 * 60 * 60 * 1_000, now);
    await writeFile(join(root, '.tmp-fresh'), 'in progress');
    await ageFile(join(root, '.tmp-fresh'), 1_000, now);

    expect((await images.list()).map(({ key }) => key)).toEqual(['by-hand/notes.png']);
    const removed = await images.enforceRetention(now);
    expect(removed).toEqual([expect.objectContaining({ key: 'by-hand/notes.png', parsed: null })]);
    expect((await readdir(root)).sort()).toEqual(['.tmp-fresh']);
  });

  it('rejects a policy that is not whole non-negative numbers', () => {
    expect(() => store({ retention: { maxAgeMs: -1, maxTotalBytes: 1.5 } })).toThrow(
      'options.retention.maxAgeMs must be an integer >= 0, got -1; ' +
        'options.retention.maxTotalBytes must be an integer >= 0, got 1.5',
    );
    expect(() => store({ root: '' })).toThrow(ConfigError);
  });
});
