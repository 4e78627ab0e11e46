/**
 * The wildcard engine: dynamicprompts-compatible templates expanded with seeded, recorded choices
 * over libraries of `.txt`, `.yaml`/`.yml` and `.json` files. See docs/wildcards.md.
 */
export {
  BUILT_IN_WILDCARD_ROOT,
  DEFAULT_WILDCARD_LIBRARY_OPTIONS,
  WildcardLibrary,
  type WildcardLibraryOptions,
  type WildcardLoadProblem,
  type WildcardReloadEvent,
  type WildcardRoot,
} from './wildcard-library.js';
export type { WildcardCollection, WildcardFileInfo } from './wildcard-snapshot.js';
export type { WildcardFormat } from './wildcard-sources.js';
export {
  DEFAULT_EXPAND_OPTIONS,
  MAX_COMBINATIONS,
  MAX_CYCLICAL_INDEX,
  MAX_PREVIEW_COUNT,
  expandCombinations,
  expandPrompt,
  previewExpansion,
  type CombinationOptions,
  type ExpandOptions,
  type ExpansionLimits,
  type MissingPolicy,
  type PreviewOptions,
} from './expander.js';
export type {
  ExpansionChoice,
  ExpansionMode,
  ExpansionResult,
  ExpansionTrace,
  MissingChoice,
  VariableChoice,
  VariantChoice,
  WildcardChoice,
} from './expansion-trace.js';
export { MAX_NESTING, MAX_TEMPLATE_CHARS, parseTemplate } from './template-parser.js';
export type { ParsedTemplate } from './template-ast.js';
export {
  WildcardManager,
  type WildcardCategory,
  type WildcardCategorySummary,
  type WildcardManagerOptions,
} from './wildcard-manager.js';
export {
  WildcardError,
  type WildcardErrorCode,
  type WildcardErrorDetails,
} from './wildcard-error.js';
