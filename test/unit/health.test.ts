import { handler } from '../../functions/health';
import { bodyOf, httpEvent } from '../fixtures/http-events';
import { lambdaContext } from '../fixtures/lambda-context';

describe('health handler', () => {
  it('answers 200 {"status":"ok"} without credentials', async () => {
    const response = await handler(
      httpEvent({ method: 'GET', path: '/health', ownerId: null }),
      lambdaContext(),
    );

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(bodyOf(response)).toEqual({ status: 'ok' });
  });
});
