import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Arg, Copy, DockerfileParser, Entrypoint, Env, From, type Instruction } from 'dockerfile-ast';
import { onnx } from 'onnx-proto';

/*
 * Static checks on gpu-container/Dockerfile and .dockerignore: what the image build promises
 * (CUDA runtime base, Node 22, no dev dependencies, the ldd gate, a non-root user), checked
 * without a Docker engine. The image build itself still runs the ldd check on real libraries.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const DOCKERFILE = 'gpu-container/Dockerfile';

const repoPath = (relative: string): string => path.join(ROOT, relative);

// ---------------------------------------------------------------------------------------------
// Dockerfile model: stages with resolved base images
// ---------------------------------------------------------------------------------------------

interface Stage {
  index: number;
  name: string | null;
  /** Base image with global ARG defaults substituted; for `FROM <stage>`, that stage's image. */
  image: string;
  instructions: Instruction[];
}

interface CopySpec {
  stage: Stage;
  position: number;
  from: string | null;
  chown: string | null;
  sources: string[];
  destination: string;
}

const dockerfile = DockerfileParser.parse(readFileSync(repoPath(DOCKERFILE), 'utf8'));

const globalArgs = new Map<string, string>();
for (const arg of dockerfile.getInitialARGs()) {
  const property = arg.getProperty();
  if (property) globalArgs.set(property.getName(), property.getValue() ?? '');
}

const substitute = (value: string, vars: Map<string, string>): string =>
  value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => {
    const name = (braced ?? bare) as string;
    return vars.get(name) ?? whole;
  });

const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction instanceof From) {
    const raw = substitute(instruction.getImage() ?? '', globalArgs);
    const earlier = stages.find((stage) => stage.name !== null && stage.name === raw.toLowerCase());
    stages.push({
      index: stages.length,
      name: instruction.getBuildStage()?.toLowerCase() ?? null,
      image: earlier ? earlier.image : raw,
      instructions: [instruction],
    });
  } else if (stages.length > 0) {
    stages[stages.length - 1]!.instructions.push(instruction);
  }
}

const finalStage = stages[stages.length - 1]!;

const stageByReference = (reference: string, before: Stage): Stage | undefined =>
  stages.find(
    (stage) =>
      stage.index < before.index &&
      (stage.name === reference.toLowerCase() || String(stage.index) === reference),
  );

const runText = (stage: Stage): string =>
  stage.instructions
    .filter((instruction) => instruction.getKeyword() === 'RUN')
    .map((instruction) => instruction.getArgumentsContent() ?? '')
    .join('\n');

const workdirs = (stage: Stage): string[] =>
  stage.instructions
    .filter((instruction) => instruction.getKeyword() === 'WORKDIR')
    .map((instruction) => path.posix.normalize(instruction.getArgumentsContent() ?? '/'));

const copies: CopySpec[] = stages.flatMap((stage) =>
  stage.instructions.flatMap((instruction, position) => {
    if (!(instruction instanceof Copy)) return [];
    const flag = (name: string): string | null =>
      instruction
        .getFlags()
        .find((candidate) => candidate.getName() === name)
        ?.getValue() ?? null;
    const json = instruction.getJSONStrings().map((argument) => argument.getJSONValue());
    const words = json.length > 0 ? json : instruction.getArguments().map((argument) => argument.getValue());
    return [
      {
        stage,
        position,
        from: flag('from'),
        chown: flag('chown'),
        sources: words.slice(0, -1),
        destination: words[words.length - 1] ?? '',
      },
    ];
  }),
);

const contextCopies = copies.filter((copy) => copy.from === null);

/** `./lib/` → `lib`; the context root itself → `.`. */
const contextPath = (source: string): string =>
  path.posix.normalize(source.replace(/^\/+/, '')).replace(/\/+$/, '') || '.';

const contextSources = [...new Set(contextCopies.flatMap((copy) => copy.sources.map(contextPath)))];

/** Values given to ONNXRUNTIME_NODE_INSTALL in a stage: ENV, ARG, or inline in a RUN command. */
const installFlagValues = (stage: Stage): string[] => {
  const values: string[] = [];
  for (const instruction of stage.instructions) {
    const properties =
      instruction instanceof Env
        ? instruction.getProperties()
        : instruction instanceof Arg
          ? [instruction.getProperty()].filter((property) => property !== null)
          : [];
    for (const property of properties) {
      if (property.getName() === 'ONNXRUNTIME_NODE_INSTALL') values.push(property.getValue() ?? '');
    }
  }
  for (const match of runText(stage).matchAll(/ONNXRUNTIME_NODE_INSTALL=("?)([^\s"]*)\1/g)) {
    values.push(match[2]!);
  }
  return values;
};

