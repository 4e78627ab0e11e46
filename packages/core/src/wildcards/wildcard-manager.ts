/**
 * Managing wildcard categories: list them with counts, read one, add and delete items, create and
 * delete categories. This is what the REST routes `GET/POST/DELETE /api/v1/wildcards...` call.
 *
 * Every category of the library can be read. Writes go to one root (the user's folder), and only
 * to `.txt` categories: built-in samples and YAML/JSON collections are read-only here
 * (`FT_ERR_WILDCARD_READ_ONLY`), because rewriting a structured file would lose its layout and
 * comments. Writes are atomic (temporary file, then rename), run one at a time, keep comments and
 * blank lines of the file, and reload the library before they resolve, so the next expansion sees
 * them.
 */
import { access, mkdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

import { ConfigError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { WildcardError } from './wildcard-error.js';
import type { WildcardLibrary } from './wildcard-library.js';
import { checkExistingCategoryName, checkItem, checkNewCategoryName } from './wildcard-names.js';
import type { WildcardCollection } from './wildcard-snapshot.js';
import type { WildcardFormat } from './wildcard-sources.js';

/** Options of a {@link WildcardManager}. */
export interface WildcardManagerOptions {
  /** The library to manage; it must be loaded before the manager is used. */
  library: WildcardLibrary;
  /** The root that writes go to, by its name or its path; it must be one of the library's. */
  writableRoot: string;
}

/** A category as listed. */
export interface WildcardCategorySummary {
  /** Its wildcard name: `animals/cats`. */
  readonly name: string;
  /** How many items it has. */
  readonly count: number;
  /** The key of its file (`user/animals/cats.txt`). */
  readonly file: string;
  readonly format: WildcardFormat;
  /** The name of the root it is in. */
  readonly root: string;
  /** Whether the manager can change it. */
  readonly writable: boolean;
}

/** A category with its items. */
export interface WildcardCategory extends WildcardCategorySummary {
  readonly items: readonly string[];
  /** One weight per item, or null when every weight is 1. */
  readonly weights: readonly number[] | null;
}

/**
 * Reads every category of a library and changes the `.txt` categories of one root.
 *
 * @example
 * ```ts
 * const manager = new WildcardManager({ library, writableRoot: 'user' });
 * await manager.createCategory('moods', ['calm', 'stormy']);
 * await manager.addItem('moods', '{quiet|still} dawn');
 * manager.listCategories(); // [..., { name: 'moods', count: 3, writable: true, ... }]
 * ```
 */
export class WildcardManager {
  readonly #library: WildcardLibrary;
  readonly #root: { readonly name: string; readonly path: string };
  #queue: Promise<unknown> = Promise.resolve();

  /** @throws {@link ConfigError} when `writableRoot` is not one of the library's roots. */
  constructor(options: WildcardManagerOptions) {
    this.#library = options.library;
    const wanted = options.writableRoot;
    const root = options.library.roots.find(
      (candidate) => candidate.name === wanted || candidate.path === resolve(String(wanted)),
    );
    if (root === undefined) {
      const names = options.library.roots.map((candidate) => candidate.name).join(', ');
      throw new ConfigError(
        `options.writableRoot '${String(wanted)}' is not a root of the library (roots: ${names})`,
      );
    }
    this.#root = root;
  }

  /** Every category, sorted by name, with its item count. */
  listCategories(): WildcardCategorySummary[] {
    const { collections, names } = this.#library.snapshot;
    return names.flatMap((name) => {
      const collection = collections.get(name);
      return collection === undefined ? [] : [this.#summary(collection)];
    });
  }

  /**
   * One category with its items.
   * @throws {@link WildcardError} `FT_ERR_WILDCARD_NAME_INVALID` or `_CATEGORY_NOT_FOUND`.
   */
  getCategory(name: string): WildcardCategory {
    const collection = this.#find(name);
    const { cumulative } = collection;
    const weights =
      cumulative === null
        ? null
        : Array.from(
            cumulative,
            (total, index) => total - (index === 0 ? 0 : (cumulative[index - 1] ?? 0)),
          );
    return { ...this.#summary(collection), items: collection.values, weights };
  }

  /**
   * Creates a category as `<writable root>/<name>.txt` with the given items.
   * @throws {@link WildcardError} `FT_ERR_WILDCARD_NAME_INVALID`, `_SYNTAX` (an item),
   *   `_CATEGORY_EXISTS` (any root, any case), `_IO`.
   */
  createCategory(name: string, items: readonly string[] = []): Promise<WildcardCategory> {
    return this.#exclusive(async () => {
      const checked = checkNewCategoryName(name);
      const lines = checkItems(items);
      const existing = this.#library.collection(checked);
      if (existing !== undefined) throw categoryExists(checked, existing.file.key);
      const path = join(this.#root.path, ...checked.split('/')) + '.txt';
      if (await exists(path)) throw categoryExists(checked, this.#key(path));
      await this.#io(path, async () => {
        await mkdir(dirname(path), { recursive: true });
        await writeFileAtomic(path, lines.map((line) => `${line}\n`).join(''));
      });
      return this.#reloaded(path, checked);
    });
  }

  /**
   * Deletes a category's file (and folders it leaves empty).
   * @throws {@link WildcardError} `FT_ERR_WILDCARD_CATEGORY_NOT_FOUND`, `_READ_ONLY`, `_IO`.
   */
  deleteCategory(name: string): Promise<void> {
    return this.#exclusive(async () => {
      const collection = this.#writable(name);
      const path = collection.file.absolutePath;
      await this.#io(path, async () => {
        await unlink(path);
        await this.#removeEmptyFolders(dirname(path));
      });
      this.#library.markChanged(path);
      await this.#library.refresh();
    });
  }

  /**
   * Appends an item to a category (duplicates are kept: in a text file they weigh double).
   * @throws {@link WildcardError} `FT_ERR_WILDCARD_NAME_INVALID`, `_SYNTAX`,
   *   `_CATEGORY_NOT_FOUND`, `_READ_ONLY`, `_IO`.
   */
  addItem(name: string, item: string): Promise<WildcardCategory> {
    return this.#exclusive(async () => {
      const collection = this.#writable(name);
      const line = checkItem(item);
      const path = collection.file.absolutePath;
      await this.#io(path, async () => {
        const text = await readFile(path, 'utf8');
        const separator = text.length === 0 || /[\r\n]$/.test(text) ? '' : '\n';
        await writeFileAtomic(path, `${text}${separator}${line}\n`);
      });
      return this.#reloaded(path, collection.name);
    });
  }

  /**
   * Removes every line of a category equal to `item` (comments and other lines stay).
   * @throws {@link WildcardError} `FT_ERR_WILDCARD_ITEM_NOT_FOUND`, `_CATEGORY_NOT_FOUND`,
   *   `_READ_ONLY`, `_IO`.
   */
  deleteItem(name: string, item: string): Promise<WildcardCategory> {
    return this.#exclusive(async () => {
      const collection = this.#writable(name);
      const target = typeof item === 'string' ? item.trim() : '';
      const path = collection.file.absolutePath;
      const notFound = new WildcardError(
        'FT_ERR_WILDCARD_ITEM_NOT_FOUND',
        `the category '${collection.name}' has no item '${target}'`,
        { name: collection.name },
      );
      // Blank lines and comments are not items, so they can never be deleted as one.
      if (target === '' || target.startsWith('#')) throw notFound;
      await this.#io(path, async () => {
        const lines = (await readFile(path, 'utf8')).split(/(?<=\n)/);
        const kept = lines.filter((line) => line.trim() !== target);
        if (kept.length === lines.length) throw notFound;
        await writeFileAtomic(path, kept.join(''));
      });
      return this.#reloaded(path, collection.name);
    });
  }

  #summary(collection: WildcardCollection): WildcardCategorySummary {
    const { file } = collection;
    return {
      name: collection.name,
      count: collection.values.length,
      file: file.key,
      format: file.format,
      root: file.root,
      writable: file.root === this.#root.name && file.format === 'txt',
    };
  }

  #find(name: string): WildcardCollection {
    const checked = checkExistingCategoryName(name);
    const collection = this.#library.collection(checked);
    if (collection !== undefined) return collection;
    throw new WildcardError(
      'FT_ERR_WILDCARD_CATEGORY_NOT_FOUND',
      `no wildcard category is named '${checked}'`,
      { name: checked },
    );
  }

  #writable(name: string): WildcardCollection {
    const collection = this.#find(name);
    if (this.#summary(collection).writable) return collection;
    throw new WildcardError(
      'FT_ERR_WILDCARD_READ_ONLY',
      `the category '${collection.name}' comes from ${collection.file.key} and cannot be changed ` +
        `here: only .txt categories in the '${this.#root.name}' folder can; create a category ` +
        'of your own instead',
      { name: collection.name, file: collection.file.key },
    );
  }

  async #reloaded(path: string, name: string): Promise<WildcardCategory> {
    this.#library.markChanged(path);
    await this.#library.refresh();
    return this.getCategory(name);
  }

  async #removeEmptyFolders(folder: string): Promise<void> {
    let current = folder;
    while (current.startsWith(this.#root.path + sep)) {
      try {
        await rmdir(current);
      } catch {
        // Not empty (or already gone): stop climbing.
        return;
      }
      current = dirname(current);
    }
  }

  /** Runs a file operation, turning system errors into `FT_ERR_WILDCARD_IO`. */
  async #io(path: string, operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      if (error instanceof WildcardError) throw error;
      const file = this.#key(path);
      throw new WildcardError(
        'FT_ERR_WILDCARD_IO',
        `writing the wildcard file ${file} failed: ${String(error)}`,
        { file, cause: error },
      );
    }
  }

  #key(path: string): string {
    return `${this.#root.name}/${relative(this.#root.path, path).split(sep).join('/')}`;
  }

  /** Runs writes one after another, so that two edits of one file never interleave. */
  #exclusive<Result>(task: () => Promise<Result>): Promise<Result> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function checkItems(items: readonly string[]): string[] {
  if (!Array.isArray(items)) {
    throw new WildcardError('FT_ERR_WILDCARD_NAME_INVALID', 'the items must be a list of text');
  }
  return items.map((item) => checkItem(item));
}

function categoryExists(name: string, file: string): WildcardError {
  return new WildcardError(
    'FT_ERR_WILDCARD_CATEGORY_EXISTS',
    `a wildcard category named '${name}' already exists (${file})`,
    { name, file },
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
