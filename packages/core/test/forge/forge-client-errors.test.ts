// Every error class of the Forge client, produced by a real server: the simulator with faults, or
// for the one shape the simulator never sends (a wrong 2xx body), a tiny node:http server.
import { startForgeSim, type ForgeSim, type ForgeSimOptions } from '@forge-tool/forge-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { ForgeClient } from '../../src/forge/forge-client.js';
import type { ForgeClientOptions } from '../../src/forge/forge-client-options.js';
import type { Txt2ImgRequest } from '../../src/forge/generation-schemas.js';
import { closedPort, expectForgeError, startTinyServer, type TinyServer } from './helpers.js';

const SMALL: Txt2ImgRequest = { prompt: 'x', steps: 2, width: 64, height: 64 };

const sims: ForgeSim[] = [];
const clients: ForgeClient[] = [];
const servers: TinyServer[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.destroy()));
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function simWith(options: ForgeSimOptions = {}): Promise<ForgeSim> {
  const sim = await startForgeSim({ port: 0, stepMs: 1, imageMs: 1, loadMs: 1, ...options });
  sims.push(sim);
  return sim;
}

function clientFor(baseUrl: string, options: Partial<ForgeClientOptions> = {}): ForgeClient {
  const client = new ForgeClient({ baseUrl, name: 'gpu-1', ...options });
  clients.push(client);
  return client;
}

