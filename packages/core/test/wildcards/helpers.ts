import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { expect } from 'vitest';

import { isForgeToolError, type ErrorCode } from '../../src/errors.js';
import { expandPrompt, type ExpandOptions } from '../../src/wildcards/expander.js';
import { WildcardError } from '../../src/wildcards/wildcard-error.js';
import {
  WildcardLibrary,
  type WildcardLibraryOptions,
} from '../../src/wildcards/wildcard-library.js';

/** Folders made by {@link makeFolder}, removed by {@link removeFolders}. */
const made: string[] = [];
/** Libraries opened by {@link openLibrary}, closed by {@link removeFolders}. */
const opened: WildcardLibrary[] = [];

/** A fresh temporary folder holding `files` (path relative to the folder -> content). */
export async function makeFolder(files: Record<string, string> = {}): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-tool-wildcards-'));
  made.push(folder);
  await writeFiles(folder, files);
  return folder;
}

/** Writes `files` under `folder`, creating sub-folders. */
export async function writeFiles(folder: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(folder, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

/** A loaded library over one fresh folder holding `files`. */
export async function openLibrary(
  files: Record<string, string>,
  options: Partial<WildcardLibraryOptions> = {},
): Promise<{ library: WildcardLibrary; folder: string }> {
  const folder = await makeFolder(files);
  const library = new WildcardLibrary({ roots: [{ name: 'user', path: folder }], ...options });
  opened.push(library);
  await library.load();
  return { library, folder };
}

/** Keeps a library to close in {@link removeFolders}. */
export function track(library: WildcardLibrary): WildcardLibrary {
  opened.push(library);
  return library;
}

/** Closes every library and removes every folder made so far (call in afterEach). */
export async function removeFolders(): Promise<void> {
  await Promise.all(opened.splice(0).map((library) => library.close()));
  await Promise.all(made.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}

/** The set of prompts a template gives over `seeds` seeds (index 0). */
export function outcomes(
  library: WildcardLibrary,
  template: string,
  seeds = 300,
  options: Omit<ExpandOptions, 'seed'> = {},
): Set<string> {
  const found = new Set<string>();
  for (let seed = 0; seed < seeds; seed += 1) {
    found.add(expandPrompt(library, template, { ...options, seed }).prompt);
  }
  return found;
}

/** Runs `run` and returns the WildcardError it throws, checking its code. */
export function expectWildcardError(run: () => unknown, code: ErrorCode): WildcardError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a WildcardError').toBeInstanceOf(WildcardError);
  expect(isForgeToolError(thrown, code), `code ${(thrown as WildcardError).code}`).toBe(true);
  return thrown as WildcardError;
}

/** As {@link expectWildcardError}, for a promise. */
export async function expectWildcardRejection(
  promise: Promise<unknown>,
  code: ErrorCode,
): Promise<WildcardError> {
  const thrown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  return expectWildcardError(() => {
    if (thrown !== undefined) throw thrown;
  }, code);
}
