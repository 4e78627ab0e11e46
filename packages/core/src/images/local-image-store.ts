/**
 * The default {@link ImageStore}: files in a local folder, laid out by date and job.
 *
 * Writes go to a hidden temporary file in the target folder, are flushed to disk, then renamed
 * over the target, so a reader sees the old file or the new one, never a part, and a crash
 * leaves at most a stray temporary file (swept by {@link LocalImageStore.enforceRetention}).
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

import { ConfigError, ForgeToolError } from '../errors.js';
import {
  ImageKeyLayout,
  assertImageKey,
  type ImageKeyParts,
  type ImageKeyTemplates,
  type ImageStore,
  type ParsedImageKey,
  type RemovedImage,
  type RetentionPolicy,
  type StoredImageInfo,
} from './image-store.js';

/** Options of {@link LocalImageStore}. */
export interface LocalImageStoreOptions {
  /**
   * The folder images are stored in, created when missing; relative paths are resolved
   * against the working directory.
   * @defaultValue 'outputs'
   */
  root?: string;
  /** Key templates; see {@link ImageKeyTemplates}. */
  layout?: ImageKeyTemplates;
  /**
   * When images are removed; none keeps them forever.
   * @defaultValue {}
   */
  retention?: RetentionPolicy;
}

/** Temporary files start with this, so listings can skip them. */
const TEMP_PREFIX = '.tmp-';
/** A temporary file older than this is left over from a crash: no write takes an hour. */
const STALE_TEMP_MS = 60 * 60 * 1_000;

/**
 * Images in a local folder.
 *
 * @example
 * ```ts
 * const store = new LocalImageStore({ root: 'outputs', retention: { maxAgeMs: 30 * 86_400_000 } });
 * const key = store.keyFor({ jobId: job.id, index: 0, createdAt: job.createdAt, variant: 'image' });
 * await store.put(key, image.png);
 * const removed = await store.enforceRetention();
 * ```
 */
export class LocalImageStore implements ImageStore {
  readonly #root: string;
  readonly #layout: ImageKeyLayout;
  readonly #retention: RetentionPolicy;
  #tempCounter = 0;

  /** @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming the bad option and its rule */
  constructor(options: LocalImageStoreOptions = {}) {
    const { root = 'outputs', layout = {}, retention = {} } = options;
    if (typeof root !== 'string' || root === '') {
      throw new ConfigError(`options.root must be a non-empty folder path, got ${String(root)}`);
    }
    assertRetention(retention);
    this.#root = resolve(root);
    this.#layout = new ImageKeyLayout(layout);
    this.#retention = { ...retention };
  }

  /** The absolute folder the store writes to. */
  get root(): string {
    return this.#root;
  }

  keyFor(parts: ImageKeyParts): string {
    return this.#layout.keyFor(parts);
  }

