// Safe file names inside export zips: sanitising names we write and refusing unsafe names we read.

/** Longest single path segment we write, in UTF-16 units (file systems allow 255 bytes). */
const MAX_SEGMENT = 120;

// Windows device names: a file called `CON.md` cannot be created there.
const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * One path segment made safe to create on Linux, macOS and Windows: control characters, path
 * separators and `<>:"|?*` become `_`, leading/trailing dots and spaces go, and `''`, `.`, `..`
 * and device names are replaced. Long names are cut, keeping a short extension.
 */
export function safeSegment(name: string, fallback = '_'): string {
  let s = name
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\<>:"|?*]/gu, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  if (s === '') s = fallback;
  if (RESERVED.test(s)) s = '_' + s;
  if (s.length > MAX_SEGMENT) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : '';
    s = [...s.slice(0, MAX_SEGMENT - ext.length)].join('').replace(/[\uD800-\uDBFF]$/, '') + ext;
  }
  return s;
}

/** Hands out names unique within one directory (case-insensitively, for macOS and Windows): `a.jpg`, `a (2).jpg`, … */
export class UniqueNames {
  private readonly used = new Set<string>();

  /** `name` must already be a safe segment. */
  take(name: string): string {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; this.used.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    this.used.add(candidate.toLowerCase());
    return candidate;
  }

  /** True when a later `take` must avoid `name` (used to keep sidecars from clashing). */
  has(name: string): boolean {
    return this.used.has(name.toLowerCase());
  }

  reserve(name: string): void {
    this.used.add(name.toLowerCase());
  }
}

/**
 * Why a path read from a zip is unsafe to use, or null when it is fine: absolute paths, drive
 * letters, backslashes, `.`/`..` segments, empty segments and control characters are refused,
 * whatever the reader would do with them (zip-slip).
 */
export function unsafeZipPath(path: string): string | null {
  if (path === '') return 'empty name';
  if (/[\p{Cc}]/u.test(path)) return 'control character in name';
  if (path.includes('\\')) return 'backslash in name';
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return 'absolute path';
  const segments = path.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) return '".." segment';
  if (segments.some((s) => s === '.' || s === '')) return 'empty or "." segment';
  return null;
}
