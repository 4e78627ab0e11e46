/**
 * The in-memory queue the scheduler picks from: priority first, then round-robin across owners,
 * first-in first-out within an owner, with checkpoint affinity on top.
 *
 * ```
 *   priority 5   owner A: [a1 a2]        owner C: [c1]
 *   priority 0   owner A: [a3]   owner B: [b1 b2 b3 ...]   owner C: [c2]
 *                 ^ an owner's jobs at one priority, by sequence (one lane per set of tags)
 * ```
 *
 * At the highest priority with a job the backend can run, every owner offers its oldest job; the
 * owner served longest ago goes first ("fairness order"). Affinity may then prefer another owner's
 * job whose checkpoint the backend already holds, but each time an owner is passed over that way
 * it gains a mark, and an owner with `maxPassOvers` marks is served next whatever the checkpoint.
 *
 * Only ids and the few fields scheduling needs are kept: the full records stay in the store.
 * Every operation is O(log n) or O(owners), never O(queued jobs).
 */
import {
  comesFirst,
  eligibleHead,
  fairnessCompare,
  heldElsewhere,
  holdsCheckpoint,
  isBefore,
  laneKey,
  ownerJobs,
  ownerRank,
  type Candidate,
  type Level,
  type OwnerBucket,
  type OwnerState,
  type TaggedLane,
} from './fair-queue-order.js';
import { SortedLane } from './sorted-lane.js';

/** What the queue keeps about one queued job. */
export interface QueueEntry {
  readonly id: string;
  /** The owner's key (`source:id`); fairness is shared between these. */
  readonly owner: string;
  /** Higher runs first. */
  readonly priority: number;
  /** The store's insertion number: first-in first-out within an owner. */
  readonly sequence: number;
  /** The checkpoint the job asks for (a stable key), or null for the backend's own choice. */
  readonly checkpoint: string | null;
  /** Tags a backend must all have to run the job. */
  readonly tags: readonly string[];
  /** A backend the job should not go back to (it ran out of memory there), when another exists. */
  readonly avoidBackend: string | null;
}

/** The backend a job is picked for, as the queue needs to see it. */
export interface PickTarget<Entry extends QueueEntry = QueueEntry> {
  readonly name: string;
  readonly tags: ReadonlySet<string>;
  /** The checkpoint the backend holds now, if known. */
  readonly loadedCheckpoint: string | null;
  /** The checkpoint the backend loads for a job that names none. */
  readonly defaultCheckpoint: string | null;
  /** Checkpoints held by the other free backends: a job asking for one of them can wait for it. */
  readonly loadedElsewhere?: ReadonlySet<string>;
  /** Whether `avoidBackend` applies (false when this is the only usable backend). */
  readonly honourAvoid?: boolean;
  /** Further checks, e.g. that the backend has the job's checkpoint. */
  readonly canRun?: (entry: Entry) => boolean;
}

/** Options of {@link FairQueue}. */
export interface FairQueueOptions {
  /**
   * How many times in a row an owner's oldest job may be passed over for checkpoint affinity
   * before it is served regardless. 0 disables affinity.
   * @defaultValue `2`
   */
  maxPassOvers?: number;
  /**
   * The most jobs of one owner running at once; 0 means no limit.
   * @defaultValue `0`
   */
  maxRunningPerOwner?: number;
}

/** Defaults of every {@link FairQueueOptions} field. */
export const DEFAULT_FAIR_QUEUE_OPTIONS = {
  maxPassOvers: 2,
  maxRunningPerOwner: 0,
} as const satisfies Required<FairQueueOptions>;

/**
 * The scheduler's queue. Not thread-safe and not persistent: the store is the source of truth,
 * and the engine rebuilds this from `JobStore.listQueued()` at start-up.
 *
 * @example
 * ```ts
 * const queue = new FairQueue();
 * queue.add({ id, owner: 'discord:42', priority: 0, sequence, checkpoint: null, tags: [],
 *   avoidBackend: null });
 * const next = queue.pick({ name: 'gpu-1', tags: new Set(), loadedCheckpoint: null,
 *   defaultCheckpoint: null });
 * if (next) queue.settle(next.owner); // when its attempt ends
 * ```
 */
export class FairQueue<Entry extends QueueEntry = QueueEntry> {
  readonly #maxPassOvers: number;
  readonly #maxRunning: number;
  readonly #entries = new Map<string, Entry>();
  readonly #owners = new Map<string, OwnerState>();
  readonly #levels = new Map<number, Level<Entry>>();
  #priorities: number[] = [];
  #picks = 0;

