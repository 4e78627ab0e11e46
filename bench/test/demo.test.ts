import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseInfotext, readPngParameters, readPngSize } from '@forge-tool/core';
import { afterEach, describe, expect, it } from 'vitest';

import { runDemo, type DemoResult } from '../src/demo.js';

describe('the npm start demo', () => {
  let dataDir: string | undefined;
  let result: DemoResult | undefined;

  afterEach(async () => {
    await result?.sim?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts a labelled simulator, generates through the client and saves a PNG with its infotext', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'forge-demo-'));
    const lines: string[] = [];

    result = await runDemo({
      port: 0,
      prompt: 'a small red boat',
      dataDir,
      print: (line) => lines.push(line),
    });

    expect(lines[0]).toMatch(
      /^SIMULATED Forge server \(synthetic images, no GPU\) listening on http/,
    );
    expect(lines.some((line) => /^Engine ready: .* \d+ checkpoints, \d+ samplers/.test(line))).toBe(
      true,
    );
    expect(lines.some((line) => line.startsWith(`Queued ${result?.jobId}`))).toBe(true);
    expect(result.file.startsWith(join(dataDir, 'outputs'))).toBe(true);
    const png = await readFile(result.file);
    expect(readPngSize(png)).toEqual({ width: 512, height: 512 });
    const infotext = parseInfotext(readPngParameters(png) ?? '');
    expect(infotext.prompt).toBe('a small red boat');
    expect(infotext.steps).toBe(20);
    expect(infotext.sampler).toBe('Euler a');
    expect(infotext.seed).toBe(result.seed);
    expect(result.infotext).toBe(readPngParameters(png));
  });

  it('uses a given Forge server without starting the simulator', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'forge-demo-'));
    const { startForgeSim } = await import('@forge-tool/forge-sim');
    const external = await startForgeSim({ port: 0, stepMs: 1 });
    const lines: string[] = [];
    try {
      result = await runDemo({
        forgeUrl: external.url,
        port: 0,
        prompt: 'a blue kite',
        dataDir,
        print: (line) => lines.push(line),
      });
    } finally {
      await external.close();
    }

    expect(result.sim).toBeUndefined();
    expect(lines.some((line) => line.startsWith('SIMULATED'))).toBe(false);
    expect(result.file.startsWith(dataDir)).toBe(true);
  });
});
