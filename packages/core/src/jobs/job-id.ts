/**
 * Job ids: `job_` followed by a ULID (https://github.com/ulid/spec), 26 characters of Crockford
 * base32 holding a 48-bit millisecond timestamp and 80 random bits. Ids compare as strings in the
 * order they were made, so a page of jobs can be cut at an id and listed newest first.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const JOB_ID_PATTERN = /^job_[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** The prefix every job id starts with. */
export const JOB_ID_PREFIX = 'job_';

/**
 * Makes ULIDs that sort in creation order, even several within one millisecond or across a clock
 * that steps back: within the same (or an earlier) millisecond the random part of the previous id
 * is incremented instead of drawn anew, as the ULID spec's monotonic mode describes.
 */
export class UlidFactory {
  readonly #now: () => number;
  #lastTime = -1;
  #lastRandom: number[] = [];

  /** @param now - the clock, in ms since the epoch; tests pass a fixed one */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The next ULID: 26 upper-case Crockford base32 characters. */
  next(): string {
    const now = this.#now();
    if (now > this.#lastTime) {
      this.#lastTime = now;
      this.#lastRandom = randomDigits();
    } else if (!increment(this.#lastRandom)) {
      // 2^80 ids in one millisecond cannot happen in practice; borrowing the next millisecond keeps
      // the order promise even then.
      this.#lastTime += 1;
      this.#lastRandom = randomDigits();
    }
    return encodeTime(this.#lastTime) + this.#lastRandom.map((digit) => ALPHABET[digit]).join('');
  }
}

const defaultFactory = new UlidFactory();

/**
 * A new job id, later than every id made before it by this process.
 * @example
 * ```ts
 * newJobId(); // 'job_01JF3Q6Z8D5KX0W2R9B7C4M1TA'
 * ```
 */
export function newJobId(): string {
  return JOB_ID_PREFIX + defaultFactory.next();
}

/** Whether `value` has the shape of a job id (`job_` and a valid ULID). */
export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID_PATTERN.test(value);
}

/** When the id was made (ms since the epoch), read from its timestamp; undefined for a non-id. */
export function jobIdTime(id: string): number | undefined {
  if (!isJobId(id)) return undefined;
  let time = 0;
  for (const char of id.slice(JOB_ID_PREFIX.length, JOB_ID_PREFIX.length + TIME_CHARS)) {
    time = time * 32 + ALPHABET.indexOf(char);
  }
  return time;
}

function encodeTime(time: number): string {
  let text = '';
  let rest = time;
  for (let position = 0; position < TIME_CHARS; position += 1) {
    text = ALPHABET.charAt(rest % 32) + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

function randomDigits(): number[] {
  const bytes = randomFillSync(new Uint8Array(RANDOM_CHARS));
  return Array.from(bytes, (byte) => byte & 31);
}

/** Adds one to a base-32 digit array in place; false when it overflowed. */
function increment(digits: number[]): boolean {
  for (let position = digits.length - 1; position >= 0; position -= 1) {
    const digit = digits[position] ?? 0;
    if (digit < 31) {
      digits[position] = digit + 1;
      return true;
    }
    digits[position] = 0;
  }
  return false;
}
