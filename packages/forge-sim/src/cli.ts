#!/usr/bin/env node
/**
 * `forge-sim`: runs the Forge API simulator from the command line.
 */
import { optionsFromArgs, USAGE } from './cli-args.js';
import { startForgeSim } from './server.js';
import type { ForgeSimOptions } from './sim-options.js';

async function main(): Promise<void> {
  let options: ForgeSimOptions | 'help';
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(
      `forge-sim: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`,
    );
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const sim = await startForgeSimOrExplain(options);
  if (!sim) return;
  process.stdout.write(
    `forge-sim: SIMULATED Forge API listening on ${sim.url} (synthetic images, no GPU)\n`,
  );
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function startForgeSimOrExplain(options: ForgeSimOptions) {
  try {
    return await startForgeSim(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`forge-sim: cannot start: ${message}\n`);
    process.exitCode = isUsageProblem(error) ? 2 : 1;
    return undefined;
  }
}

function isUsageProblem(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === 'SimOptionsError' || /apiAuth/.test(error.message))
  );
}

await main();
