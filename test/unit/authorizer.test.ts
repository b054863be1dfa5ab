import { handler } from '../../functions/authorizer';
import { setHandlerEnv } from '../fixtures/env';
import { authorizerEvent } from '../fixtures/http-events';
import { lambdaContext } from '../fixtures/lambda-context';

const authorize = (headers: Parameters<typeof authorizerEvent>[0]) =>
  handler(authorizerEvent(headers), lambdaContext('longtail-test-authorizer'));

describe('authorizer', () => {
  beforeEach(() => {
    setHandlerEnv({
      API_KEYS_PARAMETER: undefined,
      LONGTAIL_API_KEYS: 'alice:alice-key-1,bob:bob-key,alice:alice-key-2',
      LONGTAIL_OPERATORS: undefined,
    });
  });

  it.each([
    ['alice-key-1', 'alice'],
    ['alice-key-2', 'alice'],
    ['bob-key', 'bob'],
  ])('authorizes key %s as owner %s', async (key, ownerId) => {
    const result = await authorize({ authorization: `Bearer ${key}` });

    expect(result).toEqual({ isAuthorized: true, context: { ownerId, operator: false } });
  });

  it('reads a header sent with a capitalised name', async () => {
    const result = await authorize({ Authorization: 'Bearer bob-key' });

    expect(result).toEqual({ isAuthorized: true, context: { ownerId: 'bob', operator: false } });
  });

  it.each([
    ['a wrong key', { authorization: 'Bearer mallory-key' }],
    ['no Authorization header', {}],
    ['a non-Bearer scheme', { authorization: 'Basic YWxpY2U6YWxpY2Uta2V5LTE=' }],
    ['a bare key', { authorization: 'alice-key-1' }],
    ['the development key while other keys are configured', { authorization: 'Bearer longtail-dev-key' }],
  ])('refuses %s', async (_what, headers: Record<string, string>) => {
    const result = await authorize(headers);

    expect(result).toEqual({ isAuthorized: false, context: { ownerId: '', operator: false } });
  });

  it('accepts the development key when no keys are configured', async () => {
    setHandlerEnv({ API_KEYS_PARAMETER: undefined, LONGTAIL_API_KEYS: undefined });

    const result = await authorize({ authorization: 'Bearer longtail-dev-key' });

    expect(result).toEqual({ isAuthorized: true, context: { ownerId: 'dev', operator: false } });
  });

  it('marks the owners LONGTAIL_OPERATORS lists as operators, and no one else', async () => {
    setHandlerEnv({ LONGTAIL_OPERATORS: ' bob , carol' });

    expect(await authorize({ authorization: 'Bearer bob-key' })).toEqual({
      isAuthorized: true,
      context: { ownerId: 'bob', operator: true },
    });
    expect(await authorize({ authorization: 'Bearer alice-key-1' })).toEqual({
      isAuthorized: true,
      context: { ownerId: 'alice', operator: false },
    });
  });
});
