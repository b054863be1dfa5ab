import './polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A local implementation of one Task state's resource (a Lambda, Batch `.sync`, SNS publish). */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

interface RegisteredMachine {
  arn: string;
  name: string;
  definition: Record<string, unknown>;
  taskHandlers: Record<string, TaskHandler>;
}

const interruptedError = 'LocalRuntimeStopped';

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type AnyState = {
  Type?: string;
  Resource?: string;
  Iterator?: { States?: object };
  ItemProcessor?: { States?: object };
  Branches?: { States?: object }[];
};

/** Every Task state, nested ones included, with its resource ARN. */
const taskStatesOf = (states: object, found: Record<string, string> = {}): Record<string, string> => {
  for (const [name, raw] of Object.entries(states)) {
    const state = raw as AnyState;
    if (state.Type === 'Task' && typeof state.Resource === 'string') found[name] = state.Resource;
    for (const nested of [
      state.Iterator?.States,
      state.ItemProcessor?.States,
      ...(state.Branches ?? []).map((b) => b.States),
    ]) {
      if (nested) taskStatesOf(nested, found);
    }
  }
  return found;
};

/**
 * The executions file: one JSON line per change of an execution, the last line of each winning.
 * (A file from before the journal holds one JSON array.)
 */
const readJournal = (text: string): ExecutionRecord[] => {
  if (text.trimStart().startsWith('[')) return JSON.parse(text) as ExecutionRecord[];
  const latest = new Map<string, ExecutionRecord>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as ExecutionRecord;
      latest.set(record.executionArn, record);
    } catch {
      // a line cut short by a crash mid-append
    }
  }
  return [...latest.values()];
};

/**
 * Step Functions for the local runtime: the StartExecution / DescribeExecution / StopExecution
 * / ListExecutions API on the shared AWS endpoint, with each execution run by
 * aws-local-stepfunctions over the same ASL the deployment uses. Task resources are served by
 * the handlers the runtime registers for their ARNs. Execution records are kept on disk.
 */
export class LocalStepFunctions {
  private machines = new Map<string, RegisteredMachine>();
  private executions = new Map<string, ExecutionRecord>();
  private running = new Map<string, { abort: () => void; done: Promise<void> }>();
  private endedListeners: ((execution: ExecutionRecord) => void)[] = [];
  private interrupted: ExecutionRecord[] = [];
  private closing = false;

