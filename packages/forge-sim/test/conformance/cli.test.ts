/**
 * The `forge-sim` command: starts, prints where it listens, serves, stops on SIGTERM, and
 * refuses bad flags with status 2.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { optionsFromArgs, UsageError } from '../../src/cli-args.js';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcessWithoutNullStreams | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

function runCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: PACKAGE_DIR });
}

function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    stream.on('end', () => reject(new Error(`no line printed; got "${text}"`)));
  });
}

function exitCode(process: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => process.on('exit', (code) => resolve(code)));
}

describe('forge-sim CLI', () => {
  it('prints its URL, serves Forge routes and exits cleanly on SIGTERM', async () => {
    child = runCli(['--port', '0', '--step-ms', '1', '--nowebui']);
    const line = await firstLine(child.stdout);
    expect(line).toMatch(
      /^forge-sim: SIMULATED Forge API listening on http:\/\/127\.0\.0\.1:\d+ \(synthetic images, no GPU\)$/,
    );
    const url = /http:\/\/[\d.]+:\d+/.exec(line)?.[0] ?? '';
    const response = await fetch(`${url}/sdapi/v1/cmd-flags`);
    expect(await response.json()).toMatchObject({ nowebui: true });
    const exited = exitCode(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('exits with status 2 and says why for a bad flag value', async () => {
    child = runCli(['--port', 'abc']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    expect(await exitCode(child)).toBe(2);
    expect(stderr).toContain('--port must be a number, got "abc"');
  });

  it('exits with status 2 for a fault rate out of range', async () => {
    child = runCli(['--port', '0', '--failure-rate', '3']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    expect(await exitCode(child)).toBe(2);
    expect(stderr).toContain('failureRate must be a number from 0 to 1');
  });
});

describe('optionsFromArgs', () => {
  it('maps every flag to its option', () => {
    expect(
      optionsFromArgs([
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--step-ms',
        '3',
        '--image-ms',
        '4',
        '--load-ms',
        '5',
        '--api-auth',
        'a:b',
        '--nowebui',
        '--failure-rate',
        '0.1',
        '--oom-rate',
        '0.2',
        '--drop-rate',
        '0.3',
        '--hang-ms',
        '6',
        '--slow-start-ms',
        '7',
      ]),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      stepMs: 3,
      imageMs: 4,
      loadMs: 5,
      apiAuth: 'a:b',
      mode: 'nowebui',
      faults: { failureRate: 0.1, oomRate: 0.2, dropRate: 0.3, hangMs: 6, slowStartMs: 7 },
    });
  });

  it('rejects unknown flags and asks for help', () => {
    expect(() => optionsFromArgs(['--fast'])).toThrow(UsageError);
    expect(optionsFromArgs(['--help'])).toBe('help');
  });
});
