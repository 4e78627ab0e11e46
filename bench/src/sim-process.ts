/**
 * Runs the Forge simulator in a child process, as a real Forge runs beside its clients: the
 * simulator's image work then has its own thread and does not stall the measured client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** A simulator running in a child process. */
export interface SimProcess {
  readonly url: string;
  stop(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/\S+)/;

/** Starts `forge-sim` with the given CLI flags on a free port and waits for its URL line. */
export async function startSimProcess(flags: readonly string[]): Promise<SimProcess> {
  const child = spawn(process.execPath, [...nodeArgs(), cliPath(), '--port', '0', ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await readUrl(child);
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** The simulator's CLI next to its entry point: compiled JS, or the TypeScript source in tests. */
function cliPath(): string {
  const entry = fileURLToPath(import.meta.resolve('@forge-tool/forge-sim'));
  return entry.replace(/index\.(js|ts)$/, 'cli.$1');
}

function nodeArgs(): string[] {
  return cliPath().endsWith('.ts') ? ['--import', 'tsx'] : [];
}

async function readUrl(child: ChildProcess): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = LISTENING.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`forge-sim exited with ${code}: ${output}`)));
  });
}
