import { httpHandler, json } from './middleware';

/** GET /health: unauthenticated liveness for load balancers and smoke tests. */
export const handler = httpHandler(async () => json(200, { status: 'ok' }));
