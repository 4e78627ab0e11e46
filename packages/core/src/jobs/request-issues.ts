/**
 * Turns zod's issues into {@link RequestIssue}s: one per problem, named by field path, worded for
 * the person who wrote the request. Field rules already carry their own sentences; this adds the
 * wording for unknown keys (with a hint at the intended field) and a generic fallback.
 */
import type { z } from 'zod';
import type { RequestIssue } from './request-error.js';

/** Known keys per object path (`''` for the top level, `hires`, `upscale.source`, ...). */
export type KnownKeys = ReadonlyMap<string, readonly string[]>;

/** Names people carry over from Forge's own API or other tools, and what we call them. */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  sampler_name: 'sampler',
  sampler_index: 'sampler',
  scheduler_name: 'scheduler',
  model: 'checkpoint',
  sd_model_checkpoint: 'checkpoint',
  batch_count: 'n_iter',
  enable_hr: 'hires',
  hr_scale: 'hires.scale',
  hr_upscaler: 'hires.upscaler',
  init_images: 'init_image',
  image: 'init_image',
  negative: 'negative_prompt',
  cfg: 'cfg_scale',
  webhook: 'webhook_url',
  callback_url: 'webhook_url',
  idempotencyKey: 'idempotency_key',
  webhookUrl: 'webhook_url',
  negativePrompt: 'negative_prompt',
  cfgScale: 'cfg_scale',
};

/** Converts zod issues into request issues, deduplicated, in the order zod found them. */
export function toRequestIssues(
  issues: readonly z.core.$ZodIssue[],
  knownKeys: KnownKeys,
): RequestIssue[] {
  const result: RequestIssue[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    for (const converted of convert(issue, knownKeys)) {
      const key = `${converted.field}\u0000${converted.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.push(converted);
    }
  }
  return result;
}

/** `['hires', 'scale']` → `hires.scale`, `['styles', 2]` → `styles[2]`, `[]` → `request`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? 'request' : text;
}

function convert(issue: z.core.$ZodIssue, knownKeys: KnownKeys): RequestIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => unknownKey(issue.path, key, knownKeys));
  }
  if (issue.code === 'invalid_union') return unionIssues(issue, knownKeys);
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return [{ field: 'request', message: 'must be a JSON object of request fields' }];
  }
  return [{ field: fieldPath(issue.path), message: lowerFirst(issue.message) }];
}

/**
 * A union fails as a whole when no branch fits. zod already reports the one branch whose type
 * matched, so a union issue only arrives when the value's type fits none, or several branches
 * fit partly; the branch with the fewest problems is the likely intent.
 */
function unionIssues(issue: z.core.$ZodIssueInvalidUnion, knownKeys: KnownKeys): RequestIssue[] {
  const branches = issue.errors.filter((branch) => branch.length > 0);
  const typeMismatch = branches.every((branch) =>
    branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
  );
  if (typeMismatch || branches.length === 0) {
    return [{ field: fieldPath(issue.path), message: lowerFirst(issue.message) }];
  }
  const closest = branches.reduce((best, branch) => (branch.length < best.length ? branch : best));
  return closest.flatMap((inner) =>
    convert({ ...inner, path: [...issue.path, ...inner.path] }, knownKeys),
  );
}

function unknownKey(path: readonly PropertyKey[], key: string, knownKeys: KnownKeys): RequestIssue {
  const at = path.map(String).join('.');
  const field = fieldPath([...path, key]);
  const known = knownKeys.get(at) ?? [];
  const hint = at === '' ? (FIELD_ALIASES[key] ?? closestKey(key, known)) : undefined;
  if (hint !== undefined)
    return { field, message: `is not a request field; did you mean ${hint}?` };
  const list = at === '' ? 'see docs/requests.md' : `allowed: ${known.join(', ')}`;
  return { field, message: `is not a known field (${list})` };
}

/** The known key within two edits of `key`, if there is exactly one best. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(from: string, to: string): number {
  let previous = Array.from({ length: to.length + 1 }, (_, index) => index);
  for (let row = 1; row <= from.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= to.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (from[row - 1] === to[column - 1] ? 0 : 1);
      const insertion = (current[column - 1] ?? 0) + 1;
      const deletion = (previous[column] ?? 0) + 1;
      current.push(Math.min(substitution, insertion, deletion));
    }
    previous = current;
  }
  return previous[to.length] ?? 0;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
