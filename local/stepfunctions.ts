import './polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ExecutionHistory,
  historyPage,
  InvalidTokenError,
  type ExecutionEnding,
  type HistoryEvent,
  type LibraryEvent,
} from './execution-history';

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
  /** How many times RedriveExecution restarted it, and when last. */
  redriveCount?: number;
  redriveDate?: number;
}

interface RegisteredMachine {
  arn: string;
  name: string;
  definition: Record<string, unknown>;
  taskHandlers: Record<string, TaskHandler>;
  /** Each Task state's resource ARN and time limit, for its history events. */
  taskResources: Record<string, { resource: string; timeoutSeconds?: number }>;
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
  TimeoutSeconds?: number;
  Next?: string;
  End?: boolean;
  Iterator?: { States?: object };
  ItemProcessor?: { States?: object };
  Branches?: { States?: object }[];
};

/** Every Task state, nested ones included, with its resource ARN. */
const taskStatesOf = (
  states: object,
  found: Record<string, { resource: string; timeoutSeconds?: number }> = {},
): Record<string, { resource: string; timeoutSeconds?: number }> => {
  for (const [name, raw] of Object.entries(states)) {
    const state = raw as AnyState;
    if (state.Type === 'Task' && typeof state.Resource === 'string')
      found[name] = { resource: state.Resource, timeoutSeconds: state.TimeoutSeconds };
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

/** The names of a machine's top-level states: the states an execution resumes from. */
const topLevelStatesOf = (machine: { definition: Record<string, unknown> }): Set<string> =>
  new Set(Object.keys(machine.definition.States as object));

/**
 * What AWS answers for an execution whose history this runtime did not record (a `.data/` from
 * before histories): AWS never has an execution without history, so its start (with its input)
 * and, if it ended, its end, from the execution record.
 */
const synthesizedHistory = (record: ExecutionRecord, roleArn: string): HistoryEvent[] => {
  const started: HistoryEvent = {
    id: 1,
    previousEventId: 0,
    timestamp: record.startDate,
    type: 'ExecutionStarted',
    executionStartedEventDetails: { input: record.input, inputDetails: { truncated: false }, roleArn },
  };
  const end = { id: 2, previousEventId: 1, timestamp: record.stopDate ?? record.startDate };
  switch (record.status) {
    case 'SUCCEEDED':
      return [
        started,
        {
          ...end,
          type: 'ExecutionSucceeded',
          executionSucceededEventDetails: {
            output: record.output ?? 'null',
            outputDetails: { truncated: false },
          },
        },
      ];
    case 'FAILED':
      return [
        started,
        {
          ...end,
          type: 'ExecutionFailed',
          executionFailedEventDetails: { error: record.error, cause: record.cause },
        },
      ];
    case 'ABORTED':
      return [started, { ...end, type: 'ExecutionAborted', executionAbortedEventDetails: {} }];
    case 'TIMED_OUT':
      return [started, { ...end, type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} }];
    default:
      return [started];
  }
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

/** Where a resumed or redriven execution goes on from: a state and the input it was given. */
interface ResumePoint {
  state: string;
  input: unknown;
}

/**
 * Step Functions for the local runtime: the StartExecution / DescribeExecution / StopExecution
 * / ListExecutions / GetExecutionHistory / RedriveExecution API on the shared AWS endpoint, with
 * each execution run by aws-local-stepfunctions over the same ASL the deployment uses. Task
 * resources are served by the handlers the runtime registers for their ARNs. Execution records
 * and each execution's history are kept on disk; an execution the runtime's last run left
 * running is resumed from its history (`resumeInterrupted`).
 */
export class LocalStepFunctions {
  private machines = new Map<string, RegisteredMachine>();
  private executions = new Map<string, ExecutionRecord>();
  private running = new Map<string, { abort: () => void; done: Promise<void> }>();
  private histories = new Map<string, ExecutionHistory>();
  private endedListeners: ((execution: ExecutionRecord) => void)[] = [];
  private interrupted: ExecutionRecord[] = [];
  private closing = false;
  private readonly historyDir: string;

  constructor(
    private readonly region: string,
    private readonly accountId: string,
    private readonly recordsFile: string,
  ) {
    this.historyDir = join(dirname(recordsFile), 'history');
    if (existsSync(recordsFile)) {
      for (const record of readJournal(readFileSync(recordsFile, 'utf8'))) {
        // Left running by the last run: resumed once the state machines are registered.
        if (record.status === 'RUNNING') this.interrupted.push(record);
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

  /**
   * Drives on every execution the runtime's last run left running, from the state it was in
   * (its history says which, and with what input): finished states are not run again. One that
   * cannot go on (its state machine is gone, or it has no history: a `.data/` from before
   * histories were kept) fails with a cause that says so, and the listeners hear of it.
   */
  resumeInterrupted(): { resumed: string[]; failed: string[] } {
    const resumed: string[] = [];
    const failed: string[] = [];
    for (const record of this.interrupted.splice(0)) {
      const machine = this.machines.get(record.stateMachineArn);
      const history = this.historyOf(record.executionArn);
      const cannot = !machine
        ? `its state machine ${record.stateMachineArn} is no longer defined`
        : !history.exists
          ? 'no history of it was recorded (a .data/ folder from before the runtime kept histories)'
          : undefined;
      const point = machine && !cannot ? this.resumePointOf(machine, history) : undefined;
      if (cannot || !point) {
        failed.push(record.executionArn);
        this.finish(record, {
          status: 'FAILED',
          error: interruptedError,
          cause: `The local runtime stopped while the execution ran and it cannot be resumed: ${cannot ?? 'its history does not say where it stopped'}; submit the job again.`,
        });
        continue;
      }
      // It had ended and the runtime stopped before the record said so: the record catches up.
      if ('ended' in point) {
        this.finish(record, point.ended);
        continue;
      }
      resumed.push(record.executionArn);
      this.run(record, machine!, point);
    }
    return { resumed, failed };
  }

  registerStateMachine(
    name: string,
    definition: Record<string, unknown>,
    handlersByResource: (resource: string) => TaskHandler | undefined,
  ): string {
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    const taskHandlers: Record<string, TaskHandler> = {};
    const taskResources = taskStatesOf(definition.States as object);
    for (const [stateName, { resource }] of Object.entries(taskResources)) {
      const handler = handlersByResource(resource);
      if (!handler)
        throw new Error(`State machine ${name}: no local handler for ${resource} (state "${stateName}")`);
      taskHandlers[stateName] = handler;
    }
    // Construct once to validate the definition now rather than at the first execution.
    new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    this.machines.set(arn, { arn, name, definition, taskHandlers, taskResources });
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
    // The history first: a record left RUNNING by a crash then always has a history to resume from.
    const history = this.historyOf(executionArn);
    if (!history.exists) history.executionStarted(input, this.roleArn, record.startDate * 1000);
    this.executions.set(executionArn, record);
    this.save(record);
    this.run(record, machine, { state: machine.definition.StartAt as string, input: JSON.parse(input) });
    return record;
  }

  /**
   * RedriveExecution: a failed, aborted or timed-out execution goes on from the state where it
   * stopped, with that state's input, under the same ARN; the states that succeeded are not run
   * again. As in AWS, it needs a history (this runtime keeps one) and an execution that ended.
   */
  redriveExecution(executionArn: string): { redriveDate: number } {
    const record = this.describeExecution(executionArn);
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED')
      throw new AwsError(
        'ExecutionNotRedrivable',
        `Execution is not redrivable: '${executionArn}' is ${record.status}`,
      );
    const machine = this.machines.get(record.stateMachineArn);
    const point = machine && this.historyOf(executionArn).unfinishedState(topLevelStatesOf(machine), true);
    if (!machine || !point)
      throw new AwsError(
        'ExecutionNotRedrivable',
        `Execution is not redrivable: the history of '${executionArn}' does not say where it stopped`,
      );
    const redriveDate = Date.now() / 1000;
    const redriveCount = (record.redriveCount ?? 0) + 1;
    Object.assign(record, { status: 'RUNNING', redriveCount, redriveDate });
    for (const ended of ['stopDate', 'output', 'error', 'cause'] as const) delete record[ended];
    this.save(record);
    this.historyOf(executionArn).add('ExecutionRedriven', {
      executionRedrivenEventDetails: { redriveCount },
    });
    this.run(record, machine, { state: point.name, input: point.input });
    return { redriveDate };
  }

  /** The events AWS would answer GetExecutionHistory with (see historyOrSynthesized for old executions). */
  executionHistory(executionArn: string): readonly HistoryEvent[] {
    const record = this.describeExecution(executionArn);
    const history = this.historyOf(executionArn);
    if (history.exists) return history.all;
    return synthesizedHistory(record, this.roleArn);
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
   * Stops every execution as a crash would: their records and histories stay RUNNING on disk,
   * and the next start resumes them (`resumeInterrupted`) rather than treating them as stopped.
   */
  async shutdown() {
    this.closing = true;
    for (const { abort } of this.running.values()) abort();
    await this.settle();
  }

  private get roleArn() {
    return `arn:aws:iam::${this.accountId}:role/local`;
  }

  private historyOf(executionArn: string): ExecutionHistory {
    let history = this.histories.get(executionArn);
    if (!history) {
      const file = join(
        this.historyDir,
        `${encodeURIComponent(executionArn.split(':execution:')[1] ?? executionArn)}.jsonl`,
      );
      history = new ExecutionHistory(file, this.region);
      this.histories.set(executionArn, history);
    }
    return history;
  }

  /**
   * Where an interrupted execution goes on: the state it had entered and not left, or (stopped
   * between two states) the state after the last one it left. An execution whose history shows
   * it ended (its end event, or its last state exited) is not run again: its ending is returned.
   */
  private resumePointOf(
    machine: RegisteredMachine,
    history: ExecutionHistory,
  ): ResumePoint | { ended: ExecutionEnding } | undefined {
    const recorded = history.recordedEnding();
    if (recorded) return { ended: recorded };
    const unfinished = history.unfinishedState(topLevelStatesOf(machine));
    if (unfinished) return { state: unfinished.name, input: unfinished.input };
    const states = machine.definition.States as Record<string, AnyState>;
    const lastExit = [...history.all].reverse().find((e) => {
      const name = (e.stateExitedEventDetails as { name?: string } | undefined)?.name;
      return name !== undefined && name in states;
    });
    if (!lastExit)
      return { state: machine.definition.StartAt as string, input: JSON.parse(this.inputOf(history)) };
    const { name, output } = lastExit.stateExitedEventDetails as { name: string; output: string };
    const state = states[name]!;
    if (state.Next) return { state: state.Next, input: JSON.parse(output) };
    // A Choice re-evaluates its rules on the same input (it has no effects).
    if (state.Type === 'Choice') return { state: name, input: JSON.parse(output) };
    // An end state exited: the execution had succeeded with its output.
    if (state.End || state.Type === 'Succeed') return { ended: { status: 'SUCCEEDED', output } };
    return undefined;
  }

  private inputOf(history: ExecutionHistory): string {
    const started = history.all.find((e) => e.type === 'ExecutionStarted');
    return (started?.executionStartedEventDetails as { input?: string } | undefined)?.input ?? '{}';
  }

  /** Runs the machine from a state with its input, recording the history as it goes. */
  private run(record: ExecutionRecord, machine: RegisteredMachine, from: ResumePoint) {
    const history = this.historyOf(record.executionArn);
    const taskHandlers: Record<string, TaskHandler> = {};
    for (const [stateName, handler] of Object.entries(machine.taskHandlers)) {
      const { resource, timeoutSeconds } = machine.taskResources[stateName]!;
      taskHandlers[stateName] = async (input) => {
        const attempt = history.taskScheduled(stateName, resource, input, timeoutSeconds);
        try {
          const output = await handler(input);
          attempt.succeeded(output);
          return output;
        } catch (error) {
          attempt.failed(error as Error);
          throw error;
        }
      };
    }
    const stateMachine = new StateMachine({ ...machine.definition, StartAt: from.state } as never, {
      validationOptions: { noValidate: true },
    });
    const execution = stateMachine.run(from.input as never, {
      overrides: { taskResourceLocalHandlers: taskHandlers as never },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          Input: JSON.parse(record.input),
          StartTime: new Date(record.startDate * 1000).toISOString(),
          RedriveCount: record.redriveCount ?? 0,
        },
        StateMachine: { Id: record.stateMachineArn, Name: machine.name },
      } as never,
    });
    // The library's event log, drained as it fills: each event is on disk before the next state runs far.
    const drained = (async () => {
      for await (const event of execution.eventLogs) {
        if (!this.closing) history.record(event as LibraryEvent);
      }
    })();
    const done = execution.result.then(
      async (output: unknown) => {
        await drained;
        this.finish(record, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) });
      },
      async (error: Error & { cause?: { name?: string; message?: string } }) => {
        if (error.name === 'ExecutionAbortedError') {
          if (!this.closing) history.executionAborted(record.error, record.cause);
          return this.finish(record, { status: 'ABORTED' });
        }
        if (error.name === 'ExecutionTimeoutError') {
          if (!this.closing) history.executionTimedOut();
          return this.finish(record, { status: 'TIMED_OUT' });
        }
        await drained;
        this.finish(record, {
          status: 'FAILED',
          error: error.cause?.name ?? error.name,
          cause: error.cause?.message ?? error.message,
        });
      },
    );
    this.running.set(record.executionArn, { abort: execution.abort, done });
  }

  private finish(record: ExecutionRecord, outcome: Partial<ExecutionRecord>) {
    if (this.closing) return;
    Object.assign(record, outcome, { stopDate: Date.now() / 1000 });
    this.running.delete(record.executionArn);
    this.save(record);
    const history = this.historyOf(record.executionArn);
    if (record.status === 'FAILED' && record.error === interruptedError && history.exists)
      history.executionFailed(record.error, record.cause ?? '');
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
      const view = (e: ExecutionRecord) => ({
        ...e,
        redriveCount: e.redriveCount ?? 0,
        redriveStatus: e.status === 'RUNNING' || e.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      });
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
        case 'GetExecutionHistory': {
          const { maxResults, nextToken, reverseOrder, includeExecutionData } = params as unknown as {
            maxResults?: number;
            nextToken?: string;
            reverseOrder?: boolean;
            includeExecutionData?: boolean;
          };
          if (
            maxResults !== undefined &&
            (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000)
          )
            throw new AwsError(
              'ValidationException',
              `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
            );
          const events = this.executionHistory(params.executionArn ?? '');
          try {
            return send(
              200,
              historyPage(events, { maxResults, nextToken, reverseOrder, includeExecutionData }),
            );
          } catch (error) {
            if (error instanceof InvalidTokenError) throw new AwsError('InvalidToken', error.message);
            throw error;
          }
        }
        case 'RedriveExecution':
          return send(200, this.redriveExecution(params.executionArn ?? ''));
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
