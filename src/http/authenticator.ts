import express, { Router } from 'express';
import { sourceIpOf } from '../audit/http-actor.js';
import { AppError } from '../shared/errors.js';
import type { ConfirmAnswer, ConfirmContext } from '../verification/confirm.js';

/**
 * DESIGN A4: `POST /authenticator/v1/confirmations`, body = a compact JWS (`application/jose`).
 * The use case decides 200/401/409/422/429; this file only reads the body.
 */
export function createAuthenticatorRouter(deps: { confirm: (jws: string, context: ConfirmContext) => Promise<ConfirmAnswer> }): Router {
  const router = Router();
  router.post(
    '/confirmations',
    express.text({ type: ['application/jose', 'application/jwt', 'text/plain'], limit: '8kb' }),
    async (req, res) => {
      const body = typeof req.body === 'string' ? req.body.trim() : '';
      if (!req.is(['application/jose', 'application/jwt', 'text/plain'])) {
        throw new AppError('bad_request', 'Send the confirmation as a compact JWS with Content-Type: application/jose.');
      }
      if (!body) throw new AppError('invalid_signature', 'The confirmation could not be verified.');
      res.status(200).json(await deps.confirm(body, { sourceIp: sourceIpOf(req) }));
    },
  );
  return router;
}
