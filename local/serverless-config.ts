import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/** What the local runtime takes from serverless.yml, so that the two cannot drift apart. */

export const projectRoot = resolve(__dirname, '..');

interface HttpApiEvent {
  method: string;
  path: string;
  authorizer?: { name: string };
}

interface SqsEvent {
  arn: { 'Fn::GetAtt': [string, string] };
  /** A number, or `${param:name}`: resolveParam reads it. */
  batchSize?: number | string;
  maximumBatchingWindow?: number | string;
  functionResponseType?: string;
}

export interface FunctionConfig {
  name: string;
  handler: string;
  timeout?: number;
  environment?: Record<string, unknown>;
  events?: {
    httpApi?: HttpApiEvent;
    sqs?: SqsEvent;
    eventBridge?: { pattern: Record<string, unknown> };
    schedule?: string;
  }[];
}

export interface ServerlessConfig {
  service: string;
  params?: { default?: Record<string, unknown> };
  provider: {
    timeout?: number;
    httpApi?: { authorizers?: Record<string, { functionName: string; identitySource: string[] }> };
  };
  functions: Record<string, FunctionConfig>;
  stepFunctions: { stateMachines: Record<string, { id: string; name: string; definition: string }> };
  resources: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
}

export const loadServerlessConfig = (file = join(projectRoot, 'serverless.yml')): ServerlessConfig => {
  const config = parse(readFileSync(file, 'utf8')) as ServerlessConfig;
  for (const [name, fn] of Object.entries(config.functions)) fn.name = name;
  return config;
};

/** `${file(statemachines/x.asl.json)}` → the path it names. */
export const fileReferenceOf = (value: string): string => {
  const match = /^\$\{file\((.+)\)\}$/.exec(value.trim());
  if (!match?.[1]) throw new Error(`Expected a \${file(...)} reference, got ${value}`);
  return join(projectRoot, match[1]);
};

/** The logical id serverless gives a function's AWS::Lambda::Function: `createJob` → `CreateJobLambdaFunction`. */
export const lambdaLogicalIdOf = (functionName: string) =>
  `${functionName.charAt(0).toUpperCase()}${functionName.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}LambdaFunction`;

/**
 * A number serverless.yml gives as a literal or as `${param:name}`, read from `params` (the
 * local runtime's values over serverless.yml's defaults); undefined stays undefined.
 */
export const resolveParam = (
  value: number | string | undefined,
  params: Record<string, unknown>,
): number | undefined => {
  if (value === undefined || typeof value === 'number') return value;
  const name = /^\$\{param:([A-Za-z0-9]+)\}$/.exec(value.trim())?.[1];
  const resolved = name === undefined ? value : params[name];
  const number = Number(resolved);
  if (resolved === undefined || resolved === '' || !Number.isFinite(number))
    throw new Error(`serverless.yml: ${value} is not a number here (got ${String(resolved)})`);
  return number;
};
