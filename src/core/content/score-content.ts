// A game high score: which game, the score, when, and optionally who.
import type { ScoreContent } from '../../protocol/sync-protocol.js';
import { fail } from '../errors.js';
import { isRfc3339DateTime } from './date-time.js';
import { checkFields, describeType, stringField } from './object-fields.js';

/** Longest game or player name, in characters. */
export const MAX_SCORE_NAME = 200;

/**
 * Checks `content` is `{ game, score, achievedAt, player? }`: `game` a non-empty string of at
 * most 200 characters, `score` a finite number, `achievedAt` an RFC 3339 date-time, `player` a
 * string of at most 200 characters. Returns a clean copy.
 */
export function validateScore(content: unknown): ScoreContent {
  const record = checkFields(content, 'score', ['game', 'score', 'achievedAt'], ['player']);
  const game = stringField(record, 'score', 'game', { nonEmpty: true, maxLength: MAX_SCORE_NAME });
  const score = record.score;
  if (typeof score !== 'number' || !Number.isFinite(score)) {
    fail('invalid_content', `score field "score" must be a finite number; got ${describeType(score)}`, { field: 'score', expected: 'number' });
  }
  const achievedAt = stringField(record, 'score', 'achievedAt');
  if (!isRfc3339DateTime(achievedAt)) {
    fail('invalid_content', `score field "achievedAt" is "${achievedAt.slice(0, 80)}"; expected an ISO-8601 date-time with offset, e.g. 2024-05-01T12:30:00Z`, {
      field: 'achievedAt',
    });
  }
  const result: ScoreContent = { game, score, achievedAt };
  if (record.player !== undefined) result.player = stringField(record, 'score', 'player', { maxLength: MAX_SCORE_NAME });
  return result;
}
