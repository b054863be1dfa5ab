import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const projectRoot = join(__dirname, '../..');

/**
 * `serverless deploy` as a user would run it, with no AWS credentials of any kind reachable, so
 * that nothing can be deployed even if the check it tests were gone: it must refuse on its own
 * words, before packaging.
 */
const deploy = (...params: string[]) =>
  spawnSync(
    join(projectRoot, 'node_modules/.bin/serverless'),
    ['deploy', '--stage', 'preflight-test', ...params.map((param) => `--param=${param}`)],
    {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 90_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        SLS_TELEMETRY_DISABLED: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_PROFILE: 'longtail-preflight-test-no-such-profile',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  );

describe('serverless deploy', () => {
  it('refuses to start without subnets and security groups, naming both, before packaging anything', () => {
    const result = deploy();
    const output = `${result.stdout}${result.stderr}`;

    expect(result.status).not.toBe(0);
    expect(output).toContain('Not deploying: subnetIds is missing; securityGroupIds is missing.');
    expect(output).toContain('--param="subnetIds=');
    expect(output).not.toMatch(/Packaging|Uploading|CloudFormation stack/);
  }, 90_000);

  it('refuses the all-zero placeholder ids', () => {
    const result = deploy('subnetIds=subnet-00000000000000000', 'securityGroupIds=sg-00000000000000000');
    const output = `${result.stdout}${result.stderr}`;

    expect(result.status).not.toBe(0);
    expect(output).toContain('subnetIds has subnet-00000000000000000, which is not a real id');
    expect(output).toContain('securityGroupIds has sg-00000000000000000, which is not a real id');
  }, 90_000);
});
