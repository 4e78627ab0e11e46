/**
 * A wildcard library: the collections of one or more root folders, loaded into memory, with a
 * SHA-256 of every file, kept current as the files change.
 *
 * Roots are read in the order given; a name defined in a later root replaces the same name from an
 * earlier one, so `[BUILT_IN_WILDCARD_ROOT, { name: 'user', path }]` lets a user's file override a
 * shipped sample. Within one root, a name defined by two files keeps the first by path (text files
 * before structured ones at the same path) and reports the other in {@link WildcardLibrary.problems}.
 *
 * Keeping current: {@link WildcardLibrary.refresh} lists the roots and compares every file's size
 * and modification time with what was loaded; only changed files are read again, and a new
 * snapshot replaces the old one whole. With `watch: true`, `fs.watch` events trigger that refresh
 * after a short debounce and also mark the named files as changed, which catches an edit that keeps
 * both size and modification time. Watch events can be missed (network file systems, some
 * editors), which is why the refresh itself never trusts them alone.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  WildcardSnapshot,
  type WildcardCollection,
  type WildcardFileInfo,
} from './wildcard-snapshot.js';
import {
  RootLister,
  errorCode,
  readWildcardFile,
  type ListedFile,
  type LoadedFile,
  type ResolvedRoot,
  type WildcardLoadProblem,
} from './root-lister.js';

export type { WildcardLoadProblem } from './root-lister.js';

/** A folder of wildcard files. */
export interface WildcardRoot {
  /** The folder. */
  readonly path: string;
  /**
   * Its name in traces (`<name>/<path in the folder>`).
   * @defaultValue the folder's base name
   */
  readonly name?: string;
}

/** Options of a {@link WildcardLibrary}. */
export interface WildcardLibraryOptions {
  /** The folders to read, lowest precedence first. A folder that does not exist reads as empty. */
  roots: ReadonlyArray<string | WildcardRoot>;
  /**
   * Watch the folders and reload after changes.
   * @defaultValue false
   */
  watch?: boolean;
  /**
   * How long to wait after the last change event before reloading, in milliseconds.
   * @defaultValue 200
   */
  watchDebounceMs?: number;
  /**
   * Files larger than this are skipped and reported, in bytes.
   * @defaultValue 8 MiB
   */
  maxFileBytes?: number;
  /**
   * The most files read from one root; the rest are skipped and reported.
   * @defaultValue 20,000
   */
  maxFilesPerRoot?: number;
  /** Where load problems and watch failures are reported. */
  logger?: Logger;
}

/** Defaults of the optional {@link WildcardLibraryOptions}. */
export const DEFAULT_WILDCARD_LIBRARY_OPTIONS = {
  watch: false,
  watchDebounceMs: 200,
  maxFileBytes: 8 * 1024 * 1024,
  maxFilesPerRoot: 20_000,
} as const satisfies Required<Omit<WildcardLibraryOptions, 'roots' | 'logger'>>;

/** What a reload changed. */
export interface WildcardReloadEvent {
  /** The library's version after the reload. */
  readonly version: number;
  /** Keys of files added, changed or removed. */
  readonly changedFiles: readonly string[];
}

/** The samples shipped with the package (`packages/core/wildcards`), as a root named `built-in`. */
export const BUILT_IN_WILDCARD_ROOT: WildcardRoot = Object.freeze({
  name: 'built-in',
  // Two levels up from both src/wildcards/*.ts and dist/wildcards/*.js is the package folder.
  path: fileURLToPath(new URL('../../wildcards/', import.meta.url)),
});

/**
 * The wildcard collections of a set of folders, in memory.
 *
 * @example
 * ```ts
 * const library = new WildcardLibrary({
 *   roots: [BUILT_IN_WILDCARD_ROOT, { name: 'user', path: '/srv/forge-tool/wildcards' }],
 *   watch: true,
 * });
 * await library.load();
 * const { prompt } = expandPrompt(library, 'a __animals/cats__ at {dawn|dusk}', { seed: 42 });
 * await library.close();
 * ```
 */
export class WildcardLibrary {
  readonly #roots: readonly ResolvedRoot[];
  readonly #options: Required<Omit<WildcardLibraryOptions, 'roots' | 'logger'>>;
  readonly #logger: Logger;
  #snapshot: WildcardSnapshot | null = null;
  #problems: readonly WildcardLoadProblem[] = [];
  #version = 0;
  #signature = '';
  readonly #loaded = new Map<string, LoadedFile>();
  readonly #dirty = new Set<string>();
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #listeners = new Set<(event: WildcardReloadEvent) => void>();
  #debounce: NodeJS.Timeout | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #queued: Promise<boolean> | null = null;
  #closed = false;

