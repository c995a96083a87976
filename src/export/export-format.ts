// The Keepsake export zip format: layout, manifest and data-line types shared by export and import.
import type { Kind } from '../core/model.js';

/** Written as `format` in manifest.json; an import refuses any other value. */
export const EXPORT_FORMAT = 'keepsake-export';
/** Bumped for incompatible layout changes; import reads every version up to this one. */
export const EXPORT_FORMAT_VERSION = 1;

/**
 * One collection in manifest.json. `count` and `digest` are computed from the items actually
 * written (core/digest.ts), so an importer can check it restored exactly what was exported.
 */
export interface ManifestCollection {
  id: string;
  kind: Kind;
  name: string;
  count: number;
  digest: string;
  /** Directory-safe form of `id` used in every path of this collection. */
  dir: string;
  /** Human-readable files: the .vcf/.ics/scores JSON, or the folder of notes/photos. */
  files: string[];
  /** The exact data, in order: JSON Lines, one `DataLine` per live item. */
  data: string[];
}

/** One item in manifest.json. */
export interface ManifestItem {
  collection: string;
  id: string;
  version: number;
  hash: string;
  /** Where a person finds the item: the .vcf/.ics/.json it is in, the note's .md or the photo file. */
  path: string;
  /** The data file holding the item's exact stored text. */
  data: string;
}

/** Something the export could not include in full (a missing or damaged photo blob). */
export interface ManifestProblem {
  collection: string;
  item: string;
  blob?: string;
  problem: string;
}

export interface Manifest {
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  exportedAt: string;
  user: string;
  server: { id: string; epoch: number };
  collections: ManifestCollection[];
  items: ManifestItem[];
  problems: ManifestProblem[];
}

/**
 * One line of a `data/…/NNNNN.jsonl` file: the item exactly as stored. `content` is the stored
 * text (vCard/iCalendar as sent, canonical JSON for notes, photos and scores), so importing it
 * yields the same hash. For photos `path` is the file holding the blob's bytes.
 */
export interface DataLine {
  id: string;
  version: number;
  hash: string;
  modified: string;
  content: string;
  path: string;
}
