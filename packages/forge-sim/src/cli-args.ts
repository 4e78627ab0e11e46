/**
 * Command-line flags of `forge-sim`, turned into simulator options.
 */
import { parseArgs } from 'node:util';

import type { ForgeSimOptions } from './sim-options.js';

/** The `--help` text. */
export const USAGE = `Usage: forge-sim [options]

Runs a SIMULATED Stable Diffusion WebUI Forge API server (synthetic images, no GPU).

Options:
  --port <n>             port to listen on, 0 for any free port (default 7860)
  --host <address>       interface to listen on (default 127.0.0.1)
  --step-ms <ms>         time per sampling step (default 25)
  --image-ms <ms>        time per decoded image (default 10)
  --load-ms <ms>         time to load a checkpoint (default 200)
  --api-auth <u:p,...>   require HTTP Basic auth, Forge's --api-auth syntax
  --nowebui              behave like --nowebui (no /internal/* routes)
  --failure-rate <0-1>   share of generations failing with a generic 500
  --oom-rate <0-1>       share of generations failing with CUDA out of memory
  --drop-rate <0-1>      share of generation responses cut off mid-connection
  --hang-ms <ms>         stall every generation this long before sampling
  --slow-start-ms <ms>   hold every request until this long after start
  --help                 show this text
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'step-ms': { type: 'string' },
  'image-ms': { type: 'string' },
  'load-ms': { type: 'string' },
  'api-auth': { type: 'string' },
  nowebui: { type: 'boolean' },
  'failure-rate': { type: 'string' },
  'oom-rate': { type: 'string' },
  'drop-rate': { type: 'string' },
  'hang-ms': { type: 'string' },
  'slow-start-ms': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** A command-line mistake; the CLI prints it with the usage and exits with status 2. */
export class UsageError extends Error {}

type Flags = ReturnType<typeof parseFlags>;

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false })
      .values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function numberFlag(flags: Flags, name: keyof typeof OPTIONS): number | undefined {
  const raw = flags[name];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`--${name} must be a number, got "${raw}"`);
  }
  return value;
}

/**
 * Turns command-line flags into simulator options.
 *
 * @throws UsageError for an unknown flag, a missing value or a value that is not a number
 */
export function optionsFromArgs(argv: readonly string[]): ForgeSimOptions | 'help' {
  const flags = parseFlags(argv);
  if (flags.help) return 'help';
  const faults = {
    failureRate: numberFlag(flags, 'failure-rate'),
    oomRate: numberFlag(flags, 'oom-rate'),
    dropRate: numberFlag(flags, 'drop-rate'),
    hangMs: numberFlag(flags, 'hang-ms'),
    slowStartMs: numberFlag(flags, 'slow-start-ms'),
  };
  const options: ForgeSimOptions = {
    faults: Object.fromEntries(Object.entries(faults).filter(([, value]) => value !== undefined)),
    mode: flags.nowebui ? 'nowebui' : 'webui',
  };
  const numeric = {
    port: numberFlag(flags, 'port'),
    stepMs: numberFlag(flags, 'step-ms'),
    imageMs: numberFlag(flags, 'image-ms'),
    loadMs: numberFlag(flags, 'load-ms'),
  };
  for (const [key, value] of Object.entries(numeric)) {
    if (value !== undefined) Object.assign(options, { [key]: value });
  }
  if (flags.host !== undefined) options.host = flags.host;
  if (flags['api-auth'] !== undefined) options.apiAuth = flags['api-auth'];
  return options;
}
