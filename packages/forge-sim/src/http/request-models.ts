/**
 * Forge's request models (`modules/api/models.py`), field by field and in declaration order.
 *
 * The generation models are built by Forge from the processing dataclasses: every dataclass
 * field becomes `Optional[...]` with the dataclass default (the base class wins for a field
 * declared twice, which is why txt2img's `denoising_strength` defaults to None), and the API's
 * additional fields keep their exact annotation, so `sampler_index`, `script_args`,
 * `send_images`, `save_images`, `alwayson_scripts`, `include_init_images` and img2img's
 * `denoising_strength` reject `null`.
 */
import { pyFloat } from '../python-format.js';
import type { FieldSpec, FieldType, ModelSpec } from './pydantic-validation.js';

const INT: FieldType = { kind: 'int' };
const FLOAT: FieldType = { kind: 'float' };
const BOOL: FieldType = { kind: 'bool' };
const STR: FieldType = { kind: 'str' };
const DICT: FieldType = { kind: 'dict' };
const LIST: FieldType = { kind: 'list' };
const STR_LIST: FieldType = { kind: 'list', items: STR };

function optional(name: string, type: FieldType, defaultValue: unknown): FieldSpec {
  return { name, type, nullable: true, default: defaultValue };
}

function strict(name: string, type: FieldType, defaultValue: unknown): FieldSpec {
  return { name, type, nullable: false, default: defaultValue };
}

/** `StableDiffusionProcessing` dataclass fields the API exposes, in order. */
const BASE_FIELDS: readonly FieldSpec[] = [
  optional('prompt', STR, ''),
  optional('negative_prompt', STR, ''),
  optional('styles', STR_LIST, null),
  optional('seed', INT, -1),
  optional('subseed', INT, -1),
  optional('subseed_strength', FLOAT, 0),
  optional('seed_resize_from_h', INT, -1),
  optional('seed_resize_from_w', INT, -1),
  optional('sampler_name', STR, null),
  optional('scheduler', STR, null),
  optional('batch_size', INT, 1),
  optional('n_iter', INT, 1),
  optional('steps', INT, 50),
  optional('cfg_scale', FLOAT, pyFloat(7)),
  optional('distilled_cfg_scale', FLOAT, pyFloat(3.5)),
  optional('width', INT, 512),
  optional('height', INT, 512),
  optional('restore_faces', BOOL, null),
  optional('tiling', BOOL, null),
  optional('do_not_save_samples', BOOL, false),
  optional('do_not_save_grid', BOOL, false),
  optional('eta', FLOAT, null),
  optional('denoising_strength', FLOAT, null),
  optional('s_min_uncond', FLOAT, null),
  optional('s_churn', FLOAT, null),
  optional('s_tmax', FLOAT, null),
  optional('s_tmin', FLOAT, null),
  optional('s_noise', FLOAT, null),
  optional('override_settings', DICT, null),
  optional('override_settings_restore_afterwards', BOOL, true),
  optional('refiner_checkpoint', STR, null),
  optional('refiner_switch_at', FLOAT, null),
  optional('disable_extra_networks', BOOL, false),
  optional('firstpass_image', STR, null),
  optional('comments', DICT, null),
];

const TXT2IMG_FIELDS: readonly FieldSpec[] = [
  optional('enable_hr', BOOL, false),
  optional('firstphase_width', INT, 0),
  optional('firstphase_height', INT, 0),
  optional('hr_scale', FLOAT, pyFloat(2)),
  optional('hr_upscaler', STR, null),
  optional('hr_second_pass_steps', INT, 0),
  optional('hr_resize_x', INT, 0),
  optional('hr_resize_y', INT, 0),
  optional('hr_checkpoint_name', STR, null),
  optional('hr_additional_modules', LIST, null),
  optional('hr_sampler_name', STR, null),
  optional('hr_scheduler', STR, null),
  optional('hr_prompt', STR, ''),
  optional('hr_negative_prompt', STR, ''),
  optional('hr_cfg', FLOAT, pyFloat(1)),
  optional('hr_distilled_cfg', FLOAT, pyFloat(3.5)),
  optional('force_task_id', STR, null),
];

const API_TAIL_FIELDS: readonly FieldSpec[] = [
  strict('script_name', STR, null),
  strict('script_args', LIST, []),
  strict('send_images', BOOL, true),
  strict('save_images', BOOL, false),
  strict('alwayson_scripts', DICT, {}),
  strict('infotext', STR, null),
];

/** `StableDiffusionTxt2ImgProcessingAPI`. */
export const TXT2IMG_MODEL: ModelSpec = {
  title: 'StableDiffusionProcessingTxt2Img',
  fields: [
    ...BASE_FIELDS,
    ...TXT2IMG_FIELDS,
    strict('sampler_index', STR, 'Euler'),
    ...nullableWhereForgeAllowsIt(API_TAIL_FIELDS),
  ],
};

