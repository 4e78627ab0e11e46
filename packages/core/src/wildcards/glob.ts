/**
 * Wildcard-name globs, with the meaning dynamicprompts gives them (Python's `fnmatch`): `*`
 * matches any run of characters, slashes included, so `__colors/*__` also reaches
 * `colors/warm/light`, and `**` means the same as `*`. `?` matches one character, `[abc]` and
 * `[a-z]` one of a set, `[!abc]` one character outside it. Matching is against whole names.
 */

/** Whether a wildcard name contains glob characters. */
export function isGlob(name: string): boolean {
  return /[*?[]/.test(name);
}

/** Compiles a glob to an anchored regular expression. */
export function globToRegExp(pattern: string, ignoreCase = false): RegExp {
  let source = '';
  let index = 0;
  while (index < pattern.length) {
    const char = pattern.charAt(index);
    if (char === '*') {
      source += '.*';
      while (pattern.charAt(index + 1) === '*') index += 1;
    } else if (char === '?') {
      source += '.';
    } else if (char === '[') {
      const set = readSet(pattern, index);
      if (set !== null) {
        source += set.source;
        index = set.end;
      } else {
        source += '\\[';
      }
    } else {
      source += escapeChar(char);
    }
    index += 1;
  }
  const flags = ignoreCase ? 'isu' : 'su';
  try {
    return new RegExp(`^${source}$`, flags);
  } catch {
    // A set such as `[z-a]` is not a valid range: match the pattern as plain text instead.
    return new RegExp(`^${[...pattern].map(escapeChar).join('')}$`, flags);
  }
}

/** Reads `[...]` starting at `start`; null when it is not closed (then `[` is literal). */
function readSet(pattern: string, start: number): { source: string; end: number } | null {
  let index = start + 1;
  let negate = false;
  if (pattern.charAt(index) === '!') {
    negate = true;
    index += 1;
  }
  // A `]` right after the opening bracket belongs to the set, as in fnmatch.
  let body = '';
  if (pattern.charAt(index) === ']') {
    body += '\\]';
    index += 1;
  }
  while (index < pattern.length && pattern.charAt(index) !== ']') {
    const char = pattern.charAt(index);
    body += char === '-' ? '-' : escapeChar(char);
    index += 1;
  }
  if (index >= pattern.length) return null;
  return { source: `[${negate ? '^' : ''}${body}]`, end: index };
}

function escapeChar(char: string): string {
  return /[\\^$.*+?()[\]{}|]/.test(char) ? `\\${char}` : char;
}
