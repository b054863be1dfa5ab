import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * One event of an execution's history as GetExecutionHistory returns it in AWS: an id, the id of
 * the event before it, a time in epoch seconds, a type, and one `<type>EventDetails` member.
 */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** What aws-local-stepfunctions' event log hands out (its types are not exported). */
export interface LibraryEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  index?: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string; type: string };
}

/** How an execution ended, as its record keeps it. */
export interface ExecutionEnding {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  output?: string;
  error?: string;
  cause?: string;
}

const endEventTypes = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);

const json = (value: unknown) => JSON.stringify(value ?? null);
const notTruncated = { truncated: false };
const seconds = (ms: number) => ms / 1000;

/** Task resources are reported by service: Lambda ARNs as Lambda events, others as Task events. */
const serviceOf = (resource: string) => {
  const integration = /^arn:aws:states:::([^:]+):(.+)$/.exec(resource);
  return integration ? { resourceType: integration[1], resource: integration[2] } : undefined;
};

/** The type names AWS gives states' events (`TaskStateEntered`, `ChoiceStateExited`, …). */
const stateEventType = (stateType: string, what: 'Entered' | 'Exited') => `${stateType}State${what}`;

/** The history events that carry input or output, and the members GetExecutionHistory drops without them. */
const dataMembers = ['input', 'inputDetails', 'output', 'outputDetails', 'parameters'];

export const withoutExecutionData = (event: HistoryEvent): HistoryEvent =>
  Object.fromEntries(
    Object.entries(event).map(([key, value]) => {
      if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) return [key, value];
      return [
        key,
        Object.fromEntries(Object.entries(value).filter(([member]) => !dataMembers.includes(member))),
      ];
    }),
  ) as HistoryEvent;

interface TaskAttempt {
  resource: string;
  parameters: unknown;
  timeoutSeconds?: number;
  scheduledAt: number;
  endedAt?: number;
  output?: unknown;
  error?: { name: string; message: string };
  /** Scheduled and started events are out once the state's entered event is. */
  announced: boolean;
}

/**
 * The history of one execution, appended to a JSON-lines file as it happens so that it survives
 * the runtime: the state machine library's event log (states entered and exited, Map
 * iterations, the execution's end) and the Task attempts the runtime's handlers see (scheduled,
 * started, succeeded, failed), turned into the events AWS records for them.
 */
