/** Image file -> float32 RGB pixels in [0,1] at the backbone's input size (sharp, squashed like Keras resize). */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

export async function decodeImage(file: string, size: number): Promise<Float32Array> {
  const { data } = await sharp(await readFile(file))
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
