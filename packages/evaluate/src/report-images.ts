/**
 * The pictures report.html embeds, as data: URIs (the page makes no requests): small JPEG thumbnails and
 * per-word attention panels. Fixed sizes and quality, so the same inputs give the same bytes.
 */
import sharp from 'sharp';
import { readImageBytes, type Vocabulary } from '@caption/core';
import { attentionGrid, attentionPanels } from './attention-overlay.ts';
import type { ImageFile } from './image-files.ts';
import { extremeImages } from './report-html.ts';
import type { EvaluationReport } from './transform.ts';
import { type DecodedCaption } from '@caption/model';

const THUMBNAIL = 224;   // longest side, px
const PANEL = 112;       // attention panel side, px
const QUALITY = 75;

const dataUri = (jpeg: Buffer) => `data:image/jpeg;base64,${jpeg.toString('base64')}`;

/** The image's bytes (checked against its recorded sha256), or undefined when there is no such file. */
async function imageBytes(image: ImageFile | undefined): Promise<Buffer | undefined> {
  if (!image) return undefined;
  try {
    return Buffer.from(await readImageBytes(image.file, image.sha256));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A thumbnail of the image, or undefined when the file is missing or not an image. */
export async function thumbnailUri(image: ImageFile | undefined): Promise<string | undefined> {
  const bytes = await imageBytes(image);
  if (!bytes) return undefined;
  try {
    return dataUri(await sharp(bytes).rotate().resize(THUMBNAIL, THUMBNAIL, { fit: 'inside' }).removeAlpha()
      .jpeg({ quality: QUALITY }).toBuffer());
  } catch {
    return undefined;
  }
}

/** One panel per word: the image with that word's attention blended over it. */
export async function attentionUris(
  image: ImageFile | undefined, words: string[], attention: Float32Array[], grid: [number, number],
): Promise<{ word: string; uri: string }[]> {
  const bytes = words.length ? await imageBytes(image) : undefined;
  if (!bytes) return [];
  const panels = await attentionPanels(bytes, words, attention, grid, { size: PANEL, format: 'jpeg', quality: QUALITY });
  return panels.map((jpeg, i) => ({ word: words[i], uri: dataUri(jpeg) }));
}

/**
 * Everything report.html pictures: thumbnails of the gallery and the best/worst images, and per-word attention
 * panels for the gallery when the decoder has attention. A missing image file shows as missing, not as an error.
 */
export async function reportPictures(
  files: Map<string, ImageFile>, report: EvaluationReport, decoded: Map<string, DecodedCaption>, vocabulary: Vocabulary, positions: number,
) {
  const gallery = report.samples.map((s) => s.image_id);
  const { best, worst } = extremeImages(report);
  const thumbnails = new Map<string, string>();
  for (const id of [...new Set([...gallery, ...best, ...worst])].sort()) {
    const uri = await thumbnailUri(files.get(id));
    if (uri) thumbnails.set(id, uri);
  }
  const attention = new Map<string, { word: string; uri: string }[]>();
  for (const id of gallery) {
    const d = decoded.get(id);
    if (!d?.attention) continue;
    const words = Array.from(d.tokens, (t) => vocabulary.tokens[t] ?? '<unk>');
    attention.set(id, await attentionUris(files.get(id), words, d.attention, attentionGrid(positions)));
  }
  return { thumbnails, attention };
}
