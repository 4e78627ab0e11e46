import { describe, expect, it } from 'vitest';

import type { GenerationInfo } from '../src/info-json.js';
import { INFO_KEYS, buildInfoJson } from '../src/info-json.js';
import { pyFloat } from '../src/python-format.js';

const INFO: GenerationInfo = {
  prompt: 'a café cat',
  all_prompts: ['a café cat', 'a café cat'],
  negative_prompt: 'blurry',
  all_negative_prompts: ['blurry', 'blurry'],
  seed: 1234,
  all_seeds: [1234, 1235],
  subseed: 42,
  all_subseeds: [42, 43],
  subseed_strength: 0,
  width: 512,
  height: 512,
  sampler_name: 'DPM++ 2M',
  cfg_scale: pyFloat(7),
  steps: 20,
  batch_size: 2,
  restore_faces: null,
  face_restoration_model: null,
  sd_model_name: 'v1-5-pruned-emaonly',
  sd_model_hash: '6ce0161689',
  sd_vae_name: null,
  sd_vae_hash: null,
  seed_resize_from_w: -1,
  seed_resize_from_h: -1,
  denoising_strength: null,
  extra_generation_params: [
    ['Schedule type', 'Karras'],
    ['Hires upscale', pyFloat(2)],
    ['Hires prompt', () => 'a dog'],
  ],
  index_of_first_image: 0,
  infotexts: ['a café cat\nSteps: 20', '日本 😀'],
  styles: [],
  job_timestamp: '20260101120000',
  clip_skip: 1,
  is_using_inpainting_conditioning: false,
  version: 'f2.0.1v1.10.1-previous-669-gdfdcbab6',
};

describe('buildInfoJson', () => {
  it("matches CPython's json.dumps of Processed.js() byte for byte", () => {
    // Produced by CPython 3.11 json.dumps on the same dictionary.
    expect(buildInfoJson(INFO)).toBe(
      '{"prompt": "a caf\\u00e9 cat", "all_prompts": ["a caf\\u00e9 cat", "a caf\\u00e9 cat"], "negative_prompt": "blurry", "all_negative_prompts": ["blurry", "blurry"], "seed": 1234, "all_seeds": [1234, 1235], "subseed": 42, "all_subseeds": [42, 43], "subseed_strength": 0, "width": 512, "height": 512, "sampler_name": "DPM++ 2M", "cfg_scale": 7.0, "steps": 20, "batch_size": 2, "restore_faces": null, "face_restoration_model": null, "sd_model_name": "v1-5-pruned-emaonly", "sd_model_hash": "6ce0161689", "sd_vae_name": null, "sd_vae_hash": null, "seed_resize_from_w": -1, "seed_resize_from_h": -1, "denoising_strength": null, "extra_generation_params": {"Schedule type": "Karras", "Hires upscale": 2.0, "Hires prompt": null}, "index_of_first_image": 0, "infotexts": ["a caf\\u00e9 cat\\nSteps: 20", "\\u65e5\\u672c \\ud83d\\ude00"], "styles": [], "job_timestamp": "20260101120000", "clip_skip": 1, "is_using_inpainting_conditioning": false, "version": "f2.0.1v1.10.1-previous-669-gdfdcbab6"}',
    );
  });

  it('orders keys as §5 lists them, whatever the input order', () => {
    const reversed = Object.fromEntries(
      Object.entries(INFO).reverse(),
    ) as unknown as GenerationInfo;
    const parsed = JSON.parse(buildInfoJson(reversed)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(INFO_KEYS);
    expect(INFO_KEYS).toHaveLength(32);
  });

  it('accepts extra parameters as a record and prints float strengths', () => {
    const json = buildInfoJson({
      ...INFO,
      subseed_strength: pyFloat(0.25),
      denoising_strength: pyFloat(0.7),
      extra_generation_params: { 'Denoising strength': pyFloat(0.7), Missing: undefined },
    });
    expect(json).toContain('"subseed_strength": 0.25,');
    expect(json).toContain('"denoising_strength": 0.7,');
    expect(json).toContain(
      '"extra_generation_params": {"Denoising strength": 0.7, "Missing": null},',
    );
  });

  it('uses Python separators and ASCII-only output', () => {
    const json = buildInfoJson(INFO);
    expect(json).not.toMatch(/[^\x20-\x7e]/);
    expect(json).toContain('"all_seeds": [1234, 1235], "subseed": 42');
  });
});