  constructor(
    private readonly region: string,
    private readonly accountId: string,
    private readonly recordsFile: string,
  ) {
    if (existsSync(recordsFile)) {
      for (const record of readJournal(readFileSync(recordsFile, 'utf8'))) {
        // An execution that was running when the runtime stopped did not survive it.
        if (record.status === 'RUNNING') {
          Object.assign(record, {
            status: 'FAILED',
            stopDate: Date.now() / 1000,
            error: interruptedError,
            cause: 'The local runtime stopped while the execution ran; submit the job again.',
          });
          this.interrupted.push(record);
        }
        this.executions.set(record.executionArn, record);
      }
    }
    // Compacted to one line per execution, as it stands now.
    mkdirSync(dirname(recordsFile), { recursive: true });
    writeFileSync(recordsFile, [...this.executions.values()].map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** Runs for each execution that ends other than by succeeding, as an EventBridge rule would. */
  onExecutionEnded(listener: (execution: ExecutionRecord) => void) {
    this.endedListeners.push(listener);
  }

  /** Tells the listeners about executions the runtime's last run left unfinished (now FAILED). */
  reportInterrupted() {
    for (const record of this.interrupted.splice(0))
      for (const listener of this.endedListeners) listener(record);
  }

  registerStateMachine(
    name: string,
    definition: Record<string, unknown>,
    handlersByResource: (resource: string) => TaskHandler | undefined,
  ): string {
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    const taskHandlers: Record<string, TaskHandler> = {};
    for (const [stateName, resource] of Object.entries(taskStatesOf(definition.States as object))) {
      const handler = handlersByResource(resource);
      if (!handler)
        throw new Error(`State machine ${name}: no local handler for ${resource} (state "${stateName}")`);
      taskHandlers[stateName] = handler;
    }
    // Construct once to validate the definition now rather than at the first execution.
    new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    this.machines.set(arn, { arn, name, definition, taskHandlers });
    return arn;
  }

  startExecution(stateMachineArn: string, name: string, input: string): ExecutionRecord {
    const machine = this.machines.get(stateMachineArn);
    if (!machine)
      throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // As in AWS: the same name and input while running is the same execution; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: Date.now() / 1000,
      input,
    };
    this.executions.set(executionArn, record);
    this.save(record);

    const stateMachine = new StateMachine(machine.definition as never, {
      validationOptions: { noValidate: true },
    });
    const execution = stateMachine.run(JSON.parse(input), {
      overrides: { taskResourceLocalHandlers: machine.taskHandlers as never },
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          Input: JSON.parse(input),
          StartTime: new Date().toISOString(),
        },
        StateMachine: { Id: stateMachineArn, Name: machine.name },
      },
    });
    const done = execution.result.then(
      (output: unknown) =>
        this.finish(record, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (error: Error & { cause?: { name?: string; message?: string } }) => {
        if (error.name === 'ExecutionAbortedError') return this.finish(record, { status: 'ABORTED' });
        if (error.name === 'ExecutionTimeoutError') return this.finish(record, { status: 'TIMED_OUT' });
        this.finish(record, {
          status: 'FAILED',
          error: error.cause?.name ?? error.name,
          cause: error.cause?.message ?? error.message,
        });
      },
    );
    this.running.set(executionArn, { abort: execution.abort, done });
    return record;
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (!record) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  stopExecution(executionArn: string, error?: string, cause?: string) {
    const record = this.describeExecution(executionArn);
    if (record.status === 'RUNNING') {
      Object.assign(record, { error, cause });
      this.running.get(executionArn)?.abort();
    }
    return { stopDate: Date.now() / 1000 };
  }

  listExecutions(stateMachineArn: string, statusFilter?: ExecutionStatus) {
    return [...this.executions.values()]
      .filter((e) => e.stateMachineArn === stateMachineArn && (!statusFilter || e.status === statusFilter))
      .sort((a, b) => b.startDate - a.startDate);
  }

  /** Waits for running executions to end (used when stopping the runtime after aborting them). */
  async settle() {
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /**
   * Stops every execution as a crash would: their records stay RUNNING on disk, and the next
   * start reports them as failed (`reportInterrupted`) rather than as stopped by a user.
   */
  async shutdown() {
    this.closing = true;
    for (const { abort } of this.running.values()) abort();
    await this.settle();
  }

  private finish(record: ExecutionRecord, outcome: Partial<ExecutionRecord>) {
    if (this.closing) return;
    Object.assign(record, outcome, { stopDate: Date.now() / 1000 });
    this.running.delete(record.executionArn);
    this.save(record);
    if (record.status !== 'SUCCEEDED') for (const listener of this.endedListeners) listener(record);
  }

  /** Appends the record as it is now: rewriting every execution at each change grew with their number. */
  private save(record: ExecutionRecord) {
    appendFileSync(this.recordsFile, `${JSON.stringify(record)}\n`);
  }

  /** The JSON-protocol API (`X-Amz-Target: AWSStepFunctions.<Operation>`) served on the AWS endpoint. */
  readonly serve = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(payload));
    };
    try {
      const params = JSON.parse(body.toString('utf8') || '{}') as Record<string, string | undefined>;
      const view = (e: ExecutionRecord) => ({ ...e, status: e.status });
      switch (operation) {
        case 'StartExecution': {
          const record = this.startExecution(
            params.stateMachineArn ?? '',
            params.name ?? crypto.randomUUID(),
            params.input ?? '{}',
          );
          return send(200, { executionArn: record.executionArn, startDate: record.startDate });
        }
        case 'DescribeExecution':
          return send(200, view(this.describeExecution(params.executionArn ?? '')));
        case 'StopExecution':
          return send(200, this.stopExecution(params.executionArn ?? '', params.error, params.cause));
        case 'ListExecutions':
          return send(200, {
            executions: this.listExecutions(
              params.stateMachineArn ?? '',
              params.statusFilter as ExecutionStatus,
            ).map(({ executionArn, stateMachineArn, name, status, startDate, stopDate }) => ({
              executionArn,
              stateMachineArn,
              name,
              status,
              startDate,
              stopDate,
            })),
          });
        case 'ListStateMachines':
          return send(200, {
            stateMachines: [...this.machines.values()].map((m) => ({
              stateMachineArn: m.arn,
              name: m.name,
              type: 'STANDARD',
              creationDate: 0,
            })),
          });
        case 'DescribeStateMachine': {
          const machine = this.machines.get(params.stateMachineArn ?? '');
          if (!machine)
            throw new AwsError(
              'StateMachineDoesNotExist',
              `State Machine Does Not Exist: '${params.stateMachineArn}'`,
            );
          return send(200, {
            stateMachineArn: machine.arn,
            name: machine.name,
            status: 'ACTIVE',
            definition: JSON.stringify(machine.definition),
            type: 'STANDARD',
            creationDate: 0,
            roleArn: `arn:aws:iam::${this.accountId}:role/local`,
          });
        }
        default:
          throw new AwsError(
            'UnknownOperationException',
            `The local Step Functions does not implement ${operation}`,
          );
      }
    } catch (error) {
      if (error instanceof AwsError) return send(400, { __type: error.type, message: error.message });
      return send(500, { __type: 'InternalFailure', message: (error as Error).message });
    }
  };
}