const IMG2IMG_FIELDS: readonly FieldSpec[] = [
  optional('init_images', LIST, null),
  optional('resize_mode', INT, 0),
  optional('image_cfg_scale', FLOAT, null),
  optional('mask', STR, null),
  optional('mask_blur_x', INT, 4),
  optional('mask_blur_y', INT, 4),
  optional('mask_blur', INT, null),
  optional('mask_round', BOOL, true),
  optional('inpainting_fill', INT, 0),
  optional('inpaint_full_res', BOOL, true),
  optional('inpaint_full_res_padding', INT, 0),
  optional('inpainting_mask_invert', INT, 0),
  optional('initial_noise_multiplier', FLOAT, null),
  optional('latent_mask', STR, null),
  optional('force_task_id', STR, null),
  optional('hr_distilled_cfg', FLOAT, pyFloat(3.5)),
];

/** `StableDiffusionImg2ImgProcessingAPI`. */
export const IMG2IMG_MODEL: ModelSpec = {
  title: 'StableDiffusionProcessingImg2Img',
  fields: [
    ...BASE_FIELDS.map((field) =>
      // The API's own `denoising_strength: float = 0.75` replaces the dataclass field in place.
      field.name === 'denoising_strength'
        ? strict('denoising_strength', FLOAT, pyFloat(0.75))
        : field,
    ),
    ...IMG2IMG_FIELDS,
    strict('sampler_index', STR, 'Euler'),
    strict('include_init_images', BOOL, false),
    ...nullableWhereForgeAllowsIt(API_TAIL_FIELDS),
  ],
};

/** `script_name`, `force_task_id` and `infotext` are `str | None`; the others are not. */
function nullableWhereForgeAllowsIt(fields: readonly FieldSpec[]): FieldSpec[] {
  return fields.map((field) =>
    field.name === 'script_name' || field.name === 'infotext'
      ? { ...field, nullable: true }
      : field,
  );
}

const EXTRAS_BASE_FIELDS: readonly FieldSpec[] = [
  strict('resize_mode', { kind: 'literal', values: [0, 1] }, 0),
  strict('show_extras_results', BOOL, true),
  { ...strict('gfpgan_visibility', FLOAT, 0), ge: 0, le: 1, allowInfNan: false },
  { ...strict('codeformer_visibility', FLOAT, 0), ge: 0, le: 1, allowInfNan: false },
  { ...strict('codeformer_weight', FLOAT, 0), ge: 0, le: 1, allowInfNan: false },
  { ...strict('upscaling_resize', FLOAT, 2), gt: 0 },
  { ...strict('upscaling_resize_w', INT, 512), ge: 1 },
  { ...strict('upscaling_resize_h', INT, 512), ge: 1 },
  strict('upscaling_crop', BOOL, true),
  strict('upscaler_1', STR, 'None'),
  strict('upscaler_2', STR, 'None'),
  { ...strict('extras_upscaler_2_visibility', FLOAT, 0), ge: 0, le: 1, allowInfNan: false },
  strict('upscale_first', BOOL, false),
];

/** `ExtrasSingleImageRequest`. */
export const EXTRAS_SINGLE_MODEL: ModelSpec = {
  title: 'ExtrasSingleImageRequest',
  fields: [...EXTRAS_BASE_FIELDS, strict('image', STR, '')],
};

const FILE_DATA_MODEL: ModelSpec = {
  title: 'FileData',
  fields: [strict('data', STR, undefined), strict('name', STR, undefined)],
};

/** `ExtrasBatchImagesRequest`. */
export const EXTRAS_BATCH_MODEL: ModelSpec = {
  title: 'ExtrasBatchImagesRequest',
  fields: [
    ...EXTRAS_BASE_FIELDS,
    strict(
      'imageList',
      { kind: 'list', items: { kind: 'model', model: FILE_DATA_MODEL } },
      undefined,
    ),
  ],
};

/** `PNGInfoRequest`. */
export const PNG_INFO_MODEL: ModelSpec = {
  title: 'PNGInfoRequest',
  fields: [strict('image', STR, undefined)],
};

/** `InterrogateRequest`. */
export const INTERROGATE_MODEL: ModelSpec = {
  title: 'InterrogateRequest',
  fields: [strict('image', STR, ''), strict('model', STR, 'clip')],
};

/** `modules/progress.py` `ProgressRequest` (the body of `POST /internal/progress`). */
export const INTERNAL_PROGRESS_MODEL: ModelSpec = {
  title: 'ProgressRequest',
  fields: [
    strict('id_task', STR, null),
    strict('id_live_preview', INT, -1),
    strict('live_preview', BOOL, true),
  ],
};

/** `modules/api/models.py` `ProgressRequest` (the query of `GET /sdapi/v1/progress`). */
export const PROGRESS_QUERY_MODEL: ModelSpec = {
  title: 'ProgressRequest',
  fields: [strict('skip_current_image', BOOL, false)],
};
