// The master-file lexer of RFC 1035 §5.1: words, quoted strings, `;` comments, and parentheses that let one entry
// span several lines.
//
// Escapes are kept, not resolved: a token's text is presentation text exactly as written (minus the surrounding
// quotes), so `\.` inside a name stays a literal dot for parseName and `\DDD` stays an octet for the rdata parser.
// Resolving them here would lose that distinction. `quoted` tells consumers that spaces, `;` and parentheses in the
// text were literal and that the token cannot be a name, a number or the RFC 3597 `\#` marker.
//
// One quote may sit inside a word: `key="value"`, the SvcParam form of RFC 9460 (Appendix A) that BIND and knot
// accept for SVCB/HTTPS. The word and the quoted value make one token, marked `quoted` and `valueQuoted`; only the
// SvcParam reader takes such a token.

export interface Token {
  text: string;
  quoted: boolean;
  /** 1-based line the token starts on. */
  line: number;
  /** `key="value"`: a word ending in "=" followed by a quoted string (RFC 9460 SvcParam); `quoted` is set too. */
  valueQuoted?: true;
}

/** One logical entry: a directive or a record, possibly spread over several lines by parentheses. */
export interface Entry {
  tokens: Token[];
  /** Line of the first token. */
  line: number;
  /** The entry's first line began with a blank: the record has no owner field and reuses the previous one (§5.1). */
  blankOwner: boolean;
}

export class TokenizeError extends Error {
  override name = 'TokenizeError';

  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

function isBlank(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r';
}

/** Characters that end an unquoted word. */
function endsWord(ch: string): boolean {
  return isBlank(ch) || ch === '\n' || ch === ';' || ch === '(' || ch === ')';
}

/** A SvcParam key and its "=" (RFC 9460 §2.1: letters, digits, "-"): the only word a quoted value may follow. */
const SVC_PARAM_KEY = /^[A-Za-z0-9-]+=$/;

/** The quoted string opening at `start`: its body with escapes kept, and the index after its closing quote. */
function readQuoted(text: string, start: number, line: number): { body: string; end: number } {
  let j = start + 1;
  let body = '';
  for (;;) {
    const c = text[j];
    if (c === undefined || c === '\n') throw new TokenizeError(line, 'quoted string is not closed on its line');
    if (c === '"') break;
    if (c === '\\') {
      const next = text[j + 1];
      if (next === undefined || next === '\n') throw new TokenizeError(line, 'quoted string is not closed on its line');
      body += c + next;
      j += 2;
      continue;
    }
    body += c;
    j++;
  }
  const after = text[j + 1];
  if (after !== undefined && !endsWord(after)) {
    throw new TokenizeError(line, `text right after the closing quote of "${body}"; separate the strings with a space`);
  }
  return { body, end: j + 1 };
}

export function tokenizeEntries(text: string): Entry[] {
  const steps = tokenizeEntriesSteps(text);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Lines tokenized between two yields of tokenizeEntriesSteps. */
const LINES_PER_STEP = 2048;

/** tokenizeEntries as a generator that yields every few thousand lines, for callers that share the thread. */
export function* tokenizeEntriesSteps(text: string): Generator<void, Entry[], void> {
  const entries: Entry[] = [];
  let current: Entry | undefined;
  let line = 1;
  let depth = 0;
  let openedOn = 0;
  let lineStart = true;

  const push = (token: Token, blankOwner: boolean): void => {
    if (current === undefined) {
      current = { tokens: [], line: token.line, blankOwner };
      entries.push(current);
    }
    current.tokens.push(token);
  };

  let blankStart = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (lineStart) {
      // Only a line that starts an entry (outside parentheses) can mean "same owner as before".
      blankStart = depth === 0 && isBlank(ch);
      lineStart = false;
    }
    if (ch === '\n') {
      if (depth === 0) current = undefined;
      line++;
      lineStart = true;
      i++;
      if (line % LINES_PER_STEP === 0) yield;
    } else if (isBlank(ch)) {
      i++;
    } else if (ch === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '(') {
      if (depth === 0) openedOn = line;
      depth++;
      i++;
    } else if (ch === ')') {
      if (depth === 0) throw new TokenizeError(line, '")" without a matching "("');
      depth--;
      i++;
    } else if (ch === '"') {
      const { body, end } = readQuoted(text, i, line);
      push({ text: body, quoted: true, line }, blankStart);
      i = end;
    } else {
      let j = i;
      let word = '';
      let valueQuoted: string | undefined;
      while (j < text.length && !endsWord(text[j])) {
        const c = text[j];
        if (c === '"') {
          if (!SVC_PARAM_KEY.test(word)) throw new TokenizeError(line, `quote inside the word "${word}"; quote the whole string or escape it as \\"`);
          const { body, end } = readQuoted(text, j, line);
          valueQuoted = body;
          j = end;
          break;
        }
        if (c === '\\') {
          const next = text[j + 1];
          if (next === undefined || next === '\n') throw new TokenizeError(line, `"${word}\\" ends with a lone backslash`);
          word += c + next;
          j += 2;
          continue;
        }
        word += c;
        j++;
      }
      if (valueQuoted === undefined) push({ text: word, quoted: false, line }, blankStart);
      else push({ text: word + valueQuoted, quoted: true, valueQuoted: true, line }, blankStart);
      i = j;
    }
  }
  if (depth > 0) throw new TokenizeError(openedOn, '"(" is never closed');
  return entries;
}

/** Tokens of a single entry, e.g. the rdata of one record given as text; more than one line is an error. */
export function tokenizeLine(text: string): Token[] {
  const entries = tokenizeEntries(text);
  if (entries.length > 1) throw new TokenizeError(entries[1].line, 'more than one line (use parentheses to continue a record)');
  return entries[0]?.tokens ?? [];
}
