// Authentication for the HTTP API: Basic (account password) to get tokens, Bearer for the rest.
import type { FastifyRequest } from 'fastify';
import type { AccountService } from '../core/accounts/account-service.js';
import { fail } from '../core/errors.js';
import type { DeviceToken, User } from '../core/model.js';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
    device?: DeviceToken;
  }
}

/** Parses `Authorization: Basic …` into name and password, or null. */
export function parseBasic(header: string | undefined): { name: string; password: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return null;
  return { name: text.slice(0, i), password: text.slice(i + 1) };
}

function parseBearer(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : null;
}

/** Pre-handlers that set `request.user`, or throw `unauthorized` / `forbidden`. */
export function authHooks(accounts: AccountService) {
  return {
    async basic(request: FastifyRequest): Promise<void> {
      const creds = parseBasic(request.headers.authorization);
      if (!creds) fail('unauthorized', 'send the account name and password with HTTP Basic authentication');
      request.user = await accounts.authenticatePassword(creds.name, creds.password, request.ip);
    },
    async bearer(request: FastifyRequest): Promise<void> {
      const token = parseBearer(request.headers.authorization);
      if (!token) fail('unauthorized', 'send a device token as "Authorization: Bearer <token>" (POST /api/v1/tokens issues one)');
      const { user, token: device } = await accounts.authenticateToken(token);
      request.user = user;
      request.device = device;
    },
    async admin(request: FastifyRequest): Promise<void> {
      const token = parseBearer(request.headers.authorization);
      if (!token) fail('unauthorized', 'send an admin device token as "Authorization: Bearer <token>"');
      const { user, token: device } = await accounts.authenticateToken(token);
      if (!user.admin) fail('forbidden', 'this endpoint is for administrators');
      request.user = user;
      request.device = device;
    },
  };
}

export type AuthHooks = ReturnType<typeof authHooks>;

/** The authenticated user of a request behind an auth hook. */
export function userOf(request: FastifyRequest): User {
  if (!request.user) fail('unauthorized', 'not authenticated');
  return request.user;
}
