/**
 * Forge's task bookkeeping (`modules/progress.py`): ids of generations that wait for the lock,
 * the one that runs, and the last 16 that finished.
 */

const TASK_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const TASK_ID_LENGTH = 7;
const FINISHED_KEPT = 16;

/** A snapshot of the registry, for `/internal/*` and the simulator's state route. */
export interface TaskSnapshot {
  readonly current: string | null;
  readonly pending: readonly string[];
  readonly finished: readonly string[];
}

/** Pending, current and finished task ids, with Forge's quirks kept. */
export class TaskRegistry {
  readonly #random: () => number;
  // Insertion-ordered, like Python's OrderedDict; the value is the time the task was queued.
  readonly #pending = new Map<string, number>();
  #finished: string[] = [];
  #current: string | null = null;

  constructor(random: () => number) {
    this.#random = random;
  }

  /** Forge's `create_task_id`: `task(<kind>-XXXXXXX)` with 7 characters from A-Z and 0-9. */
  createId(kind: 'txt2img' | 'img2img'): string {
    let suffix = '';
    for (let index = 0; index < TASK_ID_LENGTH; index++) {
      const pick = Math.floor(this.#random() * TASK_ID_ALPHABET.length);
      suffix += TASK_ID_ALPHABET[Math.min(pick, TASK_ID_ALPHABET.length - 1)];
    }
    return `task(${kind}-${suffix})`;
  }

  /** `add_task_to_queue`: the request passed validation and now waits for the lock. */
  addPending(id: string, nowMs: number): void {
    this.#pending.set(id, nowMs);
  }

  /** `start_task`: the request holds the lock and its job has begun. */
  start(id: string): void {
    this.#current = id;
    this.#pending.delete(id);
  }

  /**
   * `finish_task`: only a successful generation gets here, so a failed one stays `current`
   * until the next task starts, as in Forge.
   */
  finish(id: string): void {
    if (this.#current === id) this.#current = null;
    this.#finished.push(id);
    if (this.#finished.length > FINISHED_KEPT) this.#finished.shift();
  }

  /** The running task id, or null. */
  get current(): string | null {
    return this.#current;
  }

  isPending(id: string | null): boolean {
    return id !== null && this.#pending.has(id);
  }

  isFinished(id: string | null): boolean {
    return id !== null && this.#finished.includes(id);
  }

  /** Pending ids in queue order (by the time they were queued, as `/internal/progress` sorts). */
  pendingInQueueOrder(): string[] {
    return [...this.#pending.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  }

  snapshot(): TaskSnapshot {
    return {
      current: this.#current,
      pending: [...this.#pending.keys()],
      finished: [...this.#finished],
    };
  }

  /** Forgets every task (the simulator's reset route). */
  clear(): void {
    this.#pending.clear();
    this.#finished = [];
    this.#current = null;
  }
}
