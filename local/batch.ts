import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** The SubmitJob fields the state machine sends (PascalCase, as Step Functions passes them). */
export interface SubmitJobRequest {
  JobName: string;
  JobQueue: string;
  JobDefinition: string;
  Parameters?: Record<string, string>;
  ArrayProperties?: { Size: number };
  ContainerOverrides?: { Environment?: { Name: string; Value: string }[] };
}

export interface RetryRule {
  OnExitCode?: string;
  OnReason?: string;
  OnStatusReason?: string;
  Action: 'RETRY' | 'EXIT';
}

export interface JobDefinitionSpec {
  command: string[];
  environment: Record<string, string>;
  attempts: number;
  evaluateOnExit: RetryRule[];
}

export interface LocalBatchOptions {
  /** How to start the worker: the container's entrypoint, here a local process. */
  entrypoint: string[];
  cwd: string;
  /** Environment every container gets (AWS endpoint, credentials, region). */
  baseEnvironment: Record<string, string>;
  jobDefinition: JobDefinitionSpec;
  logDir: string;
  /** Containers running at once, like a compute environment's capacity. */
  concurrency: number;
  /**
   * The host's vCPUs, shared among the containers: each is started with its share of those
   * wanted at that moment (running and waiting, up to `concurrency`) as
   * LONGTAIL_INTRA_OP_THREADS, unless the job definition sets it. Unset: no share is given.
   */
  cpus?: number;
  onLog?: (jobName: string, line: string) => void;
}

/** What the local Batch remembers of a submitted job, for ListJobs and TerminateJob. */
interface TrackedJob {
  jobId: string;
  jobName: string;
  jobQueue: string;
  status: 'RUNNABLE' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  createdAt: number;
  stoppedAt?: number;
  statusReason?: string;
  terminatedBecause?: string;
  children: Set<ChildProcess>;
  arraySize?: number;
  /** Each attempt's process times and exit, by array index ('job' for a single job): DescribeJobs. */
  attemptLog: Map<number | 'job', AttemptRecord[]>;
  /** The attempt running now, by array index: DescribeJobs shows it RUNNING since then, as Batch does. */
  runningSince: Map<number | 'job', { startedAt: number; logFile: string }>;
}

interface AttemptRecord {
  startedAt: number;
  stoppedAt: number;
  exitCode: number | null;
  reason: string;
  statusReason: string;
  logFile: string;
}

interface AttemptOutcome {
  exitCode: number | null;
  reason: string;
  statusReason: string;
}

/** Batch patterns match the whole string and may end with `*`. */
const patternMatches = (pattern: string | undefined, value: string) => {
  if (pattern === undefined) return true;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
};

/** Batch's rule: the first EvaluateOnExit entry that matches decides; no match means retry. */
export const shouldRetry = (rules: RetryRule[], outcome: AttemptOutcome): boolean => {
  const rule = rules.find(
    (r) =>
      patternMatches(r.OnExitCode, String(outcome.exitCode ?? '')) &&
      patternMatches(r.OnReason, outcome.reason) &&
      patternMatches(r.OnStatusReason, outcome.statusReason),
  );
  return rule ? rule.Action === 'RETRY' : true;
};

const substituteRefs = (command: string[], parameters: Record<string, string>) =>
  command.map((token) => (token.startsWith('Ref::') ? (parameters[token.slice(5)] ?? token) : token));

/**
 * AWS Batch for the local runtime: `batch:submitJob.sync` runs the worker as child processes
 * with the environment Batch gives a container (AWS_BATCH_JOB_ID, _ATTEMPT, _ARRAY_INDEX), the
 * job definition's command and retry strategy, and answers as the `.sync` integration does.
 */
export class LocalBatch {
  private slots: number;
  private waiting: (() => void)[] = [];
  private children = new Set<ChildProcess>();
  private jobs = new Map<string, TrackedJob>();

  private stopped = false;
  /** Jobs submitted without `.sync`, which nobody else waits for. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly options: LocalBatchOptions) {
    this.slots = options.concurrency;
  }

  private async acquire() {
    if (this.stopped) return;
    if (this.slots > 0) {
      this.slots--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /**
   * A container's share of the host's vCPUs: those divided among the containers wanted now (its
   * own, the others running, those waiting for a slot), so that an array job's children, started
   * together, split the cores rather than each spread threads over all of them, and a job alone
   * has every core. Fixed when the container starts, as a Batch container's vCPUs are.
   */
  private cpuShare(environment: Record<string, string>): Record<string, string> {
    const { cpus, concurrency } = this.options;
    if (!cpus || environment.LONGTAIL_INTRA_OP_THREADS) return {};
    const wanted = Math.min(concurrency, concurrency - this.slots + this.waiting.length);
    return { LONGTAIL_INTRA_OP_THREADS: String(Math.max(1, Math.floor(cpus / Math.max(1, wanted)))) };
  }

