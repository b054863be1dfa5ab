import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { FunctionConfig, ServerlessConfig } from './serverless-config';
import { lambdaLogicalIdOf, projectRoot } from './serverless-config';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** How a Lambda error reaches Step Functions: Error = errorType, Cause = this JSON. */
export class LambdaFunctionError extends Error {
  constructor(errorType: string, errorMessage: string) {
    super(JSON.stringify({ errorType, errorMessage }));
    this.name = errorType;
  }
}

/**
 * Runs the functions serverless.yml declares, in this process: loads `handler` modules, gives
 * them a Lambda-shaped context, and reports errors the way Lambda does to its callers.
 */
export class LocalLambdas {
  private handlers = new Map<string, Promise<Handler>>();
  private inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly config: ServerlessConfig,
    private readonly region: string,
    private readonly accountId: string,
    private readonly stage: string,
  ) {}

  functionNameOf(name: string) {
    return `${this.config.service}-${this.stage}-${name}`;
  }

  arnOf(name: string) {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${this.functionNameOf(name)}`;
  }

  /** The function whose CloudFormation logical id is `logicalId`, if any. */
  byLogicalId(logicalId: string): FunctionConfig | undefined {
    return Object.values(this.config.functions).find((fn) => lambdaLogicalIdOf(fn.name) === logicalId);
  }

  byArn(arn: string): FunctionConfig | undefined {
    return Object.values(this.config.functions).find((fn) => this.arnOf(fn.name) === arn);
  }

  private load(fn: FunctionConfig): Promise<Handler> {
    let handler = this.handlers.get(fn.name);
    if (!handler) {
      const separator = fn.handler.lastIndexOf('.');
      const modulePath = join(projectRoot, fn.handler.slice(0, separator));
      const exportName = fn.handler.slice(separator + 1);
      handler = import(modulePath).then((module: Record<string, unknown>) => {
        const exported = module[exportName];
        if (typeof exported !== 'function') throw new Error(`${fn.handler} does not export a function`);
        return exported as Handler;
      });
      this.handlers.set(fn.name, handler);
    }
    return handler;
  }

  async invoke(name: string, event: unknown): Promise<unknown> {
    const fn = this.config.functions[name];
    if (!fn) throw new Error(`No function ${name} in serverless.yml`);
    const handler = await this.load(fn);
    const timeoutMs = (fn.timeout ?? this.config.provider.timeout ?? 6) * 1000;
    const deadline = Date.now() + timeoutMs;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: this.functionNameOf(name),
      functionVersion: '$LATEST',
      invokedFunctionArn: this.arnOf(name),
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.functionNameOf(name)}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    const invocation = handler(structuredClone(event), context);
    this.inFlight.add(invocation);
    try {
      return await invocation;
    } catch (error) {
      const err = error as Error;
      throw new LambdaFunctionError(err.name || 'Error', err.message);
    } finally {
      this.inFlight.delete(invocation);
    }
  }

  /** Waits (up to `timeoutMs`) for the invocations under way, so that stopping the emulators does not cut them off. */
  async settle(timeoutMs = 10_000) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
