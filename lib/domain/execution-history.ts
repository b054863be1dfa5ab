/**
 * What an execution did, state by state, read from its Step Functions history. Pure: the events
 * come through the executions port, the same in AWS and locally. The zod schemas are the
 * operator API's answer (lib/openapi) and the source of the types here.
 */
import { z } from 'zod';
import type { HistoryEvent } from '../ports/executions';

const errorAndCause = z
  .strictObject({
    error: z.string(),
    cause: z.unknown().meta({ description: 'The cause, parsed when it is JSON, else the text.' }),
  })
  .nullable();

export const stateRunStatusSchema = z.enum(['running', 'succeeded', 'caught', 'failed', 'aborted']);
export type StateRunStatus = z.output<typeof stateRunStatusSchema>;

/** One pass through a state (a state may run more than once in a loop). */
export const stateRunSchema = z
  .strictObject({
    stateName: z.string(),
    status: stateRunStatusSchema.meta({
      description: '`caught`: an error left the state through its Catch.',
    }),
    enteredAt: z.string(),
    exitedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    input: z.unknown().meta({ description: 'The state’s input, parsed when it is JSON, else the text.' }),
    output: z.unknown().meta({ description: 'The state’s output (null until it exits).' }),
    error: errorAndCause.meta({
      description:
        'The last error raised in the state: the one a Catch took, or the one that ended the execution.',
    }),
    retries: z.number().int().meta({
      description: 'Errors raised in the state before it left it (a Retry ran it again after each).',
    }),
  })
  .meta({ id: 'StateRun', description: 'One pass through a state of the execution.' });
export type StateRun = z.output<typeof stateRunSchema>;

export const executionSummarySchema = z
  .strictObject({
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    error: errorAndCause,
    runs: z.array(stateRunSchema),
    eventCount: z.number().int().meta({ description: 'Events in the history it was read from.' }),
  })
  .meta({
    id: 'ExecutionSummary',
    description: 'What the job’s Step Functions execution did, state by state, from its history.',
  });
export type ExecutionSummary = z.output<typeof executionSummarySchema>;

/** Payloads are JSON strings; show them parsed, or as the string they are when they are not JSON. */
const parsed = (text: string | undefined): unknown => {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

const endings: Record<string, ExecutionSummary['status']> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionAborted: 'ABORTED',
  ExecutionTimedOut: 'TIMED_OUT',
};

const millisBetween = (from: string, to: string) => new Date(to).getTime() - new Date(from).getTime();

/** Folds the history (oldest first) into one run per state entered, in the order entered. */
export const summarizeExecution = (events: HistoryEvent[]): ExecutionSummary => {
  const runs: StateRun[] = [];
  let open: StateRun | undefined;
  let unretriedError = false;
  const summary: ExecutionSummary = {
    status: 'RUNNING',
    startedAt: null,
    stoppedAt: null,
    error: null,
    runs,
    eventCount: events.length,
  };
  for (const event of events) {
    if (event.type === 'ExecutionStarted') summary.startedAt = event.timestamp;
    if (event.type.endsWith('StateEntered') && event.stateName) {
      open = {
        stateName: event.stateName,
        status: 'running',
        enteredAt: event.timestamp,
        exitedAt: null,
        durationMs: null,
        input: parsed(event.input),
        output: null,
        error: null,
        retries: 0,
      };
      runs.push(open);
      unretriedError = false;
      continue;
    }
    if (event.type.endsWith('StateExited') && open && event.stateName === open.stateName) {
      open.exitedAt = event.timestamp;
      open.durationMs = millisBetween(open.enteredAt, event.timestamp);
      open.output = parsed(event.output);
      // An error not followed by another try left the state through its Catch.
      open.status = unretriedError ? 'caught' : 'succeeded';
      if (!unretriedError) open.error = null;
      open = undefined;
      unretriedError = false;
      continue;
    }
    const ending = endings[event.type];
    if (ending) {
      summary.status = ending;
      summary.stoppedAt = event.timestamp;
      if (event.error !== undefined || event.cause !== undefined) {
        summary.error = { error: event.error ?? '', cause: parsed(event.cause) };
      }
      if (open) {
        open.status = ending === 'SUCCEEDED' ? 'succeeded' : ending === 'FAILED' ? 'failed' : 'aborted';
        // A Fail state ends the execution as it is entered: that is its whole run.
        open.exitedAt = event.timestamp;
        open.durationMs = millisBetween(open.enteredAt, event.timestamp);
        if (ending !== 'SUCCEEDED' && !open.error && summary.error) open.error = summary.error;
        open = undefined;
      }
      continue;
    }
    if (open && event.error !== undefined) {
      open.error = { error: event.error, cause: parsed(event.cause) };
      unretriedError = true;
      continue;
    }
    // The task scheduled again after an error: its Retry ran it once more.
    if (open && unretriedError && /(Scheduled|Started)$/.test(event.type)) {
      open.retries++;
      unretriedError = false;
    }
  }
  return summary;
};
