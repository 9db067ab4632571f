/**
 * Pure ingest logic: parsed caption records + split lists + image probes -> the three tables.
 * Every caption record ends up either in `captions` or in `rejects`, so the counts always add up.
 */
import type { ParsedCaptions } from './flickr8k.ts';
import type { CaptionRow, ImageProbe, ImageRow, RejectRow, Split } from './rows.ts';

export interface IngestInputs {
  parsed: ParsedCaptions;
  splitOf: Map<string, Split>;
  imageDir: string;                      // relative to the data set root
  probes: Map<string, ImageProbe>;       // image_id -> probe, for every image the captions name
  unreferenced: string[];                // image files in imageDir that no caption names
}

export interface IngestTables {
  images: ImageRow[];
  captions: CaptionRow[];
  rejects: RejectRow[];
  counts: Record<string, number>;
}

export function assembleTables({ parsed, splitOf, imageDir, probes, unreferenced }: IngestInputs): IngestTables {
  const rejects = [...parsed.rejects];
  const captions: CaptionRow[] = [];
  const imageIds = new Set<string>();
  for (const { record, raw, ...c } of parsed.captions) {
    const probe = probes.get(c.image_id);
    if (!probe || !probe.ok) {
      const reason = probe && !probe.ok ? probe.reason : 'image file missing';
      rejects.push({ source: parsed.source, record, raw, reason });
      continue;
    }
    imageIds.add(c.image_id);
    captions.push({ ...c, split: splitOf.get(c.image_id) ?? 'none' });
  }
  for (const file of unreferenced) {
    rejects.push({ source: `${imageDir}/${file}`, record: 0, raw: file, reason: 'image with no caption' });
  }

  const images: ImageRow[] = [...imageIds].sort().map((id) => {
    const p = probes.get(id) as Extract<ImageProbe, { ok: true }>;
    const { ok: _ok, ...facts } = p;
    return { image_id: id, path: `${imageDir}/${id}`, split: splitOf.get(id) ?? 'none', ...facts };
  });
  captions.sort((a, b) => (a.image_id < b.image_id ? -1 : a.image_id > b.image_id ? 1 : a.caption_index - b.caption_index));

  const counts: Record<string, number> = {
    records_read: parsed.linesRead,
    captions_kept: captions.length,
    captions_rejected: rejects.filter((r) => r.source === parsed.source).length,
    images: images.length,
  };
  for (const split of ['train', 'dev', 'test', 'none'] as const) {
    counts[`images_${split}`] = images.filter((i) => i.split === split).length;
  }
  for (const r of rejects) counts[`rejected: ${r.reason}`] = (counts[`rejected: ${r.reason}`] ?? 0) + 1;
  return { images, captions, rejects, counts };
}