const envOf = (stage: Stage): Map<string, string> => {
  const env = new Map<string, string>();
  for (const instruction of stage.instructions) {
    if (instruction instanceof Env) {
      for (const property of instruction.getProperties())
        env.set(property.getName(), property.getValue() ?? '');
    }
  }
  return env;
};

const buildStage = stages.find((stage) => /\bnpm run build:worker\b/.test(runText(stage)));
const runtimeDepsStage = stages.find((stage) => /onnxruntime-node\/script\/install\b/.test(runText(stage)));

/** Is `source` something the given earlier stage produced (its WORKDIR, a path its RUNs write, its base image's node)? */
const producedBy = (stage: Stage, source: string): boolean => {
  const normalized = path.posix.normalize(source).replace(/\/+$/, '');
  if (
    workdirs(stage).some((dir) => dir !== '/' && (normalized === dir || normalized.startsWith(`${dir}/`)))
  ) {
    return true;
  }
  const written = runText(stage);
  const ancestors = normalized.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  if (ancestors.some((ancestor) => ancestor.length > 1 && written.includes(ancestor))) return true;
  return /^node:/.test(stage.image) && normalized === '/usr/local/bin/node';
};

// ---------------------------------------------------------------------------------------------
// Repository files and .dockerignore semantics (moby/patternmatcher: last match wins, a pattern
// matching a parent directory excludes everything below it, `**` spans directories)
// ---------------------------------------------------------------------------------------------

const walk = (relative: string): string[] => {
  const absolute = repoPath(relative);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [relative];
  return readdirSync(absolute)
    .filter((entry) => entry !== 'node_modules' && entry !== '.git')
    .flatMap((entry) => walk(path.posix.join(relative, entry)));
};

/** Files the repository holds under `relative`: tracked or untracked-but-not-gitignored; a plain walk without git. */
const repoFiles = (relative: string): string[] => {
  try {
    const output = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', relative],
      {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    return output.split('\0').filter((file) => file.length > 0 && existsSync(repoPath(file)));
  } catch {
    return walk(relative);
  }
};

interface IgnoreRule {
  negated: boolean;
  pattern: string;
  regex: RegExp;
}

const patternToRegex = (pattern: string): RegExp => {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        source += i + 1 >= pattern.length ? '.*' : '(?:.*/)?';
      } else {
        source += '[^/]*';
      }
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      source += pattern[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) {
        source += '\\[';
      } else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`${source}$`);
};

const ignoreRules: IgnoreRule[] = existsSync(repoPath('.dockerignore'))
  ? readFileSync(repoPath('.dockerignore'), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'))
      .map((line) => {
        const negated = line.startsWith('!');
        const pattern = path.posix.normalize(negated ? line.slice(1).trim() : line).replace(/^\/+/, '');
        return { negated, pattern, regex: patternToRegex(pattern) };
      })
  : [];

const excludedFromContext = (file: string): boolean => {
  const parts = path.posix.normalize(file).split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const rule of ignoreRules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negated;
  }
  return excluded;
};

const packageJson = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
};
const buildWorkerScript = packageJson.scripts?.['build:worker'] ?? '';

// ---------------------------------------------------------------------------------------------

