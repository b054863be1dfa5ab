/**
 * `longtail`: Longtail's command line, against the local runtime or a deployment. Every error
 * ends as one line on stderr (the API's code and message when the API said no) and a non-zero
 * exit; see errors.ts for the codes.
 */
import { Command, CommanderError } from 'commander';
import { ApiError, ApiUnreachable } from './client';
import { registerJobs } from './commands/jobs';
import { registerModels } from './commands/models';
import { registerSubmit } from './commands/submit';
import { CliError, exitCodes } from './errors';
import { note } from './output';

const program = new Command('longtail')
  .description('Submit and follow Longtail inference jobs; manage models.')
  .option('--api-url <url>', 'the API (env LONGTAIL_API_URL)')
  .option('--api-key <key>', 'your API key (env LONGTAIL_API_KEY)')
  .option('--profile <name>', 'a profile from the profile file (env LONGTAIL_PROFILE, LONGTAIL_CONFIG)')
  .option('--inputs-bucket <bucket>', 'where local files are uploaded (env LONGTAIL_INPUTS_BUCKET)')
  .option(
    '--input-prefix <prefix>',
    'a key prefix for uploads, when your key is scoped to one (env LONGTAIL_INPUT_PREFIX)',
  )
  .option('--json', 'print JSON for scripts instead of tables')
  .option('-q, --quiet', 'no progress output')
  .showHelpAfterError()
  .exitOverride();

registerSubmit(program);
registerJobs(program);
registerModels(program);

const explain = (error: unknown): string => {
  if (error instanceof ApiError) {
    const available = error.details?.available;
    const issues = error.details?.issues as { path?: unknown; message?: string }[] | undefined;
    const hint =
      error.status === 401 || error.status === 403
        ? ' Check LONGTAIL_API_KEY.'
        : Array.isArray(available)
          ? ` Available: ${available.join(', ')}.`
          : issues?.length
            ? ` ${issues
                .slice(0, 5)
                .map((issue) => `${JSON.stringify(issue.path)}: ${issue.message}`)
                .join('; ')}`
            : '';
    return `${error.code}: ${error.message}${hint}`;
  }
  if (error instanceof ApiUnreachable)
    return `${error.message} Is it running, and is LONGTAIL_API_URL right?`;
  return (error as Error).message ?? String(error);
};

export const main = async (argv: string[]) => {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Commander has printed its own usage message (or the help) already.
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    note(`longtail: ${explain(error)}`);
    process.exitCode = error instanceof CliError ? error.exitCode : exitCodes.error;
  }
};
