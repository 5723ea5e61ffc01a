// Reading the README and docs/*.md the way the docs tests need: fenced blocks (with the marker that says a block is
// not run), shell commands with their trailing comments, inline code, links and heading anchors as GitHub makes them.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Languages whose blocks are shell commands a reader types. */
export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

/** `<!-- not run by test/docs/readme-commands.test.ts: REASON -->` on the line before a fence. */
export const NOT_RUN_MARKER = /^<!--\s*not run by test\/docs\/readme-commands\.test\.ts:\s*(.*?)\s*-->$/;

export interface FencedBlock {
  language: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The reason given by a NOT_RUN_MARKER right above the fence (blank lines allowed in between). */
  notRun?: string;
}

export function docFiles(): string[] {
  const docs = readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join('docs', f));
  return ['README.md', ...docs];
}

export function read(file: string): string {
  return readFileSync(file, 'utf8');
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(```+)\s*(\S*)/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[1] as string;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] as string).startsWith(fence)) body.push(lines[j++] as string);
    let k = i - 1;
    while (k >= 0 && (lines[k] as string).trim() === '') k--;
    const marker = k >= 0 ? NOT_RUN_MARKER.exec((lines[k] as string).trim()) : null;
    blocks.push({ language: open[2] as string, text: body.join('\n'), line: i + 1, ...(marker ? { notRun: marker[1] as string } : {}) });
    i = j;
  }
  return blocks;
}

/** The markdown with fenced blocks blanked out (line numbers kept), for scanning prose. */
export function withoutFences(markdown: string): string {
  const lines = markdown.split('\n');
  let inside: string | undefined;
  return lines
    .map((line) => {
      const fence = /^(```+)/.exec(line)?.[1];
      if (inside === undefined && fence) {
        inside = fence;
        return '';
      }
      if (inside !== undefined) {
        if (line.startsWith(inside)) inside = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** Inline code spans of the prose (single backticks; double-backtick spans are not used in these docs). */
export function inlineCode(markdown: string): string[] {
  return [...withoutFences(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);
}

export interface ShellCommand {
  /** As written, continuation lines included: what bash runs. */
  text: string;
  /** The trailing `# …` comment, without the `#`, or '' when there is none. */
  comment: string;
}

/** Position of the `#` that starts a comment in shell text, outside quotes; -1 when there is none. */
function commentStart(text: string): number {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) return i;
  }
  return -1;
}

/** A block's commands: comment-only and blank lines dropped, `\` continuations joined into one command. */
export function shellCommands(block: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let pending: string[] = [];
  for (const line of block.split('\n')) {
    if (pending.length === 0 && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    pending.push(line);
    if (/\\$/.test(line)) continue;
    const text = pending.join('\n');
    pending = [];
    const at = commentStart(text);
    commands.push({ text, comment: at < 0 ? '' : text.slice(at + 1).trim() });
  }
  if (pending.length > 0) throw new Error(`a command ends with a continuation: ${pending.join('\n')}`);
  return commands;
}

/** Relative links of a markdown file (inline links outside code), with their line. */
export function relativeLinks(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  const prose = withoutFences(markdown).replace(/`[^`\n]*`/g, (m) => ' '.repeat(m.length));
  prose.split('\n').forEach((text, i) => {
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      links.push({ target, line: i + 1 });
    }
  });
  return links;
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}
