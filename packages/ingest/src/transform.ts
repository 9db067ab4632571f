/**
 * Pure ingest logic: a format's caption records + image probes -> the three tables. Every record read
 * ends up kept or in `rejects` with a reason, and the counts in the manifest add up.
 */
import { ESCAPES, isContainedPath, seededSplit } from './split.ts';
import type { CaptionRow, CaptionSource, ImageProbe, ImageRow, RejectRow, Split } from './rows.ts';

export interface IngestInputs {
  source: CaptionSource;
  probes: Map<string, ImageProbe>;       // image path -> probe, for every contained path the records name
  unreferencedFiles: string[];           // image files (relative paths) in the image folders that no record names
  splitSeed: number;
  splitFractions: { train: number; dev: number; test: number };
}

export interface IngestTables {
  images: ImageRow[];
  captions: CaptionRow[];
  rejects: RejectRow[];
  counts: Record<string, number>;
}


export function assembleTables({ source, probes, unreferencedFiles, splitSeed, splitFractions }: IngestInputs): IngestTables {
  const captionRejects = [...source.rejects];
  const kept: (CaptionRow & { path: string })[] = [];
  for (const { record, raw, source: file, path, ...c } of source.captions) {
    const probe = isContainedPath(path) ? probes.get(path) : { ok: false as const, reason: ESCAPES };
    if (!probe || !probe.ok) {
      captionRejects.push({ source: file, record, raw, reason: probe?.reason ?? 'image file missing', detail: probe?.detail });
      continue;
    }
    kept.push({ ...c, path, split: 'none' });
  }

  const pathOf = new Map(kept.map((c) => [c.image_id, c.path]));
  const splitOf: Map<string, Split> = source.splitOf ?? seededSplit(pathOf.keys(), splitFractions, splitSeed);
  const captions: CaptionRow[] = kept
    .map(({ path: _p, ...c }) => ({ ...c, split: splitOf.get(c.image_id) ?? 'none' }))
    .sort((a, b) => (a.image_id < b.image_id ? -1 : a.image_id > b.image_id ? 1 : a.caption_index - b.caption_index));
  const images: ImageRow[] = [...pathOf].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, path]) => {
    const { ok: _ok, ...facts } = probes.get(path) as Extract<ImageProbe, { ok: true }>;
    return { image_id: id, path, split: splitOf.get(id) ?? 'none', ...facts };
  });

  // Images without any caption record: listed by the format (COCO, Karpathy) or found in the image folders.
  const named = new Set(source.captions.map((c) => c.image_id));
  const imageRejects: RejectRow[] = [
    ...source.listedImages.filter((i) => !named.has(i.image_id))
      .map((i) => ({ source: i.source, record: i.record, raw: i.path, reason: 'image with no caption' })),
    ...unreferencedFiles.map((f) => ({ source: f, record: 0, raw: f, reason: 'image with no caption' })),
  ];
  const rejects = [...captionRejects, ...source.splitRejects, ...imageRejects];

  const counts: Record<string, number> = {
    caption_records: source.recordsRead,
    captions_kept: captions.length,
    captions_rejected: captionRejects.length,
    split_records: source.splitRecordsRead,
    split_records_rejected: source.splitRejects.length,
    images_listed: source.listedImages.length,
    images_without_caption: imageRejects.length,
    images: images.length,
  };
  for (const split of ['train', 'dev', 'test', 'none'] as const) counts[`images_${split}`] = images.filter((i) => i.split === split).length;
  for (const r of rejects) counts[`rejected: ${r.reason}`] = (counts[`rejected: ${r.reason}`] ?? 0) + 1;
  return { images, captions, rejects, counts };
}
