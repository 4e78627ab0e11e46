/**
 * The checkpoint files of the simulator's fake install (forge-api.md §4.5 and §7), and how Forge
 * names them: titles, model names, short hashes, the exact aliases it accepts and the looser
 * match it uses for checkpoint names given per request.
 */
import { FORGE_ROOT } from './system.js';

/** The folder checkpoint file names are relative to. */
export const CHECKPOINT_DIR = `${FORGE_ROOT}/models/Stable-diffusion`;

/** The model architectures the simulator knows; Flux uses distilled CFG. */
export type ModelFamily = 'sd15' | 'sdxl' | 'flux';

/** A checkpoint file as the simulator's fake install holds it. */
export interface CheckpointRecord {
  /** Path relative to {@link CHECKPOINT_DIR}, with `/` separators, e.g. `anime/x.safetensors`. */
  readonly name: string;
  /** The full SHA-256 Forge computes the first time it loads the file (64 lower-case hex). */
  readonly sha256: string;
  /** Whether the SHA-256 is already known; unhashed files list `hash: null` and a bare title. */
  readonly hashed: boolean;
  /** The legacy 8-hex "model hash" of a slice of the file; still accepted as an alias. */
  readonly legacyHash: string;
  /** The architecture, which decides defaults such as distilled CFG. */
  readonly family: ModelFamily;
}

/**
 * The fake install's checkpoints: an SD 1.5, an SD 1.5 fine-tune in a sub-folder, an SDXL and a
 * never-loaded (so unhashed) Flux dev NF4. The SD 1.5 and SDXL hashes are those of the public
 * files; the other two are invented.
 */
export const DEFAULT_CHECKPOINTS: readonly CheckpointRecord[] = [
  {
    name: 'v1-5-pruned-emaonly.safetensors',
    sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
    hashed: true,
    legacyHash: 'bf7ee999',
    family: 'sd15',
  },
  {
    name: 'sd_xl_base_1.0.safetensors',
    sha256: '31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b',
    hashed: true,
    legacyHash: '6d2c230c',
    family: 'sdxl',
  },
  {
    name: 'flux1-dev-bnb-nf4-v2.safetensors',
    sha256: '65dd5cd173442d70308b4b6bf84430731525307d2d18e40b41656de9342c0453',
    hashed: false,
    legacyHash: '1e14d478',
    family: 'flux',
  },
  {
    name: 'anime/counterfeitV30_v30.safetensors',
    sha256: 'bcaf256a67c7ee0680065c59ca424d5887f547ae8c0efa31b2b6c6eed0c3e529',
    hashed: true,
    legacyHash: 'd86a01ab',
    family: 'sd15',
  },
];

/** One `/sdapi/v1/sd-models` entry. */
export interface CheckpointListing {
  readonly title: string;
  readonly model_name: string;
  readonly hash: string | null;
  readonly sha256: string | null;
  readonly filename: string;
  readonly config: null;
}

/**
 * Python's `os.path.splitext(os.path.basename(path))[0]`: the file name without folders and
 * without its last extension (leading dots do not start an extension).
 */
export function fileStem(path: string): string {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return stripExtension(base);
}

function stripExtension(path: string): string {
  const start = path.lastIndexOf('/') + 1;
  const dot = path.lastIndexOf('.');
  if (dot <= start || /^\.*$/.test(path.slice(start, dot))) return path;
  return path.slice(0, dot);
}

/** The 10-hex short hash, or `null` while the file is not hashed. */
export function checkpointShortHash(checkpoint: CheckpointRecord): string | null {
  return checkpoint.hashed ? checkpoint.sha256.slice(0, 10) : null;
}

/** `"<name> [<short hash>]"`, or the bare name while the file is not hashed. */
export function checkpointTitle(checkpoint: CheckpointRecord): string {
  const shortHash = checkpointShortHash(checkpoint);
  return shortHash === null ? checkpoint.name : `${checkpoint.name} [${shortHash}]`;
}

/** The `model_name`: the relative path without extension, with `/` replaced by `_`. */
export function checkpointModelName(checkpoint: CheckpointRecord): string {
  return stripExtension(checkpoint.name.replaceAll('/', '_').replaceAll('\\', '_'));
}

/** The stem of the file name, which infotexts show as `Model` (`name_for_extra` in Forge). */
export function checkpointStem(checkpoint: CheckpointRecord): string {
  return fileStem(checkpoint.name);
}

/** The absolute file name under {@link CHECKPOINT_DIR}. */
export function checkpointFilename(checkpoint: CheckpointRecord): string {
  return `${CHECKPOINT_DIR}/${checkpoint.name}`;
}

/** The `/sdapi/v1/sd-models` response for a set of checkpoints, in the given order. */
export function checkpointListing(models: readonly CheckpointRecord[]): CheckpointListing[] {
  return models.map((checkpoint) => ({
    title: checkpointTitle(checkpoint),
    model_name: checkpointModelName(checkpoint),
    hash: checkpointShortHash(checkpoint),
    sha256: checkpoint.hashed ? checkpoint.sha256 : null,
    filename: checkpointFilename(checkpoint),
    config: null,
  }));
}

/**
 * Every string Forge accepts for a checkpoint (`CheckpointInfo.ids`): legacy hash, model name,
 * title, name, file stem and `name [legacy hash]`, plus, once hashed, the short hash, the full
 * SHA-256, `name [short hash]` and `stem [short hash]`.
 */
export function checkpointAliases(checkpoint: CheckpointRecord): string[] {
  const { name, legacyHash } = checkpoint;
  const stem = checkpointStem(checkpoint);
  const aliases = [
    legacyHash,
    checkpointModelName(checkpoint),
    checkpointTitle(checkpoint),
    name,
    stem,
    `${name} [${legacyHash}]`,
  ];
  const shortHash = checkpointShortHash(checkpoint);
  if (shortHash === null) return aliases;
  return [
    ...aliases,
    shortHash,
    checkpoint.sha256,
    `${name} [${shortHash}]`,
    `${stem} [${shortHash}]`,
  ];
}

/**
 * The checkpoint an exact alias names (Forge's `checkpoint_aliases` lookup, used by
 * `POST /sdapi/v1/options`), or `undefined`. When two files share an alias the later one wins,
 * as in Forge's dictionary.
 */
export function findCheckpoint(
  models: readonly CheckpointRecord[],
  alias: string,
): CheckpointRecord | undefined {
  for (let index = models.length - 1; index >= 0; index--) {
    const checkpoint = models[index];
    if (checkpoint && checkpointAliases(checkpoint).includes(alias)) return checkpoint;
  }
  return undefined;
}

/**
 * Forge's looser `get_closet_checkpoint_match`: an exact alias first, then the shortest title
 * containing the text, then the same with a trailing `[hash]` removed.
 */
export function closestCheckpoint(
  models: readonly CheckpointRecord[],
  search: string,
): CheckpointRecord | undefined {
  if (!search) return undefined;
  const exact = findCheckpoint(models, search);
  if (exact) return exact;
  return (
    shortestTitleContaining(models, search) ??
    shortestTitleContaining(models, search.replace(/\s*\[[^\]]+]\s*$/, ''))
  );
}

function shortestTitleContaining(
  models: readonly CheckpointRecord[],
  text: string,
): CheckpointRecord | undefined {
  const matches = models.filter((checkpoint) => checkpointTitle(checkpoint).includes(text));
  matches.sort((left, right) => checkpointTitle(left).length - checkpointTitle(right).length);
  return matches[0];
}
