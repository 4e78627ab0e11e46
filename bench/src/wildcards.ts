/**
 * Benchmark (c): wildcard expansion.
 *
 * A library is written to a temporary folder, loaded, and expanded with `expandPrompt` the way
 * the engine does it, one seed per call:
 *
 * - simple: one wildcard and two variants in the template;
 * - simple, parsed every time: the same, made unique per call so the parse cache never hits;
 * - nested: a wildcard whose values use a wildcard whose values use a third (three levels), with
 *   variants at every level;
 * - combinatorial: every combination of a 144-combination template, per template and per prompt;
 * - loading a 10,000-line library, as 100 files of 100 lines and as one file of 10,000 lines,
 *   cold (read, hash, index) and as a refresh that finds nothing changed.
 *
 * Run: `npm run bench` at the root, or `node bench/dist/wildcards.js [--rounds N]`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { WildcardLibrary, expandCombinations, expandPrompt } from '@forge-tool/core';

import { fixed, median } from './measure.js';

/** The templates expanded, by row name. */
export const WILDCARD_TEMPLATES = {
  simple: 'a {red|green|blue} __animal__ at {dawn|dusk}',
  nested: '__scene__',
  combinatorial: '{red|green|blue} {cat|dog|owl|fox} at {dawn|noon|dusk} in __season__',
} as const;

/** How many prompts the combinatorial template has. */
export const COMBINATIONS = 3 * 4 * 3 * 4;

const LIBRARY_FILES: Record<string, string> = {
  'animal.txt': 'cat\ndog\nfox\nowl\nbear\nheron\n',
  'season.txt': 'spring\nsummer\nautumn\nwinter\n',
  'scene.txt': [
    'a {quiet|busy} harbour with __subject__',
    'a {misty|sunlit} forest with __subject__',
    'an old {stone|wooden} bridge with __subject__',
    '',
  ].join('\n'),
  'subject.txt': [
    'a {young|old} fisher holding __detail__',
    'two {grey|white} herons near __detail__',
    'a {red|blue} boat beside __detail__',
    '',
  ].join('\n'),
  'detail.txt': [
    'a {lantern|net} in {spring|autumn} light',
    'a {rope|basket} at {dawn|dusk}',
    '{mossy|wet} stones',
    '',
  ].join('\n'),
};

/** One expansion row. */
export interface ExpansionFigure {
  name: string;
  template: string;
  /** Median expansions per second over the rounds. */
  perSecond: number;
  /** Median microseconds per expansion. */
  microseconds: number;
  /** Every round's microseconds per expansion. */
  roundsMicroseconds: number[];
}

/** The combinatorial row. */
export interface CombinatorialFigure {
  template: string;
  combinations: number;
  /** Median milliseconds to list every combination once. */
  perTemplateMs: number;
  /** Prompts listed per second at that median. */
  promptsPerSecond: number;
}

/** One library-loading row. */
export interface LoadFigure {
  name: string;
  files: number;
  lines: number;
  /** Median milliseconds for `new WildcardLibrary(...)` plus `load()`. */
  coldMs: number;
  /** Median milliseconds for a `refresh()` that finds nothing changed. */
  refreshMs: number;
  /** How many collections the load found (a check that it read what was written). */
  collections: number;
}

/** The figures of one run. */
export interface WildcardReport {
  expansions: ExpansionFigure[];
  combinatorial: CombinatorialFigure;
  load: LoadFigure[];
}

/** How much work a run does. */
export interface WildcardSettings {
  /** Rounds per figure; the median is reported. */
  rounds: number;
  /** Expansions per round for the expansion rows. */
  perRound: number;
}

