import autocannon from 'autocannon';

export interface SubmitLoad {
  seconds: number;
  connections: number;
  requests: number;
  accepted: number;
  otherStatuses: number;
  errors: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/**
 * `POST /jobs` under concurrent load: `connections` clients each submitting one-record jobs as
 * fast as the API answers, for `seconds`.
 */
export const measureSubmitLoad = async (args: {
  apiUrl: string;
  apiKey: string;
  body: unknown;
  seconds: number;
  connections: number;
}): Promise<SubmitLoad> => {
  const result = await autocannon({
    url: `${args.apiUrl}/jobs`,
    method: 'POST',
    headers: { authorization: `Bearer ${args.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(args.body),
    connections: args.connections,
    duration: args.seconds,
  });
  return {
    seconds: args.seconds,
    connections: args.connections,
    requests: result.requests.total,
    accepted: result['2xx'],
    otherStatuses: result.non2xx,
    errors: result.errors + result.timeouts,
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  };
};

export interface Api {
  apiUrl: string;
  apiKey: string;
}

export const headersOf = ({ apiKey }: Api) => ({
  authorization: `Bearer ${apiKey}`,
  'content-type': 'application/json',
});

/** `POST /jobs`; the new job's id. */
export const submitJob = async (api: Api, body: unknown): Promise<string> => {
  const response = await fetch(`${api.apiUrl}/jobs`, {
    method: 'POST',
    headers: headersOf(api),
    body: JSON.stringify(body),
  });
  if (response.status !== 202)
    throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { jobId: string }).jobId;
};

export interface EndedJob {
  status: 'completed' | 'failed' | 'cancelled';
  error?: unknown;
}

/** Polls `GET /jobs/{id}` every `pollMs` until the job has ended (at most `timeoutMs`). */
export const waitForEnd = async (api: Api, jobId: string, pollMs: number, timeoutMs = 30 * 60_000) => {
  const started = performance.now();
  for (;;) {
    const job = (await (await fetch(`${api.apiUrl}/jobs/${jobId}`, { headers: headersOf(api) })).json()) as {
      status: string;
      error?: unknown;
    };
    if (['completed', 'failed', 'cancelled'].includes(job.status)) return job as EndedJob;
    if (performance.now() - started > timeoutMs)
      throw new Error(`Job ${jobId} still ${job.status} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
};

/** Submit → completed of a one-record job, polled every 20 ms: what a caller waits for one answer. */
export const measureSubmitToCompleted = async (
  api: Api & { body: unknown },
): Promise<{ seconds: number; status: string }> => {
  const started = performance.now();
  const jobId = await submitJob(api, api.body);
  const { status } = await waitForEnd(api, jobId, 20, 120_000);
  return { seconds: (performance.now() - started) / 1000, status };
};
