/**
 * A tiny HTTP client for the simulator tests: global fetch, JSON in and out, nothing shared
 * with the product's Forge client.
 */
import { startForgeSim, type ForgeSim, type ForgeSimOptions } from '../../src/index.js';

/** A response with its parsed JSON body. */
export interface JsonResponse<Body = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
  readonly text: string;
}

/** Starts a simulator on a free port with fast timings unless told otherwise. */
export function startFastSim(options: ForgeSimOptions = {}): Promise<ForgeSim> {
  return startForgeSim({ port: 0, stepMs: 2, imageMs: 1, loadMs: 5, ...options });
}

/** Sends a request and parses the JSON answer (empty bodies parse as `undefined`). */
export async function request<Body = unknown>(
  sim: ForgeSim,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<Body>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const response = await fetch(sim.url + path, init);
  const text = await response.text();
  const parsed = (text === '' ? undefined : JSON.parse(text)) as Body;
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** `POST` with a JSON body. */
export function post<Body = unknown>(
  sim: ForgeSim,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) {
  return request<Body>(sim, 'POST', path, body, headers);
}

/** `GET`. */
export function get<Body = unknown>(sim: ForgeSim, path: string, headers?: Record<string, string>) {
  return request<Body>(sim, 'GET', path, undefined, headers);
}

/** The body of a txt2img/img2img response. */
export interface GenerationBody {
  readonly images: string[];
  readonly parameters: Record<string, unknown>;
  readonly info: string;
}

/** The parsed `info` string. */
export interface GenerationInfoJson {
  readonly seed: number;
  readonly all_seeds: number[];
  readonly infotexts: string[];
  readonly width: number;
  readonly height: number;
  readonly index_of_first_image: number;
  readonly extra_generation_params: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Parses a generation response's `info`. */
export function parseInfo(body: GenerationBody): GenerationInfoJson {
  return JSON.parse(body.info) as GenerationInfoJson;
}

/** The `state` object of `/sdapi/v1/progress`. */
export interface ProgressState {
  readonly skipped: boolean;
  readonly interrupted: boolean;
  readonly stopping_generation: boolean;
  readonly job: string;
  readonly job_count: number;
  readonly job_timestamp: string;
  readonly job_no: number;
  readonly sampling_step: number;
  readonly sampling_steps: number;
}

/** The body of `/sdapi/v1/progress`. */
export interface ProgressBody {
  readonly progress: number;
  readonly eta_relative: number;
  readonly state: ProgressState;
  readonly current_image: string | null;
  readonly textinfo: string | null;
}

/** Polls `/sdapi/v1/progress` until `accept` says yes, or fails after `timeoutMs`. */
export async function waitForProgress(
  sim: ForgeSim,
  accept: (progress: ProgressBody) => boolean,
  timeoutMs = 10_000,
): Promise<ProgressBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await get<ProgressBody>(sim, '/sdapi/v1/progress');
    if (accept(body)) return body;
    if (Date.now() > deadline)
      throw new Error(`progress never matched; last: ${JSON.stringify(body.state)}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Decodes a base64 PNG from a response. */
export function pngBytes(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}
