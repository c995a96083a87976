// Image type from the first bytes of a file (magic numbers), for the five photo formats Keepsake keeps.

/** The image types `sniffImageType` recognises. */
export type SniffedImageType = 'image/jpeg' | 'image/png' | 'image/heic' | 'image/webp' | 'image/gif';

/**
 * How many leading bytes `sniffImageType` needs to decide. Every signature fits in 12 bytes;
 * the rest lets it read the compatible brands of a HEIF `ftyp` box to tell AVIF (not accepted)
 * from HEIC when both use the generic `mif1`/`msf1` major brand.
 */
export const IMAGE_SNIFF_BYTES = 32;

/** ISO/IEC 23008-12 (HEIF) brands of HEIC/HEIF images and sequences. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1', 'heim', 'heis']);
/** Brands that are HEIF but not HEVC-coded: generic brands alone do not make a file HEIC. */
const GENERIC_BRANDS = new Set(['mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(head: Uint8Array, signature: readonly number[]): boolean {
  return head.length >= signature.length && signature.every((b, i) => head[i] === b);
}

/**
 * The image type named by the magic bytes at the start of `head`, or null when it is none of
 * the five. Pass at least IMAGE_SNIFF_BYTES bytes when the file is that long.
 * - JPEG: FF D8 FF (JFIF/Exif SOI marker followed by another marker).
 * - PNG: 89 50 4E 47 0D 0A 1A 0A (PNG spec §5.2).
 * - GIF: `GIF87a` or `GIF89a`.
 * - WebP: `RIFF` <size> `WEBP`.
 * - HEIC: an ISO-BMFF `ftyp` box at offset 4 whose major brand is one of HEIC_BRANDS; for the
 *   generic `mif1`/`msf1` it is refused when the compatible brands say AVIF and none says HEIC.
 */
export function sniffImageType(head: Uint8Array): SniffedImageType | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (head.length >= 6 && (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')) return 'image/gif';
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WEBP') return 'image/webp';
  if (head.length >= 12 && ascii(head, 4, 4) === 'ftyp') {
    const major = ascii(head, 8, 4);
    if (!HEIC_BRANDS.has(major)) return null;
    if (!GENERIC_BRANDS.has(major)) return 'image/heic';
    // ftyp box: size(4) 'ftyp'(4) major(4) minor_version(4) compatible_brands(4 each) up to size.
    const boxSize = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
    const end = Math.min(boxSize, head.length);
    let avif = false;
    for (let at = 16; at + 4 <= end; at += 4) {
      const brand = ascii(head, at, 4);
      if (HEIC_BRANDS.has(brand) && !GENERIC_BRANDS.has(brand)) return 'image/heic';
      if (AVIF_BRANDS.has(brand)) avif = true;
    }
    return avif ? null : 'image/heic';
  }
  return null;
}
