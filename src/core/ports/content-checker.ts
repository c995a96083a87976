// Port: validating and canonicalising the content of many items at once, possibly on other threads.
import { type CanonicalContent, canonicalizeContent, type ContentLimits } from '../content/validate-content.js';
import { isKeepsakeError, KeepsakeError } from '../errors.js';
import type { Kind } from '../kinds.js';

/** One item's content as a client sent it. */
export interface ContentToCheck {
  kind: Kind;
  id: string;
  content: unknown;
}

/** What `canonicalizeContent` returned for an item, or the KeepsakeError it threw. */
export type CheckedContent = { ok: true; value: CanonicalContent } | { ok: false; error: KeepsakeError };

/**
 * Checks a batch of items' content. Implementations must give exactly the results (values,
 * error codes and messages) that `checkContentInline` gives, in input order; they may only
 * differ in where the work runs.
 */
export interface ContentChecker {
  checkAll(items: ContentToCheck[], limits: ContentLimits): Promise<CheckedContent[]>;
  close(): Promise<void>;
}

/** The reference: every item on the calling thread. */
export function checkContentInline(items: ContentToCheck[], limits: ContentLimits): CheckedContent[] {
  return items.map((it): CheckedContent => {
    try {
      return { ok: true, value: canonicalizeContent(it.kind, it.id, it.content, limits) };
    } catch (e) {
      return { ok: false, error: isKeepsakeError(e) ? e : new KeepsakeError('internal', `checking content failed: ${e instanceof Error ? e.message : String(e)}`) };
    }
  });
}

export const inlineContentChecker: ContentChecker = {
  async checkAll(items, limits) {
    return checkContentInline(items, limits);
  },
  async close() {},
};
