// Accounts and device tokens: creating users, checking passwords and tokens, rate limits.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fail, KeepsakeError } from '../errors.js';
import { checkUserName } from '../ids.js';
import { defaultCollections } from '../kinds.js';
import type { DeviceToken, User } from '../model.js';
import { type Clock, isoNow } from '../ports/clock.js';
import type { RecordStore } from '../ports/record-store.js';
import { LoginLimiter, type LoginLimits } from './login-limiter.js';
import { hashPassword, verifyPassword } from './password.js';
import type { RestoreTracker } from '../restore/restore-tracker.js';

const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;
/** How long a token's last-use time may lag; avoids a write on every request. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * How long a verified token is trusted without asking the store again. Revocations and account
 * changes made through this process take effect at once (the cache is cleared); made by another
 * process on a shared PostgreSQL store, within this time.
 */
const TOKEN_CACHE_MS = 5_000;
const TOKEN_CACHE_MAX = 50_000;

export const TOKEN_PREFIX = 'ks_';

/** The public view of a user (no password hash). */
export interface UserView {
  id: string;
  name: string;
  admin: boolean;
  createdAt: string;
  deletedAt: string | null;
}

/** The public view of a device token (never the token itself). */
export interface DeviceView {
  id: string;
  device: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export function userView(u: User): UserView {
  return { id: u.id, name: u.name, admin: u.admin, createdAt: u.createdAt, deletedAt: u.deletedAt };
}

function deviceView(t: DeviceToken): DeviceView {
  return { id: t.id, device: t.device, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt };
}

function tokenHash(token: string): string {
  // Tokens are 256 random bits, so a plain SHA-256 is as good as a slow hash here.
  return createHash('sha256').update(token).digest('hex');
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    fail('invalid_request', `password must be a string of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`, { field: 'password' });
  }
  return password;
}

export class AccountService {
  private readonly limiter: LoginLimiter;
  private readonly touched = new Map<string, number>();
  private readonly verified = new Map<string, { user: User; token: DeviceToken; at: number }>();
  private generation = 0;

  constructor(
    private readonly store: RecordStore,
    private readonly clock: Clock,
    loginLimits?: LoginLimits,
    /** While an online restore brings accounts back, failed logins answer `restoring`, not `unauthorized`. */
    private readonly restores?: RestoreTracker,
  ) {
    this.limiter = new LoginLimiter(clock, loginLimits);
  }

