/**
 * Checks a request against what the backends offer before it is queued. Forge silently runs an
 * unknown sampler or scheduler with its default, and ignores an unknown checkpoint in
 * `override_settings`, so without this check a typo costs a GPU run and yields the wrong image.
 */
import type { ForgeCapabilities } from '../forge/forge-capabilities.js';
import { ForgeToolError } from '../errors.js';
import type { GenerationRequest } from './generation-request.js';
import { RequestError, type RequestIssue } from './request-error.js';

/** The names one backend knows a request by: exactly what to send that backend. */
export interface BackendFit {
  /** The backend's name. */
  readonly backend: string;
  /** The sampler's canonical name, or null for the backend's default. */
  readonly sampler: string | null;
  /** The scheduler's canonical name (also split off a legacy `DPM++ 2M Karras`), or null. */
  readonly scheduler: string | null;
  /** The checkpoint's title (`name [hash]`), or null to keep the loaded one. */
  readonly checkpoint: string | null;
  /** Absolute paths of the VAE/text-encoder files, as Forge stores them; null when not asked. */
  readonly modules: readonly string[] | null;
}

/** The outcome of a successful check. */
export interface CapabilityCheck {
  /** The backends that can run the request, in the order given. Never empty. */
  readonly backends: readonly string[];
  /** Per capable backend, the names to send it. */
  readonly fits: readonly BackendFit[];
}

/** How many valid names an error message lists before it says how many more there are. */
const LISTED_NAMES = 25;

/** One name a backend does not know. */
interface Miss {
  readonly field: string;
  readonly name: string;
  readonly valid: (capabilities: ForgeCapabilities) => readonly string[];
}

/**
 * Checks that at least one backend knows every name in the request: sampler, scheduler,
 * checkpoint, modules, styles, the hires upscaler (latent modes included) and the upscale job's
 * upscalers. Sampler and scheduler names are matched leniently (case, aliases); the others
 * exactly, as Forge matches them.
 * @throws RequestError (`FT_ERR_REQUEST_UNSUPPORTED`) naming each unknown name with the valid
 *   names, or, when every name is known somewhere but no one backend has them all, which
 *   backend lacks what
 * @throws ForgeToolError (`FT_ERR_QUEUE_NO_BACKEND`) when `capabilities` is empty
 * @example
 * ```ts
 * const { fits } = checkAgainstCapabilities(request, [await probeCapabilities(client)]);
 * fits[0]?.sampler; // 'Euler a' for a request that said 'euler_a'
 * ```
 */
export function checkAgainstCapabilities(
  request: GenerationRequest,
  capabilities: readonly ForgeCapabilities[],
): CapabilityCheck {
  if (capabilities.length === 0) {
    throw new ForgeToolError('FT_ERR_QUEUE_NO_BACKEND', 'No backend to check the request against');
  }
  const fits: BackendFit[] = [];
  const missesByBackend = new Map<string, Miss[]>();
  for (const backend of capabilities) {
    const misses = findMisses(request, backend);
    if (misses.length === 0) fits.push(fitOf(request, backend));
    else missesByBackend.set(backend.backend, misses);
  }
  if (fits.length > 0) return { backends: fits.map((fit) => fit.backend), fits };
  throw new RequestError(unsupportedIssues(missesByBackend, capabilities), {
    code: 'FT_ERR_REQUEST_UNSUPPORTED',
  });
}

/** A copy of `request` that names things the way the backend of `fit` knows them. */
export function applyBackendFit<Request extends GenerationRequest>(
  request: Request,
  fit: BackendFit,
): Request {
  const modules = fit.modules === null ? {} : { modules: [...fit.modules] };
  return {
    ...request,
    sampler: fit.sampler,
    scheduler: fit.scheduler,
    checkpoint: fit.checkpoint,
    ...modules,
  };
}

