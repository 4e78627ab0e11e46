/**
 * The capability view across backends: every name a request may use on at least one backend,
 * and each backend's own snapshot.
 */
import type { ForgeCapabilities } from '../forge/forge-capabilities.js';
import type { BackendView } from './backend-pool.js';
import type { MergedCapabilities } from './generation-service.js';

/** Merges the last probed capabilities of each backend. */
export function mergeCapabilities(
  backends: readonly BackendView[],
  capabilitiesOf: (name: string) => ForgeCapabilities | undefined,
): MergedCapabilities {
  const probed = backends
    .map((backend) => capabilitiesOf(backend.name))
    .filter((caps): caps is ForgeCapabilities => caps !== undefined);
  const names = (pick: (caps: ForgeCapabilities) => readonly string[]): string[] =>
    [...new Set(probed.flatMap(pick))].sort((a, b) => a.localeCompare(b, 'en'));
  return {
    backends: backends.map((backend) => ({
      name: backend.name,
      status: backend.status,
      tags: [...backend.tags],
      capabilities: capabilitiesOf(backend.name)?.toJSON() ?? null,
    })),
    checkpoints: names((caps) => caps.checkpoints.map((model) => model.title)),
    samplers: names((caps) => caps.samplers.map((sampler) => sampler.name)),
    schedulers: names((caps) => caps.schedulers.map((scheduler) => scheduler.name)),
    upscalers: names((caps) => caps.upscalers.map((upscaler) => upscaler.name)),
    latentUpscaleModes: names((caps) => caps.latentUpscaleModes.map((mode) => mode.name)),
    styles: names((caps) => caps.styles.map((style) => style.name)),
    loras: names((caps) => caps.loras.map((lora) => lora.name)),
    modules: names((caps) => caps.modules.map((module) => module.model_name)),
  };
}