export class ExecutionHistory {
  private events: HistoryEvent[] = [];
  private attempts = new Map<string, TaskAttempt[]>();
  private entered = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly region: string,
  ) {
    if (existsSync(file)) this.events = readHistoryFile(file);
    else mkdirSync(dirname(file), { recursive: true });
  }

  get all(): readonly HistoryEvent[] {
    return this.events;
  }

  get exists() {
    return this.events.length > 0;
  }

  /** Appends one event with the next id, on disk first. */
  add(type: string, details: Record<string, unknown> = {}, at = Date.now()): HistoryEvent {
    const last = this.events.at(-1);
    const event: HistoryEvent = {
      id: (last?.id ?? 0) + 1,
      previousEventId: last?.id ?? 0,
      timestamp: seconds(at),
      type,
      ...details,
    };
    appendFileSync(this.file, `${JSON.stringify(event)}\n`);
    this.events.push(event);
    return event;
  }

  executionStarted(input: string, roleArn: string, at?: number) {
    this.add(
      'ExecutionStarted',
      { executionStartedEventDetails: { input, inputDetails: notTruncated, roleArn } },
      at,
    );
  }

  /** A Task handler was called: the attempt is scheduled and started (announced once its state has been entered). */
  taskScheduled(stateName: string, resource: string, parameters: unknown, timeoutSeconds?: number) {
    const attempt: TaskAttempt = {
      resource,
      parameters,
      timeoutSeconds,
      scheduledAt: Date.now(),
      announced: false,
    };
    const list = this.attempts.get(stateName) ?? [];
    list.push(attempt);
    this.attempts.set(stateName, list);
    if (this.entered.has(stateName)) this.announce(attempt);
    return {
      succeeded: (output: unknown) => Object.assign(attempt, { endedAt: Date.now(), output }),
      failed: (error: Error) =>
        Object.assign(attempt, {
          endedAt: Date.now(),
          error: { name: error.name, message: error.message },
        }),
    };
  }

  /** One event from the state machine library's log, as the AWS events it stands for. */
  record(event: LibraryEvent) {
    const state = event.state;
    switch (event.type) {
      case 'ExecutionStarted':
        return; // recorded by the runtime with the execution's own input and role
      case 'StateEntered':
        if (!state) return;
        this.add(
          stateEventType(state.type, 'Entered'),
          {
            stateEnteredEventDetails: {
              name: state.name,
              input: json(state.input),
              inputDetails: notTruncated,
            },
          },
          event.timestamp,
        );
        if (state.type === 'Task') {
          this.entered.add(state.name);
          for (const attempt of this.attempts.get(state.name) ?? []) this.announce(attempt);
        }
        return;
      case 'StateRetried':
      case 'StateCaught':
      case 'StateFailed':
      case 'StateExited': {
        if (!state) return;
        if (state.type === 'Task') this.endAttempts(state.name);
        if (event.type === 'StateFailed' && (state.type === 'Map' || state.type === 'Parallel'))
          this.add(`${state.type}StateFailed`, {}, event.timestamp);
        if (event.type !== 'StateExited') return;
        if (state.type === 'Task') this.entered.delete(state.name);
        this.add(
          stateEventType(state.type, 'Exited'),
          {
            stateExitedEventDetails: {
              name: state.name,
              output: json(state.output),
              outputDetails: notTruncated,
            },
          },
          event.timestamp,
        );
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const what = event.type.slice('MapIteration'.length);
        this.add(
          event.type,
          {
            [`mapIteration${what}EventDetails`]: { name: event.parentState?.name, index: event.index },
          },
          event.timestamp,
        );
        return;
      }
      case 'ParallelBranchStarted':
        return; // AWS records the Parallel state's start, not each branch's
      case 'ExecutionSucceeded':
        this.add(
          'ExecutionSucceeded',
          { executionSucceededEventDetails: { output: json(event.output), outputDetails: notTruncated } },
          event.timestamp,
        );
        return;
      case 'ExecutionFailed':
        this.executionFailed(
          String(event.Error ?? 'States.Runtime'),
          causeText(event.Cause),
          event.timestamp,
        );
        return;
      default:
        return;
    }
  }

  executionFailed(error: string, cause: string, at?: number) {
    this.add('ExecutionFailed', { executionFailedEventDetails: { error, cause } }, at);
  }

  executionAborted(error?: string, cause?: string) {
    this.add('ExecutionAborted', {
      executionAbortedEventDetails: { ...(error ? { error } : {}), ...(cause ? { cause } : {}) },
    });
  }

  executionTimedOut() {
    this.add('ExecutionTimedOut', {
      executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'The execution ran out of time.' },
    });
  }

  /**
   * The top-level state the execution was in when it stopped, and that state's input: the last
   * state entered and not exited. Undefined when the history has none, or (unless `afterEnd`,
   * as a redrive asks) when the execution ended.
   */
  unfinishedState(
    topLevelStates: ReadonlySet<string>,
    afterEnd = false,
  ): { name: string; input: unknown } | undefined {
    let current: { name: string; input: string } | undefined;
    let ended = false;
    for (const event of this.events) {
      if (endEventTypes.has(event.type)) ended = true;
      if (event.type === 'ExecutionRedriven') ended = false;
      const entered = event.stateEnteredEventDetails as { name: string; input: string } | undefined;
      if (entered && topLevelStates.has(entered.name)) current = entered;
      const exited = event.stateExitedEventDetails as { name: string } | undefined;
      if (exited && exited.name === current?.name) current = undefined;
    }
    if (ended && !afterEnd) return undefined;
    return current && { name: current.name, input: JSON.parse(current.input) as unknown };
  }

  /** How the execution ended, when its history records an end after its last redrive. */
  recordedEnding(): ExecutionEnding | undefined {
    for (const event of [...this.events].reverse()) {
      if (event.type === 'ExecutionRedriven') return undefined;
      switch (event.type) {
        case 'ExecutionSucceeded':
          return {
            status: 'SUCCEEDED',
            output: (event.executionSucceededEventDetails as { output: string }).output,
          };
        case 'ExecutionFailed': {
          const { error, cause } = event.executionFailedEventDetails as { error: string; cause: string };
          return { status: 'FAILED', error, cause };
        }
        case 'ExecutionAborted':
          return { status: 'ABORTED' };
        case 'ExecutionTimedOut':
          return { status: 'TIMED_OUT' };
      }
    }
    return undefined;
  }

  /** Announces Task attempts whose handler returned or threw, in the order they ran. */
  private endAttempts(stateName: string) {
    const list = this.attempts.get(stateName) ?? [];
    for (const attempt of list.filter((a) => a.endedAt !== undefined)) {
      this.announce(attempt);
      const service = serviceOf(attempt.resource);
      if (attempt.error) {
        const failure = { error: attempt.error.name, cause: attempt.error.message };
        if (service)
          this.add('TaskFailed', { taskFailedEventDetails: { ...service, ...failure } }, attempt.endedAt);
        else this.add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: failure }, attempt.endedAt);
      } else {
        const output = { output: json(attempt.output), outputDetails: notTruncated };
        if (service)
          this.add(
            'TaskSucceeded',
            { taskSucceededEventDetails: { ...service, ...output } },
            attempt.endedAt,
          );
        else
          this.add(
            'LambdaFunctionSucceeded',
            { lambdaFunctionSucceededEventDetails: output },
            attempt.endedAt,
          );
      }
    }
    this.attempts.set(
      stateName,
      list.filter((a) => a.endedAt === undefined),
    );
  }

  private announce(attempt: TaskAttempt) {
    if (attempt.announced) return;
    attempt.announced = true;
    const service = serviceOf(attempt.resource);
    const timeout = attempt.timeoutSeconds === undefined ? {} : { timeoutInSeconds: attempt.timeoutSeconds };
    if (service) {
      this.add(
        'TaskScheduled',
        {
          taskScheduledEventDetails: {
            ...service,
            region: this.region,
            parameters: json(attempt.parameters),
            ...timeout,
          },
        },
        attempt.scheduledAt,
      );
      this.add('TaskStarted', { taskStartedEventDetails: service }, attempt.scheduledAt);
    } else {
      this.add(
        'LambdaFunctionScheduled',
        {
          lambdaFunctionScheduledEventDetails: {
            resource: attempt.resource,
            input: json(attempt.parameters),
            inputDetails: notTruncated,
            ...timeout,
          },
        },
        attempt.scheduledAt,
      );
      this.add('LambdaFunctionStarted', {}, attempt.scheduledAt);
    }
  }
}