  private release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.slots++;
  }

  private runAttempt(tracked: TrackedJob, env: Record<string, string>, command: string[], logFile: string) {
    const jobName = tracked.jobName;
    return new Promise<AttemptOutcome>((resolve) => {
      const log = createWriteStream(logFile);
      // The log is a convenience: a data folder removed under a stopping runtime must not crash it.
      log.on('error', () => undefined);
      const child = spawn(
        this.options.entrypoint[0] as string,
        [...this.options.entrypoint.slice(1), ...command],
        {
          cwd: this.options.cwd,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      this.children.add(child);
      tracked.children.add(child);
      tracked.status = 'RUNNING';
      const forward = (chunk: Buffer) => {
        log.write(chunk);
        if (this.options.onLog)
          for (const line of chunk.toString().split('\n')) if (line) this.options.onLog(jobName, line);
      };
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
      child.on('error', (error) => {
        log.end();
        resolve({
          exitCode: null,
          reason: `CannotStartContainerError: ${error.message}`,
          statusReason: 'Task failed to start',
        });
      });
      child.on('close', (code, signal) => {
        this.children.delete(child);
        tracked.children.delete(child);
        log.end();
        resolve({
          exitCode: code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : null),
          reason: signal ? `Killed by ${signal}` : '',
          statusReason: 'Essential container in task exited',
        });
      });
    });
  }

  /** One job (or array child) through its attempts, as Batch's retry strategy would. */
  private async runJob(tracked: TrackedJob, request: SubmitJobRequest, arrayIndex?: number) {
    const jobId = tracked.jobId;
    const definition = this.options.jobDefinition;
    const overrides = Object.fromEntries(
      (request.ContainerOverrides?.Environment ?? []).map((e) => [e.Name, e.Value]),
    );
    const command = substituteRefs(definition.command, request.Parameters ?? {});
    const attempts: { Container: { ExitCode: number | null; Reason: string }; StatusReason: string }[] = [];
    const logDir = join(this.options.logDir, request.JobName);
    mkdirSync(logDir, { recursive: true });
    for (let attempt = 1; attempt <= definition.attempts; attempt++) {
      await this.acquire();
      let outcome: AttemptOutcome;
      try {
        // A terminated job starts nothing more, as Batch cancels what has not started; nor does
        // a stopped runtime, whose queued jobs would otherwise start as running ones exit.
        if (tracked.terminatedBecause || this.stopped) return { status: 'FAILED' as const, attempts };
        const env = {
          ...this.options.baseEnvironment,
          ...this.cpuShare(definition.environment),
          ...definition.environment,
          ...overrides,
          AWS_BATCH_JOB_ID: arrayIndex === undefined ? jobId : `${jobId}:${arrayIndex}`,
          AWS_BATCH_JOB_ATTEMPT: String(attempt),
          AWS_BATCH_JQ_NAME: request.JobQueue,
          AWS_BATCH_CE_NAME: 'local',
          MANAGED_BY_AWS: 'STARTED_BY_STEP_FUNCTIONS',
          ...(arrayIndex === undefined ? {} : { AWS_BATCH_JOB_ARRAY_INDEX: String(arrayIndex) }),
        };
        const logFile = join(logDir, `${arrayIndex ?? 'job'}-attempt-${attempt}.log`);
        const startedAt = Date.now();
        tracked.runningSince.set(arrayIndex ?? 'job', { startedAt, logFile });
        outcome = await this.runAttempt(tracked, env, command, logFile).finally(() =>
          tracked.runningSince.delete(arrayIndex ?? 'job'),
        );
        const log = tracked.attemptLog.get(arrayIndex ?? 'job') ?? [];
        log.push({ startedAt, stoppedAt: Date.now(), ...outcome, logFile });
        tracked.attemptLog.set(arrayIndex ?? 'job', log);
      } finally {
        this.release();
      }
      attempts.push({
        Container: { ExitCode: outcome.exitCode, Reason: outcome.reason },
        StatusReason: outcome.statusReason,
      });
      if (outcome.exitCode === 0) return { status: 'SUCCEEDED' as const, attempts };
      if (tracked.terminatedBecause || !shouldRetry(definition.evaluateOnExit, outcome)) break;
    }
    return { status: 'FAILED' as const, attempts };
  }

  /** TerminateJob: stops the job's containers (SIGTERM, as Batch does) and starts no more of them. */
  terminate(jobId: string, reason: string): boolean {
    const tracked = this.jobs.get(jobId.split(':')[0] ?? jobId);
    if (!tracked) return false;
    if (tracked.status === 'SUCCEEDED' || tracked.status === 'FAILED') return true;
    tracked.terminatedBecause = `Terminated: ${reason}`;
    for (const child of tracked.children) child.kill('SIGTERM');
    return true;
  }

  /** The Batch REST API the SDK calls (`POST /v1/listjobs`, `/v1/submitjob`, `/v1/terminatejob`), for what Longtail uses. */
  readonly serve = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const params = JSON.parse(body.toString('utf8') || '{}') as {
      jobQueue?: string;
      jobStatus?: string;
      filters?: { name: string; values: string[] }[];
      jobId?: string;
      jobs?: string[];
      jobQueues?: string[];
      reason?: string;
      jobName?: string;
      jobDefinition?: string;
      parameters?: Record<string, string>;
      containerOverrides?: { environment?: { name: string; value: string }[] };
    };
    const operation = (req.url ?? '').split('?')[0];
    if (operation === '/v1/listjobs') {
      const queueName = (arnOrName: string) => arnOrName.split('/').pop();
      const names = params.filters?.find((f) => f.name === 'JOB_NAME')?.values ?? [];
      const jobSummaryList = [...this.jobs.values()]
        .filter((job) => !params.jobQueue || queueName(job.jobQueue) === queueName(params.jobQueue))
        .filter((job) =>
          names.length > 0
            ? names.some((n) =>
                n.endsWith('*') ? job.jobName.startsWith(n.slice(0, -1)) : job.jobName === n,
              )
            : job.status === (params.jobStatus ?? 'RUNNING'),
        )
        .map((job) => ({
          jobId: job.jobId,
          jobArn: `arn:aws:batch:local:000000000000:job/${job.jobId}`,
          jobName: job.jobName,
          status: job.status,
          createdAt: job.createdAt,
          stoppedAt: job.stoppedAt,
          statusReason: job.statusReason,
        }));
      return send(200, { jobSummaryList });
    }
    if (operation === '/v1/describejobs')
      return send(200, { jobs: (params.jobs ?? []).flatMap(this.describe) });
    if (operation === '/v1/describejobqueues' || operation === '/v1/describecomputeenvironments') {
      return send(200, this.describeCapacity(operation, params.jobQueues));
    }
    if (operation === '/v1/submitjob') {
      if (!params.jobName || !params.jobQueue || !params.jobDefinition) {
        return send(400, {
          __type: 'ClientException',
          message: 'jobName, jobQueue and jobDefinition are required',
        });
      }
      const { jobId } = this.submitJob({
        JobName: params.jobName,
        JobQueue: params.jobQueue,
        JobDefinition: params.jobDefinition,
        Parameters: params.parameters,
        ContainerOverrides: {
          Environment: (params.containerOverrides?.environment ?? []).map((e) => ({
            Name: e.name,
            Value: e.value,
          })),
        },
      });
      return send(200, {
        jobId,
        jobName: params.jobName,
        jobArn: `arn:aws:batch:local:000000000000:job/${jobId}`,
      });
    }
    if (operation === '/v1/terminatejob') {
      if (!params.jobId || !this.terminate(params.jobId, params.reason ?? 'no reason given')) {
        return send(400, { __type: 'ClientException', message: `Job ${params.jobId} not found` });
      }
      return send(200, {});
    }
    return send(400, {
      __type: 'ClientException',
      message: `The local Batch does not implement ${operation}`,
    });
  };

  /** DescribeJobs for a job or an array child (`<id>:<index>`): its attempts with their process times. */
  private readonly describe = (id: string) => {
    const [parentId = id, index] = id.split(':');
    const tracked = this.jobs.get(parentId);
    if (!tracked) return [];
    const key = index === undefined ? (tracked.arraySize === undefined ? 'job' : undefined) : Number(index);
    const attempts = key === undefined ? [] : (tracked.attemptLog.get(key) ?? []);
    const last = attempts.at(-1);
    const current = key === undefined ? undefined : tracked.runningSince.get(key);
    const childStatus = current
      ? 'RUNNING'
      : !last
        ? 'RUNNABLE'
        : last.exitCode === 0
          ? 'SUCCEEDED'
          : tracked.status;
    return [
      {
        jobId: id,
        jobArn: `arn:aws:batch:local:000000000000:job/${id}`,
        jobName: tracked.jobName,
        jobQueue: tracked.jobQueue,
        status: key === undefined || key === 'job' ? tracked.status : childStatus,
        createdAt: tracked.createdAt,
        stoppedAt: tracked.stoppedAt,
        statusReason: tracked.statusReason,
        ...(current ? { startedAt: current.startedAt, container: { logStreamName: current.logFile } } : {}),
        attempts: attempts.map((a) => ({
          startedAt: a.startedAt,
          stoppedAt: a.stoppedAt,
          statusReason: a.statusReason,
          container: { exitCode: a.exitCode ?? undefined, reason: a.reason, logStreamName: a.logFile },
        })),
        ...(tracked.arraySize === undefined
          ? {}
          : {
              arrayProperties: index === undefined ? { size: tracked.arraySize } : { index: Number(index) },
            }),
      },
    ];
  };

  /** DescribeJobQueues / DescribeComputeEnvironments: one queue on one environment, its slots as vCPUs. */
  private describeCapacity(operation: string, jobQueues: string[] = []) {
    const environment = 'arn:aws:batch:local:000000000000:compute-environment/local';
    if (operation === '/v1/describecomputeenvironments') {
      const busy = this.options.concurrency - this.slots;
      return {
        computeEnvironments: [
          {
            computeEnvironmentName: 'local',
            computeEnvironmentArn: environment,
            type: 'MANAGED',
            state: 'ENABLED',
            status: 'VALID',
            statusReason: 'Worker processes on this machine',
            computeResources: {
              type: 'EC2',
              minvCpus: 0,
              maxvCpus: this.options.concurrency,
              desiredvCpus: busy,
            },
          },
        ],
      };
    }
    const names = jobQueues.length
      ? jobQueues
      : [...new Set([...this.jobs.values()].map((job) => job.jobQueue))];
    return {
      jobQueues: names.map((arnOrName) => ({
        jobQueueName: arnOrName.split('/').pop(),
        jobQueueArn: arnOrName.includes(':')
          ? arnOrName
          : `arn:aws:batch:local:000000000000:job-queue/${arnOrName}`,
        state: 'ENABLED',
        status: 'VALID',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: environment }],
      })),
    };
  }

  /** Stops every running container, as terminating the compute environment would, and waits for them to exit. */
  async stop() {
    this.stopped = true;
    for (const waiter of this.waiting.splice(0)) waiter();
    const exits = [...this.children].map((child) => new Promise((resolve) => child.once('close', resolve)));
    for (const child of this.children) child.kill('SIGTERM');
    await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 5000))]);
    await Promise.allSettled([...this.running]);
  }

  /** Starts a job (or array job) and tracks it; `done` settles when every child has ended. */
  private submitJob(request: SubmitJobRequest) {
    const jobId = randomUUID();
    const tracked: TrackedJob = {
      jobId,
      jobName: request.JobName,
      jobQueue: request.JobQueue,
      status: 'RUNNABLE',
      createdAt: Date.now(),
      children: new Set(),
      arraySize: request.ArrayProperties?.Size,
      attemptLog: new Map(),
      runningSince: new Map(),
    };
    this.jobs.set(jobId, tracked);
    const size = request.ArrayProperties?.Size;
    const done = (async () => {
      const children =
        size === undefined
          ? [await this.runJob(tracked, request)]
          : await Promise.all(
              Array.from({ length: size }, (_, index) => this.runJob(tracked, request, index)),
            );
      const failed = children.filter((c) => c.status === 'FAILED').length;
      tracked.status = failed === 0 ? 'SUCCEEDED' : 'FAILED';
      tracked.stoppedAt = Date.now();
      tracked.statusReason =
        tracked.terminatedBecause ?? (failed === 0 ? undefined : 'Essential container in task exited');
      return { children, failed };
    })();
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return { jobId, tracked, done };
  }

  /** The `arn:aws:states:::batch:submitJob.sync` task: resolves with the job, or fails like `.sync` does. */
  readonly submitJobSync = async (input: unknown): Promise<unknown> => {
    const request = input as SubmitJobRequest;
    const size = request.ArrayProperties?.Size;
    const { jobId, tracked, done } = this.submitJob(request);
    const { children, failed } = await done;
    const job = {
      JobId: jobId,
      JobName: request.JobName,
      JobArn: `arn:aws:batch:local:000000000000:job/${jobId}`,
      JobQueue: request.JobQueue,
      JobDefinition: request.JobDefinition,
      Status: failed === 0 ? 'SUCCEEDED' : 'FAILED',
      StatusReason:
        failed === 0
          ? undefined
          : (tracked.terminatedBecause ??
            (size === undefined
              ? 'Essential container in task exited'
              : `${failed} of ${size} child jobs failed`)),
      Attempts: size === undefined ? children[0]?.attempts : [],
      ...(size === undefined
        ? {}
        : { ArrayProperties: { Size: size, StatusSummary: { SUCCEEDED: size - failed, FAILED: failed } } }),
    };
    if (failed > 0) {
      const error = new Error(JSON.stringify(job));
      error.name = 'States.TaskFailed';
      throw error;
    }
    return job;
  };
}