  /** @throws RangeError when an option is not a non-negative integer */
  constructor(options: FairQueueOptions = {}) {
    const merged = { ...DEFAULT_FAIR_QUEUE_OPTIONS, ...options };
    this.#maxPassOvers = checkCount('maxPassOvers', merged.maxPassOvers);
    this.#maxRunning = checkCount('maxRunningPerOwner', merged.maxRunningPerOwner);
  }

  /** Queued jobs. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether the job is queued here. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The queued job's entry. */
  get(id: string): Entry | undefined {
    return this.#entries.get(id);
  }

  /** Queued jobs of one owner. */
  queuedFor(owner: string): number {
    return this.#owners.get(owner)?.queued ?? 0;
  }

  /** Running jobs of one owner (picked and not yet settled). */
  runningFor(owner: string): number {
    return this.#owners.get(owner)?.running ?? 0;
  }

  /** Adds a job; false (and nothing changes) when a job with this id is already queued. */
  add(entry: Entry): boolean {
    if (this.#entries.has(entry.id)) return false;
    const bucket = this.#bucketFor(entry, true);
    const tagsKey = laneKey(entry.tags);
    let lane = bucket.lanes.get(tagsKey);
    if (lane === undefined) {
      lane = { tags: [...entry.tags], jobs: new SortedLane() };
      bucket.lanes.set(tagsKey, lane);
    }
    lane.jobs.insert(entry);
    this.#entries.set(entry.id, entry);
    this.#counted(bucket, entry, 1);
    return true;
  }

  /** Removes a queued job (cancelled, say); returns its entry, or undefined when not queued. */
  remove(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    const bucket = this.#bucketFor(entry, false);
    const lane = bucket?.lanes.get(laneKey(entry.tags));
    if (bucket === undefined || lane === undefined || !lane.jobs.remove(entry)) return undefined;
    this.#detach(bucket, lane, entry);
    return entry;
  }

  /**
   * Takes the job `target` should run next, or undefined when none fits. The job's owner counts
   * one more running job until {@link settle} is called for it.
   */
  pick(target: PickTarget<Entry>): Entry | undefined {
    for (const priority of this.#priorities) {
      const level = this.#levels.get(priority);
      if (level === undefined) continue;
      const chosen = this.#chooseAt(level, target);
      if (chosen === undefined) continue;
      this.#take(chosen);
      return chosen.entry;
    }
    return undefined;
  }

  /** An attempt of one of `owner`'s jobs ended (completed, failed, requeued or cancelled). */
  settle(owner: string): void {
    const state = this.#owners.get(owner);
    if (state === undefined || state.running === 0) return;
    state.running -= 1;
    this.#forgetIfIdle(state);
  }

  /** Counts a job as running for its owner without picking it (used on start-up). */
  markRunning(owner: string): void {
    this.#ownerState(owner).running += 1;
  }

  /**
   * How many queued jobs are expected to start before this one under fair share (0 = next),
   * ignoring affinity and per-owner limits; undefined when the job is not queued.
   */
  position(id: string): number | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    let ahead = 0;
    for (const priority of this.#priorities) {
      if (priority === entry.priority) break;
      ahead += this.#levels.get(priority)?.size ?? 0;
    }
    const level = this.#levels.get(entry.priority);
    const own = level?.buckets.get(entry.owner);
    if (level === undefined || own === undefined) return undefined;
    const rank = ownerRank(own, entry.sequence);
    for (const bucket of level.buckets.values()) {
      if (bucket === own) continue;
      ahead += Math.min(bucket.size, comesFirst(bucket, own) ? rank + 1 : rank);
    }
    return ahead + rank;
  }

  /** The first `limit` queued jobs in the order {@link position} predicts. */
  snapshot(limit: number): Entry[] {
    const order: Entry[] = [];
    for (const priority of this.#priorities) {
      const level = this.#levels.get(priority);
      if (level === undefined) continue;
      if (order.length >= limit) break;
      const buckets = [...level.buckets.values()].sort(fairnessCompare);
      let cursors = buckets.map((bucket) => ownerJobs(bucket));
      while (cursors.length > 0 && order.length < limit) {
        cursors = cursors.filter((cursor) => {
          if (order.length >= limit) return false;
          const next = cursor.next();
          if (next.done === true) return false;
          order.push(next.value);
          return true;
        });
      }
    }
    return order;
  }

