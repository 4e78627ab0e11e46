/**
 * The version numbers infotexts carry, parsed and ordered as Forge's `infotext_versions` does
 * (PEP 440 through Python's `packaging`), so png-info can tell which rules an old image followed.
 */

/** A PEP 440 version reduced to what Forge's comparisons need. */
export interface Version {
  readonly epoch: number;
  readonly release: readonly number[];
  /** [phase 0-2 (a, b, rc), number], or ±Infinity when absent (dev-only sorts lowest). */
  readonly pre: readonly [number, number];
  readonly post: number;
  readonly dev: number;
}

const PEP440 =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$/i;

/** Forge's `infotext_versions.parse_version`: keep `a-b` of `a-b-rest`, then PEP 440 parse. */
export function parseVersion(value: unknown): Version | null {
  if (typeof value !== 'string') return null;
  const text = /^([^-]+-[^-]+)-/.exec(value)?.[1] ?? value;
  const match = PEP440.exec(text);
  if (!match) return null;
  const [
    ,
    epoch,
    release = '0',
    preLabel,
    preNumber,
    postDash,
    postLabel,
    postNumber,
    devLabel,
    devNumber,
  ] = match;
  const hasPost = postDash !== undefined || postLabel !== undefined;
  const hasDev = devLabel !== undefined;
  // packaging's ordering: a dev-only release sorts before its pre-releases, a missing post
  // release before any post release, and a missing dev release after any dev release.
  const absentPre = hasDev && !hasPost ? -Infinity : Infinity;
  return {
    epoch: Number(epoch ?? 0),
    release: release.split('.').map(Number),
    pre: preLabel ? [prePhase(preLabel), Number(preNumber ?? 0)] : [absentPre, 0],
    post: hasPost ? Number(postDash ?? postNumber ?? 0) : -Infinity,
    dev: hasDev ? Number(devNumber ?? 0) : Infinity,
  };
}

function prePhase(label: string): number {
  const lower = label.toLowerCase();
  if (lower === 'a' || lower === 'alpha') return 0;
  if (lower === 'b' || lower === 'beta') return 1;
  return 2;
}

/** Orders two versions as `packaging` does: negative, zero or positive, like a sort comparator. */
export function compareVersions(left: Version, right: Version): number {
  const leftRelease = trimZeros(left.release);
  const rightRelease = trimZeros(right.release);
  const keys: Array<[number, number]> = [[left.epoch, right.epoch]];
  for (let index = 0; index < Math.max(leftRelease.length, rightRelease.length); index++) {
    keys.push([leftRelease[index] ?? -1, rightRelease[index] ?? -1]);
  }
  keys.push(
    [left.pre[0], right.pre[0]],
    [left.pre[1], right.pre[1]],
    [left.post, right.post],
    [left.dev, right.dev],
  );
  const difference = keys.find(([a, b]) => a !== b);
  return difference ? Math.sign(difference[0] - difference[1]) : 0;
}

function trimZeros(release: readonly number[]): number[] {
  const result = [...release];
  while (result.at(-1) === 0) result.pop();
  return result;
}
