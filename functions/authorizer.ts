import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { bearerToken, loadApiKeys, operatorOwners, ownerOfKey } from '../lib/auth/api-keys';
import { logger } from '../lib/logger';
import { eventHandler } from './middleware';

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<{
  ownerId: string;
  operator: boolean;
}>;

/**
 * HTTP API Lambda authorizer (payload 2.0, simple responses): maps the bearer API key to the
 * owner recorded on each job, and says whether that owner is an operator. API Gateway answers 401 itself when the header is missing and
 * 403 when this says no.
 */
export const handler = eventHandler(
  async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
    const header = event.headers?.authorization ?? event.headers?.Authorization;
    const token = bearerToken(header);
    const ownerId = token ? ownerOfKey(await loadApiKeys(), token) : undefined;
    if (!ownerId) {
      logger.info('API key rejected', { route: event.routeKey, hasHeader: Boolean(header) });
      return { isAuthorized: false, context: { ownerId: '', operator: false } };
    }
    return { isAuthorized: true, context: { ownerId, operator: operatorOwners().has(ownerId) } };
  },
);
