/**
 * The fake install's styles.csv (`/sdapi/v1/prompt-styles`), and Forge's rules for prompt
 * comments, applying styles to a prompt and extracting them again for png-info.
 */
import { pyStrip } from '../python-format.js';

/** One `/sdapi/v1/prompt-styles` entry, as a row of styles.csv. */
export interface PromptStyle {
  readonly name: string;
  /** Text with an optional `{prompt}` placeholder; without one it is appended after `, `. */
  readonly prompt: string;
  /** Same rule for the negative prompt. */
  readonly negative_prompt: string;
}

/** The fake install's styles.csv. */
export const PROMPT_STYLES: readonly PromptStyle[] = [
  {
    name: 'Cinematic',
    prompt: 'cinematic still of {prompt}, shallow depth of field, film grain, highly detailed',
    negative_prompt: 'cartoon, illustration, anime, painting, lowres',
  },
  {
    name: 'Photorealistic',
    prompt: 'RAW photo of {prompt}, 8k uhd, dslr, soft lighting, high quality',
    negative_prompt: 'drawing, painting, sketch, noisy, blurry',
  },
  {
    name: 'Anime',
    prompt: 'anime artwork of {prompt}, key visual, vibrant, studio anime, highly detailed',
    negative_prompt: 'photo, deformed, black and white, realism, disfigured, low contrast',
  },
];

/**
 * Removes prompt comments as Forge does with `enable_prompt_comments` on (the default): a whole
 * line starting with `#`, and anything from a `#` to the end of its line.
 */
export function stripPromptComments(text: string): string {
  return text.replace(/(^|\n)#[^\n]*(\n|$)/g, '\n').replace(/#[^\n]*(\n|$)/g, '\n');
}

function applyStyleTexts(prompt: string, styleTexts: readonly string[]): string {
  let result = pyStrip(stripPromptComments(prompt));
  for (const raw of styleTexts) {
    const style = pyStrip(stripPromptComments(raw));
    if (style.includes('{prompt}')) {
      result = style.replaceAll('{prompt}', result);
    } else if (style !== '') {
      result = result === '' ? style : `${result}, ${style}`;
    }
  }
  return result;
}

/**
 * Applies named styles to a prompt pair as Forge does for every generation (even with no
 * styles, the prompts lose their comments and surrounding whitespace). Unknown names are
 * ignored, as Forge ignores them.
 *
 * @example
 * applyStyles('a cat', '', ['Cinematic']).prompt;
 * // 'cinematic still of a cat, shallow depth of field, film grain, highly detailed'
 */
export function applyStyles(
  prompt: string,
  negativePrompt: string,
  styleNames: readonly string[],
  styles: readonly PromptStyle[] = PROMPT_STYLES,
): { prompt: string; negativePrompt: string } {
  const chosen = styleNames.map((name) => styles.find((style) => style.name === name));
  return {
    prompt: applyStyleTexts(
      prompt,
      chosen.map((style) => style?.prompt ?? ''),
    ),
    negativePrompt: applyStyleTexts(
      negativePrompt,
      chosen.map((style) => style?.negative_prompt ?? ''),
    ),
  };
}

/**
 * Forge's `extract_styles_from_prompt`, which png-info uses: repeatedly finds a style whose
 * prompt and negative prompt both wrap or end the given texts, removes it, and returns the
 * styles found (in application order) with the remaining texts.
 */
export function extractStylesFromPrompt(
  prompt: string,
  negativePrompt: string,
  styles: readonly PromptStyle[] = PROMPT_STYLES,
): { styles: string[]; prompt: string; negativePrompt: string } {
  let positive = stripPromptComments(prompt);
  let negative = stripPromptComments(negativePrompt);
  const remaining = [...styles];
  const found: string[] = [];
  for (;;) {
    const hit = firstMatchingStyle(remaining, positive, negative);
    if (!hit) break;
    [positive, negative] = hit.texts;
    found.push(hit.style.name);
    remaining.splice(remaining.indexOf(hit.style), 1);
  }
  return { styles: found.reverse(), prompt: positive, negativePrompt: negative };
}

function firstMatchingStyle(
  styles: readonly PromptStyle[],
  prompt: string,
  negativePrompt: string,
): { style: PromptStyle; texts: [string, string] } | undefined {
  for (const style of styles) {
    const texts = matchStyle(style, prompt, negativePrompt);
    if (texts) return { style, texts };
  }
  return undefined;
}

function matchStyle(
  style: PromptStyle,
  prompt: string,
  negativePrompt: string,
): [string, string] | null {
  if (!style.prompt && !style.negative_prompt) return null;
  const positive = extractStyleText(style.prompt, prompt);
  if (positive === null) return null;
  const negative = extractStyleText(style.negative_prompt, negativePrompt);
  if (negative === null) return null;
  return [positive, negative];
}

function extractStyleText(styleText: string, prompt: string): string | null {
  const text = pyStrip(prompt);
  const style = pyStrip(stripPromptComments(styleText));
  const placeholder = style.indexOf('{prompt}');
  if (placeholder >= 0) {
    const left = style.slice(0, placeholder);
    const right = style.slice(placeholder + '{prompt}'.length);
    const fits = text.startsWith(left) && text.endsWith(right);
    return fits ? text.slice(left.length, text.length - right.length) : null;
  }
  if (!text.endsWith(style)) return null;
  const rest = text.slice(0, text.length - style.length);
  return rest.endsWith(', ') ? rest.slice(0, -2) : rest;
}
