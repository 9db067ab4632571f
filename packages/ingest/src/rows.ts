/** The rows the ingest stage produces (one Parquet table each). */
export type Split = 'train' | 'dev' | 'test' | 'none';

export interface CaptionRow {
  image_id: string;       // image file name, e.g. 1000268201_693b08cb0e.jpg
  caption_index: number;  // the #n of the caption id
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
}

export interface RejectRow {
  source: string;         // file the record came from, relative to the data set root
  record: number;         // 1-based line (or record) number in that file
  raw: string;            // the record as read
  reason: string;
}

/** What sharp and the file system say about one referenced image (null = no such file). */
export type ImageProbe =
  | { ok: true; sha256: string; width: number; height: number; format: string; bytes: number }
  | { ok: false; reason: string };
