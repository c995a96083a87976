// Account writes for PostgreSQL that need a transaction of their own: a user with its default collections.
import type pg from 'pg';
import { EMPTY_DIGEST } from '../../core/digest.js';
import { KeepsakeError } from '../../core/errors.js';
import type { NewCollection, User } from '../../core/model.js';
import { toStoreError, violatedConstraint } from './pg-errors.js';

/** Creates the user and its collections in one transaction; a taken name is `user_exists`. */
export async function createUserRows(pool: pg.Pool, user: User, collections: NewCollection[]): Promise<User> {
  const client = await pool.connect().catch((e) => Promise.reject(toStoreError(e)));
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO users (id, name, password_hash, admin, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [user.id, user.name, user.passwordHash, user.admin, user.createdAt, user.deletedAt],
    );
    for (const c of collections) {
      await client.query(
        `INSERT INTO collections (user_id, id, kind, name, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [user.id, c.id, c.kind, c.name, EMPTY_DIGEST, user.createdAt],
      );
    }
    await client.query('COMMIT');
    return { ...user };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (violatedConstraint(e, '23505') === 'users_name_key') {
      throw new KeepsakeError('user_exists', `a user named "${user.name}" already exists`);
    }
    if (violatedConstraint(e, '23505') === 'collections_pkey') {
      throw new KeepsakeError('collection_exists', 'the same collection id is listed twice');
    }
    throw toStoreError(e);
  } finally {
    client.release();
  }
}
