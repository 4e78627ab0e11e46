/**
 * How Forge writes and reads the PNG `parameters` text, the "infotext" (forge-api.md §8):
 * `processing.create_infotext` on the way out, `infotext_utils.parse_generation_parameters`
 * (plus the LoRA extension's paste hook) on the way into `/sdapi/v1/png-info`.
 */
export { createInfotext, quoteInfotextValue, type InfotextFields } from './create-infotext.js';
export {
  parseGenerationParameters,
  type InfotextParamValue,
  type InfotextParseContext,
} from './parse-generation-parameters.js';
