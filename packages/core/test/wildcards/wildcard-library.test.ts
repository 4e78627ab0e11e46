import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/errors.js';
import { expandPrompt } from '../../src/wildcards/expander.js';
import {
  BUILT_IN_WILDCARD_ROOT,
  WildcardLibrary,
  type WildcardReloadEvent,
} from '../../src/wildcards/wildcard-library.js';
import {
  expectWildcardError,
  makeFolder,
  openLibrary,
  outcomes,
  removeFolders,
  track,
  writeFiles,
} from './helpers.js';

afterEach(removeFolders);

function values(library: WildcardLibrary, name: string): readonly string[] | undefined {
  return library.snapshot.collections.get(name)?.values;
}

describe('WildcardLibrary: reading files', () => {
  it('reads text files: trimmed lines, no blank or # lines, any line ending, no BOM', async () => {
    const { library } = await openLibrary({
      'a.txt': '\ufeff# heading\n  red  \r\n\r\nblue\r# also a comment\ngreen',
      'deep/er/b.TXT': 'x\n',
    });

    expect(values(library, 'a')).toEqual(['red', 'blue', 'green']);
    expect(library.snapshot.collections.get('a')?.lines).toEqual([2, 4, 6]);
    expect(library.names()).toEqual(['a', 'deep/er/b']);
  });

  it('reads YAML and JSON trees from the file folder, without the file name', async () => {
    const { library } = await openLibrary({
      'sets/things.yaml': 'animals:\n  cats: [tabby, black]\n  one: lonely\ncount: 3\n',
      'sets/more.yml': '- flat\n- list\n',
      'sets/data.json': '{"tools": {"hand": ["saw", 2, true, {"text": "axe", "weight": 3}]}}',
    });

    expect(library.names()).toEqual([
      'sets/animals/cats',
      'sets/animals/one',
      'sets/more',
      'sets/tools/hand',
    ]);
    expect(values(library, 'sets/tools/hand')).toEqual(['saw', '2', 'true', 'axe']);
    expect(
      Array.from(library.snapshot.collections.get('sets/tools/hand')?.cumulative ?? []),
    ).toEqual([1, 2, 3, 6]);
    expect(values(library, 'sets/animals/one')).toEqual(['lonely']);
    expect(library.problems).toEqual([
      {
        file: 'user/sets/things.yaml',
        message: "key 'sets/count' is skipped: its value is not a list or a mapping",
      },
    ]);
  });

  it('reports a broken file and still loads the others', async () => {
    const { library } = await openLibrary({
      'bad.yaml': 'a: [unclosed\n',
      'bad.json': '{"a": ',
      'good.txt': 'fine\n',
    });

    expect(library.names()).toEqual(['good']);
    expect(library.problems.map((problem) => problem.file)).toEqual([
      'user/bad.json',
      'user/bad.yaml',
    ]);
    expect(library.problems[0]?.message).toMatch(/^cannot be parsed as json/);
  });

  it('skips dot files and folders, other extensions, and files over the size limit', async () => {
    const { library } = await openLibrary(
      {
        '.hidden.txt': 'no\n',
        '.git/x.txt': 'no\n',
        'notes.md': 'no\n',
        'big.txt': 'x'.repeat(200),
        'ok.txt': 'yes\n',
      },
      { maxFileBytes: 100 },
    );

    expect(library.names()).toEqual(['ok']);
    expect(library.problems).toEqual([
      { file: 'user/big.txt', message: 'skipped: 200 bytes is over the 100 allowed' },
    ]);
  });

  it('follows links to folders outside the root, and skips links back into it', async () => {
    const outside = await makeFolder({ 'x.txt': 'shared\n' });
    const { library, folder } = await openLibrary({ 'real/a.txt': 'a\n' });
    await symlink(join(folder, 'real'), join(folder, 'linked'));
    await symlink(folder, join(folder, 'real', 'loop'));
    await symlink(outside, join(folder, 'shared'));
    await library.refresh();

    expect(library.names()).toEqual(['real/a', 'shared/x']);
  });

  it('reads a missing root as empty, and reports it', async () => {
    const library = track(
      new WildcardLibrary({ roots: [{ name: 'gone', path: '/nonexistent/wc' }] }),
    );
    await library.load();

    expect(library.names()).toEqual([]);
    expect(library.problems).toEqual([
      { file: '/nonexistent/wc', message: 'the folder does not exist; it reads as empty' },
    ]);
  });

  it('hashes every file it read', async () => {
    const { library, folder } = await openLibrary({ 'a.txt': 'one\n', 'b/c.yaml': 'c: [x]\n' });
    const digest = async (path: string): Promise<string> =>
      createHash('sha256')
        .update(await readFile(join(folder, path)))
        .digest('hex');

    expect(library.snapshot.files.map((file) => [file.key, file.sha256, file.format])).toEqual([
      ['user/a.txt', await digest('a.txt'), 'txt'],
      ['user/b/c.yaml', await digest('b/c.yaml'), 'yaml'],
    ]);
  });

  it('ships built-in samples that load cleanly and expand', async () => {
    const library = track(new WildcardLibrary({ roots: [BUILT_IN_WILDCARD_ROOT] }));
    await library.load();

    expect(library.problems).toEqual([]);
    expect(library.names()).toEqual(
      expect.arrayContaining(['season', 'colors/warm', 'animals/cats']),
    );
    for (let seed = 0; seed < 30; seed += 1) {
      const { prompt, trace } = expandPrompt(library, '__scene__', { seed });
      expect(prompt).toMatch(/^a .+ in (spring|summer|autumn|winter), .+, .+$/);
      expect(Object.keys(trace.files).every((key) => key.startsWith('built-in/'))).toBe(true);
    }
  });
});

