/** `longtail models list|get|push|init|alias`: what can run, and registering your own. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { contextOf } from '../context';
import { CliError, exitCodes } from '../errors';
import { draftManifest } from '../model-draft';
import { pushModel } from '../model-push';
import { note, paintStatus, printJson, printTable } from '../output';

/** A name for a pushed model: --name, else its folder's or file's name, as the registry spells names. */
const nameFor = (source: string, given?: string) =>
  given ??
  basename(source, '.onnx')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-');

export const registerModels = (program: Command) => {
  const models = program.command('models').description('list models, register your own (the registry)');

  models
    .command('list')
    .description('the models you can run: yours and the shared examples')
    .action(async (_flags: unknown, command: Command) => {
      const context = contextOf(command);
      const answer = await context.client().listModels();
      if (context.json) return printJson(answer);
      printTable(
        ['MODEL', 'LATEST', 'ALIASES', 'SHARED', 'DESCRIPTION'],
        answer.models.map((m) => [
          m.name,
          m.version ?? '-',
          Object.entries(m.aliases)
            .map(([alias, version]) => `${alias}→${version}`)
            .join(' '),
          m.shared ? 'yes' : '',
          (m.description ?? '').slice(0, 60),
        ]),
      );
    });

  models
    .command('get')
    .description("a model's versions and aliases, or one version (name:version)")
    .argument('<model>', 'name or name:version')
    .action(async (ref: string, _flags: unknown, command: Command) => {
      const context = contextOf(command);
      const [name = ref, version] = ref.split(':');
      if (version) {
        const answer = await context.client().getModelVersion(name, version);
        if (context.json) return printJson(answer);
        process.stdout.write(`${answer.ref}  ${paintStatus(answer.status)}  ${answer.checksum}\n`);
        if (answer.error) note(`Error: ${answer.error.code}: ${answer.error.message}`);
        return;
      }
      const answer = await context.client().getModel(name);
      if (context.json) return printJson(answer);
      printTable(
        ['VERSION', 'STATUS', 'ALIASES', 'SIZE', 'CREATED'],
        answer.versions.map((v) => [
          v.version,
          paintStatus(v.status),
          Object.keys(answer.aliases)
            .filter((alias) => answer.aliases[alias] === v.version)
            .join(' '),
          v.size,
          v.createdAt,
        ]),
      );
    });

  models
    .command('push')
    .description(
      'register a model version (an ONNX file, or a folder with model.json) and wait for its check',
    )
    .argument('<source>', 'model.onnx, or a folder of the version’s files')
    .option('-n, --name <name>', 'the model’s name (default: the file’s or folder’s name)')
    .option('--manifest <file>', 'a manifest, for named fields (a folder’s model.json by default)')
    .option('--version <version>', 'the version (default: the next number)')
    .option('--alias <alias...>', 'aliases to point at this version once ready')
    .option('--batch-axis <n>', "the batch axis, or 'none' to run records one at a time")
    .action(
      async (
        source: string,
        flags: { name?: string; manifest?: string; version?: string; alias?: string[]; batchAxis?: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const name = nameFor(source, flags.name);
        const checked = await pushModel(context.client(), {
          name,
          source,
          manifestPath: flags.manifest,
          version: flags.version,
          aliases: flags.alias,
          batchAxis: flags.batchAxis,
          onPart: context.quiet
            ? undefined
            : (file, part, parts) => note(`${file}: part ${part} of ${parts}`),
        });
        if (context.json) printJson(checked);
        else {
          process.stdout.write(`${checked.ref} ${paintStatus(checked.status)}\n`);
          if (checked.error) note(`Error: ${checked.error.code}: ${checked.error.message}`);
        }
        if (checked.status === 'failed') process.exitCode = exitCodes.error;
      },
    );

  models
    .command('init')
    .description('draft a manifest (model.json) from an ONNX graph, for a model that takes named fields')
    .argument('<file>', 'model.onnx')
    .option('-n, --name <name>', 'the model’s name (default: the file’s name)')
    .option(
      '-o, --out <file>',
      "where to write the draft ('-' for stdout; default: model.json beside the file)",
    )
    .option('--force', 'overwrite an existing file')
    .action(
      async (file: string, flags: { name?: string; out?: string; force?: boolean }, command: Command) => {
        const context = contextOf(command);
        if (!existsSync(file)) throw new CliError(`No such file: ${file}`);
        const draft = await draftManifest(file, flags.name);
        const out = flags.out ?? join(dirname(file), 'model.json');
        if (out === '-' || context.json) return printJson(draft);
        if (existsSync(out) && !flags.force)
          throw new CliError(`${out} exists; pass --force to overwrite it.`);
        await writeFile(out, `${JSON.stringify(draft, null, 2)}\n`);
        note(
          `Wrote ${out}: edit its field names, labels and example, then: longtail models push ${dirname(file)}`,
        );
      },
    );

  models
    .command('alias')
    .description('point an alias at a ready version')
    .argument('<name>')
    .argument('<alias>')
    .argument('<version>')
    .action(async (name: string, alias: string, version: string, _flags: unknown, command: Command) => {
      const context = contextOf(command);
      const answer = await context.client().setAlias(name, alias, version);
      if (context.json) printJson(answer);
      else process.stdout.write(`${name}@${alias} → ${version}\n`);
    });
};
