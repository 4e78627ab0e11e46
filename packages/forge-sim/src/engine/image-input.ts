/**
 * Forge's `decode_base64_to_image` (`modules/api/api.py`): base64 (with or without a
 * `data:image/...;base64,` prefix) or, when the options allow it, an http(s) URL.
 */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';

import { HttpException, PythonException } from '../http/errors.js';
import { probeImage, type ProbedImage } from './image-probe.js';

const URL_TIMEOUT_MS = 30_000;

/** Reads an option value. */
export type OptionLookup = (key: string) => unknown;

/**
 * Decodes one image argument.
 *
 * @throws HttpException 500 `Invalid encoded image`, `Requests not allowed`,
 *   `Request to local resource not allowed` or `Invalid image url`, as Forge answers them
 * @throws PythonException for a `data:` prefix without `;` and `,` (Forge's IndexError) or an
 *   unreachable URL
 */
export async function decodeImageInput(
  encoding: string,
  option: OptionLookup,
): Promise<ProbedImage> {
  if (encoding.startsWith('http://') || encoding.startsWith('https://')) {
    return fetchImage(encoding, option);
  }
  let payload = encoding;
  if (payload.startsWith('data:image/')) {
    const afterSemicolon = payload.split(';')[1];
    const afterComma = afterSemicolon?.split(',')[1];
    if (afterComma === undefined)
      throw new PythonException('IndexError', 'list index out of range');
    payload = afterComma;
  }
  const bytes = decodePythonBase64(payload);
  const image = bytes ? probeImage(bytes) : null;
  if (!image) throw new HttpException(500, 'Invalid encoded image');
  return image;
}

/** Python's non-strict `base64.b64decode`: junk characters skipped, bad padding refused. */
export function decodePythonBase64(text: string): Buffer | null {
  const cleaned = text.replace(/[^A-Za-z0-9+/=]/g, '');
  const data = cleaned.replace(/=+$/, '');
  if (data.includes('=') || data.length % 4 === 1) return null;
  const padding = cleaned.length - data.length;
  if (data.length % 4 !== 0 && (data.length % 4) + padding < 4) return null;
  return Buffer.from(data, 'base64');
}

async function fetchImage(url: string, option: OptionLookup): Promise<ProbedImage> {
  if (!option('api_enable_requests')) throw new HttpException(500, 'Requests not allowed');
  if (option('api_forbid_local_requests') && !(await isGlobalUrl(url))) {
    throw new HttpException(500, 'Request to local resource not allowed');
  }
  let bytes: Buffer;
  try {
    const userAgent = option('api_useragent');
    const headers: Record<string, string> =
      typeof userAgent === 'string' && userAgent ? { 'user-agent': userAgent } : {};
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(URL_TIMEOUT_MS) });
    bytes = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw new PythonException('ConnectionError', `could not fetch ${url}: ${String(error)}`);
  }
  const image = probeImage(bytes);
  if (!image) throw new HttpException(500, 'Invalid image url');
  return image;
}

/**
 * Forge's `verify_url`: resolves the URL's netloc (port included, so `host:port` never
 * resolves) to IPv4 addresses and requires every one to be global.
 */
async function isGlobalUrl(url: string): Promise<boolean> {
  const netloc = /^https?:\/\/([^/?#]*)/.exec(url)?.[1] ?? '';
  if (netloc === '' || netloc.includes(':') || netloc.includes('@')) return false;
  try {
    const addresses = isIPv4(netloc)
      ? [{ address: netloc }]
      : await lookup(netloc, { all: true, family: 4 });
    return addresses.length > 0 && addresses.every(({ address }) => isGlobalIpv4(address));
  } catch {
    return false;
  }
}

// Python's ipaddress: an IPv4 address is global unless it is in one of these ranges.
const NON_GLOBAL_RANGES: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['240.0.0.0', 4],
];

function isGlobalIpv4(address: string): boolean {
  const value = ipv4Number(address);
  return !NON_GLOBAL_RANGES.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (value & mask) >>> 0 === (ipv4Number(base) & mask) >>> 0;
  });
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((total, part) => total * 256 + Number(part), 0) >>> 0;
}
