/**
 * Routes that take an image in: extras (upscaling), png-info and interrogate.
 */
import { UPSCALERS } from '../catalog/index.js';
import { decodeImageInput } from '../engine/image-input.js';
import type { ProbedImage } from '../engine/image-probe.js';
import { RequestValues } from '../engine/request-values.js';
import type { SimContext } from '../engine/sim-context.js';
import { HttpException, PythonException } from '../http/errors.js';
import {
  EXTRAS_BATCH_MODEL,
  EXTRAS_SINGLE_MODEL,
  INTERROGATE_MODEL,
  PNG_INFO_MODEL,
} from '../http/request-models.js';
import type { Reply } from '../http/response.js';
import type { Route } from '../http/router.js';
import { synthesizeImage } from '../image-synth.js';
import { parseGenerationParameters, quoteInfotextValue } from '../infotext/index.js';
import { encodePng } from '../png.js';
import { ok, parseBody, route } from './route-kit.js';

// `images.IGNORED_INFO_KEYS`: Pillow info keys png-info never reports as items.
const IGNORED_INFO_KEYS: ReadonlySet<string> = new Set([
  'jfif',
  'jfif_version',
  'jfif_unit',
  'jfif_density',
  'dpi',
  'exif',
  'loop',
  'background',
  'timestamp',
  'duration',
  'progressive',
  'progression',
  'icc_profile',
  'chromaticity',
  'photoshop',
]);

/** `extra-single-image`, `extra-batch-images`, `png-info` and `interrogate`. */
export function imageRoutes(context: SimContext): Route[] {
  const withBody = { readsBody: true } as const;
  return [
    route(
      'POST',
      '/sdapi/v1/extra-single-image',
      ({ body }) => extraSingle(context, body),
      withBody,
    ),
    route(
      'POST',
      '/sdapi/v1/extra-batch-images',
      ({ body }) => extraBatch(context, body),
      withBody,
    ),
    route('POST', '/sdapi/v1/png-info', ({ body }) => pngInfoRoute(context, body), withBody),
    route('POST', '/sdapi/v1/interrogate', ({ body }) => interrogateRoute(context, body), withBody),
  ];
}

function optionReader(context: SimContext): (key: string) => unknown {
  return (key) => context.options.get(key);
}

async function extraSingle(context: SimContext, body: unknown): Promise<Reply> {
  const values = new RequestValues(parseBody(EXTRAS_SINGLE_MODEL, body));
  const image = await decodeImageInput(values.text('image') ?? '', optionReader(context));
  const [result] = await runExtras(context, values, [{ image, name: null }]);
  return ok({
    html_info: result?.htmlInfo ?? '<p></p>',
    image: result?.png.toString('base64') ?? null,
  });
}

async function extraBatch(context: SimContext, body: unknown): Promise<Reply> {
  const values = new RequestValues(parseBody(EXTRAS_BATCH_MODEL, body));
  const list = (values.list('imageList') ?? []) as Array<{ data: string; name: string }>;
  const inputs: ExtrasInput[] = [];
  for (const entry of list) {
    inputs.push({
      image: await decodeImageInput(entry.data, optionReader(context)),
      name: entry.name,
    });
  }
  const results = await runExtras(context, values, inputs);
  return ok({
    html_info: results.at(-1)?.htmlInfo ?? '<p></p>',
    images: results.map((result) => result.png.toString('base64')),
  });
}

async function pngInfoRoute(context: SimContext, body: unknown): Promise<Reply> {
  const values = new RequestValues(parseBody(PNG_INFO_MODEL, body));
  const encoded = (values.text('image') ?? '').trim();
  return ok(pngInfo(context, await decodeImageInput(encoded, optionReader(context))));
}

async function interrogateRoute(context: SimContext, body: unknown): Promise<Reply> {
  const values = new RequestValues(parseBody(INTERROGATE_MODEL, body));
  const image = await decodeImageInput(values.text('image') ?? '', optionReader(context));
  return ok({ caption: await interrogate(context, image, values.text('model') ?? 'clip') });
}

interface ExtrasInput {
  readonly image: ProbedImage;
  readonly name: string | null;
}

interface ExtrasResult {
  readonly png: Buffer;
  readonly htmlInfo: string;
}

/** `run_extras` → `run_postprocessing`, under the lock, with its own job in the shared state. */
async function runExtras(
  context: SimContext,
  values: RequestValues,
  inputs: readonly ExtrasInput[],
): Promise<ExtrasResult[]> {
  const plan = context.faults.plan();
  try {
    return await context.lock.run(async () => {
      const { state } = context;
      state.begin('extras');
      context.startWorkClock();
      try {
        if (plan.hangMs > 0) {
          await context.stall(plan.hangMs);
          context.startWorkClock();
        }
        if (plan.failure === 'generic')
          throw new PythonException(
            'RuntimeError',
            'Upscaling failed: injected failure (forge-sim failureRate)',
          );
        state.jobCount = inputs.length;
        const results: ExtrasResult[] = [];
        for (const input of inputs) {
          state.nextjob();
          state.textinfo = input.name;
          state.skipped = false;
          if (state.interrupted) break;
          results.push(await upscaleOne(context, values, input.image));
        }
        context.stats.imagesReturned += results.length;
        return results;
      } finally {
        state.end();
      }
    });
  } catch (error) {
    context.stats.failed += 1;
    throw error;
  }
}

