/** The rows the ingest stage produces (one Parquet table each), and what format readers hand to it. */
export type Split = 'train' | 'dev' | 'test' | 'none';
export const SPLITS = ['train', 'dev', 'test'] as const;

export interface CaptionRow {
  image_id: string;       // image file name, e.g. 1000268201_693b08cb0e.jpg
  caption_index: number;  // the caption's number for its image (#n, or position in the file)
  caption: string;        // raw caption text (tokenize normalises it)
  split: Split;
}

export interface ImageRow {
  image_id: string;
  path: string;           // relative to the data set root
  split: Split;
  sha256: string;
  width: number;
  height: number;
  format: string;         // as sharp reports it: jpeg, png, webp ...
  bytes: number;
  orientation: number;    // EXIF orientation 1-8 (1 when absent); features auto-rotate by it
}

export interface RejectRow {
  source: string;         // file the record came from, relative to the data set root
  record: number;         // 1-based line (or record) number in that file; 0 for a whole file
  raw: string;            // the record as read
  reason: string;         // one of a fixed set of reasons (counted per reason in the manifest)
  detail?: string;        // e.g. the decoder's message for a corrupt image
}

/** One caption as a format reader found it, before images are checked. */
export interface CaptionRecord {
  image_id: string;
  path: string;           // image path relative to the data set root, as the record names it
  caption_index: number;
  caption: string;
  source: string;
  record: number;
  raw: string;
}

/** What a format reader extracts from a data set's text files (no image is opened yet). */
export interface CaptionSource {
  format: string;
  captions: CaptionRecord[];            // records that parsed
  rejects: RejectRow[];                 // caption records rejected while parsing
  recordsRead: number;                  // caption records read = captions + rejects (+ later image rejects)
  splitOf?: Map<string, Split>;         // image_id -> split, when the format says (else a seeded split)
  splitRecordsRead: number;             // split-list entries read
  splitRejects: RejectRow[];            // split-list entries rejected
  imageDirs: string[];                  // folders holding the images: files there without captions are reported
  listedImages: { image_id: string; path: string; source: string; record: number }[]; // images a format lists explicitly (COCO, Karpathy)
}

/** What sharp and the file system say about one referenced image. */
export type ImageProbe =
  | { ok: true; sha256: string; width: number; height: number; format: string; bytes: number; orientation: number }
  | { ok: false; reason: string; detail?: string };
