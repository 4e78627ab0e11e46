/**
 * Time estimates for queued and running jobs, from each backend's measured speed.
 *
 * A queued job at position p starts when p jobs ahead of it have started: with b backends up,
 * each finishing jobs of the mean size in turn, that is when backend (p mod b) (in order of the
 * soonest free) frees for the (p div b)-th time. Estimates are rough by nature (jobs differ,
 * affinity reorders them); they are meant for "about 3 minutes", not for a timetable.
 */
import type { BackendView } from './backend-pool.js';
import type { RunningAttempt } from './running-attempt.js';

/** Speed assumed before any backend has finished a job: 100 ms per step of one image. */
export const DEFAULT_MS_PER_UNIT = 100;

/** What an estimate is computed from. */
export interface EstimateInput {
  readonly backends: readonly BackendView[];
  readonly running: readonly RunningAttempt[];
  /** Mean work units of a job. */
  readonly meanUnits: number;
  /** Work units of the job estimated. */
  readonly units: number;
  readonly now: number;
  /** Jobs expected to start first (queued jobs). */
  readonly position?: number;
  /** The job's running attempt (running jobs). */
  readonly attempt?: RunningAttempt | null;
}

/** Estimated milliseconds until the job completes, or null when no backend is up. */
export function estimateCompletionMs(input: EstimateInput): number | null {
  const up = input.backends.filter((backend) => backend.status === 'up');
  if (up.length === 0) return null;
  const msPerUnit = meanSpeed(up);
  const ownMs = input.units * msPerUnit;
  if (input.attempt != null) {
    const reported = input.attempt.job.progress?.etaMs;
    if (reported != null) return reported;
    return Math.round(Math.max(0, ownMs - (input.now - input.attempt.startedAt)));
  }
  const freeAt = up.map((backend) => remainingMs(backend, input, msPerUnit)).sort((a, b) => a - b);
  const position = input.position ?? 0;
  const slot = freeAt[position % freeAt.length] ?? 0;
  const waves = Math.floor(position / freeAt.length);
  return Math.round(slot + waves * input.meanUnits * msPerUnit + ownMs);
}

function meanSpeed(backends: readonly BackendView[]): number {
  const measured = backends
    .map((backend) => backend.msPerUnit)
    .filter((speed): speed is number => speed !== null);
  if (measured.length === 0) return DEFAULT_MS_PER_UNIT;
  return measured.reduce((sum, speed) => sum + speed, 0) / measured.length;
}

function remainingMs(backend: BackendView, input: EstimateInput, msPerUnit: number): number {
  if (backend.runningJob === null) return 0;
  const attempt = input.running.find((candidate) => candidate.backend === backend.name);
  if (attempt === undefined) return 0;
  const reported = attempt.job.progress?.etaMs;
  if (reported != null) return reported;
  const elapsed = input.now - attempt.startedAt;
  return Math.max(0, attempt.entry.units * msPerUnit - elapsed);
}
