import { OpenApiGeneratorV31, OpenAPIRegistry, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  balanceBody,
  balanceResult,
  callIdParams,
  callVerification,
  createSessionBody,
  errorBody,
  sessionCanceled,
  sessionCreated,
  sessionIdParams,
  sessionPoll,
  statementSmsBody,
  statementSmsResult,
  terminalCallback,
} from './schemas.js';

/** Where the router is mounted; the document names full paths so integrators can paste them. */
export const API_BASE_PATH = '/api/v1';

const json = (schema: z.ZodType, description: string): ResponseConfig => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

const ERRORS = {
  BadRequest: 'The body or a parameter is invalid, or the Idempotency-Key is malformed.',
  Unauthorized: 'Missing or wrong credentials.',
  NotFound: 'No such session or call for this client.',
  Conflict: 'The request conflicts with the state of the call or session, or its Idempotency-Key is still in flight (`idempotency_in_flight`).',
  KeyReused: 'The Idempotency-Key was used for another request (`idempotency_key_reused`), or the code was not recognized.',
  TooMany: 'Rate limit reached: retry after `Retry-After` seconds.',
  Unavailable: 'A dependency (store, bank, SMS) is unavailable; retry later.',
  Internal: 'A fault on our side; the body says nothing more.',
} as const;

function buildRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'basicAuth', { type: 'http', scheme: 'basic', description: 'An API_CLIENTS `id:secret`.' });
  registry.registerComponent('securitySchemes', 'callToken', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The `callToken` of a confirmed session, for this call only.' });
  // The callback is ours to the client: what proves it is the HMAC header, so generators and linters see it as the webhook's security.
  registry.registerComponent('securitySchemes', 'callbackSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Vaultline-Signature',
    description: '`t=<unix>,v1=<hex HMAC-SHA256(client secret, t + "." + raw body)>`: check it, and that `t` is recent, before trusting the body.',
  });
  const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  registry.register('Error', errorBody);
  for (const [name, description] of Object.entries(ERRORS)) {
    registry.registerComponent('responses', name, {
      description,
      content: errorContent,
      ...(name === 'TooMany' ? { headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'Seconds to wait.' } } } : {}),
      ...(name === 'Unauthorized' ? { headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } } : {}),
    });
  }
  const idempotencyKey = registry.registerParameter(
    'IdempotencyKey',
    z.string().max(255).optional().openapi({
      param: { name: 'Idempotency-Key', in: 'header', description: 'Replays the stored answer of an earlier request with the same key and body (kept 24 h).' },
    }),
  );

  const basic = [{ basicAuth: [] }];
  const common = { 400: ref('BadRequest'), 401: ref('Unauthorized'), 429: ref('TooMany'), 500: ref('Internal'), 503: ref('Unavailable') };
  const post = (route: Omit<RouteConfig, 'method'>): RouteConfig => ({
    ...route,
    method: 'post',
    request: { ...route.request, headers: z.object({ 'Idempotency-Key': idempotencyKey }) },
    responses: { 409: ref('Conflict'), 422: ref('KeyReused'), ...common, ...route.responses },
  });

  registry.registerPath(
    post({
      path: `${API_BASE_PATH}/sessions`,
      operationId: 'createSession',
      summary: 'Open (or return) the verification session of a call and get the code to speak',
      security: basic,
      request: { body: { required: true, content: { 'application/json': { schema: createSessionBody } } } },
      responses: { 201: json(sessionCreated, 'A new session.'), 200: json(sessionCreated, 'The pending session of this call (same code).') },
    }),
  );
  registry.registerPath({
    method: 'get',
    path: `${API_BASE_PATH}/sessions/{sessionId}`,
    operationId: 'getSession',
    summary: 'Poll a session; `callToken` once confirmed',
    security: basic,
    request: { params: sessionIdParams },
    responses: { 200: json(sessionPoll, 'The session now.'), 404: ref('NotFound'), ...common },
  });
  registry.registerPath(
    post({
      path: `${API_BASE_PATH}/sessions/{sessionId}/cancel`,
      operationId: 'cancelSession',
      summary: 'Cancel a pending session; a terminal one stays as it is',
      security: basic,
      request: { params: sessionIdParams },
      responses: { 200: json(sessionCanceled, 'The status after the cancel.'), 404: ref('NotFound') },
    }),
  );
  registry.registerPath(
    post({
      path: `${API_BASE_PATH}/sessions/{sessionId}/reissue`,
      operationId: 'reissueSession',
      summary: 'Replace an expired session with a new one (new code), at most `maxReissues` times per call',
      security: basic,
      request: { params: sessionIdParams },
      responses: { 201: json(sessionCreated, 'The new session.'), 200: json(sessionCreated, 'A pending session already replaced it.'), 404: ref('NotFound') },
    }),
  );
  registry.registerPath(
    post({
      path: `${API_BASE_PATH}/calls/{callId}/end`,
      operationId: 'endCall',
      summary: 'The call is over: its pending session ends and its call token stops working',
      security: basic,
      request: { params: callIdParams },
      responses: { 204: { description: 'Ended (also when it already was).' }, 404: ref('NotFound') },
    }),
  );
  registry.registerPath({
    method: 'get',
    path: `${API_BASE_PATH}/calls/{callId}/verification`,
    operationId: 'getCallVerification',
    summary: 'Whether the call is verified now, and whether a late confirmation marked it recently verified (agent desktops)',
    security: basic,
    request: { params: callIdParams },
    responses: { 200: json(callVerification, 'The call now; a call unknown to this client is answered `verified: false`.'), ...common },
  });
  registry.registerPath(
    post({
      path: `${API_BASE_PATH}/balance`,
      operationId: 'getBalance',
      summary: 'Balance of one account of the verified caller',
      security: [{ callToken: [] }],
      request: { body: { required: true, content: { 'application/json': { schema: balanceBody } } } },
      responses: { 200: json(balanceResult, 'Ready to speak.'), 404: ref('NotFound') },
    }),
  );
  registry.registerPath(
    post({
      path: `${API_BASE_PATH}/statements/sms`,
      operationId: 'sendStatementSms',
      summary: 'Text a single-use statement link to the mobile on file',
      security: [{ callToken: [] }],
      request: { body: { required: true, content: { 'application/json': { schema: statementSmsBody } } } },
      responses: {
        200: json(statementSmsResult, 'Sent.'),
        404: ref('NotFound'),
        // A3/A5: the per-call cap is not a rate (waiting does not lift it), so it carries no Retry-After.
        429: {
          description: 'This call has had its 3 statement SMS (`sms_limit`, final for the call), or a rate limit was reached (`rate_limited`, with `Retry-After`).',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    }),
  );
  registry.registerWebhook({
    method: 'post',
    path: 'sessionTerminal',
    operationId: 'sessionTerminalCallback',
    summary: 'POSTed to a session\'s `callbackUrl` once it is terminal, signed in `X-Vaultline-Signature`.',
    security: [{ callbackSignature: [] }],
    request: { body: { required: true, content: { 'application/json': { schema: terminalCallback } } } },
    responses: { 200: { description: 'Any 2xx stops the retries.' } },
  });
  return registry;
}

/** The OpenAPI 3.1 document of the API, generated from the schemas the routes parse with. */
export function buildOpenApiDocument(opts: { serverUrl?: string } = {}) {
  const generator = new OpenApiGeneratorV31(buildRegistry().definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Vaultline provider-neutral verification API',
      version: '1.0.0',
      // Not an open-source API: integrators use it under their agreement with the bank.
      license: { name: 'Proprietary', identifier: 'LicenseRef-Vaultline-Proprietary' },
      description:
        'DID session proof for Genesys Cloud, NICE CXone, Five9 and agent desktops: open a session, speak its code, poll until it is terminal, then use the call token. Errors are `{ error, message }`; every answer is under 32 KB.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
  });
}
