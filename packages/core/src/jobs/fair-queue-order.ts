/**
 * The inner structure of the fair queue (owner buckets and lanes per priority) and the ordering
 * rules over it: fairness order, checkpoint affinity tests, ranks. Only `fair-queue.ts` uses it.
 *
 * @internal
 */
import type { PickTarget, QueueEntry } from './fair-queue.js';
import type { SortedLane } from './sorted-lane.js';

/**
 * An owner's standing across priorities: when it was last served, its running and queued jobs.
 * @internal
 */
export interface OwnerState {
  readonly key: string;
  /** Pick number of the owner's last served job; 0 = never served. */
  lastServed: number;
  /** Times passed over for affinity since last served. */
  passOvers: number;
  running: number;
  queued: number;
}

/** One owner's queued jobs at one priority, in one lane per set of required tags. @internal */
export interface OwnerBucket<Entry extends QueueEntry> {
  readonly owner: OwnerState;
  readonly lanes: Map<string, TaggedLane<Entry>>;
  size: number;
}

/** An owner's jobs that require the same tags, by sequence. @internal */
export interface TaggedLane<Entry extends QueueEntry> {
  readonly tags: readonly string[];
  readonly jobs: SortedLane<Entry>;
}

/** Every owner's jobs at one priority. @internal */
export interface Level<Entry extends QueueEntry> {
  readonly priority: number;
  readonly buckets: Map<string, OwnerBucket<Entry>>;
  size: number;
}

/** An owner's job that could run next on the backend being served. @internal */
export interface Candidate<Entry extends QueueEntry> {
  readonly bucket: OwnerBucket<Entry>;
  readonly entry: Entry;
}

/** The key of the lane for a set of required tags (order does not matter). @internal */
export function laneKey(tags: readonly string[]): string {
  return tags.length === 0 ? '' : JSON.stringify([...tags].sort());
}

/** The owner's oldest job that `target` can run, looking at the head of each lane. @internal */
export function eligibleHead<Entry extends QueueEntry>(
  bucket: OwnerBucket<Entry>,
  target: PickTarget<Entry>,
): Entry | undefined {
  let best: Entry | undefined;
  for (const lane of bucket.lanes.values()) {
    const head = lane.jobs.peek();
    if (head === undefined || (best !== undefined && best.sequence < head.sequence)) continue;
    if (!lane.tags.every((tag) => target.tags.has(tag))) continue;
    if ((target.honourAvoid ?? true) && head.avoidBackend === target.name) continue;
    if (target.canRun !== undefined && !target.canRun(head)) continue;
    best = head;
  }
  return best;
}

/** Whether the backend already holds the checkpoint the job runs on. @internal */
export function holdsCheckpoint<Entry extends QueueEntry>(
  target: PickTarget<Entry>,
  entry: QueueEntry,
): boolean {
  const wanted = entry.checkpoint ?? target.defaultCheckpoint;
  return wanted !== null && wanted === target.loadedCheckpoint;
}

/** Whether another free backend holds the checkpoint the job asks for. @internal */
export function heldElsewhere<Entry extends QueueEntry>(
  target: PickTarget<Entry>,
  entry: QueueEntry,
): boolean {
  return entry.checkpoint !== null && (target.loadedElsewhere?.has(entry.checkpoint) ?? false);
}

/** Fairness order: the owner served longest ago first, then the older job. @internal */
export function isBefore<Entry extends QueueEntry>(
  candidate: Candidate<Entry>,
  current: Candidate<Entry> | undefined,
): boolean {
  if (current === undefined) return true;
  const a = candidate.bucket.owner.lastServed;
  const b = current.bucket.owner.lastServed;
  return a !== b ? a < b : candidate.entry.sequence < current.entry.sequence;
}

/** The lowest sequence among the owner's lanes at this priority. @internal */
export function headSequence(bucket: OwnerBucket<QueueEntry>): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const lane of bucket.lanes.values()) {
    lowest = Math.min(lowest, lane.jobs.peek()?.sequence ?? lowest);
  }
  return lowest;
}

/** Sorts owners into fairness order. @internal */
export function fairnessCompare(a: OwnerBucket<QueueEntry>, b: OwnerBucket<QueueEntry>): number {
  const served = a.owner.lastServed - b.owner.lastServed;
  return served !== 0 ? served : headSequence(a) - headSequence(b);
}

/** Whether owner `a` comes before owner `b` in fairness order. @internal */
export function comesFirst(a: OwnerBucket<QueueEntry>, b: OwnerBucket<QueueEntry>): boolean {
  return fairnessCompare(a, b) < 0;
}

/** How many of the owner's jobs at this priority come before `sequence`. @internal */
export function ownerRank(bucket: OwnerBucket<QueueEntry>, sequence: number): number {
  let rank = 0;
  for (const lane of bucket.lanes.values()) rank += lane.jobs.rank(sequence);
  return rank;
}

/** The owner's jobs at one priority in sequence order, merging its lanes. @internal */
export function* ownerJobs<Entry extends QueueEntry>(bucket: OwnerBucket<Entry>): Generator<Entry> {
  const lanes = [...bucket.lanes.values()];
  const offsets = lanes.map(() => 0);
  for (;;) {
    let best = -1;
    let bestSequence = Number.POSITIVE_INFINITY;
    for (let index = 0; index < lanes.length; index++) {
      const entry = lanes[index]?.jobs.at(offsets[index] ?? 0);
      if (entry !== undefined && entry.sequence < bestSequence) {
        best = index;
        bestSequence = entry.sequence;
      }
    }
    const entry = lanes[best]?.jobs.at(offsets[best] ?? 0);
    if (entry === undefined) return;
    offsets[best] = (offsets[best] ?? 0) + 1;
    yield entry;
  }
}
