/**
 * The engine's queue entries: a job reduced to what scheduling needs. With 100,000 queued jobs
 * the entries must stay small, so everything many jobs share (owner keys, tag lists, and the
 * names a backend must know) is stored once and referenced.
 */
import type { ForgeCapabilities } from '../forge/forge-capabilities.js';
import { checkpointKey } from './backend-pool.js';
import { checkAgainstCapabilities } from './capability-check.js';
import type { QueueEntry } from './fair-queue.js';
import type { GenerationRequest } from './generation-request.js';
import { workUnits } from './job-runner.js';
import type { JobOwner, JobRecord } from './job.js';

/**
 * The names a request needs a backend to know (sampler, checkpoint, upscaler, ...). Requests
 * with equal needs share one object, which holds one of them as a sample to check backends with.
 */
export interface RequestNeeds {
  readonly key: string;
  readonly sample: GenerationRequest;
}

/** A queue entry of the engine. */
export interface EngineQueueEntry extends QueueEntry {
  readonly needs: RequestNeeds;
  /** Work units, for time estimates. */
  readonly units: number;
}

/** Interned values and memoised capability checks stop growing past this many entries. */
const MAX_MEMO = 10_000;
const NO_TAGS: readonly string[] = Object.freeze([]);

/** The owner's key in the queue and in per-owner limits. */
export function ownerKey(owner: JobOwner): string {
  return `${owner.source}:${owner.id}`;
}

/** Builds entries and answers "can this backend run it?" quickly. */
export class QueueEntries {
  readonly #owners = new Map<string, string>();
  readonly #tags = new Map<string, readonly string[]>();
  readonly #needs = new Map<string, RequestNeeds>();
  readonly #fits = new Map<string, boolean>();

  /** The entry of a queued job; `capabilities` turn its checkpoint name into a stable key. */
  entryOf(
    job: JobRecord,
    capabilities: readonly ForgeCapabilities[],
    avoidBackend: string | null = null,
  ): EngineQueueEntry {
    const request = job.resolved;
    return {
      id: job.id,
      owner: this.#intern(this.#owners, ownerKey(job.owner), (key) => key),
      priority: job.priority,
      sequence: job.sequence,
      checkpoint: checkpointOf(request, capabilities),
      tags: this.#tagsOf(request.backend_tags),
      avoidBackend,
      needs: this.needsOf(request),
      units: workUnits(request),
    };
  }

  /** The shared needs object of a request. */
  needsOf(request: GenerationRequest): RequestNeeds {
    const key = JSON.stringify([
      request.kind,
      request.sampler,
      request.scheduler,
      request.checkpoint,
      request.modules ?? null,
      request.styles,
      request.hires?.enabled === true ? request.hires.upscaler : null,
      request.upscale?.upscaler ?? null,
      request.upscale?.upscaler_2 ?? null,
    ]);
    return this.#intern(this.#needs, key, () => ({ key, sample: request }));
  }

  /** Whether a backend with these capabilities knows every name the entry needs. */
  canRun(entry: EngineQueueEntry, capabilities: ForgeCapabilities | undefined): boolean {
    if (capabilities === undefined) return false;
    const memoKey = `${capabilities.backend}\u0000${capabilities.probedAt.getTime()}\u0000${entry.needs.key}`;
    let fits = this.#fits.get(memoKey);
    if (fits === undefined) {
      fits = knows(entry.needs.sample, capabilities);
      if (this.#fits.size >= MAX_MEMO) this.#fits.clear();
      this.#fits.set(memoKey, fits);
    }
    return fits;
  }

  #tagsOf(tags: readonly string[] | undefined): readonly string[] {
    if (tags === undefined || tags.length === 0) return NO_TAGS;
    const key = JSON.stringify([...tags].sort());
    return this.#intern(this.#tags, key, () => Object.freeze([...tags]));
  }

  #intern<Value>(map: Map<string, Value>, key: string, make: (key: string) => Value): Value {
    const known = map.get(key);
    if (known !== undefined) return known;
    const value = make(key);
    if (map.size >= MAX_MEMO) map.clear();
    map.set(key, value);
    return value;
  }
}

/** The stable key of the checkpoint a request asks for (Forge's `model_name` where known). */
function checkpointOf(
  request: GenerationRequest,
  capabilities: readonly ForgeCapabilities[],
): string | null {
  if (request.checkpoint === null || request.kind === 'upscale') return null;
  for (const caps of capabilities) {
    if (caps.findCheckpoint(request.checkpoint) !== undefined) {
      return checkpointKey(caps, request.checkpoint);
    }
  }
  return request.checkpoint;
}

function knows(request: GenerationRequest, capabilities: ForgeCapabilities): boolean {
  try {
    checkAgainstCapabilities(request, [capabilities]);
    return true;
  } catch {
    return false;
  }
}
