// A cache of prepared statements keyed by their SQL text.
import type Database from 'better-sqlite3';

/** Prepares each distinct SQL text once per connection and reuses it afterwards. */
export class StatementCache {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** The prepared statement for `sql`; always use `.get/.all/.run`, never `.pluck()`, on shared statements. */
  sql(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}
