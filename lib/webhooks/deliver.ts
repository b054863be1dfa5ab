/**
 * One webhook POST. The socket connects only to addresses the target policy allows: the host
 * is resolved inside the request's own `lookup`, every address it resolves to is checked, and
 * the connection goes to the checked address — there is no second resolution an attacker's
 * DNS could answer differently (DNS rebinding). Redirects are not followed.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { LongtailError } from '../errors';
import { checkWebhookUrl, isBlockedAddress } from './target-policy';
import type { WebhookTargetPolicy } from './target-policy';

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface WebhookRequest {
  url: string;
  body: string;
  /** The signature headers (signing.ts); content-type and user-agent are added here. */
  headers: Record<string, string>;
  policy: WebhookTargetPolicy;
  /** Connect, send and answer within this time. */
  timeoutMs?: number;
  /** Resolves host names; the system resolver unless a test injects another. */
  resolve?: Resolver;
  /** Extra trust anchors for HTTPS (tests' self-signed receivers). */
  trustedCa?: string;
}

export interface DeliveryResult {
  /** The receiver answered 2xx. */
  ok: boolean;
  /** The HTTP status, when the receiver answered. */
  status?: number;
  /** Why it was not delivered, in words a user can act on. */
  error?: string;
  durationMs: number;
}

/** A resolved address the policy does not allow. */
export class WebhookAddressBlocked extends LongtailError {
  override name = 'WebhookAddressBlocked';
}

/** At most this much of a response is read; the rest is dropped with the connection. */
const responseCapBytes = 64 * 1024;

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net.connect that refuses a host with any blocked address. */
const checkedLookup =
  (resolve: Resolver, policy: WebhookTargetPolicy) =>
  (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (addresses) => {
        const blocked = addresses.find(({ address }) => isBlockedAddress(address, policy));
        const usable =
          options.family === 4 || options.family === 6
            ? addresses.filter(({ family }) => family === options.family)
            : addresses;
        const first = usable[0];
        if (blocked) {
          callback(
            new WebhookAddressBlocked(
              'WEBHOOK_ADDRESS_BLOCKED',
              `${hostname} resolves to ${blocked.address}, a private, loopback, link-local or reserved address; webhooks go to public addresses only.`,
            ),
            '',
          );
        } else if (!first) {
          callback(Object.assign(new Error(`${hostname} does not resolve.`), { code: 'ENOTFOUND' }), '');
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: Error) => callback(error, ''),
    );
  };

const errorText = (error: Error & { code?: string }, hostname: string): string => {
  if (error instanceof WebhookAddressBlocked) return error.message;
  switch (error.code) {
    case 'ECONNREFUSED':
      return `Connection refused by ${hostname}.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${hostname} does not resolve.`;
    case 'ECONNRESET':
      return `${hostname} closed the connection.`;
    default:
      return `${error.message}${error.code && !error.message.includes(error.code) ? ` (${error.code})` : ''}`;
  }
};

/**
 * POSTs `body` as application/json with the given headers. 2xx is delivered; any other answer,
 * a 3xx included, is not; neither is a refused URL or address, a network error, or no complete
 * answer within `timeoutMs`. Never throws.
 */
export const deliverWebhook = async (request: WebhookRequest): Promise<DeliveryResult> => {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = checkWebhookUrl(request.url, request.policy);
  } catch (error) {
    return { ok: false, error: (error as Error).message, durationMs: elapsed() };
  }
  const timeoutMs = request.timeoutMs ?? 10_000;
  const body = Buffer.from(request.body);
  const options: RequestOptions & { ca?: string } = {
    method: 'POST',
    headers: {
      ...request.headers,
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': 'Longtail-Webhooks/1',
    },
    // A fresh connection each time: no pooled socket outlives its checked address.
    agent: false,
    lookup: checkedLookup(request.resolve ?? systemResolver, request.policy) as RequestOptions['lookup'],
    ...(request.trustedCa ? { ca: request.trustedCa } : {}),
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const hostname = url.hostname;

  const attempt = new Promise<DeliveryResult>((settle) => {
    let status: number | undefined;
    let done = false;
    // The outcome is decided once: by the status line when there is one, else by the error or the clock.
    function finish(result: Omit<DeliveryResult, 'durationMs'>) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      settle({ ...result, durationMs: elapsed() });
    }
    function answered() {
      if (status === undefined) return;
      if (status >= 200 && status < 300) finish({ ok: true, status });
      else if (status >= 300 && status < 400) {
        finish({ ok: false, status, error: `${hostname} answered ${status}; redirects are not followed.` });
      } else finish({ ok: false, status, error: `${hostname} answered ${status}.` });
    }

    const req: ClientRequest = send(url, options, (response: IncomingMessage) => {
      status = response.statusCode ?? 0;
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > responseCapBytes) answered();
      });
      response.on('end', answered);
      response.on('error', answered);
      response.on('close', answered);
    });
    req.on('error', (error) => {
      if (status !== undefined) answered();
      else finish({ ok: false, error: errorText(error, hostname) });
    });
    const timer = setTimeout(() => {
      if (status !== undefined) answered();
      else finish({ ok: false, error: `${hostname} did not answer within ${timeoutMs} ms.` });
    }, timeoutMs);
    req.end(body);
  });
  // request() throws at once on options Node refuses; that, too, is an attempt that failed.
  return attempt.catch((error: Error) => ({ ok: false, error: error.message, durationMs: elapsed() }));
};