describe('WildcardLibrary: names', () => {
  it('lets a later root replace a name of an earlier one, and reports duplicates within a root', async () => {
    const base = await makeFolder({ 'color.txt': 'base red\n', 'only-base.txt': 'b\n' });
    const user = await makeFolder({ 'color.txt': 'user blue\n', 'color.yaml': 'color: [dup]\n' });
    const library = track(
      new WildcardLibrary({
        roots: [
          { name: 'base', path: base },
          { name: 'user', path: user },
        ],
      }),
    );
    await library.load();

    expect(values(library, 'color')).toEqual(['user blue']);
    expect(values(library, 'only-base')).toEqual(['b']);
    expect(library.problems).toEqual([
      {
        file: 'user/color.yaml',
        message: "'color' is already defined by user/color.txt; this one is ignored",
      },
    ]);
  });

  it('finds upper-case names of flat batch libraries, and nested names by their last part', async () => {
    const { library } = await openLibrary({
      'subject.txt': 'a knight\n',
      'hair_color.txt': 'silver\n',
      'animals/mammals/cats.txt': 'tabby\n',
      'animals/Birds.txt': 'crow\n',
    });

    expect(expandPrompt(library, '__SUBJECT__ with __HAIR_COLOR__ hair', { seed: 1 }).prompt).toBe(
      'a knight with silver hair',
    );
    expect(expandPrompt(library, '__cats__ and __birds__', { seed: 1 }).prompt).toBe(
      'tabby and crow',
    );
    expect(expandPrompt(library, '__mammals/cats__', { seed: 1 }).trace.choices[0]).toMatchObject({
      name: 'mammals/cats',
      collection: 'animals/mammals/cats',
    });
  });

  it('matches globs as dynamicprompts does: * crosses folders, ?, [..] and [!..] match one character', async () => {
    const { library } = await openLibrary({
      'colors/warm.txt': 'red\n',
      'colors/cold.txt': 'blue\n',
      'colors/deep/dark.txt': 'black\n',
      'size1.txt': 'one\n',
      'size2.txt': 'two\n',
      'sizeX.txt': 'ex\n',
    });

    expect(outcomes(library, '__colors/*__', 100)).toEqual(new Set(['red', 'blue', 'black']));
    expect(outcomes(library, '__colors/*m__', 100)).toEqual(new Set(['red']));
    expect(outcomes(library, '__size?__', 100)).toEqual(new Set(['one', 'two', 'ex']));
    expect(outcomes(library, '__size[0-9]__', 100)).toEqual(new Set(['one', 'two']));
    expect(outcomes(library, '__size[!0-9]__', 100)).toEqual(new Set(['ex']));
    expect(outcomes(library, '__d*k__', 100)).toEqual(new Set(['black']));
    expectWildcardError(
      () => expandPrompt(library, '__nothing*__', { seed: 1 }),
      'FT_ERR_WILDCARD_NOT_FOUND',
    );
  });

  it('normalises a name: backslashes, doubled and outer slashes', async () => {
    const { library } = await openLibrary({ 'a/b.txt': 'found\n' });
    expect(library.snapshot.resolve('/a\\\\b/')?.key).toBe('a/b');
    expect(library.snapshot.resolve('a//b')?.key).toBe('a/b');
    expect(library.snapshot.resolve('../a/b')).toBeNull();
  });
});

