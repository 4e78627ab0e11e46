// Job ids: shape, monotonic order within a millisecond and across a clock that steps back.
import { describe, expect, it } from 'vitest';
import { JOB_ID_PREFIX, UlidFactory, isJobId, jobIdTime, newJobId } from '../../src/jobs/job-id.js';

describe('newJobId', () => {
  it('makes job_ followed by 26 Crockford base32 characters', () => {
    const id = newJobId();
    expect(id).toMatch(/^job_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(id.startsWith(JOB_ID_PREFIX)).toBe(true);
    expect(isJobId(id)).toBe(true);
  });

  it('makes ids that sort in creation order, many within one millisecond', () => {
    const ids = Array.from({ length: 5_000 }, () => newJobId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes the creation time', () => {
    const before = Date.now();
    const time = jobIdTime(newJobId());
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });
});

describe('UlidFactory', () => {
  it('increments the random part within a millisecond', () => {
    const factory = new UlidFactory(() => 1_700_000_000_000);
    const first = factory.next();
    const second = factory.next();
    expect(first.slice(0, 10)).toBe(second.slice(0, 10));
    expect(second > first).toBe(true);
  });

  it('keeps the order when the clock steps back', () => {
    let now = 1_700_000_000_000;
    const factory = new UlidFactory(() => now);
    const first = factory.next();
    now -= 5_000;
    const second = factory.next();
    expect(second > first).toBe(true);
    expect(jobIdTime(`job_${second}`)).toBe(1_700_000_000_000);
  });

  it('encodes a known time as the spec does', () => {
    // The ULID spec's example timestamp 1469918176385 encodes as 01ARYZ6S41.
    const factory = new UlidFactory(() => 1_469_918_176_385);
    expect(factory.next().slice(0, 10)).toBe('01ARYZ6S41');
  });
});

describe('isJobId', () => {
  it('rejects what is not a job id', () => {
    for (const value of [
      'job_12345',
      'JOB_01ARYZ6S41TSV4RRFFQ69G5FAV',
      'job_01ARYZ6S41TSV4RRFFQ69G5FA',
      'job_01ARYZ6S41TSV4RRFFQ69G5FAU',
      'job_81ARYZ6S41TSV4RRFFQ69G5FAV',
      42,
      null,
    ]) {
      expect(isJobId(value), String(value)).toBe(false);
    }
    expect(isJobId('job_01ARYZ6S41TSV4RRFFQ69G5FAV')).toBe(true);
    expect(jobIdTime('job_1')).toBeUndefined();
  });
});
