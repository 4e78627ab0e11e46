/**
 * What Forge's txt2img/img2img handlers check before they queue a generation
 * (`text2imgapi`/`img2imgapi` in `modules/api/api.py`), in Forge's order:
 *
 * 1. task id (`force_task_id` or a new one);
 * 2. img2img only: `init_images` present (404), `mask` decodable (500);
 * 3. `infotext` fills fields the request did not send;
 * 4. `script_name` names a selectable script (422);
 * 5. sampler and scheduler resolution (never fails: unknown names fall back);
 * 6. every `alwayson_scripts` key names an always-on script (422).
 */
import {
  ALWAYSON_SCRIPT_TITLES,
  resolveSamplerAndScheduler,
  SELECTABLE_SCRIPT_TITLES,
  type GenerationMode,
} from '../catalog/index.js';
import { HttpException, PythonException, pythonTypeName } from '../http/errors.js';
import { parseGenerationParameters } from '../infotext/index.js';
import { pyFloat } from '../python-format.js';
import { decodeImageInput } from './image-input.js';
import type { RequestValues } from './request-values.js';
import type { SimContext } from './sim-context.js';

/** A generation request that passed every check Forge makes before taking the lock. */
export interface PreparedGeneration {
  readonly mode: GenerationMode;
  readonly values: RequestValues;
  readonly taskId: string;
  /** The sampler the generation runs with. */
  readonly sampler: string;
  /** The scheduler label it runs with (`Automatic` when the sampler's default applies). */
  readonly scheduler: string;
  /** The selectable script named by `script_name`, or null. */
  readonly script: string | null;
}

/**
 * Runs the checks of the handler's prologue.
 *
 * @param sentKeys - the keys the request body contained (infotext only fills the others)
 * @throws HttpException 404/422/500 with Forge's detail texts
 * @throws PythonException for malformed `alwayson_scripts` entries
 */
export async function prepareGeneration(
  context: SimContext,
  mode: GenerationMode,
  values: RequestValues,
  sentKeys: ReadonlySet<string>,
): Promise<PreparedGeneration> {
  const taskId = values.text('force_task_id') || context.tasks.createId(mode);
  if (mode === 'img2img') await checkImg2ImgInputs(context, values);
  applyInfotext(context, values, sentKeys);
  const script = selectableScript(mode, values.text('script_name'));
  const resolved = resolveSamplerAndScheduler(
    values.text('sampler_name') || values.text('sampler_index'),
    values.text('scheduler'),
  );
  checkAlwaysOnScripts(mode, values.raw('alwayson_scripts'));
  return { mode, values, taskId, sampler: resolved.sampler, scheduler: resolved.scheduler, script };
}

async function checkImg2ImgInputs(context: SimContext, values: RequestValues): Promise<void> {
  if (values.raw('init_images') === null) throw new HttpException(404, 'Init image not found');
  const mask = values.text('mask');
  if (mask) await decodeImageInput(mask, (key) => context.options.get(key));
}

/** `script_name_to_index` over the selectable scripts: titles compared in lower case. */
function selectableScript(mode: GenerationMode, name: string | null): string | null {
  if (name === null || name === '') return null;
  const title = SELECTABLE_SCRIPT_TITLES[mode].find(
    (entry) => entry.toLowerCase() === name.toLowerCase(),
  );
  if (title === undefined) throw new HttpException(422, `Script '${name}' not found`);
  return title;
}

function checkAlwaysOnScripts(mode: GenerationMode, scripts: unknown): void {
  if (typeof scripts !== 'object' || scripts === null) return;
  const alwaysOn = ALWAYSON_SCRIPT_TITLES[mode].map((title) => title.toLowerCase());
  const selectable = SELECTABLE_SCRIPT_TITLES[mode].map((title) => title.toLowerCase());
  for (const [name, entry] of Object.entries(scripts)) {
    const lower = name.toLowerCase();
    if (!alwaysOn.includes(lower) && !selectable.includes(lower)) {
      throw new HttpException(422, `Script '${name}' not found`);
    }
    if (!alwaysOn.includes(lower)) {
      throw new HttpException(
        422,
        'Cannot have a selectable script in the always on scripts params',
      );
    }
    checkScriptEntry(entry);
  }
}

