/**
 * Caption text as coco-caption scores it: pycocoevalcap's PTBTokenizer runs Stanford's PTBTokenizer
 * (`-preserveLines -lowerCase`) and drops punctuation tokens. This is a rule-based approximation of the
 * Stanford lexer for caption-like English: lowercase; split off punctuation, brackets and quotes;
 * clitics "man's" -> "man 's", "don't" -> "do n't", "can't" -> "ca n't", "cannot" -> "can not";
 * hyphenated words, decimals ("3.5"), thousands ("1,000"), times ("12:30") and acronyms ("u.s.") stay whole.
 * Not covered: Stanford's full abbreviation list, URLs, emoticons, and sentence-final abbreviations
 * (which Stanford doubles with an extra "." that is dropped anyway).
 */

/** What coco-caption removes after tokenizing (its PUNCTUATIONS list, in our raw-symbol spelling too). */
const DROPPED = new Set([
  "''", "'", '``', '`', '-lrb-', '-rrb-', '-lcb-', '-rcb-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
  // the raw symbols Stanford turns into the escaped tokens above
  '"', '(', ')', '{', '}',
]);

// Stanford escapes square brackets as -LSB-/-RSB-, which coco-caption does not drop.
const BRACKETS: Record<string, string> = { '[': '-lsb-', ']': '-rsb-' };

const CLITIC = /^(.*[^'])('s|'m|'d|'re|'ve|'ll)$/;
const NEGATION = /^(.*[a-z])(n't)$/;
// Stanford's split words (PTBLexer SPLIT rules)
const SPLIT_WORDS: Record<string, string[]> = {
  cannot: ['can', 'not'], gonna: ['gon', 'na'], gotta: ['got', 'ta'], wanna: ['wan', 'na'],
  lemme: ['lem', 'me'], gimme: ['gim', 'me'],
};
// titles Stanford keeps with their period; ones that are also caption words ("no.", "st.") are left out
const ABBREVIATIONS = new Set(['mr.', 'mrs.', 'ms.', 'dr.', 'jr.', 'sr.', 'vs.', 'etc.']);

/** PTB tokens (lowercased), punctuation included. */
export function ptbTokens(text: string): string[] {
  const spaced = text
    .toLowerCase()
    .replace(/[\u2018\u2019\u201b\u2032]/g, "'")           // curly single quotes / primes -> '
    .replace(/[\u201c\u201d\u201e\u00ab\u00bb]/g, '"')     // curly double quotes -> "
    .replace(/\u2026/g, '...')
    .replace(/([()[\]{}"!?;]|\.\.\.+|--+)/g, ' $1 ')       // always separate tokens
    .replace(/,(?!\d)|(?<!\d),/g, ' , ')                   // commas, except inside numbers (1,000)
    .replace(/:(?!\d)|(?<!\d):/g, ' : ')                   // colons, except inside times (12:30)
    .replace(/([$#%])/g, ' $1 ');
  return spaced.split(/\s+/).filter(Boolean).flatMap(word);
}

/** coco-caption's tokenisation: PTB tokens without punctuation, joined by single spaces. */
export function ptbTokenize(text: string): string {
  return ptbTokens(text).filter((t) => !DROPPED.has(t)).join(' ');
}

/** One whitespace-delimited chunk (already separated from brackets, quotes, ! ? ; , :) -> tokens. */
function word(chunk: string): string[] {
  if (BRACKETS[chunk]) return [BRACKETS[chunk]];
  if (/^(\.+|-+|'+|`+)$/.test(chunk)) return [chunk];
  const before: string[] = [];
  const after: string[] = [];
  let w = chunk;
  // opening quotes (not a clitic like 's that stands alone) and leading dashes
  for (let m; (m = /^(`+|'(?!(s|m|d|re|ve|ll)$)|-+(?=\D))/.exec(w)) && m[0].length < w.length;) {
    before.push(m[0]);
    w = w.slice(m[0].length);
  }
  // closing quotes, trailing dashes, and a final period that does not end an abbreviation or acronym
  for (;;) {
    const m = /('+|-+)$/.exec(w);
    if (m && m[0].length < w.length && !/^n't$|^'(s|m|d|re|ve|ll)$/.test(w)) {
      after.unshift(m[0]);
      w = w.slice(0, -m[0].length);
      continue;
    }
    if (w.length > 1 && w.endsWith('.') && !ABBREVIATIONS.has(w) && !/^([a-z]\.){2,}$/.test(w)) {
      after.unshift('.');
      w = w.slice(0, -1);
      continue;
    }
    break;
  }
  return [...before, ...splitClitics(w), ...after];
}

function splitClitics(w: string): string[] {
  if (SPLIT_WORDS[w]) return SPLIT_WORDS[w];
  const neg = NEGATION.exec(w);
  if (neg) return [neg[1], neg[2]];
  const clitic = CLITIC.exec(w);
  if (clitic) return [clitic[1], clitic[2]];
  return [w];
}