  /** @throws {@link ConfigError} for a missing root list, an empty path or duplicate root names. */
  constructor(options: WildcardLibraryOptions) {
    this.#roots = resolveRoots(options.roots);
    this.#options = { ...DEFAULT_WILDCARD_LIBRARY_OPTIONS, ...definedOnly(options) };
    checkPositiveInteger(this.#options.watchDebounceMs, 'watchDebounceMs', true);
    checkPositiveInteger(this.#options.maxFileBytes, 'maxFileBytes', false);
    checkPositiveInteger(this.#options.maxFilesPerRoot, 'maxFilesPerRoot', false);
    this.#logger = options.logger ?? silentLogger;
  }

  /** Reads every root. Call once before expanding; later changes come through {@link refresh}. */
  async load(): Promise<void> {
    await this.#enqueue(true);
  }

  /**
   * Reloads what changed since the last load: cheap when nothing did (a listing and a `stat` per
   * file). Resolves to whether anything changed.
   */
  refresh(): Promise<boolean> {
    if (this.#queued !== null) return this.#queued;
    return this.#enqueue(false);
  }

  /** Stops watching. Expansion keeps working on what was loaded. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    await this.#chain;
  }

  /** Calls `listener` after every reload that changed something; returns the unsubscribe. */
  onReload(listener: (event: WildcardReloadEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The roots, with their resolved names and absolute paths. */
  get roots(): readonly { readonly name: string; readonly path: string }[] {
    return this.#roots;
  }

  /** Increases by one with every reload that changed something; 0 before {@link load}. */
  get version(): number {
    return this.#version;
  }

  /** What the last load had to skip, and why. */
  get problems(): readonly WildcardLoadProblem[] {
    return this.#problems;
  }

  /** Whether {@link load} has completed. */
  get loaded(): boolean {
    return this.#snapshot !== null;
  }

  /**
   * The current snapshot, used by the expander.
   * @throws {@link ConfigError} before {@link load} has completed.
   */
  get snapshot(): WildcardSnapshot {
    if (this.#snapshot === null) {
      throw new ConfigError('the wildcard library is not loaded: await library.load() first');
    }
    return this.#snapshot;
  }

  /** Every wildcard name, sorted. */
  names(): readonly string[] {
    return this.snapshot.names;
  }

  /** The collection of exactly this name (any case when no exact match), or undefined. */
  collection(name: string): WildcardCollection | undefined {
    const { collections } = this.snapshot;
    const exact = collections.get(name);
    if (exact !== undefined) return exact;
    const lower = name.toLowerCase();
    const match = this.snapshot.names.find((candidate) => candidate.toLowerCase() === lower);
    return match === undefined ? undefined : collections.get(match);
  }

  /**
   * Marks a file as changed so that the next refresh reads it again whatever its timestamp says
   * (the manager calls this after writing).
   */
  markChanged(absolutePath: string): void {
    this.#dirty.add(resolve(absolutePath));
  }

  #enqueue(force: boolean): Promise<boolean> {
    const run = this.#chain.then(() => {
      this.#queued = null;
      return this.#reload(force);
    });
    this.#queued = force ? null : run;
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #reload(force: boolean): Promise<boolean> {
    if (this.#closed && !force) return false;
    const problems: WildcardLoadProblem[] = [];
    const listed = await this.#listAll(problems);
    const signature = listed.map((file) => `${file.absolutePath}|${file.bytes}|${file.mtimeMs}`);
    const joined = signature.join('\n');
    if (!force && joined === this.#signature && this.#dirty.size === 0) return false;
    const changed = await this.#readChanged(listed, problems);
    this.#snapshot = this.#build(listed, problems);
    this.#problems = problems;
    this.#signature = joined;
    this.#version += 1;
    for (const problem of problems) this.#logger.warn({ ...problem }, 'wildcard file skipped');
    if (this.#options.watch && !this.#closed) this.#watchRoots();
    this.#emit({ version: this.#version, changedFiles: changed });
    return true;
  }

  async #listAll(problems: WildcardLoadProblem[]): Promise<ListedFile[]> {
    const all: ListedFile[] = [];
    for (const root of this.#roots) {
      const lister = new RootLister(root, this.#options, problems);
      all.push(...(await lister.list()));
    }
    return all;
  }

  /** Reads files that are new, changed or marked dirty; returns the keys that changed. */
  async #readChanged(listed: ListedFile[], problems: WildcardLoadProblem[]): Promise<string[]> {
    const changed: string[] = [];
    const present = new Set(listed.map((file) => file.absolutePath));
    for (const [path, loaded] of this.#loaded) {
      if (!present.has(path)) {
        this.#loaded.delete(path);
        changed.push(loaded.info.key);
      }
    }
    for (const file of listed) {
      const known = this.#loaded.get(file.absolutePath);
      const same = known?.info.bytes === file.bytes && known.info.mtimeMs === file.mtimeMs;
      if (same && !this.#dirty.has(file.absolutePath)) continue;
      const loaded = await readWildcardFile(file, problems);
      if (loaded === null) this.#loaded.delete(file.absolutePath);
      else if (known?.info.sha256 !== loaded.info.sha256) changed.push(loaded.info.key);
      if (loaded !== null) this.#loaded.set(file.absolutePath, loaded);
    }
    this.#dirty.clear();
    return changed;
  }

  #build(listed: ListedFile[], problems: WildcardLoadProblem[]): WildcardSnapshot {
    const collections = new Map<string, WildcardCollection>();
    const files: WildcardFileInfo[] = [];
    for (const root of this.#roots) {
      const own = new Map<string, WildcardCollection>();
      for (const file of listed.filter((entry) => entry.root === root).sort(byReadingOrder)) {
        const loaded = this.#loaded.get(file.absolutePath);
        if (loaded === undefined) continue;
        files.push(loaded.info);
        addCollections(own, loaded, problems);
      }
      for (const [name, collection] of own) collections.set(name, collection);
    }
    return new WildcardSnapshot(collections, files);
  }

  #watchRoots(): void {
    for (const root of this.#roots) {
      if (this.#watchers.has(root.path)) continue;
      try {
        const watcher = watch(root.path, { recursive: true, persistent: false });
        watcher.on('change', (_event, fileName) => this.#onWatchEvent(root, fileName));
        watcher.on('error', (error) => this.#onWatchError(root, error));
        this.#watchers.set(root.path, watcher);
      } catch (error) {
        // A root that does not exist yet is watched once a refresh finds it.
        if (errorCode(error) !== 'ENOENT') this.#onWatchError(root, error);
      }
    }
  }

  #onWatchEvent(root: ResolvedRoot, fileName: string | Buffer | null): void {
    if (fileName !== null) this.#dirty.add(join(root.path, fileName.toString()));
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      this.refresh().catch((error: unknown) => {
        this.#logger.warn({ error: String(error) }, 'wildcard reload failed');
      });
    }, this.#options.watchDebounceMs);
    this.#debounce.unref();
  }

  #onWatchError(root: ResolvedRoot, error: unknown): void {
    this.#logger.warn(
      { root: root.name, error: String(error) },
      'watching a wildcard folder failed; changes are picked up by refresh() only',
    );
    this.#watchers.get(root.path)?.close();
    this.#watchers.delete(root.path);
  }

  #emit(event: WildcardReloadEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.warn({ error: String(error) }, 'a wildcard reload listener threw');
      }
    }
  }
}

