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

const ended = ['completed', 'failed', 'cancelled'];

/** Submit → completed of a one-record job, polled every 20 ms: what a caller waits for one answer. */
export const measureSubmitToCompleted = async (args: {
  apiUrl: string;
  apiKey: string;
  body: unknown;
}): Promise<{ seconds: number; status: string }> => {
  const headers = { authorization: `Bearer ${args.apiKey}`, 'content-type': 'application/json' };
  const started = performance.now();
  const response = await fetch(`${args.apiUrl}/jobs`, {
    method: 'POST',
    headers,
    body: JSON.stringify(args.body),
  });
  if (response.status !== 202)
    throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
  const { jobId } = (await response.json()) as { jobId: string };
  for (;;) {
    const job = (await (await fetch(`${args.apiUrl}/jobs/${jobId}`, { headers })).json()) as {
      status: string;
    };
    if (ended.includes(job.status)) {
      return { seconds: (performance.now() - started) / 1000, status: job.status };
    }
    if (performance.now() - started > 120_000)
      throw new Error(`Job ${jobId} still ${job.status} after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
