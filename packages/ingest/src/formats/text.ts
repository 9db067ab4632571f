/** Text decoding that never drops a line: each line is strict UTF-8 or reported as not. */

export interface TextLine {
  record: number;         // 1-based line number
  text: string;           // decoded text (with U+FFFD replacements when not valid UTF-8)
  utf8: boolean;          // false: the raw bytes are not valid UTF-8
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** Split bytes on \n (a trailing \r is dropped); blank lines are returned too, callers skip them. */
export function decodeLines(bytes: Uint8Array): TextLine[] {
  const lines: TextLine[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // BOM
  for (let i = start; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    let end = i;
    if (end > start && bytes[end - 1] === 0x0d) end--;
    const slice = bytes.subarray(start, end);
    if (!(i === bytes.length && slice.length === 0)) {
      let text: string;
      let utf8 = true;
      try {
        text = strict.decode(slice);
      } catch {
        text = lenient.decode(slice);
        utf8 = false;
      }
      lines.push({ record: lines.length + 1, text, utf8 });
    }
    start = i + 1;
  }
  return lines;
}

/** Whole-file strict decode (for JSON formats, where records cannot be separated from bad bytes). */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new Error(`${file} is not valid UTF-8`);
  }
}
