/**
 * The attention-emphasis check behind the `Emphasis` default png-info injects: the weight
 * computation of Forge's `prompt_parser.parse_prompt_attention`, without the rest of its parser.
 */
import { pythonError } from './python-error.js';

// Forge's prompt-attention tokens: escapes, brackets, `:weight)`, plain text and lone colons.
const ATTENTION_TOKEN =
  /\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()[\]:]+|:/g;
const BREAK_PATTERN = /\s*\bBREAK\b\s*/;
const ROUND_MULTIPLIER = 1.1;
const SQUARE_MULTIPLIER = 1 / 1.1;

/**
 * Whether a prompt uses attention emphasis, from Forge's `parse_prompt_attention`: any segment
 * other than BREAK whose weight is not exactly 1.0 after brackets and `(text:weight)` apply.
 */
export function usesEmphasis(text: string): boolean {
  const segments = attentionSegments(text);
  return segments.some(([segment, weight]) => weight !== 1 && segment !== 'BREAK');
}

function attentionSegments(text: string): Array<[string, number]> {
  const segments: Array<[string, number]> = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, factor: number): void => {
    for (let index = start; index < segments.length; index++) {
      const segment = segments[index];
      if (segment) segment[1] *= factor;
    }
  };

  for (const [token, weight] of text.matchAll(ATTENTION_TOKEN)) {
    if (token.startsWith('\\')) segments.push([token.slice(1), 1]);
    else if (token === '(') round.push(segments.length);
    else if (token === '[') square.push(segments.length);
    else if (weight !== undefined && round.length > 0)
      multiplyFrom(round.pop() ?? 0, pyFloatOf(weight));
    else if (token === ')' && round.length > 0) multiplyFrom(round.pop() ?? 0, ROUND_MULTIPLIER);
    else if (token === ']' && square.length > 0) multiplyFrom(square.pop() ?? 0, SQUARE_MULTIPLIER);
    else pushTextWithBreaks(segments, token);
  }
  for (const start of round) multiplyFrom(start, ROUND_MULTIPLIER);
  for (const start of square) multiplyFrom(start, SQUARE_MULTIPLIER);
  return mergeEqualWeights(segments.length > 0 ? segments : [['', 1]]);
}

function pushTextWithBreaks(segments: Array<[string, number]>, text: string): void {
  text.split(BREAK_PATTERN).forEach((part, index) => {
    if (index > 0) segments.push(['BREAK', -1]);
    segments.push([part, 1]);
  });
}

function pyFloatOf(text: string): number {
  const value = Number(text);
  if (Number.isNaN(value))
    throw pythonError('ValueError', `could not convert string to float: '${text}'`);
  return value;
}

function mergeEqualWeights(segments: Array<[string, number]>): Array<[string, number]> {
  const merged: Array<[string, number]> = [];
  for (const [text, weight] of segments) {
    const last = merged.at(-1);
    if (last && last[1] === weight) last[0] += text;
    else merged.push([text, weight]);
  }
  return merged;
}
