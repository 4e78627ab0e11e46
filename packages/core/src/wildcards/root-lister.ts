/**
 * Finding and reading the files of one wildcard root: the listing (with sizes and modification
 * times, for the cheap change check) and the reading of one file (bytes, hash, parsed entries).
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

import type { WildcardFileInfo } from './wildcard-snapshot.js';
import { parseWildcardFile, wildcardFormat, type ParsedWildcardFile } from './wildcard-sources.js';

/** Something in a root that could not be used, and why. */
export interface WildcardLoadProblem {
  /** The file or folder concerned (its key, or its path for a root). */
  readonly file: string;
  readonly message: string;
}

/** Limits on what a listing reads. */
export interface ListingLimits {
  readonly maxFileBytes: number;
  readonly maxFilesPerRoot: number;
}

/** A root with its final name and absolute path. */
export interface ResolvedRoot {
  readonly name: string;
  readonly path: string;
}

/** A file found by a listing. */
export interface ListedFile {
  readonly root: ResolvedRoot;
  readonly relativePath: string;
  readonly absolutePath: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** A file read and parsed. */
export interface LoadedFile {
  readonly info: WildcardFileInfo;
  readonly parsed: ParsedWildcardFile;
}

/** Lists the wildcard files under one root, skipping dot-names and links back into the root. */
export class RootLister {
  readonly #root: ResolvedRoot;
  readonly #options: ListingLimits;
  readonly #problems: WildcardLoadProblem[];
  readonly #files: ListedFile[] = [];
  #realRoot = '';

  constructor(root: ResolvedRoot, options: ListingLimits, problems: WildcardLoadProblem[]) {
    this.#root = root;
    this.#options = options;
    this.#problems = problems;
  }

  /** Every wildcard file under the root, sorted by path within each folder. */
  async list(): Promise<ListedFile[]> {
    try {
      this.#realRoot = await realpath(this.#root.path);
      await this.#folder(this.#root.path);
    } catch (error) {
      const message =
        errorCode(error) === 'ENOENT'
          ? 'the folder does not exist; it reads as empty'
          : `the folder cannot be read: ${String(error)}`;
      this.#problems.push({ file: this.#root.path, message });
    }
    return this.#files;
  }

  async #folder(folder: string): Promise<void> {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      const isFolder = entry.isDirectory() || (await this.#isOutsideFolderLink(entry, path));
      if (isFolder) await this.#folder(path).catch((error: unknown) => this.#skip(path, error));
      else if (wildcardFormat(entry.name) !== null) await this.#file(path);
    }
  }

  async #file(path: string): Promise<void> {
    if (this.#files.length >= this.#options.maxFilesPerRoot) {
      this.#skip(path, `more than ${this.#options.maxFilesPerRoot} files in this root`);
      return;
    }
    try {
      const stats = await stat(path);
      if (!stats.isFile()) return;
      if (stats.size > this.#options.maxFileBytes) {
        this.#skip(path, `${stats.size} bytes is over the ${this.#options.maxFileBytes} allowed`);
        return;
      }
      const relativePath = relative(this.#root.path, path).split(sep).join('/');
      this.#files.push({
        root: this.#root,
        relativePath,
        absolutePath: path,
        bytes: stats.size,
        mtimeMs: stats.mtimeMs,
      });
    } catch (error) {
      // A file removed between the listing and the stat is simply gone.
      if (errorCode(error) !== 'ENOENT') this.#skip(path, error);
    }
  }

  /**
   * Whether an entry is a link to a folder outside the root. A link to a folder inside the root
   * is skipped: its files are read under their own path, and a link to a parent would loop.
   */
  async #isOutsideFolderLink(entry: Dirent, path: string): Promise<boolean> {
    if (!entry.isSymbolicLink()) return false;
    try {
      const target = await realpath(path);
      const inside = target === this.#realRoot || target.startsWith(this.#realRoot + sep);
      return !inside && (await stat(target)).isDirectory();
    } catch {
      return false;
    }
  }

  #skip(path: string, reason: unknown): void {
    const key = `${this.#root.name}/${relative(this.#root.path, path).split(sep).join('/')}`;
    this.#problems.push({ file: key, message: `skipped: ${String(reason)}` });
  }
}

/** Reads and parses one listed file; null (with a problem noted) when it cannot be read. */
export async function readWildcardFile(
  file: ListedFile,
  problems: WildcardLoadProblem[],
): Promise<LoadedFile | null> {
  const key = `${file.root.name}/${file.relativePath}`;
  const format = wildcardFormat(file.relativePath);
  if (format === null) return null;
  let bytes: Buffer;
  try {
    bytes = await readFile(file.absolutePath);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') problems.push({ file: key, message: String(error) });
    return null;
  }
  const parsed = parseWildcardFile(bytes.toString('utf8'), format, file.relativePath);
  const info: WildcardFileInfo = {
    key,
    root: file.root.name,
    relativePath: file.relativePath,
    absolutePath: file.absolutePath,
    format,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    mtimeMs: file.mtimeMs,
  };
  return { info, parsed };
}

/** The `code` of a system error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
