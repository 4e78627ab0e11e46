/**
 * Where finished images live: the {@link ImageStore} contract, and the key layout every
 * implementation shares (a local folder by default, S3-compatible storage for scale-out).
 *
 * A key is a relative, slash-separated path such as `2026-12-03/job_01J...-0.png`. Keys are
 * made from a layout template, so the same job always lands in the same place, and checked on
 * every call, so no key can reach outside the store.
 */
import { ConfigError, ForgeToolError } from '../errors.js';

/** The two things stored per image. */
export type ImageVariant = 'image' | 'thumbnail';

/** What a key is made from. */
export interface ImageKeyParts {
  /** The job's id (`job_` + ULID). */
  readonly jobId: string;
  /** Position within the job's images, from 0. */
  readonly index: number;
  /** When the job was created (ms since the epoch); gives the `{date}` folder, in UTC. */
  readonly createdAt: number;
  readonly variant: ImageVariant;
  /** The owner's id, for layouts that use `{owner}`. */
  readonly owner?: string;
}

/** What a key says about its image, read back through the layout. */
export interface ParsedImageKey {
  readonly jobId: string;
  readonly index: number;
  readonly variant: ImageVariant;
  /** `YYYY-MM-DD`, when the layout has `{date}`. */
  readonly date: string | null;
  /** When the layout has `{owner}`. */
  readonly owner: string | null;
}

/** One stored object. */
export interface StoredImageInfo {
  readonly key: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** When it was stored (ms since the epoch). */
  readonly storedAt: number;
}

/** An object the retention policy removed, with what its key says when the layout can tell. */
export interface RemovedImage extends StoredImageInfo {
  /** Null when the key does not follow the store's layout (a file put there by hand). */
  readonly parsed: ParsedImageKey | null;
}

/**
 * When stored images are removed. Both limits may be set; none means images are kept forever.
 * The engine marks removed images on their jobs (`JobStore.markImagesRemoved`), so a job says
 * its images are gone instead of pointing at missing files.
 */
export interface RetentionPolicy {
  /** Remove objects stored longer ago than this, in milliseconds. */
  readonly maxAgeMs?: number;
  /** Then remove the oldest objects until the store holds at most this many bytes. */
  readonly maxTotalBytes?: number;
}

/** Where images and their previews are stored. */
export interface ImageStore {
  /** The key an image or preview of a job is stored under (does not touch storage). */
  keyFor(parts: ImageKeyParts): string;
  /** What a key says, or null when it does not follow this store's layout. */
  parseKey(key: string): ParsedImageKey | null;
  /**
   * Stores bytes under a key, replacing what was there; readers see the old or the new
   * bytes, never a part.
   * @throws `FT_ERR_IMAGE_KEY_INVALID`, `FT_ERR_STORE_FAILURE`
   */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /**
   * The bytes stored under a key.
   * @throws `FT_ERR_IMAGE_NOT_FOUND` when nothing is (never stored, or removed by retention);
   *   `FT_ERR_IMAGE_KEY_INVALID`, `FT_ERR_STORE_FAILURE`
   */
  get(key: string): Promise<Buffer>;
  /** Whether something is stored under a key. */
  has(key: string): Promise<boolean>;
  /** Size and time of what is stored under a key, or null. */
  stat(key: string): Promise<StoredImageInfo | null>;
  /** Removes what is stored under a key; false when there was nothing. */
  delete(key: string): Promise<boolean>;
  /** Everything stored, oldest first. */
  list(): Promise<StoredImageInfo[]>;
  /** Applies the retention policy as of `now` and returns what it removed, oldest first. */
  enforceRetention(now?: number): Promise<RemovedImage[]>;
}

/** Layout templates for images and previews. */
export interface ImageKeyTemplates {
  /**
   * Template of image keys. Tokens: `{date}` (YYYY-MM-DD, UTC), `{job}`, `{index}`, `{owner}`;
   * `{job}` and `{index}` are required.
   * @defaultValue '{date}/{job}-{index}.png'
   */
  readonly image?: string;
  /**
   * Template of preview keys, same tokens; it must differ from the image template.
   * @defaultValue '{date}/thumbs/{job}-{index}.png'
   */
  readonly thumbnail?: string;
}

/** The default layout. */
export const DEFAULT_IMAGE_KEY_TEMPLATES = {
  image: '{date}/{job}-{index}.png',
  thumbnail: '{date}/thumbs/{job}-{index}.png',
} as const satisfies Required<ImageKeyTemplates>;

const MAX_KEY_LENGTH = 1_024;
const KEY_CHARACTERS = /^[A-Za-z0-9._\-/]+$/;
const TOKEN = /\{([^{}]*)\}/g;
const TOKEN_PATTERNS: Readonly<Record<string, string>> = {
  date: '(\\d{4}-\\d{2}-\\d{2})',
  job: '([A-Za-z0-9._-]+?)',
  index: '(\\d+)',
  owner: '([A-Za-z0-9._-]+?)',
};
const KEY_RULE =
  'a key is a relative path of letters, digits, ".", "_", "-" and "/", without empty segments ' +
  `or segments starting with ".", at most ${MAX_KEY_LENGTH} characters`;

/**
 * Checks that a key is a relative path that stays inside the store.
 *
 * @throws {ForgeToolError} `FT_ERR_IMAGE_KEY_INVALID` naming the key and the rule
 */
export function assertImageKey(key: unknown): asserts key is string {
  const problem = imageKeyProblem(key);
  if (problem === undefined) return;
  throw new ForgeToolError(
    'FT_ERR_IMAGE_KEY_INVALID',
    `image key ${JSON.stringify(key) ?? String(key)} ${problem}; ${KEY_RULE}`,
  );
}

function imageKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `is a ${typeof key}, not a string`;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return `has ${key.length} characters`;
  if (!KEY_CHARACTERS.test(key)) return 'holds a character outside the allowed set';
  if (key.startsWith('/')) return 'is absolute';
  const segments = key.split('/');
  if (segments.some((segment) => segment === '..')) return 'climbs out with ".."';
  if (segments.some((segment) => segment === '')) return 'has an empty segment';
  // Hidden names are the store's own (temporary files while writing).
  if (segments.some((segment) => segment.startsWith('.'))) return 'has a segment starting with "."';
  return undefined;
}

/**
 * Turns {@link ImageKeyParts} into keys with the layout templates, and keys back into parts.
 * Token values are made safe for a path: characters outside letters, digits, `.`, `_` and `-`
 * become `_`, and a leading `.` does too.
 */
export class ImageKeyLayout {
  readonly #templates: Readonly<Record<ImageVariant, string>>;
  readonly #patterns: ReadonlyArray<readonly [ImageVariant, RegExp, string[]]>;

  /** @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming the bad template and the rule */
  constructor(templates: ImageKeyTemplates = {}) {
    const resolved = { ...DEFAULT_IMAGE_KEY_TEMPLATES, ...templates };
    assertTemplates(resolved);
    this.#templates = resolved;
    this.#patterns = (['image', 'thumbnail'] as const).map((variant) => {
      const [pattern, tokens] = compileTemplate(resolved[variant]);
      return [variant, pattern, tokens] as const;
    });
  }

  /** The key for an image or preview. */
  keyFor(parts: ImageKeyParts): string {
    assertKeyParts(parts);
    const values: Record<string, string> = {
      date: new Date(parts.createdAt).toISOString().slice(0, 10),
      job: safeSegment(parts.jobId),
      index: String(parts.index),
      owner: safeSegment(parts.owner ?? 'unknown'),
    };
    const key = this.#templates[parts.variant].replace(TOKEN, (_match, name: string) => {
      return values[name] ?? '';
    });
    assertImageKey(key);
    return key;
  }

  /** What a key says, or null when it follows neither template. */
  parse(key: string): ParsedImageKey | null {
    for (const [variant, pattern, tokens] of this.#patterns) {
      const match = pattern.exec(key);
      if (match === null) continue;
      const value = (name: string): string | null => {
        const position = tokens.indexOf(name);
        return position === -1 ? null : (match[position + 1] ?? null);
      };
      const index = Number(value('index'));
      const jobId = value('job');
      if (jobId === null || !Number.isSafeInteger(index)) continue;
      return { jobId, index, variant, date: value('date'), owner: value('owner') };
    }
    return null;
  }
}

function assertTemplates(templates: Readonly<Record<ImageVariant, string>>): void {
  const problems: string[] = [];
  for (const variant of ['image', 'thumbnail'] as const) {
    const problem = templateProblem(templates[variant]);
    if (problem !== undefined) problems.push(`layout.${variant} ${problem}`);
  }
  if (problems.length === 0 && templates.image === templates.thumbnail) {
    problems.push('layout.image and layout.thumbnail must differ, or previews overwrite images');
  }
  if (problems.length > 0)
    throw new ConfigError(`invalid image store layout: ${problems.join('; ')}`);
}

function templateProblem(template: unknown): string | undefined {
  if (typeof template !== 'string') return `must be a string, got ${typeof template}`;
  const tokens = [...template.matchAll(TOKEN)].map((match) => match[1] ?? '');
  const unknown = tokens.find((token) => !(token in TOKEN_PATTERNS));
  if (unknown !== undefined) {
    return `uses {${unknown}}; the tokens are {date}, {job}, {index} and {owner}`;
  }
  if (!tokens.includes('job') || !tokens.includes('index')) {
    return `(${JSON.stringify(template)}) must contain {job} and {index}, so keys never collide`;
  }
  const sample = template.replace(TOKEN, (_match, name: string) =>
    name === 'date' ? '2000-01-01' : 'x',
  );
  const problem = imageKeyProblem(sample);
  return problem === undefined
    ? undefined
    : `(${JSON.stringify(template)}) makes a key that ${problem}; ${KEY_RULE}`;
}

function compileTemplate(template: string): [RegExp, string[]] {
  const tokens: string[] = [];
  let source = '';
  let last = 0;
  for (const match of template.matchAll(TOKEN)) {
    source += escapeRegExp(template.slice(last, match.index));
    const name = match[1] ?? '';
    tokens.push(name);
    source += TOKEN_PATTERNS[name] ?? '';
    last = match.index + match[0].length;
  }
  source += escapeRegExp(template.slice(last));
  return [new RegExp(`^${source}$`), tokens];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function assertKeyParts(parts: ImageKeyParts): void {
  const problems: string[] = [];
  if (typeof parts.jobId !== 'string' || parts.jobId === '')
    problems.push('jobId must be a non-empty string');
  if (!Number.isSafeInteger(parts.index) || parts.index < 0) {
    problems.push(`index must be an integer >= 0, got ${String(parts.index)}`);
  }
  if (!Number.isFinite(parts.createdAt) || Number.isNaN(new Date(parts.createdAt).getTime())) {
    problems.push(`createdAt must be a time in ms since the epoch, got ${String(parts.createdAt)}`);
  }
  if (parts.variant !== 'image' && parts.variant !== 'thumbnail') {
    problems.push(`variant must be 'image' or 'thumbnail', got ${String(parts.variant)}`);
  }
  if (problems.length === 0) return;
  throw new ForgeToolError(
    'FT_ERR_IMAGE_KEY_INVALID',
    `cannot make an image key: ${problems.join('; ')}`,
  );
}

function safeSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
}
