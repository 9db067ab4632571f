/**
 * Images: the one list of formats the product reads (ingest keeps, features decodes and predict captions
 * exactly these), recognising a format by its first bytes, and reading a data set's image checked against the
 * sha256 ingest recorded for it, so every later stage works on exactly the image ingest described (a data set
 * edited after ingest stops the stage instead of mixing old rows with new pixels).
 *
 * JPEG, PNG and WebP: what photo data sets (Flickr, COCO) and cameras and browsers produce, and what sharp's
 * prebuilt libvips decodes the same way on every platform. Not GIF (a 256-colour palette, often animated: which
 * frame is the image?), nor TIFF, AVIF/HEIF, BMP or SVG (rare for photos; a conversion is a one-liner).
 */
import { readFile } from 'node:fs/promises';
import { PipelineError } from '../errors.ts';
import { sha256 } from '../hash.ts';
import { displayPath } from './verify.ts';

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp'] as const;
export const IMAGE_FORMAT_NAMES = 'JPEG, PNG, WebP';
export const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp)$/i;
export const isSupportedFormat = (format: string) => (IMAGE_FORMATS as readonly string[]).includes(format);

/** The image format the first bytes announce (supported or not), or undefined when they are no image's. */
export function sniffImageFormat(bytes: Uint8Array): string | undefined {
  const at = (offset: number, ...values: number[]) => values.every((v, i) => bytes[offset + i] === v);
  const ascii = (offset: number, text: string) => at(offset, ...[...text].map((c) => c.charCodeAt(0)));
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(4, 'ftyp')) return ascii(8, 'avif') || ascii(8, 'avis') ? 'avif' : 'heif';
  return undefined;
}

export async function readImageBytes(file: string, expectedSha256?: string): Promise<Uint8Array> {
  const bytes = await readFile(file);
  if (expectedSha256 !== undefined) {
    const found = sha256(bytes);
    if (found !== expectedSha256) {
      throw new PipelineError('input', `image changed since ingest: ${displayPath(file)}: sha256 ${found} != ${expectedSha256} (images.parquet); ` +
        '`caption run` fingerprints the data set again and re-runs ingest');
    }
  }
  return bytes;
}
