// Orders a multi-user restore: every user's first-priority category before anyone's next one.
import { fail } from '../errors.js';
import { checkKind, KINDS, type Kind } from '../kinds.js';

/** The default priority: what people need first after a disaster. */
export const DEFAULT_PRIORITY: readonly Kind[] = ['contacts', 'calendar', 'notes', 'tasks', 'photos', 'scores'];

export interface RestoreTask {
  userId: string;
  kind: Kind;
  /** Live items the backup recorded for this user's collections of this kind. */
  items: number;
}

/** Parses `contacts,calendar,…`; kinds left out keep their default order after the named ones. */
export function parsePriority(text: string | undefined): Kind[] {
  if (!text) return [...DEFAULT_PRIORITY];
  const named = text.split(',').map((s) => s.trim()).filter(Boolean).map(checkKind);
  if (new Set(named).size !== named.length) fail('invalid_request', `--priority names a kind twice: ${text}`);
  return [...named, ...DEFAULT_PRIORITY.filter((k) => !named.includes(k))];
}

/** Parses `--category a,b`; all kinds when empty. */
export function parseCategories(text: string | undefined): Kind[] {
  if (!text) return [...KINDS];
  return [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean).map(checkKind))];
}

/**
 * Tasks in restore order: by the kind's place in `priority`, then by user, so all contacts are back
 * before any photos. Kinds outside `categories` are left out.
 */
export function orderTasks(tasks: RestoreTask[], priority: readonly Kind[], categories: readonly Kind[]): RestoreTask[] {
  return tasks
    .filter((t) => categories.includes(t.kind))
    .sort((a, b) => priority.indexOf(a.kind) - priority.indexOf(b.kind) || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}
