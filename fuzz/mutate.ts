// Seeded mutation of real samples: octet-level for DNS messages, text-level for zone files and _redirects/_headers.
// The same seed gives the same sequence of inputs, so a run can be replayed.

/** mulberry32: small, fast, and good enough to pick mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export class Dice {
  constructor(readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }
}

const INTERESTING_OCTETS = [0x00, 0x01, 0x0c, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff];
const INTERESTING_WORDS = [0, 1, 2, 0x7f, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** One to eight stacked edits of a DNS message (or of anything binary). */
export function mutateOctets(dice: Dice, input: Buffer, others: readonly Buffer[]): Buffer {
  let buf = Buffer.from(input);
  const edits = 1 + dice.int(8);
  for (let e = 0; e < edits; e++) {
    const at = buf.length === 0 ? 0 : dice.int(buf.length);
    switch (dice.int(11)) {
      case 0:
        if (buf.length > 0) buf[at] ^= 1 << dice.int(8);
        break;
      case 1:
        if (buf.length > 0) buf[at] = dice.int(256);
        break;
      case 2:
        if (buf.length > 0) buf[at] = dice.pick(INTERESTING_OCTETS);
        break;
      case 3:
        buf = buf.subarray(0, dice.int(buf.length + 1));
        break;
      case 4: {
        const extra = Buffer.alloc(1 + dice.int(16));
        for (let i = 0; i < extra.length; i++) extra[i] = dice.int(256);
        buf = Buffer.concat([buf.subarray(0, at), extra, buf.subarray(at)]);
        break;
      }
      case 5: {
        const end = at + dice.int(Math.max(1, buf.length - at));
        buf = Buffer.concat([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
        break;
      }
      case 6: {
        const end = at + 1 + dice.int(Math.max(1, buf.length - at));
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(end)]);
        break;
      }
      case 7: {
        const other = dice.pick(others);
        const from = dice.int(other.length + 1);
        buf = Buffer.concat([buf.subarray(0, at), other.subarray(from)]);
        break;
      }
      case 8:
        // a lying count or a chosen ID/flags word
        if (buf.length >= 12) buf.writeUInt16BE(dice.pick(INTERESTING_WORDS), 2 * dice.int(6));
        break;
      case 9:
        // a compression pointer somewhere (backwards, forwards, at itself)
        if (buf.length >= 2) {
          const target = dice.pick([12, 0, at, buf.length, dice.int(0x4000)]);
          buf[at] = 0xc0 | ((target >> 8) & 0x3f);
          if (at + 1 < buf.length) buf[at + 1] = target & 0xff;
        }
        break;
      default:
        if (buf.length >= 4) buf[2] = dice.int(256) & 0x7f; // opcode, AA, TC, RD with QR clear: still a query
    }
  }
  return buf;
}

/** One to six stacked edits of a text file: spans, lines, tokens from `dictionary`, odd characters. */
export function mutateText(dice: Dice, input: string, others: readonly string[], dictionary: readonly string[]): string {
  let text = input;
  const edits = 1 + dice.int(6);
  for (let e = 0; e < edits; e++) {
    const at = dice.int(text.length + 1);
    const lines = text.split('\n');
    switch (dice.int(10)) {
      case 0:
        text = text.slice(0, at) + dice.pick(dictionary) + text.slice(at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + 1 + dice.int(20));
        break;
      case 2: {
        const end = at + dice.int(40);
        text = text.slice(0, end) + text.slice(at, end) + text.slice(end);
        break;
      }
      case 3:
        text = text.slice(0, at) + String.fromCharCode(dice.pick([0, 9, 10, 13, 32, 34, 40, 41, 59, 92, 127, 0xa0, 0xe9, 0xfeff, 0xd800, 0x1f600 & 0xffff])) + text.slice(at + 1);
        break;
      case 4: {
        const i = dice.int(lines.length);
        lines.splice(i, 0, lines[dice.int(lines.length)]);
        text = lines.join('\n');
        break;
      }
      case 5: {
        lines.splice(dice.int(lines.length), 1);
        text = lines.join('\n');
        break;
      }
      case 6: {
        const i = dice.int(lines.length);
        const j = dice.int(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        text = lines.join('\n');
        break;
      }
      case 7: {
        const other = dice.pick(others).split('\n');
        lines.splice(dice.int(lines.length + 1), 0, ...other.slice(dice.int(other.length)).slice(0, 1 + dice.int(5)));
        text = lines.join('\n');
        break;
      }
      case 8:
        text = text.slice(0, at) + dice.pick(['a', '9', '\\', '*', '/', ':']).repeat(1 + dice.int(400)) + text.slice(at);
        break;
      default:
        text = text.slice(0, at) + dice.pick(['0', '-1', '65535', '65536', '2147483647', '2147483648', '4294967296', '1e99', 'NaN', '0x10']) + text.slice(at);
    }
  }
  return text;
}
