// Unit tests of the error mapping on Forge's exact error bodies (forge-api.md §6). The same paths
// run end to end against the simulator in forge-client-errors.test.ts.
import { describe, expect, it } from 'vitest';
import { ForgeToolError } from '../../src/errors.js';
import {
  ForgeError,
  MAX_ERROR_BODY_CHARS,
  errorCodeOf,
  forgeHttpError,
  forgeTransportError,
  formatPath,
  formatValidationDetail,
} from '../../src/forge/forge-error.js';

const CONTEXT = { backend: 'gpu-1', method: 'POST', endpoint: '/sdapi/v1/txt2img' };
const FAILURE = { timedOut: false, aborted: false, timeoutMs: 1_000, origin: 'http://h:1' };

describe('formatValidationDetail', () => {
  it('names the field, pydantic message and input', () => {
    const detail = [
      {
        type: 'int_parsing',
        loc: ['body', 'steps'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'abc',
        url: 'https://errors.pydantic.dev/2.8/v/int_parsing',
      },
    ];
    expect(formatValidationDetail(detail)).toBe(
      'steps: Input should be a valid integer, unable to parse string as an integer (got "abc")',
    );
  });

  it('joins several fields and formats nested locations', () => {
    const detail = [
      {
        type: 'int_from_float',
        loc: ['body', 'width'],
        msg: 'Input should be a valid integer, got a number with a fractional part',
        input: 20.5,
      },
      {
        type: 'string_type',
        loc: ['body', 'styles', 1],
        msg: 'Input should be a valid string',
        input: 3,
      },
    ];
    expect(formatValidationDetail(detail)).toBe(
      'width: Input should be a valid integer, got a number with a fractional part (got 20.5); ' +
        'styles[1]: Input should be a valid string (got 3)',
    );
  });

  it('describes invalid JSON by position', () => {
    const detail = [{ type: 'json_invalid', loc: ['body', 12], msg: 'JSON decode error', ctx: {} }];
    expect(formatValidationDetail(detail)).toBe('body (JSON) at position 12: JSON decode error');
  });

  it('shortens long inputs', () => {
    const detail = [{ type: 'x', loc: ['body', 'prompt'], msg: 'bad', input: 'y'.repeat(500) }];
    expect(formatValidationDetail(detail).length).toBeLessThan(100);
  });
});

describe('forgeHttpError', () => {
  it('maps 401 to UNAUTHORIZED with Forge detail', () => {
    const error = forgeHttpError(CONTEXT, 401, '{"detail":"Incorrect username or password"}');
    expect(error.code).toBe('FT_ERR_FORGE_UNAUTHORIZED');
    expect(error.message).toContain('Incorrect username or password');
    expect(error.forgeReason).toBe('Incorrect username or password');
  });

  it('maps the 422 string detail (script not found)', () => {
    const error = forgeHttpError(CONTEXT, 422, '{"detail":"Script \'Lora\' not found"}');
    expect(error.code).toBe('FT_ERR_FORGE_VALIDATION');
    expect(error.message).toBe(
      'Forge backend "gpu-1" rejected POST /sdapi/v1/txt2img: Script \'Lora\' not found',
    );
  });

  it('maps a Forge exception body to SERVER naming class and message', () => {
    const body =
      '{"error":"RuntimeError","detail":"","body":"","message":"model \'nope\' not found"}';
    const error = forgeHttpError({ ...CONTEXT, endpoint: '/sdapi/v1/options' }, 500, body);
    expect(error.code).toBe('FT_ERR_FORGE_SERVER');
    expect(error.message).toContain("RuntimeError: model 'nope' not found");
    expect(error.status).toBe(500);
  });

  it('maps OutOfMemoryError and CUDA messages to OUT_OF_MEMORY', () => {
    const byClass =
      '{"error":"OutOfMemoryError","detail":"","body":"","message":"Allocation on device"}';
    const byText =
      '{"error":"RuntimeError","detail":"","body":"","message":"CUDA out of memory. Tried"}';
    expect(forgeHttpError(CONTEXT, 500, byClass).code).toBe('FT_ERR_FORGE_OUT_OF_MEMORY');
    expect(forgeHttpError(CONTEXT, 500, byText).code).toBe('FT_ERR_FORGE_OUT_OF_MEMORY');
  });

  it('maps any other status to SERVER with the start of the body', () => {
    const error = forgeHttpError(CONTEXT, 502, '<html>Bad Gateway</html>');
    expect(error.code).toBe('FT_ERR_FORGE_SERVER');
    expect(error.message).toBe(
      'Forge backend "gpu-1" answered 502 for POST /sdapi/v1/txt2img: <html>Bad Gateway</html>',
    );
  });

  it('keeps at most MAX_ERROR_BODY_CHARS of the body', () => {
    const error = forgeHttpError(CONTEXT, 500, 'x'.repeat(MAX_ERROR_BODY_CHARS * 3));
    expect(error.body).toHaveLength(MAX_ERROR_BODY_CHARS);
    expect(error.message.length).toBeLessThan(400);
  });

  it('serialises the request context in toJSON', () => {
    const error = forgeHttpError(CONTEXT, 404, '{"detail":"Not Found"}');
    expect(error).toBeInstanceOf(ForgeToolError);
    expect(error.toJSON()).toMatchObject({
      name: 'ForgeError',
      code: 'FT_ERR_FORGE_NOT_FOUND',
      backend: 'gpu-1',
      method: 'POST',
      endpoint: '/sdapi/v1/txt2img',
      status: 404,
      forgeReason: 'Not Found',
    });
  });
});

describe('forgeTransportError', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
    code: 'ECONNREFUSED',
  });

  it('finds codes on AggregateError members and causes', () => {
    expect(errorCodeOf(new AggregateError([refused], 'all failed'))).toBe('ECONNREFUSED');
    expect(errorCodeOf(new Error('wrapped', { cause: refused }))).toBe('ECONNREFUSED');
    expect(errorCodeOf('text')).toBeUndefined();
  });

  it('lets the caller abort win over the error code', () => {
    const error = forgeTransportError(CONTEXT, refused, { ...FAILURE, aborted: true });
    expect(error.code).toBe('FT_ERR_FORGE_ABORTED');
    expect(error.cause).toBe(refused);
  });

  it('maps undici header and body timeouts to TIMEOUT', () => {
    const headers = Object.assign(new Error('Headers Timeout Error'), {
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    const error = forgeTransportError(CONTEXT, headers, FAILURE);
    expect(error.code).toBe('FT_ERR_FORGE_TIMEOUT');
    expect(error.message).toContain('within 1000 ms');
  });

  it('maps an unknown failure to CONNECTION_LOST, keeping the original text', () => {
    const error = forgeTransportError(CONTEXT, new Error('socket hang up'), FAILURE);
    expect(error).toBeInstanceOf(ForgeError);
    expect(error.code).toBe('FT_ERR_FORGE_CONNECTION_LOST');
    expect(error.message).toContain('socket hang up');
  });
});

describe('formatPath', () => {
  it('writes indexes in brackets and keys with dots', () => {
    expect(formatPath([0, 'title'])).toBe('[0].title');
    expect(formatPath(['state', 'job_no'])).toBe('state.job_no');
    expect(formatPath([])).toBe('(the whole body)');
  });
});