describe('transport failures', () => {
  it('reports a closed port as UNREACHABLE', async () => {
    const port = await closedPort();
    const client = clientFor(`http://127.0.0.1:${port}`);
    const error = await expectForgeError(client.samplers(), 'FT_ERR_FORGE_UNREACHABLE');
    expect(error.message).toContain('Forge backend "gpu-1" is unreachable');
    expect(error.message).toContain('GET /sdapi/v1/samplers');
    expect(error.status).toBeUndefined();
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('reports a generation that hangs past the deadline as TIMEOUT', async () => {
    const sim = await simWith({ faults: { hangMs: 5_000 } });
    const client = clientFor(sim.url);
    const error = await expectForgeError(
      client.txt2img(SMALL, { timeoutMs: 150 }),
      'FT_ERR_FORGE_TIMEOUT',
    );
    expect(error.message).toBe(
      'Forge backend "gpu-1" did not answer POST /sdapi/v1/txt2img within 150 ms',
    );
  });

  it('applies probeTimeoutMs to probes by default', async () => {
    const sim = await simWith({ faults: { slowStartMs: 3_000 } });
    const client = clientFor(sim.url, { probeTimeoutMs: 150 });
    const error = await expectForgeError(client.samplers(), 'FT_ERR_FORGE_TIMEOUT');
    expect(error.message).toContain('within 150 ms');
  });

  it('reports a connection dropped mid-response as CONNECTION_LOST', async () => {
    const sim = await simWith({ faults: { dropRate: 1 } });
    const client = clientFor(sim.url);
    const error = await expectForgeError(client.txt2img(SMALL), 'FT_ERR_FORGE_CONNECTION_LOST');
    expect(error.message).toContain('closed the connection');
    expect(error.endpoint).toBe('/sdapi/v1/txt2img');
  });

  it('fails requests in flight with ABORTED on destroy()', async () => {
    const sim = await simWith({ faults: { hangMs: 5_000 } });
    const client = clientFor(sim.url);
    const pending = client.txt2img(SMALL);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.destroy();
    await expectForgeError(pending, 'FT_ERR_FORGE_ABORTED');
  });

  it('fails calls after close()', async () => {
    const sim = await simWith();
    const client = clientFor(sim.url);
    await client.close();
    const error = await expectForgeError(client.samplers(), 'FT_ERR_FORGE_ABORTED');
    expect(error.message).toContain('the client is closed');
  });
});

describe('HTTP Basic auth (--api-auth)', () => {
  it('reports a missing login as UNAUTHORIZED with Forge detail', async () => {
    const sim = await simWith({ apiAuth: 'alice:wonderland' });
    const error = await expectForgeError(
      clientFor(sim.url).samplers(),
      'FT_ERR_FORGE_UNAUTHORIZED',
    );
    expect(error.status).toBe(401);
    expect(error.forgeReason).toBe('Not authenticated');
  });

  it('reports a wrong password as UNAUTHORIZED with Forge detail', async () => {
    const sim = await simWith({ apiAuth: 'alice:wonderland' });
    const client = clientFor(sim.url, { auth: { username: 'alice', password: 'nope' } });
    const error = await expectForgeError(client.samplers(), 'FT_ERR_FORGE_UNAUTHORIZED');
    expect(error.message).toContain('Incorrect username or password');
    expect(error.message).toContain('GET /sdapi/v1/samplers');
  });

  it('reads LoRAs without credentials, as Forge does not protect that route', async () => {
    const sim = await simWith({ apiAuth: 'alice:wonderland' });
    expect((await clientFor(sim.url).loras()).length).toBeGreaterThan(0);
  });

  it('succeeds with the right credentials', async () => {
    const sim = await simWith({ apiAuth: 'bob:builder,alice:wonderland' });
    const client = clientFor(sim.url, { auth: { username: 'alice', password: 'wonderland' } });
    expect((await client.samplers()).length).toBeGreaterThan(0);
    expect((await client.txt2img(SMALL)).images).toHaveLength(1);
  });
});

describe('requests Forge rejects', () => {
  it('turns pydantic 422 details into field messages', async () => {
    const sim = await simWith();
    const loose = { ...SMALL, steps: 'abc' } as unknown as Txt2ImgRequest;
    const error = await expectForgeError(
      clientFor(sim.url).txt2img(loose),
      'FT_ERR_FORGE_VALIDATION',
    );
    expect(error.message).toBe(
      'Forge backend "gpu-1" rejected POST /sdapi/v1/txt2img: steps: Input should be a valid ' +
        'integer, unable to parse string as an integer (got "abc")',
    );
    expect(error.status).toBe(422);
    expect(error.body).toContain('int_parsing');
  });

  it('reports an unknown always-on script (422 string detail)', async () => {
    const sim = await simWith();
    const request = { ...SMALL, alwayson_scripts: { Lora: { args: [] } } };
    const error = await expectForgeError(
      clientFor(sim.url).txt2img(request),
      'FT_ERR_FORGE_VALIDATION',
    );
    expect(error.forgeReason).toBe("Script 'Lora' not found");
  });

  it('reports /internal/ping in --nowebui mode as NOT_FOUND', async () => {
    const sim = await simWith({ mode: 'nowebui' });
    const error = await expectForgeError(clientFor(sim.url).ping(), 'FT_ERR_FORGE_NOT_FOUND');
    expect(error.message).toContain('GET /internal/ping');
    expect(error.message).toContain('--nowebui');
  });

  it('reports img2img without an init image as NOT_FOUND', async () => {
    const sim = await simWith();
    const error = await expectForgeError(
      clientFor(sim.url).img2img({ prompt: 'x', steps: 2 }),
      'FT_ERR_FORGE_NOT_FOUND',
    );
    expect(error.forgeReason).toBe('Init image not found');
  });
});

describe('Forge exceptions', () => {
  it('names the exception class and message of an unknown checkpoint', async () => {
    const sim = await simWith();
    const client = clientFor(sim.url);
    const error = await expectForgeError(
      client.setOptions({ sd_model_checkpoint: 'nope' }),
      'FT_ERR_FORGE_SERVER',
    );
    expect(error.message).toBe(
      'Forge backend "gpu-1" failed POST /sdapi/v1/options (500): ' +
        "RuntimeError: model 'nope' not found",
    );
  });

  it('reports an injected generation failure as SERVER', async () => {
    const sim = await simWith({ faults: { failureRate: 1 } });
    const error = await expectForgeError(clientFor(sim.url).txt2img(SMALL), 'FT_ERR_FORGE_SERVER');
    expect(error.status).toBe(500);
    expect(error.forgeReason).toMatch(/^\w+: /);
  });

  it('reports CUDA out of memory as OUT_OF_MEMORY', async () => {
    const sim = await simWith({ faults: { oomRate: 1 } });
    const error = await expectForgeError(
      clientFor(sim.url).txt2img(SMALL),
      'FT_ERR_FORGE_OUT_OF_MEMORY',
    );
    expect(error.message).toContain('ran out of GPU memory during POST /sdapi/v1/txt2img');
    expect(error.message).toMatch(/CUDA out of memory|OutOfMemoryError/);
  });

  it('picks up faults changed at run time', async () => {
    const sim = await simWith();
    const client = clientFor(sim.url);
    expect((await client.txt2img(SMALL)).images).toHaveLength(1);
    sim.setFaults({ oomRate: 1 });
    await expectForgeError(client.txt2img(SMALL), 'FT_ERR_FORGE_OUT_OF_MEMORY');
    sim.setFaults({ oomRate: 0 });
    expect((await client.txt2img(SMALL)).images).toHaveLength(1);
  });
});

describe('answers that are not what Forge sends', () => {
  async function serverAnswering(status: number, body: string): Promise<ForgeClient> {
    const server = await startTinyServer((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body);
    });
    servers.push(server);
    return clientFor(server.url);
  }

  it('names the first field of a wrong shape', async () => {
    const client = await serverAnswering(200, '[{"title": 5, "model_name": "m"}]');
    const error = await expectForgeError(client.sdModels(), 'FT_ERR_FORGE_BAD_RESPONSE');
    expect(error.message).toMatch(
      /^Forge backend "gpu-1" sent an unexpected answer to GET \/sdapi\/v1\/sd-models: \[0\]\.title: /,
    );
  });

  it('reports a body that is not JSON', async () => {
    const client = await serverAnswering(200, '<html>login</html>');
    const error = await expectForgeError(client.samplers(), 'FT_ERR_FORGE_BAD_RESPONSE');
    expect(error.message).toContain('the body is not JSON (starts with "<html>login</html>")');
  });

  it('checks the info JSON inside a generation answer', async () => {
    const body = JSON.stringify({ images: [], parameters: {}, info: '{"prompt": 1}' });
    const client = await serverAnswering(200, body);
    const error = await expectForgeError(client.txt2img(SMALL), 'FT_ERR_FORGE_BAD_RESPONSE');
    expect(error.message).toContain('info.prompt:');
  });

  it('rejects images that are not base64', async () => {
    const info = JSON.stringify({});
    const client = await serverAnswering(
      200,
      JSON.stringify({ images: ['%%%'], parameters: {}, info }),
    );
    const error = await expectForgeError(client.txt2img(SMALL), 'FT_ERR_FORGE_BAD_RESPONSE');
    expect(error.message).toContain('images[0]: is not base64 image data');
  });

  it('reports another status with the start of its body as SERVER', async () => {
    const client = await serverAnswering(503, 'upstream down');
    const error = await expectForgeError(client.memory(), 'FT_ERR_FORGE_SERVER');
    expect(error.message).toBe(
      'Forge backend "gpu-1" answered 503 for GET /sdapi/v1/memory: upstream down',
    );
  });

  it('sends the path prefix, JSON headers and Basic auth', async () => {
    const server = await startTinyServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    servers.push(server);
    const client = clientFor(`${server.url}/forge/`, { auth: { username: 'u', password: 'p' } });
    await client.ping();
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      url: '/forge/internal/ping',
      headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
    });
  });
});