  parseKey(key: string): ParsedImageKey | null {
    return this.#layout.parse(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.#pathOf(key);
    if (!(bytes instanceof Uint8Array)) {
      throw new ForgeToolError(
        'FT_ERR_STORE_FAILURE',
        `image ${key} was not stored: its bytes must be a Uint8Array or Buffer, got ${typeof bytes}`,
      );
    }
    const temp = join(dirname(target), `${TEMP_PREFIX}${this.#tempName()}`);
    try {
      // The folder usually exists already (one per day): create it only when the write says so.
      await writeDurably(temp, bytes).catch(async (error: unknown) => {
        if (!isMissing(error)) throw error;
        await mkdir(dirname(target), { recursive: true });
        await writeDurably(temp, bytes);
      });
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw storeFailure(`could not store image ${key} under ${this.#root}`, error);
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.#pathOf(key);
    try {
      return await readFile(path);
    } catch (error) {
      if (isMissing(error)) throw notFound(key);
      throw storeFailure(`could not read image ${key} under ${this.#root}`, error);
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async stat(key: string): Promise<StoredImageInfo | null> {
    const path = this.#pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { key, bytes: info.size, storedAt: info.mtimeMs } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw storeFailure(`could not read image ${key} under ${this.#root}`, error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const path = this.#pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return false;
      throw storeFailure(`could not delete image ${key} under ${this.#root}`, error);
    }
    await this.#pruneEmptyFolders(dirname(path));
    return true;
  }

  async list(): Promise<StoredImageInfo[]> {
    const { stored } = await this.#scan();
    return stored;
  }

  /**
   * Removes what is older than `maxAgeMs`, then the oldest until at most `maxTotalBytes`
   * remain, plus temporary files a crash left behind. Returns the removed objects, oldest
   * first, each with what its key says (job id, index, variant) for marking jobs.
   */
  async enforceRetention(now: number = Date.now()): Promise<RemovedImage[]> {
    const { stored, temporary } = await this.#scan();
    await this.#sweepTemporary(temporary, now);
    const doomed = pickExpired(stored, this.#retention, now);

    const removed: RemovedImage[] = [];
    for (const entry of doomed) {
      // Something else (another server on a shared folder) may have removed it already.
      if (await this.delete(entry.key))
        removed.push({ ...entry, parsed: this.parseKey(entry.key) });
    }
    return removed;
  }

  /** The file of a key, after checking that the key cannot leave the root. */
  #pathOf(key: string): string {
    assertImageKey(key);
    const path = resolve(this.#root, key);
    if (!path.startsWith(this.#root + sep)) {
      throw new ForgeToolError('FT_ERR_IMAGE_KEY_INVALID', `image key ${key} leaves the store`);
    }
    return path;
  }

  #tempName(): string {
    this.#tempCounter += 1;
    return `${process.pid}-${this.#tempCounter}-${randomBytes(4).toString('hex')}`;
  }

  async #scan(): Promise<{ stored: StoredImageInfo[]; temporary: StoredImageInfo[] }> {
    const entries = await this.#walk();
    const infos = await Promise.all(entries.map(async (path) => this.#infoOf(path)));
    const present = infos.filter((info): info is StoredImageInfo => info !== null);
    const isTemp = (info: StoredImageInfo): boolean =>
      info.key.split('/').at(-1)?.startsWith(TEMP_PREFIX) === true;
    const stored = present
      .filter((info) => !isTemp(info))
      .sort((a, b) => a.storedAt - b.storedAt || a.key.localeCompare(b.key));
    return { stored, temporary: present.filter(isTemp) };
  }

  async #walk(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.#root, { withFileTypes: true, recursive: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw storeFailure(`could not list the image store ${this.#root}`, error);
    }
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  }

  async #infoOf(path: string): Promise<StoredImageInfo | null> {
    const key = relative(this.#root, path).split(sep).join('/');
    try {
      const info = await stat(path);
      return { key, bytes: info.size, storedAt: info.mtimeMs };
    } catch (error) {
      if (isMissing(error)) return null;
      throw storeFailure(`could not read ${key} under ${this.#root}`, error);
    }
  }

  async #sweepTemporary(temporary: readonly StoredImageInfo[], now: number): Promise<void> {
    for (const entry of temporary) {
      if (now - entry.storedAt < STALE_TEMP_MS) continue;
      await unlink(join(this.#root, entry.key)).catch(() => undefined);
    }
  }

  /** Removes folders emptied by a delete, up to (not including) the root. */
  async #pruneEmptyFolders(folder: string): Promise<void> {
    for (let current = folder; current.startsWith(this.#root + sep); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }
}

/** The entries to remove, oldest first: too old, then the oldest of the rest while over size. */
function pickExpired(
  stored: readonly StoredImageInfo[],
  { maxAgeMs, maxTotalBytes }: RetentionPolicy,
  now: number,
): StoredImageInfo[] {
  const expired =
    maxAgeMs === undefined ? [] : stored.filter((entry) => now - entry.storedAt > maxAgeMs);
  if (maxTotalBytes === undefined) return expired;

  const kept = stored.filter((entry) => !expired.includes(entry));
  let total = kept.reduce((sum, entry) => sum + entry.bytes, 0);
  const oversize: StoredImageInfo[] = [];
  for (const entry of kept) {
    if (total <= maxTotalBytes) break;
    oversize.push(entry);
    total -= entry.bytes;
  }
  return [...expired, ...oversize];
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.writeFile(bytes);
    await file.datasync();
  } finally {
    await file.close();
  }
}

function assertRetention(retention: RetentionPolicy): void {
  const problems = (['maxAgeMs', 'maxTotalBytes'] as const)
    .filter((name) => {
      const value = retention[name];
      return value !== undefined && !(Number.isSafeInteger(value) && value >= 0);
    })
    .map(
      (name) => `options.retention.${name} must be an integer >= 0, got ${String(retention[name])}`,
    );
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function notFound(key: string): ForgeToolError {
  return new ForgeToolError(
    'FT_ERR_IMAGE_NOT_FOUND',
    `no image is stored under ${key}: it was never stored, or the retention policy removed it`,
  );
}

function storeFailure(what: string, error: unknown): ForgeToolError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ForgeToolError('FT_ERR_STORE_FAILURE', `${what}: ${reason}`, { cause: error });
}
