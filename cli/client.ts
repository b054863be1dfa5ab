/**
 * The typed client for Longtail's HTTP API: what the CLI, the model push script, the demo and the
 * end-to-end tests call, and what users import (`longtail/client`). It sits on openapi-fetch with
 * the types openapi-typescript generated from the API's OpenAPI document (./api.generated.ts), so
 * a route's path, parameters, body and answer are checked against the document at compile time.
 * One method per route, plus `api` for the untyped-free rest; it adds bearer auth, retries of
 * what is safe to repeat, and errors that carry the API's code.
 */
import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import type { components, operations, paths } from './api.generated';

export type { components, operations, paths };

type Schemas = components['schemas'];
type JsonBodyOf<Operation> = Operation extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

export type Job = Schemas['Job'];
export type SubmittedJob = Schemas['JobAccepted'];
export type ModelSummary = Schemas['ModelSummary'];
export type ModelDetail = Schemas['Model'];
export type ModelVersionView = Schemas['ModelVersion'];
export type RegisteredVersion = Schemas['RegisteredModelVersion'];
export type ModelAlias = Schemas['ModelAlias'];
export type FileUpload = Schemas['FileUpload'];
export type OipModelMetadata = Schemas['OipModelMetadata'];
export type SubmitJobRequest = JsonBodyOf<operations['submitJob']>;
export type RegisterVersionRequest = JsonBodyOf<operations['registerModelVersion']>;
export type FinishVersionRequest = JsonBodyOf<operations['finishModelVersion']>;
export type ListJobsQuery = NonNullable<operations['listJobs']['parameters']['query']>;

/** An answer of the API that is not a success: its status, code and message, as it sent them. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** No answer at all: a wrong URL, the API down, the network gone. */
export class ApiUnreachable extends Error {
  override name = 'ApiUnreachable';
}

export interface ClientOptions {
  apiUrl: string;
  apiKey: string;
  /** Attempts for requests that are safe to repeat (reads, and writes the API answers the same twice). */
  attempts?: number;
  fetch?: typeof fetch;
}

/** What openapi-fetch answers for one request. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gateways and an overloaded API answer these when a later attempt may succeed. */
const transientStatuses = new Set([429, 502, 503, 504]);

export class LongtailClient {
  readonly apiUrl: string;
  /** The openapi-fetch client itself, typed by the document, for anything the methods do not cover. */
  readonly api: Client<paths>;
  private readonly attempts: number;

  constructor(options: ClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.attempts = options.attempts ?? 3;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.api = createClient<paths>({
      baseUrl: this.apiUrl,
      headers: { authorization: `Bearer ${options.apiKey}` },
      // Looked up at each call, so that a fetch replaced later (tests, proxies) is the one used.
      fetch: (request) => (options.fetch ? fetchImpl(request) : globalThis.fetch(request)),
    });
  }

  submitJob(request: SubmitJobRequest, idempotencyKey?: string) {
    return this.send(
      // Only with a key does a second POST answer with the same job instead of making another.
      idempotencyKey !== undefined,
      () =>
        this.api.POST('/jobs', {
          body: request,
          params: { header: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} },
        }),
    );
  }

  getJob(jobId: string) {
    return this.send(true, () => this.api.GET('/jobs/{jobId}', { params: { path: { jobId } } }));
  }

  listJobs(query: Partial<ListJobsQuery> = {}) {
    return this.send(true, () => this.api.GET('/jobs', { params: { query } }));
  }

  cancelJob(jobId: string) {
    return this.send(true, () => this.api.POST('/jobs/{jobId}/cancel', { params: { path: { jobId } } }));
  }

  resumeJob(jobId: string) {
    // Not repeated: a second try after a resume that did go through answers 409 (no longer failed).
    return this.send(false, () => this.api.POST('/jobs/{jobId}/resume', { params: { path: { jobId } } }));
  }

  retryFailed(jobId: string) {
    return this.send(true, () =>
      this.api.POST('/jobs/{jobId}/retry-failed', { params: { path: { jobId } } }),
    );
  }

  listModels() {
    return this.send(true, () => this.api.GET('/models'));
  }

  getModel(name: string) {
    return this.send(true, () => this.api.GET('/models/{name}', { params: { path: { name } } }));
  }

  getModelVersion(name: string, version: string) {
    return this.send(true, () =>
      this.api.GET('/models/{name}/versions/{version}', { params: { path: { name, version } } }),
    );
  }

  registerVersion(name: string, request: RegisterVersionRequest) {
    return this.send(
      // The same files under the same version are answered as the first time.
      request.version !== undefined,
      () => this.api.POST('/models/{name}/versions', { params: { path: { name } }, body: request }),
    );
  }

  finishVersion(name: string, version: string, request: FinishVersionRequest) {
    return this.send(false, () =>
      this.api.POST('/models/{name}/versions/{version}/finish', {
        params: { path: { name, version } },
        body: request,
      }),
    );
  }

  setAlias(name: string, alias: string, version: string) {
    return this.send(true, () =>
      this.api.PUT('/models/{name}/aliases/{alias}', {
        params: { path: { name, alias } },
        body: { version },
      }),
    );
  }

  deleteModelVersion(name: string, version: string) {
    return this.send(false, () =>
      this.api.DELETE('/models/{name}/versions/{version}', { params: { path: { name, version } } }),
    );
  }

  /** The Open Inference Protocol's metadata of the version `latest` points at (or of `version`). */
  modelMetadata(name: string, version?: string) {
    return this.send(true, () =>
      version === undefined
        ? this.api.GET('/v2/models/{name}', { params: { path: { name } } })
        : this.api.GET('/v2/models/{name}/versions/{version}', { params: { path: { name, version } } }),
    );
  }

  /**
   * Sends one request (again, up to `attempts`, when it is safe to repeat and the network or a
   * gateway failed), answering its data or throwing the API's error.
   */
  private async send<T>(repeatable: boolean, request: () => Promise<FetchResult<T>>): Promise<T> {
    const attempts = repeatable ? this.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      let result: FetchResult<T>;
      try {
        result = await request();
      } catch (error) {
        if (attempt < attempts) {
          await pause(300 * attempt);
          continue;
        }
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new ApiUnreachable(
          `Cannot reach the Longtail API at ${this.apiUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}).`,
        );
      }
      const { status } = result.response;
      if (transientStatuses.has(status) && attempt < attempts) {
        await pause(300 * attempt);
        continue;
      }
      if (result.response.ok) return result.data as T;
      throw errorOf(status, result.error);
    }
  }
}

/** The API's `{ error: { code, message, details } }`, or API Gateway's bare `{ message }` for keys. */
const errorOf = (status: number, body: unknown) => {
  const json = (typeof body === 'object' && body !== null ? body : {}) as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
    message?: string;
  };
  if (json.error?.code)
    return new ApiError(status, json.error.code, json.error.message ?? '', json.error.details);
  if (status === 401) return new ApiError(status, 'UNAUTHORIZED', 'The API asked for a key and got none.');
  if (status === 403) return new ApiError(status, 'FORBIDDEN', 'The API key was not accepted.');
  const text = typeof body === 'string' ? body : (json.message ?? '');
  return new ApiError(status, `HTTP_${status}`, text.slice(0, 200));
};