const causeText = (cause: unknown) => (typeof cause === 'string' ? cause : JSON.stringify(cause ?? ''));

/** The events of a history file; a last line cut short by a crash mid-append is dropped. */
export const readHistoryFile = (file: string): HistoryEvent[] => {
  const events: HistoryEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as HistoryEvent);
    } catch {
      // cut short by a crash
    }
  }
  return events;
};

/** GetExecutionHistory's paging: the token is the offset of the next event, opaque to the caller. */
export const historyPage = (
  events: readonly HistoryEvent[],
  options: {
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
    includeExecutionData?: boolean;
  },
): { events: HistoryEvent[]; nextToken?: string } => {
  const ordered = options.reverseOrder ? [...events].reverse() : events;
  const start = options.nextToken === undefined ? 0 : tokenOffset(options.nextToken);
  const size = options.maxResults && options.maxResults > 0 ? options.maxResults : 100;
  const page = ordered.slice(start, start + size);
  const next = start + size < ordered.length ? offsetToken(start + size) : undefined;
  return {
    events: options.includeExecutionData === false ? page.map(withoutExecutionData) : [...page],
    ...(next ? { nextToken: next } : {}),
  };
};

export class InvalidTokenError extends Error {}

const offsetToken = (offset: number) => Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');

const tokenOffset = (token: string): number => {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // not one of ours
  }
  throw new InvalidTokenError(`Invalid Token: '${token}'`);
};