describe('gpu-container Dockerfile', () => {
  it('is a multi-stage build whose build and runtime-deps stages are named', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(buildStage?.name).toBe('build');
    expect(runtimeDepsStage?.name).toBe('runtime-deps');
    expect(buildStage).not.toBe(finalStage);
    expect(runtimeDepsStage).not.toBe(finalStage);
  });

  it('builds the final stage on an nvidia/cuda cuDNN runtime image', () => {
    expect(finalStage.image).toMatch(/^nvidia\/cuda:\d+\.\d+(\.\d+)?-cudnn\d*-runtime-ubuntu\d{2}\.\d{2}$/);
  });

  it('keeps cuDNN in the image while a model it ships has convolution, normalization or pooling nodes', () => {
    // ONNX Runtime 1.28+ loads cuDNN only when a kernel needs it, and its CUDA kernels for these
    // operators are cuDNN calls: without cuDNN they fail (NOT_IMPLEMENTED) on the GPU. A smaller
    // `-runtime-` base would serve only if no shipped model used them.
    const cudnnOps = [
      'Conv',
      'ConvTranspose',
      'BatchNormalization',
      'AveragePool',
      'MaxPool',
      'GlobalAveragePool',
    ];
    const opsByModel = Object.fromEntries(
      readdirSync(repoPath('models'))
        .filter((name) => existsSync(repoPath(`models/${name}/model.json`)))
        .map((name) => {
          const manifest = JSON.parse(readFileSync(repoPath(`models/${name}/model.json`), 'utf8')) as {
            file: string;
            packagedFiles?: { file: string; from: string }[];
          };
          const packaged = manifest.packagedFiles?.find((f) => f.file === manifest.file)?.from;
          const graph = onnx.ModelProto.decode(
            readFileSync(repoPath(packaged ?? `models/${name}/${manifest.file}`)),
          );
          return [name, new Set((graph.graph?.node ?? []).map((node) => node.opType ?? ''))];
        }),
    );
    const needingCudnn = Object.entries(opsByModel)
      .filter(([, ops]) => cudnnOps.some((op) => ops.has(op)))
      .map(([name]) => name);

    expect(Object.keys(opsByModel).length).toBeGreaterThan(0);
    // The OCR models are CNNs; the churn MLP alone would not need cuDNN.
    expect(needingCudnn).toEqual(expect.arrayContaining(['text-orientation', 'text-recognition']));
    expect(needingCudnn).not.toContain('churn-risk');
    expect(finalStage.image).toMatch(/-cudnn\d*-runtime-/);
  });

  it('uses Node 22 in every Node stage and copies that node binary into the final stage', () => {
    const nodeStages = stages.filter((stage) => /^node:/.test(stage.image));
    expect(nodeStages.length).toBeGreaterThan(0);
    for (const stage of nodeStages) expect(stage.image).toMatch(/^node:22([.-]|$)/);
    expect(stages.filter((stage) => stage !== finalStage).every((stage) => nodeStages.includes(stage))).toBe(
      true,
    );

    const nodeBinary = copies.find(
      (copy) =>
        copy.stage === finalStage && copy.sources.includes('/usr/local/bin/node') && copy.from !== null,
    );
    expect(nodeBinary).toBeDefined();
    expect(stageByReference(nodeBinary!.from!, finalStage)?.image).toMatch(/^node:22([.-]|$)/);
  });

  it('runs the final stage as a non-root user that the image creates', () => {
    const users = finalStage.instructions.filter((instruction) => instruction.getKeyword() === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const [user] = (users[users.length - 1]!.getArgumentsContent() ?? '').trim().split(':');
    expect(user).toBeTruthy();
    expect(['root', '0']).not.toContain(user);
    const creates = /^\d+$/.test(user!)
      ? new RegExp(`useradd\\b[^\\n;&|]*(--uid|-u)[ =]${user}\\b`)
      : new RegExp(`useradd\\b[^\\n;&|]*\\b${user}\\b`);
    expect(runText(finalStage)).toMatch(creates);
  });

  it('sets ONNXRUNTIME_NODE_INSTALL=cuda12 only in the runtime-deps stage and skip in the build stage', () => {
    expect(installFlagValues(buildStage!)).toEqual(['skip']);
    expect(installFlagValues(runtimeDepsStage!)).toEqual(['cuda12']);
    for (const stage of stages.filter(
      (candidate) => candidate !== buildStage && candidate !== runtimeDepsStage,
    )) {
      expect(installFlagValues(stage)).toEqual([]);
    }
    expect(globalArgs.has('ONNXRUNTIME_NODE_INSTALL')).toBe(false);
  });

  it('installs the onnxruntime-node version pinned in package.json and drops the TensorRT provider', () => {
    const pinned = packageJson.dependencies?.['onnxruntime-node'];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(globalArgs.get('ONNXRUNTIME_NODE_VERSION')).toBe(pinned);
    const deps = runText(runtimeDepsStage!);
    expect(deps).toMatch(/ONNXRUNTIME_NODE_VERSION/);
    expect(deps).toMatch(/rm -f [^\n]*libonnxruntime_providers_tensorrt\.so/);
  });

  it('installs the piscina version pinned in package.json beside onnxruntime-node (the bundle leaves it out)', () => {
    const pinned = packageJson.dependencies?.piscina;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(globalArgs.get('PISCINA_VERSION')).toBe(pinned);
    expect(runText(runtimeDepsStage!)).toMatch(/"piscina":"%s"[^\n]*\$\{PISCINA_VERSION\}/);
    expect(buildWorkerScript).toMatch(/--external:piscina\b/);
  });

  it('installs the sharp version pinned in package.json beside onnxruntime-node and loads it in the runtime stage', () => {
    const pinned = packageJson.dependencies?.sharp;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(globalArgs.get('SHARP_VERSION')).toBe(pinned);
    expect(runText(runtimeDepsStage!)).toMatch(/"sharp":"%s"[^\n]*\$\{SHARP_VERSION\}/);
    expect(buildWorkerScript).toMatch(/--external:sharp\b/);
    // The prebuilt libvips must load on the CUDA base image: the build fails, not the first job.
    expect(runText(finalStage)).toMatch(/require\("sharp"\)/);
    // sharp decodes on libuv's pool, 4 threads unless set: never fewer than the worker's decoding threads.
    expect(Number(envOf(finalStage).get('UV_THREADPOOL_SIZE'))).toBeGreaterThanOrEqual(64);
  });

  it('fails the image build when ldd reports a library of the CUDA provider as not found', () => {
    const check = finalStage.instructions.findIndex(
      (instruction) =>
        instruction.getKeyword() === 'RUN' &&
        /\bldd\b[^\n]*libonnxruntime_providers_cuda\.so/.test(instruction.getArgumentsContent() ?? ''),
    );
    expect(check).toBeGreaterThan(-1);
    const command = finalStage.instructions[check]!.getArgumentsContent() ?? '';
    expect(command).toContain('not found');
    expect(command).toMatch(/exit 1/);
    const modulesCopy = copies.find(
      (copy) => copy.stage === finalStage && copy.destination.includes('node_modules'),
    );
    expect(modulesCopy).toBeDefined();
    expect(check).toBeGreaterThan(modulesCopy!.position);
    expect(envOf(finalStage).has('LD_LIBRARY_PATH')).toBe(false);
  });

  it('starts node /app/worker.js and ships the bundle and models where the worker looks for them', () => {
    const entrypoints = finalStage.instructions.filter(
      (instruction): instruction is Entrypoint => instruction instanceof Entrypoint,
    );
    expect(entrypoints.length).toBeGreaterThan(0);
    expect(
      entrypoints[entrypoints.length - 1]!.getJSONStrings().map((argument) => argument.getJSONValue()),
    ).toEqual(['node', '/app/worker.js']);
    expect(workdirs(finalStage)).toContain('/app');

    const env = envOf(finalStage);
    expect(env.get('NODE_ENV')).toBe('production');
    expect(env.get('LONGTAIL_MODELS_DIR')).toBe('/opt/longtail/models');

    const finalCopies = copies.filter((copy) => copy.stage === finalStage);
    expect(finalCopies.some((copy) => copy.destination === '/app/worker.js' && copy.from !== null)).toBe(
      true,
    );
    expect(finalCopies.some((copy) => copy.destination.replace(/\/+$/, '') === '/opt/longtail/models')).toBe(
      true,
    );
    for (const copy of finalCopies.filter(
      (candidate) =>
        candidate.destination.startsWith('/app') || candidate.destination.startsWith('/opt/longtail'),
    )) {
      expect(copy.chown).toBeTruthy();
    }
  });

  it('keeps devDependencies out of the final stage', () => {
    const finalCopies = copies.filter((copy) => copy.stage === finalStage);
    // Nothing from the build context (package.json, the lockfile, sources) goes straight into the image.
    expect(finalCopies.filter((copy) => copy.from === null)).toEqual([]);
    expect(runText(finalStage)).not.toMatch(/\bnpm\s+(ci|install|i)\b/);

    const buildWorkdirs = workdirs(buildStage!);
    for (const copy of finalCopies.filter(
      (candidate) => stageByReference(candidate.from ?? '', finalStage) === buildStage,
    )) {
      for (const source of copy.sources) {
        const normalized = path.posix.normalize(source).replace(/\/+$/, '') || '/';
        expect(normalized).not.toMatch(/(^|\/)node_modules(\/|$)/);
        // Copying the build stage's WORKDIR (or anything above it) would bring its node_modules along.
        for (const dir of buildWorkdirs) {
          expect(normalized === dir || dir.startsWith(normalized === '/' ? '/' : `${normalized}/`)).toBe(
            false,
          );
        }
      }
    }

    // node_modules reach the image only from the runtime-deps stage, which installs production dependencies
    // of its own package.json, never the repository's package.json or lockfile.
    const modulesCopies = finalCopies.filter((copy) =>
      copy.sources.some((source) => source.includes('node_modules')),
    );
    expect(modulesCopies.length).toBeGreaterThan(0);
    for (const copy of modulesCopies)
      expect(stageByReference(copy.from ?? '', finalStage)).toBe(runtimeDepsStage);
    expect(runText(runtimeDepsStage!)).toMatch(/\bnpm\s+install\b[^\n]*--omit=dev/);
    expect(runText(runtimeDepsStage!)).not.toMatch(/\bnpm\s+ci\b/);
    expect(contextCopies.filter((copy) => copy.stage === runtimeDepsStage)).toEqual([]);
  });

  it('copies only sources that exist in the repository or that an earlier stage produced', () => {
    const missing = contextSources.filter((source) => {
      if (/[*?[]/.test(source)) {
        const matcher = patternToRegex(source);
        return !repoFiles('.').some((file) => matcher.test(file));
      }
      return !existsSync(repoPath(source));
    });
    expect(missing).toEqual([]);

    for (const copy of copies.filter((candidate) => candidate.from !== null)) {
      const source = stageByReference(copy.from!, copy.stage);
      expect({ from: copy.from, earlierStage: source !== undefined }).toEqual({
        from: copy.from,
        earlierStage: true,
      });
      for (const file of copy.sources) {
        expect({ file, produced: producedBy(source!, file) }).toEqual({ file, produced: true });
      }
    }
  });

  it('bundles the worker with the build:worker script into the file the final stage copies', () => {
    expect(buildWorkerScript).toMatch(/--platform=node\b/);
    expect(buildWorkerScript).toMatch(/--target=node22\b/);
    expect(buildWorkerScript).toMatch(/--external:onnxruntime-node\b/);
    // esbuild's `name=entry` form with --outdir: each entry bundles to <outdir>/<name>.js.
    const entries = Object.fromEntries(
      [...buildWorkerScript.matchAll(/(?:^|\s)([\w-]+)=(gpu-container\/src\/\S+\.ts)(?=\s|$)/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    const outdir = buildWorkerScript.match(/--outdir[= ](\S+)/)?.[1];
    expect(entries).toEqual({
      worker: 'gpu-container/src/main.ts',
      'preprocess-worker': 'gpu-container/src/preprocess-worker.ts',
      'lane-worker': 'gpu-container/src/lane-worker.ts',
    });
    expect(outdir).toBeDefined();
    const [buildWorkdir] = workdirs(buildStage!).slice(-1);
    for (const name of Object.keys(entries)) {
      const bundled = path.posix.join(buildWorkdir!, outdir!, `${name}.js`);
      // The bundles sit side by side in /app: the worker starts its threads from the file beside it.
      const copy = copies.find(
        (candidate) => candidate.stage === finalStage && candidate.destination === `/app/${name}.js`,
      );
      expect({ name, sources: copy?.sources }).toEqual({ name, sources: [bundled] });
      expect(stageByReference(copy!.from!, finalStage)).toBe(buildStage);
    }
    const entry = entries.worker;
    // The bundle's sources reach the build stage.
    expect(contextSources.some((source) => entry === source || entry!.startsWith(`${source}/`))).toBe(true);
  });

  it('has a .dockerignore that excludes nothing the Dockerfile copies from the build context', () => {
    expect(ignoreRules.length).toBeGreaterThan(0);
    expect(contextSources.length).toBeGreaterThan(0);
    const excluded = contextSources.flatMap((source) => {
      const files = [source, ...(/[*?[]/.test(source) ? [] : repoFiles(source))];
      return files.filter((file) => excludedFromContext(file));
    });
    expect(excluded).toEqual([]);
  });

  it('has a .dockerignore that keeps dependencies, VCS data, local data and build outputs out of the context', () => {
    for (const file of [
      'node_modules/onnxruntime-node/package.json',
      'lib/node_modules/x/index.js',
      '.git/HEAD',
      '.serverless/cloudformation-template-update-stack.json',
      '.esbuild/.build/functions/create-job.js',
      '.data/dynamodb/jobs.ldb',
      'coverage/lcov.info',
      'test/unit/dockerfile.test.ts',
      'gpu-container/dist/worker.js',
    ]) {
      expect({ file, excluded: excludedFromContext(file) }).toEqual({ file, excluded: true });
    }
  });
});