/** Runs every measurement on libraries written to temporary folders (removed afterwards). */
export async function measureWildcards(settings: WildcardSettings): Promise<WildcardReport> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-tool-bench-wildcards-'));
  try {
    await writeFiles(folder, LIBRARY_FILES);
    const library = new WildcardLibrary({ roots: [{ name: 'bench', path: folder }] });
    await library.load();
    const expansions = [
      timeExpansion(library, 'simple', WILDCARD_TEMPLATES.simple, settings, false),
      timeExpansion(
        library,
        'simple, parsed every time',
        WILDCARD_TEMPLATES.simple,
        settings,
        true,
      ),
      timeExpansion(library, 'nested, three levels', WILDCARD_TEMPLATES.nested, settings, false),
    ];
    const combinatorial = timeCombinations(library, settings.rounds);
    await library.close();
    const load = [
      await timeLoad(join(folder, 'many'), 100, 100, settings.rounds),
      await timeLoad(join(folder, 'one'), 1, 10_000, settings.rounds),
    ];
    return { expansions, combinatorial, load };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function timeExpansion(
  library: WildcardLibrary,
  name: string,
  template: string,
  settings: WildcardSettings,
  unique: boolean,
): ExpansionFigure {
  // A `#` comment makes every template text new without changing the prompt it gives.
  const textFor = (seed: number): string => (unique ? `${template}#${seed}` : template);
  let seed = 0;
  const round = (): number => {
    const begin = performance.now();
    for (let call = 0; call < settings.perRound; call += 1) {
      seed += 1;
      expandPrompt(library, textFor(seed), { seed });
    }
    return ((performance.now() - begin) * 1_000) / settings.perRound;
  };
  round(); // warm-up: lets the JIT compile the expander before anything is timed
  const roundsMicroseconds = Array.from({ length: settings.rounds }, round);
  const microseconds = median(roundsMicroseconds);
  return { name, template, perSecond: 1e6 / microseconds, microseconds, roundsMicroseconds };
}

function timeCombinations(library: WildcardLibrary, rounds: number): CombinatorialFigure {
  const template = WILDCARD_TEMPLATES.combinatorial;
  const repeats = 50;
  const round = (): number => {
    const begin = performance.now();
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      const results = expandCombinations(library, template, { cap: COMBINATIONS });
      if (results.length !== COMBINATIONS) throw new Error(`got ${results.length} combinations`);
    }
    return (performance.now() - begin) / repeats;
  };
  round();
  const perTemplateMs = median(Array.from({ length: rounds }, round));
  return {
    template,
    combinations: COMBINATIONS,
    perTemplateMs,
    promptsPerSecond: (COMBINATIONS * 1_000) / perTemplateMs,
  };
}

async function timeLoad(
  folder: string,
  files: number,
  linesPerFile: number,
  rounds: number,
): Promise<LoadFigure> {
  const contents: Record<string, string> = {};
  for (let file = 0; file < files; file += 1) {
    const lines = Array.from(
      { length: linesPerFile },
      (_, line) => `item ${line} of set ${file}, {soft|hard} __animal__`,
    );
    contents[`set-${String(file).padStart(3, '0')}.txt`] = `# set ${file}\n${lines.join('\n')}\n`;
  }
  await writeFiles(folder, contents);
  const cold: number[] = [];
  const refresh: number[] = [];
  let collections = 0;
  for (let round = 0; round <= rounds; round += 1) {
    const begin = performance.now();
    const library = new WildcardLibrary({ roots: [{ name: 'bench', path: folder }] });
    await library.load();
    const loaded = performance.now();
    await library.refresh();
    const refreshed = performance.now();
    collections = library.names().length;
    await library.close();
    // Round 0 warms the file system cache and the JIT; it is not counted.
    if (round === 0) continue;
    cold.push(loaded - begin);
    refresh.push(refreshed - loaded);
  }
  return {
    name: files === 1 ? 'one file of 10,000 lines' : `${files} files of ${linesPerFile} lines`,
    files,
    lines: files * linesPerFile,
    coldMs: median(cold),
    refreshMs: median(refresh),
    collections,
  };
}

async function writeFiles(folder: string, files: Record<string, string>): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(folder, name), content);
}

/** The figures as aligned tables. */
export function formatWildcards(report: WildcardReport): string {
  const lines = [
    'Wildcard expansion (expandPrompt, one seed per call)',
    'template                     expansions/s   µs/expansion',
  ];
  for (const row of report.expansions) {
    lines.push(row.name.padEnd(28) + fixed(row.perSecond, 0, 13) + fixed(row.microseconds, 2, 15));
  }
  const combo = report.combinatorial;
  lines.push(
    '',
    `Combinatorial (expandCombinations, ${combo.combinations} prompts per template)`,
    `ms/template ${fixed(combo.perTemplateMs, 3, 9)}   prompts/s ${fixed(combo.promptsPerSecond, 0, 9)}`,
    '',
    'Loading a 10,000-line library',
    'layout                        cold load ms   unchanged refresh ms',
  );
  for (const row of report.load) {
    lines.push(row.name.padEnd(28) + fixed(row.coldMs, 2, 14) + fixed(row.refreshMs, 2, 23));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      'per-round': { type: 'string', default: '100000' },
    },
  });
  const report = await measureWildcards({
    rounds: Number(values.rounds),
    perRound: Number(values['per-round']),
  });
  process.stdout.write(`${formatWildcards(report)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
