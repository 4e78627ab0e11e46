/**
 * The public surface of `@forge-tool/core`. Everything not exported here is internal; the
 * package's `exports` map makes deep imports impossible.
 */

export {
  ConfigError,
  ERROR_CODES,
  ForgeToolError,
  isForgeToolError,
  type ErrorCode,
  type ForgeToolErrorOptions,
} from './errors.js';
export { silentLogger, type Logger } from './logger.js';

export { ForgeClient, HIRES_SAME_MODULES, type ProgressOptions } from './forge/forge-client.js';
export {
  DEFAULT_FORGE_CLIENT_OPTIONS,
  type ForgeAuth,
  type ForgeCallOptions,
  type ForgeClientOptions,
} from './forge/forge-client-options.js';
export {
  ForgeError,
  type ForgeErrorCode,
  type ForgeErrorDetails,
  type ForgeRequestContext,
} from './forge/forge-error.js';
export {
  ExtraSingleImageRequestSchema,
  ForgeGenerationInfoSchema,
  GenerationResultSchema,
  Img2ImgRequestSchema,
  Txt2ImgRequestSchema,
  type ExtraSingleImageInput,
  type ExtraSingleImageRequest,
  type ExtraSingleImageResult,
  type ForgeGenerationInfo,
  type GenerationResult,
  type ImageInput,
  type Img2ImgInput,
  type Img2ImgRequest,
  type PngInfoResponse,
  type ProgressResponse,
  type Txt2ImgRequest,
} from './forge/generation-schemas.js';
export type {
  ForgeOptions,
  LatentUpscaleMode,
  Lora,
  MemoryReport,
  PromptStyle,
  Sampler,
  Scheduler,
  ScriptList,
  SdModel,
  SdModule,
  Upscaler,
} from './forge/listing-schemas.js';
export {
  CapabilityCache,
  DEFAULT_CAPABILITY_CACHE_OPTIONS,
  probeCapabilities,
  type CapabilityCacheOptions,
  type CapabilityRefreshOptions,
  type CapabilitySource,
} from './forge/capability-probe.js';
export {
  ForgeCapabilities,
  type CapabilitySettings,
  type CapabilitySnapshot,
  type ResolvedSampler,
  type UpscalerLookupOptions,
} from './forge/forge-capabilities.js';
export {
  InfotextError,
  formatInfotext,
  infotextFloat,
  parseInfotext,
  type InfotextFloat,
  type InfotextParameters,
  type InfotextValue,
  type ParsedInfotext,
} from './forge/infotext.js';

export {
  PngError,
  readPngParameters,
  readPngSize,
  readPngTextChunks,
  writePngText,
  type PngSize,
  type PngTextChunk,
  type PngTextKind,
} from './images/png-text.js';
