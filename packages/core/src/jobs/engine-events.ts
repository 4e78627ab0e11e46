/**
 * The engine's typed event stream: what happened to jobs and backends, in order, each event with
 * a sequence number that only grows, so a listener that reconnects can ask for what it missed.
 */
import { silentLogger, type Logger } from '../logger.js';
import type { JobError, JobProgress, JobRecord } from './job.js';

/** The payload of each event type. */
export interface EngineEventMap {
  /** A job was stored and queued. */
  jobQueued: { readonly job: JobRecord; readonly position: number | null };
  /** An attempt started on a backend (`job.attempts` is its number). */
  jobStarted: { readonly job: JobRecord; readonly backend: string };
  /** The running job's progress; `preview` holds the live preview's bytes when there is one. */
  jobProgress: {
    readonly job: JobRecord;
    readonly progress: JobProgress;
    readonly preview: Buffer | null;
  };
  /** An attempt failed in a way worth retrying; the job is queued again after `retryInMs`. */
  jobRequeued: { readonly job: JobRecord; readonly error: JobError; readonly retryInMs: number };
  /** The job finished with images. */
  jobCompleted: { readonly job: JobRecord };
  /** The job failed for good. */
  jobFailed: { readonly job: JobRecord; readonly error: JobError };
  /** The job was cancelled while queued or running. */
  jobCancelled: { readonly job: JobRecord };
  /** A backend answers and takes jobs. */
  backendUp: { readonly backend: string };
  /** A backend was taken out of rotation; it is checked again after `retryInMs`. */
  backendDown: {
    readonly backend: string;
    readonly error: JobError;
    readonly retryInMs: number;
  };
}

/** The name of an event type. */
export type EngineEventType = keyof EngineEventMap;

/** What every event carries besides its payload. */
export interface EngineEventEnvelope<Type extends EngineEventType> {
  readonly type: Type;
  /** Starts at 1 when the engine starts and grows by one per event. */
  readonly sequence: number;
  /** When it was emitted (ms since the epoch). */
  readonly at: number;
}

/** One event of a given type. */
export type EngineEventOf<Type extends EngineEventType> = EngineEventEnvelope<Type> &
  EngineEventMap[Type];

/** Any engine event; switch on `type`. */
export type EngineEvent = { [Type in EngineEventType]: EngineEventOf<Type> }[EngineEventType];

/** Receives events; exceptions it throws are logged and otherwise ignored. */
export type EngineEventListener = (event: EngineEvent) => void;

/** Options of {@link EngineEvents}. */
export interface EngineEventsOptions {
  /**
   * How many recent events {@link EngineEvents.since} can replay. Previews are not kept.
   * @defaultValue `1_000`
   */
  replayBufferSize?: number;
  /**
   * Where a failing listener is reported.
   * @defaultValue a logger that drops everything
   */
  logger?: Logger;
  /**
   * The clock, in milliseconds.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** Defaults of every {@link EngineEventsOptions} field. */
export const DEFAULT_ENGINE_EVENTS_OPTIONS = {
  replayBufferSize: 1_000,
  logger: silentLogger,
  now: Date.now,
} as const satisfies Required<EngineEventsOptions>;

/**
 * The event bus of one engine. Listeners run synchronously, in subscription order, right after
 * the state change they describe is stored.
 *
 * @example
 * ```ts
 * const stop = events.on('jobCompleted', ({ job }) => console.log(job.id, job.result?.images));
 * const replay = events.since(lastSeenSequence);
 * stop();
 * ```
 */
export class EngineEvents {
  readonly #listeners = new Set<EngineEventListener>();
  readonly #buffer: (EngineEvent | undefined)[];
  readonly #logger: Logger;
  readonly #now: () => number;
  #sequence = 0;

  /** @throws RangeError when `replayBufferSize` is not a non-negative integer */
  constructor(options: EngineEventsOptions = {}) {
    const merged = { ...DEFAULT_ENGINE_EVENTS_OPTIONS, ...options };
    if (!Number.isSafeInteger(merged.replayBufferSize) || merged.replayBufferSize < 0) {
      throw new RangeError(
        `options.replayBufferSize must be an integer of 0 or more, got ${merged.replayBufferSize}`,
      );
    }
    this.#buffer = new Array<EngineEvent | undefined>(merged.replayBufferSize);
    this.#logger = merged.logger;
    this.#now = merged.now;
  }

  /** The sequence number of the last event emitted (0 before any). */
  get lastSequence(): number {
    return this.#sequence;
  }

  /** Receives every event until the returned function is called. */
  subscribe(listener: EngineEventListener): () => void {
    const wrapped: EngineEventListener = (event) => listener(event);
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  /** Receives the events of one type until the returned function is called. */
  on<Type extends EngineEventType>(
    type: Type,
    listener: (event: EngineEventOf<Type>) => void,
  ): () => void {
    return this.subscribe((event) => {
      // The check on `type` is what makes this narrowing sound; TypeScript cannot follow it.
      if (event.type === type) listener(event as unknown as EngineEventOf<Type>);
    });
  }

  /** Publishes an event to every listener and returns it. */
  emit<Type extends EngineEventType>(
    type: Type,
    payload: EngineEventMap[Type],
  ): EngineEventOf<Type> {
    const event = { ...payload, type, sequence: ++this.#sequence, at: this.#now() };
    this.#remember(event as EngineEvent);
    for (const listener of this.#listeners) {
      try {
        listener(event as EngineEvent);
      } catch (error) {
        this.#logger.error({ err: error, event: type }, 'An engine event listener threw');
      }
    }
    return event as EngineEventOf<Type>;
  }

  /**
   * The buffered events after `sequence`, oldest first. When some were already dropped from the
   * buffer, `complete` is false and the caller should reload the state instead.
   */
  since(sequence: number): { events: EngineEvent[]; complete: boolean } {
    const size = this.#buffer.length;
    const oldestKept = Math.max(1, this.#sequence - size + 1);
    const events: EngineEvent[] = [];
    for (let next = Math.max(sequence + 1, oldestKept); next <= this.#sequence; next++) {
      const event = this.#buffer[next % size];
      if (event !== undefined && event.sequence === next) events.push(event);
    }
    return { events, complete: sequence + 1 >= oldestKept || this.#sequence === sequence };
  }

  /** Drops every listener. */
  clear(): void {
    this.#listeners.clear();
  }

  #remember(event: EngineEvent): void {
    const size = this.#buffer.length;
    if (size === 0) return;
    // Previews are large and only useful live; the replay keeps the progress figures.
    const kept =
      event.type === 'jobProgress' && event.preview !== null ? { ...event, preview: null } : event;
    this.#buffer[event.sequence % size] = kept;
  }
}
