/**
 * `GET /openapi.json`: an OpenAPI 3.1 document listing the simulated routes and the request
 * models, close to the one FastAPI generates for Forge.
 */
import type { FieldSpec, FieldType, ModelSpec } from '../http/pydantic-validation.js';
import {
  EXTRAS_BATCH_MODEL,
  EXTRAS_SINGLE_MODEL,
  IMG2IMG_MODEL,
  INTERNAL_PROGRESS_MODEL,
  INTERROGATE_MODEL,
  PNG_INFO_MODEL,
  TXT2IMG_MODEL,
} from '../http/request-models.js';
import type { Route } from '../http/router.js';
import { FORGE_VERSION } from '../catalog/index.js';
import { ok, route } from './route-kit.js';

const BODY_MODELS: Readonly<Record<string, ModelSpec>> = {
  '/sdapi/v1/txt2img': TXT2IMG_MODEL,
  '/sdapi/v1/img2img': IMG2IMG_MODEL,
  '/sdapi/v1/extra-single-image': EXTRAS_SINGLE_MODEL,
  '/sdapi/v1/extra-batch-images': EXTRAS_BATCH_MODEL,
  '/sdapi/v1/png-info': PNG_INFO_MODEL,
  '/sdapi/v1/interrogate': INTERROGATE_MODEL,
  '/internal/progress': INTERNAL_PROGRESS_MODEL,
};

/** The `/openapi.json` route, describing `routes` (the simulator's own `/_sim/*` left out). */
export function openApiRoute(routes: () => readonly Route[]): Route {
  return route('GET', '/openapi.json', () => ok(openApiDocument(routes())), { auth: false });
}

function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  for (const entry of routes) {
    if (entry.path.startsWith('/_sim/') || entry.path === '/openapi.json') continue;
    const model = BODY_MODELS[entry.path];
    if (model) addSchemas(model, schemas);
    paths[entry.path] = {
      ...paths[entry.path],
      [entry.method.toLowerCase()]: operation(entry, model),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'FastAPI',
      version: '0.1.0',
      description: `Stable Diffusion WebUI Forge ${FORGE_VERSION}`,
    },
    paths,
    components: { schemas },
  };
}

/** Adds a model's schema and those of the models nested in its fields. */
function addSchemas(model: ModelSpec, schemas: Record<string, unknown>): void {
  schemas[model.title] = modelSchema(model);
  for (const field of model.fields) {
    const nested = field.type.kind === 'list' ? field.type.items : field.type;
    if (nested?.kind === 'model') addSchemas(nested.model, schemas);
  }
}

function operation(entry: Route, model: ModelSpec | undefined): Record<string, unknown> {
  const name = entry.path.split('/').filter(Boolean).join('_');
  const result: Record<string, unknown> = {
    summary: entry.path.split('/').at(-1),
    operationId: `${name}_${entry.method.toLowerCase()}`,
    responses: {
      '200': {
        description: 'Successful Response',
        content: { 'application/json': { schema: {} } },
      },
      '422': { description: 'Validation Error' },
    },
  };
  if (entry.auth) result['security'] = [{ HTTPBasic: [] }];
  if (model) {
    result['requestBody'] = {
      required: true,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${model.title}` } } },
    };
  }
  return result;
}

function modelSchema(model: ModelSpec): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const field of model.fields) {
    properties[field.name] = fieldSchema(field);
    if (field.default === undefined) required.push(field.name);
  }
  return {
    title: model.title,
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
  };
}

function fieldSchema(field: FieldSpec): Record<string, unknown> {
  const base = typeSchema(field.type);
  const typed = field.nullable ? { anyOf: [base, { type: 'null' }] } : base;
  const title = field.name.replaceAll('_', ' ').replace(/\b\w/g, (letter) => letter.toUpperCase());
  return field.default === undefined
    ? { ...typed, title }
    : { ...typed, title, default: field.default };
}

function typeSchema(type: FieldType): Record<string, unknown> {
  switch (type.kind) {
    case 'int':
      return { type: 'integer' };
    case 'float':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'str':
      return { type: 'string' };
    case 'dict':
      return { type: 'object' };
    case 'any':
      return {};
    case 'list':
      return type.items
        ? { type: 'array', items: typeSchema(type.items) }
        : { type: 'array', items: {} };
    case 'literal':
      return { enum: [...type.values] };
    case 'model':
      return { $ref: `#/components/schemas/${type.model.title}` };
  }
}