/** The Upscale postprocessing script (plus the face-restoration entries) on one image. */
async function upscaleOne(
  context: SimContext,
  values: RequestValues,
  image: ProbedImage,
): Promise<ExtrasResult> {
  const info: Array<[string, unknown]> = [];
  const size = upscaledSize(values, image, info);
  // Rendered and encoded before the upscale time is paid, so this work happens inside it.
  const pixels = synthesizeImage({
    ...size,
    seed: image.width * 31 + image.height,
    prompt: 'extras',
    denoise: 1,
  });
  const keepsText = (): boolean => Boolean(context.options.get('enable_pnginfo'));
  const encode = (withText: boolean) =>
    encodePng(pixels, withText ? Object.entries(image.text) : []);
  const keptText = keepsText();
  let png = encode(keptText);
  await context.wait(context.settings.imageMs);
  if (keepsText() !== keptText) png = encode(!keptText);
  for (const [key, field] of [
    ['GFPGAN visibility', 'gfpgan_visibility'],
    ['CodeFormer visibility', 'codeformer_visibility'],
  ] as const) {
    const visibility = values.number(field) ?? 0;
    if (visibility > 0) info.push([key, values.raw(field)]);
    if (visibility > 0 && field === 'codeformer_visibility')
      info.push(['CodeFormer weight', values.raw('codeformer_weight')]);
  }
  const text = info
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}: ${quoteInfotextValue(value)}`)
    .join(', ');
  return { png, htmlInfo: plaintextToHtml(text) };
}

/**
 * The output size of the Upscale script: unchanged when `upscaler_1` is "None", otherwise the
 * image scaled by `upscaling_resize` (mode 0) or to cover `upscaling_resize_w/h` (mode 1), to a
 * multiple of 8, then cropped to the box when `upscaling_crop` is on.
 */
function upscaledSize(
  values: RequestValues,
  image: ProbedImage,
  info: Array<[string, unknown]>,
): { width: number; height: number } {
  const first = findUpscaler(values.text('upscaler_1'));
  findUpscaler(values.text('upscaler_2'));
  if (!first) return { width: image.width, height: image.height };
  const boxWidth = values.number('upscaling_resize_w') ?? 512;
  const boxHeight = values.number('upscaling_resize_h') ?? 512;
  const toBox = values.number('resize_mode') === 1;
  const scale = toBox
    ? Math.max(boxWidth / image.width, boxHeight / image.height)
    : (values.number('upscaling_resize') ?? 2);
  info.push(
    toBox
      ? ['Postprocess upscale to', `${boxWidth}x${boxHeight}`]
      : ['Postprocess upscale by', values.raw('upscaling_resize')],
  );
  let size = {
    width: Math.floor((image.width * scale) / 8) * 8,
    height: Math.floor((image.height * scale) / 8) * 8,
  };
  if (toBox && values.flag('upscaling_crop')) {
    size = { width: boxWidth, height: boxHeight };
    info.push(['Postprocess crop to', `${boxWidth}x${boxHeight}`]);
  }
  info.push(['Postprocess upscaler', first]);
  const second = findUpscaler(values.text('upscaler_2'));
  if (second && (values.number('extras_upscaler_2_visibility') ?? 0) > 0)
    info.push(['Postprocess upscaler 2', second]);
  return { width: Math.max(1, size.width), height: Math.max(1, size.height) };
}

/** `"None"` means no upscaler; an unknown name fails as the script's assertion does. */
function findUpscaler(name: string | null): string | null {
  if (name === null || name === 'None') return null;
  if (!UPSCALERS.some((entry) => entry.name === name)) {
    throw new PythonException('AssertionError', `could not find upscaler named ${name}`);
  }
  return name;
}

/** `ui_common.plaintext_to_html`. */
function plaintextToHtml(text: string): string {
  const escape = (line: string): string =>
    line
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&#x27;');
  return `<p>${text.split('\n').map(escape).join('<br>\n')}</p>`;
}

/** `pnginfoapi`: the `parameters` text, the other text keys, and the parsed parameters. */
function pngInfo(context: SimContext, image: ProbedImage): Record<string, unknown> {
  const items: Record<string, string> = { ...image.text };
  const info = items['parameters'] ?? '';
  delete items['parameters'];
  for (const key of IGNORED_INFO_KEYS) delete items[key];
  const checkpoint = context.options.get('sd_model_checkpoint');
  const modules = context.options.get('forge_additional_modules');
  const parameters = parseGenerationParameters(info, {
    model: typeof checkpoint === 'string' ? checkpoint : null,
    modules: Array.isArray(modules) ? modules.map(String) : [],
  });
  return { info, items, parameters };
}

/** `interrogateapi`: a caption made from what the image says about itself. */
async function interrogate(
  context: SimContext,
  image: ProbedImage,
  model: string,
): Promise<string> {
  return context.lock.run(async () => {
    context.startWorkClock();
    if (model !== 'clip' && model !== 'deepdanbooru')
      throw new HttpException(404, 'Model not found');
    await context.wait(context.settings.imageMs);
    const prompt = (image.text['parameters'] ?? '').split('\n')[0]?.trim() ?? '';
    if (model === 'deepdanbooru') {
      const words = prompt.toLowerCase().match(/[a-z]+/g) ?? ['abstract', 'gradient'];
      return [...new Set(words)].slice(0, 12).join(', ');
    }
    return prompt !== '' ? prompt : 'a blurry image of colorful shapes on a gradient background';
  });
}
