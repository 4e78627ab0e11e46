import { describe, expect, it } from 'vitest';

import { ForgeToolError } from '../../src/errors.js';
import { ForgeError } from '../../src/forge/forge-error.js';
import type { ProgressResponse } from '../../src/forge/generation-schemas.js';
import { classifyFailure, retryDelayMs } from '../../src/jobs/attempt-failure.js';
import type { BackendView } from '../../src/jobs/backend-pool.js';
import { toJobProgress } from '../../src/jobs/progress-poller.js';
import { DEFAULT_MS_PER_UNIT, estimateCompletionMs } from '../../src/jobs/queue-estimate.js';

const context = { backend: 'gpu-1', method: 'POST', endpoint: '/sdapi/v1/txt2img' };

function forgeError(
  code: ConstructorParameters<typeof ForgeError>[0],
  status?: number,
): ForgeError {
  return new ForgeError(code, `${code} happened`, {
    ...context,
    ...(status === undefined ? {} : { status }),
  });
}

describe('classifyFailure', () => {
  it.each([
    [forgeError('FT_ERR_FORGE_UNREACHABLE'), 'backend'],
    [forgeError('FT_ERR_FORGE_CONNECTION_LOST'), 'backend'],
    [forgeError('FT_ERR_FORGE_TIMEOUT'), 'backend'],
    [forgeError('FT_ERR_FORGE_UNAUTHORIZED', 401), 'backend'],
    [forgeError('FT_ERR_FORGE_SERVER', 502), 'backend'],
    [forgeError('FT_ERR_FORGE_SERVER', 500), 'rejected'],
    [forgeError('FT_ERR_FORGE_VALIDATION', 422), 'rejected'],
    [forgeError('FT_ERR_FORGE_NOT_FOUND', 404), 'rejected'],
    [forgeError('FT_ERR_FORGE_OUT_OF_MEMORY', 500), 'out-of-memory'],
    [new ForgeToolError('FT_ERR_STORE_FAILURE', 'disk full'), 'transient'],
    [new ForgeToolError('FT_ERR_STORE_CONFLICT', 'given up'), 'conflict'],
    [new ForgeToolError('FT_ERR_PNG_INVALID', 'bad crc'), 'rejected'],
  ] as const)('%s is %s', (error, kind) => {
    const classified = classifyFailure(error);
    expect(classified.kind).toBe(kind);
    expect(classified.error).toEqual({ code: error.code, message: error.message });
  });

  it('treats an error without a code as a fault of its own processing', () => {
    expect(classifyFailure(new TypeError('x is undefined'))).toEqual({
      kind: 'rejected',
      error: { code: 'FT_ERR_IMAGE_PROCESSING', message: 'x is undefined' },
    });
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, 1_000, 10_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });
});

function progressAnswer(
  overrides: Partial<ProgressResponse['state']>,
  progress: number,
): ProgressResponse {
  return {
    progress,
    eta_relative: 1.5,
    current_image: null,
    textinfo: null,
    state: {
      skipped: false,
      interrupted: false,
      job: '',
      job_count: 1,
      job_timestamp: '0',
      job_no: 0,
      sampling_step: 5,
      sampling_steps: 20,
      ...overrides,
    },
  };
}

describe('toJobProgress', () => {
  it('turns Forge progress into job progress', () => {
    expect(toJobProgress(progressAnswer({}, 0.25), false, 7)).toEqual({
      percent: 25,
      step: 5,
      totalSteps: 20,
      etaMs: 1_500,
      hasPreview: false,
      updatedAt: 7,
    });
  });

  it('reports nothing while Forge runs nothing yet', () => {
    expect(toJobProgress(progressAnswer({ job_count: 0 }, 0), false, 7)).toBeNull();
  });

  it('clamps the fraction and drops unknown steps', () => {
    const progress = toJobProgress(
      progressAnswer({ sampling_step: 0, sampling_steps: 0 }, 1.7),
      true,
      1,
    );
    expect(progress).toMatchObject({
      percent: 100,
      step: null,
      totalSteps: null,
      hasPreview: true,
    });
  });
});

function backend(overrides: Partial<BackendView> = {}): BackendView {
  return {
    name: 'gpu-1',
    url: 'http://gpu-1:7860',
    tags: new Set(),
    weight: 1,
    status: 'up',
    runningJob: null,
    loadedCheckpoint: null,
    defaultCheckpoint: null,
    msPerUnit: null,
    jobsRun: 0,
    checkpointSwitches: 0,
    lastError: null,
    ...overrides,
  };
}

describe('estimateCompletionMs', () => {
  const base = { running: [], meanUnits: 10, units: 10, now: 0 };

  it('is unknown with no backend up', () => {
    expect(estimateCompletionMs({ ...base, backends: [backend({ status: 'down' })] })).toBeNull();
  });

  it('counts the waves ahead on the backends up, at their measured speed', () => {
    const backends = [backend({ msPerUnit: 10 }), backend({ name: 'gpu-2', msPerUnit: 30 })];
    // 20 ms per unit on average; position 5 on 2 free backends: 2 waves of 200 ms, then its own.
    expect(estimateCompletionMs({ ...base, backends, position: 5 })).toBe(600);
    expect(estimateCompletionMs({ ...base, backends, position: 0 })).toBe(200);
  });

  it('uses the default speed before any measurement', () => {
    expect(estimateCompletionMs({ ...base, backends: [backend()], position: 0 })).toBe(
      10 * DEFAULT_MS_PER_UNIT,
    );
  });
});