function addCollections(
  into: Map<string, WildcardCollection>,
  loaded: LoadedFile,
  problems: WildcardLoadProblem[],
): void {
  const { info, parsed } = loaded;
  for (const message of parsed.problems) problems.push({ file: info.key, message });
  for (const entry of parsed.entries) {
    const existing = into.get(entry.name);
    if (existing !== undefined) {
      problems.push({
        file: info.key,
        message: `'${entry.name}' is already defined by ${existing.file.key}; this one is ignored`,
      });
      continue;
    }
    into.set(entry.name, {
      name: entry.name,
      values: entry.values,
      cumulative: entry.weights === null ? null : cumulate(entry.weights),
      lines: entry.lines,
      file: info,
      templates: new Array<undefined>(entry.values.length),
    });
  }
}

/** Text files first, then by path, so that `a.txt` wins over a tree in `a.yaml`. */
function byReadingOrder(a: ListedFile, b: ListedFile): number {
  const textA = a.relativePath.toLowerCase().endsWith('.txt') ? 0 : 1;
  const textB = b.relativePath.toLowerCase().endsWith('.txt') ? 0 : 1;
  if (textA !== textB) return textA - textB;
  return a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0;
}

function cumulate(weights: readonly number[]): Float64Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, index) => {
    total += weight;
    cumulative[index] = total;
  });
  return cumulative;
}

function resolveRoots(roots: WildcardLibraryOptions['roots'] | undefined): ResolvedRoot[] {
  if (!Array.isArray(roots) || roots.length === 0) {
    throw new ConfigError('options.roots must list at least one wildcard folder');
  }
  const resolved = roots.map((root: string | WildcardRoot, index) => {
    const path = typeof root === 'string' ? root : root?.path;
    if (typeof path !== 'string' || path.trim() === '') {
      throw new ConfigError(`options.roots[${index}] must be a folder path or { path, name }`);
    }
    const absolute = resolve(path);
    const name = (typeof root === 'string' ? undefined : root.name) ?? basename(absolute);
    if (!/^[\w.-]+$/.test(name)) {
      throw new ConfigError(
        `options.roots[${index}].name '${name}' may only use letters, digits, '_', '-' and '.'`,
      );
    }
    return { name, path: absolute };
  });
  const names = resolved.map((root) => root.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw new ConfigError(`two wildcard roots are named '${duplicate}': give each a distinct name`);
  }
  return resolved;
}

function definedOnly(options: WildcardLibraryOptions): Partial<WildcardLibraryOptions> {
  return Object.fromEntries(
    Object.entries(options).filter(([key, value]) => value !== undefined && key !== 'roots'),
  );
}

function checkPositiveInteger(value: unknown, option: string, zeroAllowed: boolean): void {
  const low = zeroAllowed ? 0 : 1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < low) {
    throw new ConfigError(`options.${option} must be an integer of ${low} or more`);
  }
}
