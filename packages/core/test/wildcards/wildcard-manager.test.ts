import { chmod, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/errors.js';
import { expandPrompt } from '../../src/wildcards/expander.js';
import { WildcardLibrary } from '../../src/wildcards/wildcard-library.js';
import { WildcardManager } from '../../src/wildcards/wildcard-manager.js';
import {
  expectWildcardError,
  expectWildcardRejection,
  makeFolder,
  outcomes,
  removeFolders,
  track,
} from './helpers.js';

afterEach(removeFolders);

async function setUp(
  userFiles: Record<string, string> = {},
): Promise<{ manager: WildcardManager; library: WildcardLibrary; user: string }> {
  const shipped = await makeFolder({
    'season.txt': 'spring\nsummer\n',
    'sets.yaml': 'animals:\n  cats: [tabby, 2::black]\n',
  });
  const user = await makeFolder(userFiles);
  const library = track(
    new WildcardLibrary({
      roots: [
        { name: 'built-in', path: shipped },
        { name: 'user', path: user },
      ],
    }),
  );
  await library.load();
  return { manager: new WildcardManager({ library, writableRoot: 'user' }), library, user };
}

describe('WildcardManager: reading', () => {
  it('lists every category with its count, file and whether it can be changed', async () => {
    const { manager } = await setUp({ 'moods.txt': '# moods\ncalm\nstormy\n' });

    expect(manager.listCategories()).toEqual([
      {
        name: 'animals/cats',
        count: 2,
        file: 'built-in/sets.yaml',
        format: 'yaml',
        root: 'built-in',
        writable: false,
      },
      {
        name: 'moods',
        count: 2,
        file: 'user/moods.txt',
        format: 'txt',
        root: 'user',
        writable: true,
      },
      {
        name: 'season',
        count: 2,
        file: 'built-in/season.txt',
        format: 'txt',
        root: 'built-in',
        writable: false,
      },
    ]);
  });

  it('reads one category with its items and weights, any case', async () => {
    const { manager } = await setUp();

    expect(manager.getCategory('Animals/Cats')).toMatchObject({
      name: 'animals/cats',
      items: ['tabby', 'black'],
      weights: [1, 2],
    });
    expect(manager.getCategory('season')).toMatchObject({
      items: ['spring', 'summer'],
      weights: null,
    });
    expectWildcardError(() => manager.getCategory('nothing'), 'FT_ERR_WILDCARD_CATEGORY_NOT_FOUND');
    expectWildcardError(() => manager.getCategory('../etc/passwd'), 'FT_ERR_WILDCARD_NAME_INVALID');
  });

  it('refuses a writable root that is not one of the library', async () => {
    const { library } = await setUp();
    expect(() => new WildcardManager({ library, writableRoot: 'elsewhere' })).toThrow(ConfigError);
    expect(() => new WildcardManager({ library, writableRoot: 'elsewhere' })).toThrow(
      'roots: built-in, user',
    );
  });
});

describe('WildcardManager: changing', () => {
  it('creates a category as a text file, in sub-folders, and expansion sees it at once', async () => {
    const { manager, library, user } = await setUp();

    const created = await manager.createCategory('places/coast', ['harbour', '{quiet|busy} beach']);

    expect(created).toMatchObject({
      name: 'places/coast',
      count: 2,
      file: 'user/places/coast.txt',
    });
    expect(await readFile(join(user, 'places/coast.txt'), 'utf8')).toBe(
      'harbour\n{quiet|busy} beach\n',
    );
    expect(outcomes(library, '__places/coast__', 100)).toEqual(
      new Set(['harbour', 'quiet beach', 'busy beach']),
    );
  });

  it('refuses a category that exists in any root, in any case', async () => {
    const { manager } = await setUp({ 'moods.txt': 'calm\n' });

    for (const name of ['moods', 'MOODS', 'season', 'animals/cats']) {
      const error = await expectWildcardRejection(
        manager.createCategory(name),
        'FT_ERR_WILDCARD_CATEGORY_EXISTS',
      );
      expect(error.message).toContain('already exists');
    }
  });

  it.each([
    ['', 'it is empty'],
    ['../outside', "may not be '.' or '..'"],
    ['/absolute', "separated by single '/'"],
    ['a//b', "separated by single '/'"],
    ['back\\slash', 'backslash'],
    ['tab\there', 'control character'],
    ['con', 'reserved device name'],
    ['a/LPT1.txt', 'reserved device name'],
    ['two__parts', "without '__'"],
    ['comma,name', 'may only use'],
    ['.hidden', 'may only use'],
    ['trailing.', 'may only use'],
    ['a/b/c/d/e/f/g/h/i', 'more than 8 levels'],
    ['x'.repeat(65), 'longer than 64'],
  ])('refuses the category name %j', async (name, reason) => {
    const { manager, user } = await setUp();

    const error = await expectWildcardRejection(
      manager.createCategory(name),
      'FT_ERR_WILDCARD_NAME_INVALID',
    );
    expect(error.message).toContain(reason);
    expect(await readdir(user)).toEqual([]);
  });

  it('accepts names with spaces, dots, dashes and letters of any script', async () => {
    const { manager } = await setUp();
    for (const name of ['hair color', 'v1.5/styles', 'décor-ideas', '風景']) {
      await expect(manager.createCategory(name, ['x'])).resolves.toMatchObject({ name });
    }
  });

  it.each([
    ['', 'FT_ERR_WILDCARD_NAME_INVALID', 'it is empty'],
    ['two\nlines', 'FT_ERR_WILDCARD_NAME_INVALID', 'one line'],
    ['# looks like a comment', 'FT_ERR_WILDCARD_NAME_INVALID', "write '\\#'"],
    ['x'.repeat(2_001), 'FT_ERR_WILDCARD_NAME_INVALID', 'longer than 2000'],
    ['a {broken', 'FT_ERR_WILDCARD_SYNTAX', 'never closed'],
  ] as const)('refuses the item %j', async (item, code, reason) => {
    const { manager, user } = await setUp({ 'moods.txt': 'calm\n' });

    const error = await expectWildcardRejection(manager.addItem('moods', item), code);
    expect(error.message).toContain(reason);
    expect(await readFile(join(user, 'moods.txt'), 'utf8')).toBe('calm\n');
  });

  it('adds an item at the end, keeping comments, blank lines and a missing last newline', async () => {
    const { manager, library, user } = await setUp({ 'moods.txt': '# moods\ncalm\n\nstormy' });

    const updated = await manager.addItem('moods', '  {still|quiet} dawn ');

    expect(updated.items).toEqual(['calm', 'stormy', '{still|quiet} dawn']);
    expect(await readFile(join(user, 'moods.txt'), 'utf8')).toBe(
      '# moods\ncalm\n\nstormy\n{still|quiet} dawn\n',
    );
    expect(outcomes(library, '__moods__', 200)).toEqual(
      new Set(['calm', 'stormy', 'still dawn', 'quiet dawn']),
    );
  });

  it('deletes every line equal to an item, and nothing else', async () => {
    const { manager, user } = await setUp({ 'moods.txt': '# calm\ncalm\nstormy\n  calm  \n' });

    const updated = await manager.deleteItem('moods', 'calm');

    expect(updated.items).toEqual(['stormy']);
    expect(await readFile(join(user, 'moods.txt'), 'utf8')).toBe('# calm\nstormy\n');
    for (const item of ['calm', '', '# calm']) {
      await expectWildcardRejection(
        manager.deleteItem('moods', item),
        'FT_ERR_WILDCARD_ITEM_NOT_FOUND',
      );
    }
  });

  it('deletes a category and the folders it leaves empty, but not the root', async () => {
    const { manager, library, user } = await setUp({
      'a/b/c.txt': 'x\n',
      'a/keep.txt': 'y\n',
      'solo/only.txt': 'z\n',
    });

    await manager.deleteCategory('a/b/c');
    await manager.deleteCategory('solo/only');

    expect((await readdir(user)).sort()).toEqual(['a']);
    expect(await readdir(join(user, 'a'))).toEqual(['keep.txt']);
    expect(library.names()).not.toContain('a/b/c');
    expectWildcardError(
      () => expandPrompt(library, '__a/b/c__', { seed: 1 }),
      'FT_ERR_WILDCARD_NOT_FOUND',
    );
  });

  it('refuses to change built-in samples and YAML collections', async () => {
    const { manager } = await setUp();

    const error = await expectWildcardRejection(
      manager.addItem('season', 'autumn'),
      'FT_ERR_WILDCARD_READ_ONLY',
    );
    expect(error.message).toContain('comes from built-in/season.txt');
    await expectWildcardRejection(
      manager.deleteCategory('animals/cats'),
      'FT_ERR_WILDCARD_READ_ONLY',
    );
    await expectWildcardRejection(
      manager.deleteItem('animals/cats', 'tabby'),
      'FT_ERR_WILDCARD_READ_ONLY',
    );
    await expectWildcardRejection(
      manager.addItem('nothing', 'x'),
      'FT_ERR_WILDCARD_CATEGORY_NOT_FOUND',
    );
  });

  it('applies concurrent writes one after another, atomically, leaving no temporary files', async () => {
    const { manager, user } = await setUp({ 'many.txt': '' });
    const items = Array.from({ length: 25 }, (_, index) => `item ${index}`);

    await Promise.all(items.map((item) => manager.addItem('many', item)));

    const lines = (await readFile(join(user, 'many.txt'), 'utf8')).trim().split('\n');
    expect(lines.sort()).toEqual([...items].sort());
    expect(await readdir(user)).toEqual(['many.txt']);
    expect(manager.getCategory('many').count).toBe(25);
  });

  it('keeps the mode of a file it rewrites', async () => {
    const { manager, user } = await setUp({ 'moods.txt': 'calm\n' });
    await chmod(join(user, 'moods.txt'), 0o600);

    await manager.addItem('moods', 'windy');

    expect((await stat(join(user, 'moods.txt'))).mode & 0o777).toBe(0o600);
  });

  // Root writes into any folder whatever its mode, so this can only be checked as another user.
  it.skipIf(process.getuid?.() === 0)('reports a write that fails with the file', async () => {
    const { manager, user } = await setUp({ 'moods.txt': 'calm\n' });
    await chmod(user, 0o500);
    try {
      const error = await expectWildcardRejection(
        manager.addItem('moods', 'x'),
        'FT_ERR_WILDCARD_IO',
      );
      expect(error.details.file).toBe('user/moods.txt');
      expect(error.cause).toBeInstanceOf(Error);
    } finally {
      await chmod(user, 0o700);
    }
  });
});
