import DeployPreflight, { parameterProblems, UNPUSHED_TAG } from '../../serverless-plugins/deploy-preflight';

class FakeServerlessError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

type Request = (service: string, method: string, params: Record<string, unknown>) => Promise<unknown>;

/** The parts of Serverless the plugin touches: the command, the resolved custom section, the AWS provider. */
const serverlessFor = (commands: string[], requiredParams: Record<string, string>, request: Request) => ({
  processedInput: { commands },
  classes: { Error: FakeServerlessError },
  service: {
    custom: {
      deployPreflight: { requiredParams, workerImageTagParameter: '/longtail/test/worker-image-tag' },
    },
  },
  getProvider: () => ({ request }),
});

const realParams = {
  subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba98',
  securityGroupIds: 'sg-0123456789abcdef0',
};
const awsError = (code: string) => Object.assign(new Error(code), { providerError: { code } });
const noAws: Request = () => Promise.reject(new Error('no AWS call expected'));

describe('deploy preflight', () => {
  it('refuses a deploy without subnets and security groups, naming both and how to pass them', () => {
    const plugin = new DeployPreflight(
      serverlessFor(['deploy'], { subnetIds: '', securityGroupIds: '' }, noAws),
    );

    expect(() => plugin.hooks.initialize()).toThrow(
      /Not deploying: subnetIds is missing; securityGroupIds is missing\.[\s\S]*--param="subnetIds=/,
    );
  });

  it('refuses the all-zero placeholders and anything that is not a subnet or security group id', () => {
    expect(
      parameterProblems({
        subnetIds: 'subnet-00000000000000000',
        securityGroupIds: 'sg-123,sg-0123456789abcdef0',
      }),
    ).toEqual([
      'subnetIds has subnet-00000000000000000, which is not a real id',
      'securityGroupIds has sg-123, which is not a real id',
    ]);
    expect(
      parameterProblems({ subnetIds: 'sg-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0' }),
    ).toEqual(['subnetIds has sg-0123456789abcdef0, which is not a real id']);
  });

  it('accepts 8- and 17-digit ids, comma-separated with spaces', () => {
    expect(
      parameterProblems({
        subnetIds: 'subnet-0123abcd, subnet-0123456789abcdef0',
        securityGroupIds: 'sg-0a1b2c3d',
      }),
    ).toEqual([]);
  });

  it.each(['package', 'deploy function', 'deploy list', 'remove', 'info'])(
    'checks nothing for `serverless %s`',
    (command) => {
      const plugin = new DeployPreflight(
        serverlessFor(command.split(' '), { subnetIds: '', securityGroupIds: '' }, noAws),
      );

      expect(() => plugin.hooks.initialize()).not.toThrow();
    },
  );

  it('leaves an existing worker image tag alone', async () => {
    const calls: string[] = [];
    const plugin = new DeployPreflight(
      serverlessFor(['deploy'], realParams, (service, method) => {
        calls.push(`${service}.${method}`);
        return Promise.resolve({ Parameter: { Value: '0123456789ab' } });
      }),
    );

    await plugin.hooks['before:deploy:deploy']();

    expect(calls).toEqual(['SSM.getParameter']);
  });

  it('creates the worker image tag as "unpushed" on the first deploy, never overwriting one', async () => {
    const puts: Record<string, unknown>[] = [];
    const plugin = new DeployPreflight(
      serverlessFor(['deploy'], realParams, (_service, method, params) => {
        if (method === 'getParameter') return Promise.reject(awsError('ParameterNotFound'));
        puts.push(params);
        return Promise.resolve({});
      }),
    );

    await plugin.hooks['before:deploy:deploy']();

    expect(UNPUSHED_TAG).toBe('unpushed');
    expect(puts).toEqual([
      expect.objectContaining({
        Name: '/longtail/test/worker-image-tag',
        Type: 'String',
        Value: 'unpushed',
        Overwrite: false,
      }),
    ]);
  });

  it('lets a tag the push script wrote in the meantime stand', async () => {
    const plugin = new DeployPreflight(
      serverlessFor(['deploy'], realParams, (_service, method) =>
        Promise.reject(awsError(method === 'getParameter' ? 'ParameterNotFound' : 'ParameterAlreadyExists')),
      ),
    );

    await expect(plugin.hooks['before:deploy:deploy']()).resolves.toBeUndefined();
  });

  it('passes on any other error reading the parameter', async () => {
    const plugin = new DeployPreflight(
      serverlessFor(['deploy'], realParams, () => Promise.reject(awsError('AccessDeniedException'))),
    );

    await expect(plugin.hooks['before:deploy:deploy']()).rejects.toThrow('AccessDeniedException');
  });
});
