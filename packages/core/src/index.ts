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

export {
  ImagePipeline,
  ImageProcessingError,
  DEFAULT_IMAGE_PIPELINE_OPTIONS,
  type ImagePipelineMode,
  type ImagePipelineOptions,
  type ImagePipelineStats,
  type ImageProcessingErrorDetails,
  type ProcessResultOptions,
  type ProcessedGeneration,
  type ProcessedImage,
  type ProcessedUpscale,
} from './images/image-pipeline.js';
export { JOB_ID_KEYWORD } from './images/image-worker.js';
export {
  ImageKeyLayout,
  assertImageKey,
  DEFAULT_IMAGE_KEY_TEMPLATES,
  type ImageStore,
  type ImageKeyParts,
  type ImageKeyTemplates,
  type ImageVariant,
  type ParsedImageKey,
  type RemovedImage,
  type RetentionPolicy,
  type StoredImageInfo,
} from './images/image-store.js';
export { LocalImageStore, type LocalImageStoreOptions } from './images/local-image-store.js';

export {
  createGenerationRequestSchema,
  GenerationRequestSchema,
  parseGenerationRequest,
  inferKind,
  hiresOutputSize,
  DEFAULT_REQUEST_LIMITS,
  REQUEST_DEFAULTS,
  JOB_KINDS,
  OWNER_SOURCES,
  type RequestLimits,
  type GenerationRequestInput,
  type GenerationRequest,
  type ResolvedGenerationRequest,
  type HiresOptions,
  type UpscaleOptions,
  type ImageSource,
  type JobImageReference,
} from './jobs/generation-request.js';
export {
  RequestError,
  type RequestIssue,
  type RequestErrorCode,
  type RequestErrorOptions,
} from './jobs/request-error.js';
export {
  checkAgainstCapabilities,
  type BackendFit,
  type CapabilityCheck,
} from './jobs/capability-check.js';
export {
  buildForgeCall,
  type ForgeCall,
  type ForgeCallImages,
  type ForgeEndpoint,
} from './jobs/forge-payload.js';
export { newJobId, isJobId, jobIdTime, JOB_ID_PREFIX } from './jobs/job-id.js';
export {
  FINISHED_STATUSES,
  type JobError,
  type JobImage,
  type JobKind,
  type JobOwner,
  type JobProgress,
  type JobRecord,
  type JobResult,
  type JobStatus,
  type OwnerSource,
} from './jobs/job.js';
export type {
  InsertOutcome,
  JobListQuery,
  JobPage,
  JobStore,
  NewJob,
  RecoveryOutcome,
} from './jobs/job-store.js';
export { SqliteJobStore, type SqliteJobStoreOptions } from './jobs/sqlite-job-store.js';
export { InMemoryJobStore } from './jobs/in-memory-job-store.js';

export { Engine } from './jobs/engine.js';
export {
  createEngine,
  DEFAULT_ENGINE_CONFIG,
  type EngineConfig,
  type EngineHooks,
} from './jobs/create-engine.js';
export {
  DEFAULT_ENGINE_TUNING,
  type EngineOptions,
  type EngineTuning,
  type PromptExpander,
} from './jobs/engine-options.js';
export type {
  BackendCapabilities,
  GenerationService,
  MergedCapabilities,
  QueueEstimate,
  SubmitOutcome,
} from './jobs/generation-service.js';
export {
  EngineEvents,
  DEFAULT_ENGINE_EVENTS_OPTIONS,
  type EngineEvent,
  type EngineEventMap,
  type EngineEventType,
  type EngineEventOf,
  type EngineEventListener,
  type EngineEventsOptions,
} from './jobs/engine-events.js';
export {
  BackendPool,
  type BackendConfig,
  type BackendView,
  type BackendStatus,
  type BackendPoolOptions,
  type BackendRunReport,
} from './jobs/backend-pool.js';
export {
  FairQueue,
  DEFAULT_FAIR_QUEUE_OPTIONS,
  type QueueEntry,
  type PickTarget,
  type FairQueueOptions,
} from './jobs/fair-queue.js';
export * from './wildcards/index.js';
