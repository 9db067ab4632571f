/**
 * Image file -> float32 RGB pixels in [0,1] at the backbone's input size (sharp, squashed like Keras resize).
 * With the sha256 ingest recorded, the bytes are checked first: features are computed from exactly the image
 * the images table describes, or the stage stops.
 */
import sharp from 'sharp';
import { readImageBytes } from '@caption/core';

export async function decodeImage(file: string, size: number, expectedSha256?: string): Promise<Float32Array> {
  const { data } = await sharp(await readImageBytes(file, expectedSha256))
    .rotate() // honour EXIF orientation (ingest records it)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(size, size, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  return out;
}