function findMisses(request: GenerationRequest, caps: ForgeCapabilities): Miss[] {
  if (request.kind === 'upscale') return upscaleMisses(request, caps);
  const misses: Miss[] = [];
  const miss = (field: string, name: string, valid: Miss['valid']): void => {
    misses.push({ field, name, valid });
  };
  if (request.sampler !== null && caps.resolveSampler(request.sampler) === undefined) {
    miss('sampler', request.sampler, (c) => c.samplers.map((sampler) => sampler.name));
  }
  if (request.scheduler !== null && !caps.hasScheduler(request.scheduler)) {
    miss('scheduler', request.scheduler, (c) => c.schedulers.map((scheduler) => scheduler.name));
  }
  if (request.checkpoint !== null && caps.findCheckpoint(request.checkpoint) === undefined) {
    miss('checkpoint', request.checkpoint, (c) => c.checkpoints.map((model) => model.title));
  }
  for (const [index, name] of (request.modules ?? []).entries()) {
    if (caps.findModule(name) === undefined) {
      miss(`modules[${index}]`, name, (c) => c.modules.map((module) => module.model_name));
    }
  }
  for (const [index, name] of request.styles.entries()) {
    if (!caps.hasStyle(name)) miss(`styles[${index}]`, name, (c) => c.styles.map((s) => s.name));
  }
  const hires = request.hires;
  if (hires?.enabled === true && !caps.hasUpscaler(hires.upscaler)) {
    miss('hires.upscaler', hires.upscaler, hiresUpscalerNames);
  }
  return misses;
}

function upscaleMisses(request: GenerationRequest, caps: ForgeCapabilities): Miss[] {
  const upscale = request.upscale;
  if (upscale === undefined) return [];
  const named: [string, string | undefined][] = [
    ['upscale.upscaler', upscale.upscaler],
    ['upscale.upscaler_2', upscale.upscaler_2],
  ];
  const misses: Miss[] = [];
  for (const [field, name] of named) {
    if (name === undefined || caps.hasUpscaler(name, { includeLatent: false })) continue;
    misses.push({ field, name, valid: (c) => c.upscalers.map((upscaler) => upscaler.name) });
  }
  return misses;
}

function hiresUpscalerNames(caps: ForgeCapabilities): string[] {
  return [
    ...caps.latentUpscaleModes.map((mode) => mode.name),
    ...caps.upscalers.map((upscaler) => upscaler.name),
  ];
}

function fitOf(request: GenerationRequest, caps: ForgeCapabilities): BackendFit {
  const resolved = request.sampler === null ? undefined : caps.resolveSampler(request.sampler);
  const scheduler =
    request.scheduler === null ? resolved?.scheduler : caps.findScheduler(request.scheduler);
  const checkpoint =
    request.checkpoint === null ? undefined : caps.findCheckpoint(request.checkpoint);
  const modules = request.modules?.map((name) => caps.findModule(name)?.filename ?? name);
  return {
    backend: caps.backend,
    sampler: resolved?.sampler.name ?? null,
    scheduler: scheduler?.name ?? null,
    checkpoint: checkpoint?.title ?? null,
    modules: modules ?? null,
  };
}

/**
 * Names no backend knows are reported with the valid names of all backends together. When every
 * name is known somewhere, the problem is the combination, and each backend's gaps are listed.
 */
function unsupportedIssues(
  missesByBackend: ReadonlyMap<string, readonly Miss[]>,
  capabilities: readonly ForgeCapabilities[],
): RequestIssue[] {
  const everywhere = missesKnownNowhere(missesByBackend, capabilities.length);
  if (everywhere.length > 0) {
    return everywhere.map((miss) => ({
      field: miss.field,
      message: `${JSON.stringify(miss.name)} is not known to any backend; valid: ${listNames(
        capabilities.flatMap((caps) => miss.valid(caps)),
      )}`,
    }));
  }
  const gaps = [...missesByBackend].map(([backend, misses]) => {
    const lacking = misses.map((miss) => `${miss.field} ${JSON.stringify(miss.name)}`);
    return `${backend} lacks ${lacking.join(', ')}`;
  });
  return [
    {
      field: 'request',
      message: `no single backend has everything this request names (${gaps.join('; ')})`,
    },
  ];
}

function missesKnownNowhere(
  missesByBackend: ReadonlyMap<string, readonly Miss[]>,
  backendCount: number,
): Miss[] {
  const counts = new Map<string, { miss: Miss; count: number }>();
  for (const misses of missesByBackend.values()) {
    for (const miss of misses) {
      const key = `${miss.field}\u0000${miss.name}`;
      const entry = counts.get(key) ?? { miss, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
  }
  return [...counts.values()].filter((entry) => entry.count === backendCount).map((e) => e.miss);
}

/** Sorted, deduplicated, and cut after {@link LISTED_NAMES} with a count of the rest. */
export function listNames(names: readonly string[]): string {
  const unique = [...new Set(names)].sort((a, b) => a.localeCompare(b, 'en'));
  if (unique.length === 0) return '(none)';
  const shown = unique.slice(0, LISTED_NAMES).join(', ');
  const rest = unique.length - LISTED_NAMES;
  return rest > 0 ? `${shown} ... and ${rest} more` : shown;
}
