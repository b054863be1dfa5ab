/**
 * A small typed client for Longtail's HTTP API: what the CLI, the model push script and the
 * end-to-end tests call. One method per route, the API's own shapes; a client generated from an
 * OpenAPI document can replace it without its callers changing.
 */
import type { JobView } from '../lib/domain/job-view';
import type { modelCatalogView, modelVersionView } from '../lib/domain/model-view';
import type { FileUpload } from '../lib/ports/model-registry';

export type { FileUpload };

export type Job = JobView;
export type ModelSummary = ReturnType<typeof modelCatalogView>;
export type ModelVersionView = ReturnType<typeof modelVersionView>;

export interface SubmitJobRequest {
  model: string;
  input: { s3Uri: string; s3DataType?: 'S3Object' | 'S3Prefix' | 'ManifestFile' } | { records: unknown[] };
  options?: Record<string, unknown>;
  webhookUrl?: string;
}

export interface SubmittedJob {
  jobId: string;
  status: string;
  statusUrl: string;
  outputUri: string;
  webhookSecret?: string;
}

export interface ModelFile {
  name: string;
  sha256: string;
  size: number;
}

export interface RegisterVersionRequest {
  files: ModelFile[];
  version?: string;
  manifest?: unknown;
  aliases?: string[];
  batchAxis?: number | null;
}

export interface FinishVersionRequest {
  multipart?: { name: string; uploadId: string; parts: { partNumber: number; etag: string }[] }[];
}

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

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The API answers this request the same when it is sent twice, so a lost answer may be asked again. */
  repeatable?: boolean;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gateways and an overloaded API answer these when a later attempt may succeed. */
const transientStatuses = new Set([429, 502, 503, 504]);

export class LongtailClient {
  readonly apiUrl: string;
  private readonly apiKey: string;
  private readonly attempts: number;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.attempts = options.attempts ?? 3;
    this.fetch = options.fetch ?? fetch;
  }

  submitJob(request: SubmitJobRequest, idempotencyKey?: string) {
    return this.call<SubmittedJob>('POST', '/jobs', {
      body: request,
      headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
      // Only with a key does a second POST answer with the same job instead of making another.
      repeatable: idempotencyKey !== undefined,
    });
  }

  getJob(jobId: string) {
    return this.call<Job>('GET', `/jobs/${encodeURIComponent(jobId)}`);
  }

  listJobs(query: { status?: string; limit?: number; cursor?: string } = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.size ? `?${params}` : '';
    return this.call<{ jobs: Job[]; nextCursor: string | null }>('GET', `/jobs${search}`);
  }

  cancelJob(jobId: string) {
    return this.call<Job>('POST', `/jobs/${encodeURIComponent(jobId)}/cancel`, { repeatable: true });
  }

  resumeJob(jobId: string) {
    return this.call<Job>('POST', `/jobs/${encodeURIComponent(jobId)}/resume`);
  }

  retryFailed(jobId: string) {
    return this.call<SubmittedJob & { parentJobId: string }>(
      'POST',
      `/jobs/${encodeURIComponent(jobId)}/retry-failed`,
      { repeatable: true },
    );
  }

  listModels() {
    return this.call<{ models: ModelSummary[] }>('GET', '/models');
  }

  getModel(name: string) {
    return this.call<{
      name: string;
      shared: boolean;
      versions: ModelVersionView[];
      aliases: Record<string, string>;
    }>('GET', `/models/${encodeURIComponent(name)}`);
  }

  getModelVersion(name: string, version: string) {
    return this.call<ModelVersionView>(
      'GET',
      `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
    );
  }

  registerVersion(name: string, request: RegisterVersionRequest) {
    return this.call<{ version: string; status: string; uploads?: FileUpload[] }>(
      'POST',
      `/models/${encodeURIComponent(name)}/versions`,
      // The same files under the same version are answered as the first time.
      { body: request, repeatable: request.version !== undefined },
    );
  }

  finishVersion(name: string, version: string, request: FinishVersionRequest) {
    return this.call<ModelVersionView>(
      'POST',
      `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/finish`,
      { body: request },
    );
  }

  setAlias(name: string, alias: string, version: string) {
    return this.call<{ name: string; alias: string; version: string }>(
      'PUT',
      `/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`,
      { body: { version }, repeatable: true },
    );
  }

  private async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const attempts = method === 'GET' || options.repeatable ? this.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(`${this.apiUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
        });
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
      if (transientStatuses.has(response.status) && attempt < attempts) {
        await pause(300 * attempt);
        continue;
      }
      const text = await response.text();
      const json = parseJson(text);
      if (response.ok) return json as T;
      throw errorOf(response.status, json, text);
    }
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The API's `{ error: { code, message, details } }`, or API Gateway's bare `{ message }` for keys. */
const errorOf = (status: number, json: unknown, text: string) => {
  const body = (json ?? {}) as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
    message?: string;
  };
  if (body.error?.code)
    return new ApiError(status, body.error.code, body.error.message ?? '', body.error.details);
  if (status === 401) return new ApiError(status, 'UNAUTHORIZED', 'The API asked for a key and got none.');
  if (status === 403) return new ApiError(status, 'FORBIDDEN', 'The API key was not accepted.');
  return new ApiError(status, `HTTP_${status}`, body.message ?? text.slice(0, 200));
};
