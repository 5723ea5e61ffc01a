import t from 'tap';
import { TokenizeError, tokenizeEntries, tokenizeLine } from '../../src/proto/zonefile-tokenizer.js';

/** Entries as `[line, blankOwner, ...token texts]`, quoted tokens shown in quotes. */
function shape(text: string): (string | number | boolean)[][] {
  return tokenizeEntries(text).map((e) => [e.line, e.blankOwner, ...e.tokens.map((tk) => (tk.quoted ? `"${tk.text}"` : tk.text))]);
}

const cases: { behaviour: string; input: string; entries: (string | number | boolean)[][] }[] = [
  { behaviour: 'words are split on blanks and tabs', input: 'www\tIN  A 192.0.2.1', entries: [[1, false, 'www', 'IN', 'A', '192.0.2.1']] },
  { behaviour: 'each line is an entry', input: 'a A 1.2.3.4\nb A 1.2.3.5\n', entries: [[1, false, 'a', 'A', '1.2.3.4'], [2, false, 'b', 'A', '1.2.3.5']] },
  { behaviour: 'a comment runs to the end of the line', input: 'a A 1.2.3.4 ; the web server\n', entries: [[1, false, 'a', 'A', '1.2.3.4']] },
  { behaviour: 'blank and comment-only lines make no entry', input: '\n   \n; note\n\t; indented note\na A 1.2.3.4', entries: [[5, false, 'a', 'A', '1.2.3.4']] },
  { behaviour: 'a line starting with a blank has no owner', input: 'a A 1.2.3.4\n  A 1.2.3.5', entries: [[1, false, 'a', 'A', '1.2.3.4'], [2, true, 'A', '1.2.3.5']] },
  { behaviour: 'parentheses continue an entry over lines', input: '@ SOA a. b. (\n 1 ; serial\n 2 3 4 5 )\nx A 1.2.3.4', entries: [[1, false, '@', 'SOA', 'a.', 'b.', '1', '2', '3', '4', '5'], [4, false, 'x', 'A', '1.2.3.4']] },
  { behaviour: 'lines inside parentheses starting with blanks are not new owners', input: 'a TXT (\n  b\n  c )', entries: [[1, false, 'a', 'TXT', 'b', 'c']] },
  { behaviour: 'parentheses split words', input: 'a TXT(b)c', entries: [[1, false, 'a', 'TXT', 'b', 'c']] },
  { behaviour: 'a quoted string is one token without its quotes', input: 'a TXT "x y ; (z)"', entries: [[1, false, 'a', 'TXT', '"x y ; (z)"']] },
  { behaviour: 'escapes are kept in the token text', input: 'a TXT "q\\"q" b\\;c d\\ e \\065', entries: [[1, false, 'a', 'TXT', '"q\\"q"', 'b\\;c', 'd\\ e', '\\065']] },
  { behaviour: 'an empty quoted string is a token', input: 'a TXT ""', entries: [[1, false, 'a', 'TXT', '""']] },
  { behaviour: 'a quoted string may touch a parenthesis or a comment', input: 'a TXT ("x");c', entries: [[1, false, 'a', 'TXT', '"x"']] },
  { behaviour: 'CRLF line ends are accepted', input: 'a A 1.2.3.4\r\nb A 1.2.3.5\r\n', entries: [[1, false, 'a', 'A', '1.2.3.4'], [2, false, 'b', 'A', '1.2.3.5']] },
  { behaviour: 'the last line needs no newline', input: 'a A 1.2.3.4', entries: [[1, false, 'a', 'A', '1.2.3.4']] },
  { behaviour: 'a SvcParam value may be quoted: key="value" is one quoted token (RFC 9460 App. A)', input: 'a SVCB 1 . alpn="h2,h3" key9="a b;c"', entries: [[1, false, 'a', 'SVCB', '1', '.', '"alpn=h2,h3"', '"key9=a b;c"']] },
];

for (const c of cases) {
  t.test(c.behaviour, async (t) => {
    t.same(shape(c.input), c.entries);
  });
}

t.test('each token knows the line it starts on', async (t) => {
  const [entry] = tokenizeEntries('\n@ SOA a. b. (\n 1\n 2 3 4 5 )');
  t.same(entry.tokens.map((tk) => tk.line), [2, 2, 2, 2, 3, 4, 4, 4, 4]);
});

const errors: { behaviour: string; input: string; line: number; error: RegExp }[] = [
  { behaviour: 'an unclosed parenthesis names the line it opened on', input: 'a A 1.2.3.4\nb TXT ( x\n y\n', line: 2, error: /"\(" is never closed/ },
  { behaviour: 'a stray closing parenthesis is an error', input: 'a\nb TXT x )', line: 2, error: /"\)" without a matching "\("/ },
  { behaviour: 'a quoted string cannot run past its line', input: 'a TXT "x\ny"', line: 1, error: /quoted string is not closed on its line/ },
  { behaviour: 'text right after a closing quote is an error', input: '\na TXT "x"y', line: 2, error: /right after the closing quote/ },
  { behaviour: 'a quote inside a word is an error', input: 'a TXT x"y"', line: 1, error: /quote inside the word "x"/ },
  { behaviour: 'a quote after "=" is an error unless the word is a SvcParam key', input: 'a TXT a.b="c"', line: 1, error: /quote inside the word "a\.b="/ },
  { behaviour: 'text right after a quoted SvcParam value is an error', input: 'a SVCB 1 . alpn="h2"x', line: 1, error: /right after the closing quote of "h2"/ },
  { behaviour: 'a backslash at the end of a line is an error', input: 'a TXT x\\\nb', line: 1, error: /lone backslash/ },
];

for (const c of errors) {
  t.test(c.behaviour, async (t) => {
    try {
      tokenizeEntries(c.input);
      t.fail('expected an error');
    } catch (err) {
      t.type(err, TokenizeError);
      t.equal((err as TokenizeError).line, c.line);
      t.match((err as Error).message, c.error);
    }
  });
}

t.test('tokenizeLine refuses a second line', async (t) => {
  t.throws(() => tokenizeLine('a\nb'), { message: /more than one line/ });
  t.same(tokenizeLine('(a\nb)').map((tk) => tk.text), ['a', 'b']);
  t.same(tokenizeLine('   '), []);
});