/** Python's `"args" in entry` followed by `entry["args"]` and `len(...)`, with their TypeErrors. */
function checkScriptEntry(entry: unknown): void {
  if (entry === null || typeof entry === 'number' || typeof entry === 'boolean') {
    throw new PythonException(
      'TypeError',
      `argument of type '${pythonTypeName(entry)}' is not iterable`,
    );
  }
  if (typeof entry === 'string') {
    if (entry.includes('args'))
      throw new PythonException('TypeError', 'string indices must be integers');
    return;
  }
  if (Array.isArray(entry)) {
    if (entry.includes('args')) {
      throw new PythonException('TypeError', 'list indices must be integers or slices, not str');
    }
    return;
  }
  const args = (entry as Record<string, unknown>)['args'];
  if (args === undefined || Array.isArray(args) || typeof args === 'string') return;
  if (args !== null && typeof args === 'object') return;
  throw new PythonException('TypeError', `object of type '${pythonTypeName(args)}' has no len()`);
}

/** Infotext labels the simulator maps onto request fields, with the Python type cast. */
const INFOTEXT_FIELDS: ReadonlyArray<
  readonly [label: string, field: string, cast: 'int' | 'float' | 'str']
> = [
  ['Prompt', 'prompt', 'str'],
  ['Negative prompt', 'negative_prompt', 'str'],
  ['Steps', 'steps', 'int'],
  ['Sampler', 'sampler_name', 'str'],
  ['Schedule type', 'scheduler', 'str'],
  ['CFG scale', 'cfg_scale', 'float'],
  ['Distilled CFG Scale', 'distilled_cfg_scale', 'float'],
  ['Seed', 'seed', 'int'],
  ['Size-1', 'width', 'int'],
  ['Size-2', 'height', 'int'],
  ['Variation seed', 'subseed', 'int'],
  ['Variation seed strength', 'subseed_strength', 'float'],
  ['Denoising strength', 'denoising_strength', 'float'],
];

/**
 * `Api.apply_infotext`, for the common fields: values from the infotext fill fields the request
 * did not send, and `Clip skip` becomes an `override_settings` entry. The request's
 * `override_settings` becomes `{}` when it was null, as in Forge.
 */
function applyInfotext(
  context: SimContext,
  values: RequestValues,
  sentKeys: ReadonlySet<string>,
): void {
  const infotext = values.text('infotext');
  if (!infotext) return;
  const params = parseGenerationParameters(infotext, {
    model: stringOption(context, 'sd_model_checkpoint'),
    modules: listOption(context, 'forge_additional_modules'),
  });
  for (const [label, field, cast] of INFOTEXT_FIELDS) {
    const value = params[label];
    if (sentKeys.has(field) || value === undefined || Array.isArray(value)) continue;
    values.set(field, castInfotextValue(value, cast));
  }
  const overrides = values.record('override_settings') ?? {};
  values.set('override_settings', overrides);
  const clipSkip = params['Clip skip'];
  if (clipSkip !== undefined && !('CLIP_stop_at_last_layers' in overrides)) {
    const wanted = Number(clipSkip);
    if (wanted !== Number(context.options.get('CLIP_stop_at_last_layers'))) {
      overrides['CLIP_stop_at_last_layers'] = wanted;
    }
  }
}

function castInfotextValue(
  value: string | number | boolean,
  cast: 'int' | 'float' | 'str',
): unknown {
  if (cast === 'str') return String(value);
  const number = Number(value);
  if (!Number.isFinite(number)) {
    throw new PythonException(
      'ValueError',
      `could not convert string to ${cast}: '${String(value)}'`,
    );
  }
  return cast === 'int' ? Math.trunc(number) : pyFloat(number);
}

function stringOption(context: SimContext, key: string): string | null {
  const value = context.options.get(key);
  return typeof value === 'string' ? value : null;
}

function listOption(context: SimContext, key: string): string[] {
  const value = context.options.get(key);
  return Array.isArray(value) ? value.map(String) : [];
}