  async addUser(name: unknown, password: unknown, options: { admin?: boolean } = {}): Promise<UserView> {
    const user: User = {
      id: randomUUID(),
      name: checkUserName(name),
      passwordHash: await hashPassword(checkPassword(password)),
      admin: options.admin ?? false,
      createdAt: isoNow(this.clock),
      deletedAt: null,
    };
    return userView(await this.store.createUser(user, defaultCollections()));
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.store.listUsers()).map(userView);
  }

  /** Finds a user by name (including soft-deleted); throws `user_not_found`. */
  async requireUser(name: string): Promise<User> {
    const u = await this.store.findUserByName(name);
    if (!u) fail('user_not_found', `no user named "${name}"`);
    return u;
  }

  /**
   * Counts account changes made through this service (passwords, admin rights, deletions, token
   * revocations). A cache of verified credentials outside this service (DAV's, see dav-request.ts)
   * keeps the value it saw before verifying and trusts an entry only while it is unchanged.
   */
  get credentialGeneration(): number {
    return this.generation;
  }

  /**
   * Drops every verified credential. Called before a change (so no request trusts a cached entry
   * while it runs) and again once it is stored (so nothing verified against the old rows while
   * it ran is trusted either).
   */
  private forgetVerified(): void {
    this.verified.clear();
    this.generation++;
  }

  async setPassword(name: string, password: unknown): Promise<UserView> {
    this.forgetVerified();
    try {
      const u = await this.requireUser(name);
      return userView(await this.store.updateUser(u.id, { passwordHash: await hashPassword(checkPassword(password)) }));
    } finally {
      this.forgetVerified();
    }
  }

  async setAdmin(name: string, admin: boolean): Promise<UserView> {
    this.forgetVerified();
    try {
      const u = await this.requireUser(name);
      return userView(await this.store.updateUser(u.id, { admin }));
    } finally {
      this.forgetVerified();
    }
  }

  /** Soft delete: the account stops working at once and its devices are signed out; data stays for the retention window. */
  async deleteUser(name: string): Promise<UserView> {
    this.forgetVerified();
    try {
      const u = await this.requireUser(name);
      if (u.deletedAt) return userView(u);
      for (const t of await this.store.listTokens(u.id)) await this.store.deleteToken(u.id, t.id);
      return userView(await this.store.updateUser(u.id, { deletedAt: isoNow(this.clock) }));
    } finally {
      this.forgetVerified();
    }
  }

  /** Undoes a soft delete. */
  async undeleteUser(name: string): Promise<UserView> {
    this.forgetVerified();
    try {
      const u = await this.requireUser(name);
      return userView(await this.store.updateUser(u.id, { deletedAt: null }));
    } finally {
      this.forgetVerified();
    }
  }

  /**
   * Purges accounts soft-deleted before `deletedBefore` (now minus the retention window): every
   * row they own goes, and their names become free. Returns the names purged.
   */
  async purgeDeletedAccounts(deletedBefore: string): Promise<string[]> {
    const purged: string[] = [];
    for (const u of await this.store.listUsers()) {
      if (u.deletedAt === null || !(u.deletedAt < deletedBefore)) continue;
      if (await this.store.purgeDeletedUser(u.id, deletedBefore)) purged.push(u.name);
    }
    if (purged.length) this.forgetVerified();
    return purged;
  }

  /**
   * Checks a name and password. Throws `rate_limited` (details.retryAfter seconds) after too many
   * failures, `unauthorized` for a wrong name or password or a deleted account; the message
   * never says which.
   */
  async authenticatePassword(name: string, password: string, address: string): Promise<User> {
    const wait = this.limiter.retryAfter(name, address);
    if (wait > 0) fail('rate_limited', `too many failed logins; retry in ${wait} s`, { retryAfter: wait });
    const u = await this.store.findUserByName(name);
    // Hash even for unknown users so response time does not reveal which names exist.
    const ok = await verifyPassword(password, u?.passwordHash ?? DUMMY_HASH);
    if (!u) this.restores?.requireAccountsBack();
    if (!u || !ok || u.deletedAt) {
      this.limiter.recordFailure(name, address);
      fail('unauthorized', 'wrong user name or password');
    }
    this.limiter.recordSuccess(name, address);
    return u;
  }

  /** Issues a device token; the token text is returned once and only its hash is stored. */
  async issueToken(user: User, device: unknown): Promise<{ token: string; device: DeviceView }> {
    if (typeof device !== 'string' || device.trim() === '' || device.length > 200) {
      fail('invalid_request', 'device must be a non-empty string of at most 200 characters', { field: 'device' });
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const t: DeviceToken = {
      id: randomUUID(),
      userId: user.id,
      device,
      tokenHash: tokenHash(token),
      createdAt: isoNow(this.clock),
      lastUsedAt: null,
    };
    await this.store.createToken(t);
    return { token, device: deviceView(t) };
  }

  /** Resolves a bearer token to its live user and token; throws `unauthorized`. */
  async authenticateToken(token: string): Promise<{ user: User; token: DeviceToken }> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) fail('unauthorized', 'invalid token');
    const hash = tokenHash(token);
    const now = this.clock.now();
    const cached = this.verified.get(hash);
    if (cached && now - cached.at < TOKEN_CACHE_MS) return { user: cached.user, token: cached.token };
    // Cached only if no account change ran meanwhile: a revocation racing with this lookup could
    // otherwise leave the token it removed trusted for TOKEN_CACHE_MS.
    const generation = this.generation;
    const t = await this.store.findTokenByHash(hash);
    if (!t) this.restores?.requireAccountsBack();
    if (!t) fail('unauthorized', 'invalid or revoked token');
    const user = await this.store.getUser(t.userId);
    if (!user || user.deletedAt) fail('unauthorized', 'invalid or revoked token');
    if (this.verified.size >= TOKEN_CACHE_MAX) this.verified.clear();
    if (generation === this.generation) this.verified.set(hash, { user, token: t, at: now });
    if (now - (this.touched.get(t.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.touched.set(t.id, now);
      await this.store.touchToken(t.id, new Date(now).toISOString()).catch(() => {});
    }
    return { user, token: t };
  }

  async listDevices(user: User): Promise<DeviceView[]> {
    return (await this.store.listTokens(user.id)).map(deviceView);
  }

  async revokeDevice(user: User, tokenId: string): Promise<void> {
    this.forgetVerified();
    try {
      if (!(await this.store.deleteToken(user.id, tokenId))) {
        throw new KeepsakeError('not_found', `no device token ${tokenId.slice(0, 64)} for this user`);
      }
    } finally {
      this.forgetVerified();
    }
  }
}

/** A valid hash of a random password, compared against when the user does not exist. */
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
