// Checks that run on `serverless deploy` only (never on `package`, so CI and the template tests
// need no AWS account and no parameters):
//
// 1. Before anything is packaged or sent to AWS, the parameters the GPU compute environments need
//    must be present and look like real ids. Without them CloudFormation gets as far as creating
//    the compute environments, fails there, and rolls the whole first stack back.
// 2. Before CloudFormation is called, the Parameter Store parameter that holds the worker image tag
//    must exist, since the template reads it (WorkerImageTag). A first deploy creates it with the
//    value "unpushed": until gpu-container/push-image.sh pushes an image and writes its tag, a
//    Batch job cannot pull its image and fails at once saying so. An existing value is never
//    touched here: the push script is the only thing that changes it.

const UNPUSHED_TAG = 'unpushed';

/** What each required parameter must look like, and an example for the message. */
const requiredParams = {
  subnetIds: {
    pattern: /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/,
    example: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  },
  securityGroupIds: {
    pattern: /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/,
    example: 'sg-0123456789abcdef0',
  },
};

const isPlaceholder = (id) => /^[a-z]+-0+$/.test(id);

/** One line per unusable parameter (missing, malformed, or a placeholder); empty when all are fine. */
const parameterProblems = (values) =>
  Object.entries(requiredParams).flatMap(([name, { pattern }]) => {
    const raw = values[name] === undefined || values[name] === null ? '' : String(values[name]);
    const ids = raw
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    if (ids.length === 0) return [`${name} is missing`];
    const wrong = ids.filter((id) => !pattern.test(id) || isPlaceholder(id));
    return wrong.length > 0 ? [`${name} has ${wrong.join(', ')}, which is not a real id`] : [];
  });

const missingParametersMessage = (problems) =>
  [
    `Not deploying: ${problems.join('; ')}.`,
    'The GPU compute environments need the subnets and security groups their instances start in.',
    'Pass them on every deploy, for example:',
    `  serverless deploy ${Object.entries(requiredParams)
      .map(([name, { example }]) => `--param="${name}=${example}"`)
      .join(' ')}`,
    'See README.md, Deploy.',
  ].join('\n');

class DeployPreflight {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = {
      initialize: () => this.checkParameters(),
      'before:deploy:deploy': () => this.ensureWorkerImageTag(),
    };
  }

  /** `serverless deploy`, not `deploy function` or `deploy list`. */
  isStackDeploy() {
    const commands = (this.serverless.processedInput && this.serverless.processedInput.commands) || [];
    return commands.length === 1 && commands[0] === 'deploy';
  }

  settings() {
    return (this.serverless.service.custom && this.serverless.service.custom.deployPreflight) || {};
  }

  checkParameters() {
    if (!this.isStackDeploy()) return;
    const problems = parameterProblems(this.settings().requiredParams || {});
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        missingParametersMessage(problems),
        'LONGTAIL_DEPLOY_PARAMETERS_MISSING',
      );
    }
  }

  async ensureWorkerImageTag() {
    if (!this.isStackDeploy()) return;
    const name = this.settings().workerImageTagParameter;
    if (!name) throw new Error('custom.deployPreflight.workerImageTagParameter is not set');
    const provider = this.serverless.getProvider('aws');
    try {
      await provider.request('SSM', 'getParameter', { Name: name });
      return;
    } catch (error) {
      if (!(error.providerError && error.providerError.code === 'ParameterNotFound')) throw error;
    }
    try {
      // Overwrite: false, so a tag the push script writes in the meantime wins.
      await provider.request('SSM', 'putParameter', {
        Name: name,
        Type: 'String',
        Value: UNPUSHED_TAG,
        Overwrite: false,
        Description: 'Longtail worker image tag; written by gpu-container/push-image.sh',
      });
    } catch (error) {
      if (error.providerError && error.providerError.code === 'ParameterAlreadyExists') return;
      throw error;
    }
    if (this.log) {
      this.log.notice(
        `Created ${name} = ${UNPUSHED_TAG}: Batch jobs fail (CannotPullContainerError) until ` +
          'gpu-container/push-image.sh pushes the worker image.',
      );
    }
  }
}

module.exports = DeployPreflight;
module.exports.parameterProblems = parameterProblems;
module.exports.UNPUSHED_TAG = UNPUSHED_TAG;