describe('WildcardLibrary: keeping current', () => {
  it('reloads changed, added and removed files on refresh, and nothing when nothing changed', async () => {
    const { library, folder } = await openLibrary({ 'a.txt': 'old\n', 'b.txt': 'b\n' });
    const events: WildcardReloadEvent[] = [];
    library.onReload((event) => events.push(event));

    expect(await library.refresh()).toBe(false);
    await writeFile(join(folder, 'a.txt'), 'new value\n');
    await writeFiles(folder, { 'c/d.txt': 'd\n' });
    await rm(join(folder, 'b.txt'));

    expect(await library.refresh()).toBe(true);
    expect(values(library, 'a')).toEqual(['new value']);
    expect(library.names()).toEqual(['a', 'c/d']);
    expect(library.version).toBe(2);
    expect(events).toEqual([
      { version: 2, changedFiles: ['user/b.txt', 'user/a.txt', 'user/c/d.txt'] },
    ]);
  });

  it('picks up an edit that keeps size and time once the file is marked changed', async () => {
    const folder = await makeFolder({ 'a.txt': 'aaa\n' });
    const path = join(folder, 'a.txt');
    const fixedSeconds = 1_700_000_000;
    await utimes(path, fixedSeconds, fixedSeconds);
    const library = track(new WildcardLibrary({ roots: [folder] }));
    await library.load();
    await writeFile(path, 'bbb\n');
    await utimes(path, fixedSeconds, fixedSeconds);

    expect(await library.refresh()).toBe(false);
    library.markChanged(path);
    expect(await library.refresh()).toBe(true);
    expect(values(library, 'a')).toEqual(['bbb']);
  });

  it('reloads by itself when watching, after the debounce', async () => {
    const { library, folder } = await openLibrary(
      { 'a.txt': 'first\n' },
      {
        watch: true,
        watchDebounceMs: 20,
      },
    );
    const reloaded = new Promise<WildcardReloadEvent>((resolve) => library.onReload(resolve));

    await writeFiles(folder, { 'sub/new.txt': 'added\n' });

    const event = await reloaded;
    expect(event.changedFiles).toContain('user/sub/new.txt');
    expect(values(library, 'sub/new')).toEqual(['added']);
  });

  // Root reads every folder whatever its mode, so this can only be checked as another user.
  it.skipIf(process.getuid?.() === 0)(
    'reports a folder that becomes unreadable and drops its files',
    async () => {
      const { library, folder } = await openLibrary({ 'sub/a.txt': 'a\n', 'b.txt': 'b\n' });
      await chmod(join(folder, 'sub'), 0o000);
      try {
        expect(await library.refresh()).toBe(true);
        expect(library.names()).toEqual(['b']);
        expect(library.problems).toEqual([
          { file: 'user/sub', message: expect.stringMatching(/^skipped: .*EACCES/) as string },
        ]);
      } finally {
        await chmod(join(folder, 'sub'), 0o755);
      }
    },
  );

  it('stops watching when closed', async () => {
    const { library, folder } = await openLibrary(
      { 'a.txt': 'a\n' },
      { watch: true, watchDebounceMs: 5 },
    );
    await library.close();
    await mkdir(join(folder, 'later'));
    await writeFile(join(folder, 'later/x.txt'), 'x\n');
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(library.names()).toEqual(['a']);
    expect(await library.refresh()).toBe(false);
  });
});

describe('WildcardLibrary: options', () => {
  it.each([
    [{ roots: [] }, 'options.roots must list at least one wildcard folder'],
    [{ roots: [''] }, 'options.roots[0] must be a folder path'],
    [{ roots: [{ path: '/a', name: 'x y' }] }, "options.roots[0].name 'x y' may only use"],
    [{ roots: ['/a/wc', '/b/wc'] }, "two wildcard roots are named 'wc'"],
    [{ roots: ['/a'], watchDebounceMs: -1 }, 'options.watchDebounceMs must be an integer of 0'],
    [{ roots: ['/a'], maxFileBytes: 0 }, 'options.maxFileBytes must be an integer of 1'],
  ])('rejects %j', (options, message) => {
    expect(() => new WildcardLibrary(options as never)).toThrow(ConfigError);
    expect(() => new WildcardLibrary(options as never)).toThrow(message);
  });
});
