// Types for the tests; Serverless loads deploy-preflight.js itself.
declare class DeployPreflight {
  constructor(serverless: unknown, options?: unknown, utils?: { log?: { notice(message: string): void } });
  hooks: { initialize(): void; 'before:deploy:deploy'(): Promise<void> };
}
export default DeployPreflight;
/** One line per unusable parameter (missing, malformed, or a placeholder); empty when all are fine. */
export declare const parameterProblems: (values: Record<string, unknown>) => string[];
/** The tag a first deploy records until gpu-container/push-image.sh pushes an image. */
export declare const UNPUSHED_TAG: string;