  /** Empties the queue (owners' running counts are kept). */
  clear(): void {
    this.#entries.clear();
    this.#levels.clear();
    this.#priorities = [];
    for (const state of this.#owners.values()) state.queued = 0;
    for (const state of [...this.#owners.values()]) this.#forgetIfIdle(state);
  }

  #chooseAt(level: Level<Entry>, target: PickTarget<Entry>): Candidate<Entry> | undefined {
    let first: Candidate<Entry> | undefined;
    let affine: Candidate<Entry> | undefined;
    let elsewhereFree: Candidate<Entry> | undefined;
    for (const bucket of level.buckets.values()) {
      if (this.#maxRunning > 0 && bucket.owner.running >= this.#maxRunning) continue;
      const entry = eligibleHead(bucket, target);
      if (entry === undefined) continue;
      const candidate = { bucket, entry };
      if (isBefore(candidate, first)) first = candidate;
      if (holdsCheckpoint(target, entry)) {
        if (isBefore(candidate, affine)) affine = candidate;
      } else if (!heldElsewhere(target, entry) && isBefore(candidate, elsewhereFree)) {
        elsewhereFree = candidate;
      }
    }
    if (first === undefined) return undefined;
    return this.#applyAffinity(level, target, first, affine ?? elsewhereFree);
  }

  #applyAffinity(
    level: Level<Entry>,
    target: PickTarget<Entry>,
    first: Candidate<Entry>,
    preferred: Candidate<Entry> | undefined,
  ): Candidate<Entry> {
    if (preferred === undefined || preferred === first) return first;
    if (holdsCheckpoint(target, first.entry)) return first;
    if (first.bucket.owner.passOvers >= this.#maxPassOvers) return first;
    // A job already waiting for a checkpoint held elsewhere loses nothing by being skipped here;
    // otherwise affinity only wins when the preferred job matches this backend.
    if (!holdsCheckpoint(target, preferred.entry) && !heldElsewhere(target, first.entry)) {
      return first;
    }
    for (const bucket of level.buckets.values()) {
      if (bucket !== preferred.bucket && comesFirst(bucket, preferred.bucket)) {
        if (eligibleHead(bucket, target) !== undefined) bucket.owner.passOvers += 1;
      }
    }
    return preferred;
  }

  #take({ bucket, entry }: Candidate<Entry>): void {
    const lane = bucket.lanes.get(laneKey(entry.tags));
    lane?.jobs.shift();
    const owner = bucket.owner;
    owner.lastServed = ++this.#picks;
    owner.passOvers = 0;
    owner.running += 1;
    if (lane !== undefined) this.#detach(bucket, lane, entry);
  }

  #detach(bucket: OwnerBucket<Entry>, lane: TaggedLane<Entry>, entry: Entry): void {
    this.#entries.delete(entry.id);
    if (lane.jobs.size === 0) bucket.lanes.delete(laneKey(entry.tags));
    this.#counted(bucket, entry, -1);
  }

  #counted(bucket: OwnerBucket<Entry>, entry: Entry, delta: 1 | -1): void {
    const level = this.#levels.get(entry.priority);
    bucket.size += delta;
    bucket.owner.queued += delta;
    if (level !== undefined) {
      level.size += delta;
      if (bucket.size === 0) level.buckets.delete(entry.owner);
      if (level.size === 0) this.#dropLevel(level.priority);
    }
    this.#forgetIfIdle(bucket.owner);
  }

  #bucketFor(entry: Entry, create: true): OwnerBucket<Entry>;
  #bucketFor(entry: Entry, create: false): OwnerBucket<Entry> | undefined;
  #bucketFor(entry: Entry, create: boolean): OwnerBucket<Entry> | undefined {
    let level = this.#levels.get(entry.priority);
    if (level === undefined) {
      if (!create) return undefined;
      level = { priority: entry.priority, buckets: new Map(), size: 0 };
      this.#levels.set(entry.priority, level);
      this.#priorities = [...this.#levels.keys()].sort((a, b) => b - a);
    }
    let bucket = level.buckets.get(entry.owner);
    if (bucket === undefined && create) {
      bucket = { owner: this.#ownerState(entry.owner), lanes: new Map(), size: 0 };
      level.buckets.set(entry.owner, bucket);
    }
    return bucket;
  }

  #ownerState(key: string): OwnerState {
    let state = this.#owners.get(key);
    if (state === undefined) {
      state = { key, lastServed: 0, passOvers: 0, running: 0, queued: 0 };
      this.#owners.set(key, state);
    }
    return state;
  }

  #dropLevel(priority: number): void {
    this.#levels.delete(priority);
    this.#priorities = this.#priorities.filter((value) => value !== priority);
  }

  /** An owner with nothing queued or running is forgotten, so it rejoins the round as new. */
  #forgetIfIdle(state: OwnerState): void {
    if (state.queued === 0 && state.running === 0) this.#owners.delete(state.key);
  }
}

function checkCount(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new RangeError(
    `options.${name} must be an integer of 0 or more, got ${JSON.stringify(value)}`,
  );
}
