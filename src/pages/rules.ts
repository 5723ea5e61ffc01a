// `_headers` and `_redirects`, with Cloudflare Pages semantics: parsed at deploy (a bad line fails the deploy with
// its line number), stored in the deployment as plain data, compiled to regular expressions when the deployment is
// loaded into memory, so matching a request is a loop over precompiled patterns.
//   _redirects: `source destination [status]`, status 301/302/303/307/308 (default 302) or 200 (served from another
//     path of the same deployment); `*` (one, greedy) is `:splat` in the destination; `:name` matches one segment;
//     first match wins; applied before looking for a file.
//   _headers: a URL pattern line, then indented `Name: value` lines or `! Name` to remove a header; every matching
//     rule applies, a header set by several is joined with ", "; `:splat`/`:name` may appear in values.

import { RulesError } from '../errors.js';

export interface RedirectRule {
  from: string;
  to: string;
  status: number;
  line: number;
}

export interface HeaderRule {
  /** Path pattern; with `host` when the rule was written as an absolute https:// URL. */
  path: string;
  host?: string;
  set: [string, string][];
  unset: string[];
  line: number;
}

export const MAX_REDIRECTS = 2100;
export const MAX_HEADER_RULES = 100;
const MAX_REDIRECT_LINE = 1000;
const MAX_HEADER_LINE = 2000;
const REDIRECT_STATUSES = new Set([200, 301, 302, 303, 307, 308]);

export { RulesError };

export function parseRedirects(text: string): RedirectRule[] {
  const rules: RedirectRule[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.length > MAX_REDIRECT_LINE) throw new RulesError('_redirects', lineNo, `is longer than ${MAX_REDIRECT_LINE} characters`);
    const parts = line.split(/\s+/);
    if (parts.length < 2 || parts.length > 3) throw new RulesError('_redirects', lineNo, 'expected "source destination [status]"');
    const [from, to, code] = parts;
    if (!from.startsWith('/')) throw new RulesError('_redirects', lineNo, `source "${from}" must start with "/" (domain-level redirects are not supported)`);
    checkPattern(from, '_redirects', lineNo);
    const status = code === undefined ? 302 : Number(code);
    if (!REDIRECT_STATUSES.has(status)) throw new RulesError('_redirects', lineNo, `status "${code}" is not one of 200, 301, 302, 303, 307, 308`);
    if (status === 200 && !to.startsWith('/')) throw new RulesError('_redirects', lineNo, 'a 200 rule serves another path of the site: its destination must start with "/"');
    if (!to.startsWith('/') && !/^https?:\/\//i.test(to)) throw new RulesError('_redirects', lineNo, `destination "${to}" must be a path or an http(s) URL`);
    rules.push({ from, to, status, line: lineNo });
    if (rules.length > MAX_REDIRECTS) throw new RulesError('_redirects', lineNo, `more than ${MAX_REDIRECTS} redirects`);
  }
  return rules;
}

export function parseHeaders(text: string): HeaderRule[] {
  const rules: HeaderRule[] = [];
  let current: HeaderRule | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i];
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (raw.length > MAX_HEADER_LINE) throw new RulesError('_headers', lineNo, `is longer than ${MAX_HEADER_LINE} characters`);
    const indented = /^\s/.test(raw);
    if (!indented) {
      let path = line;
      let host: string | undefined;
      const absolute = /^https:\/\/([^/]+)(\/.*)?$/i.exec(line);
      if (absolute) {
        host = absolute[1].toLowerCase();
        if (/:\d+$/.test(host)) throw new RulesError('_headers', lineNo, 'an absolute URL may not name a port');
        path = absolute[2] ?? '/';
      } else if (!line.startsWith('/')) throw new RulesError('_headers', lineNo, `"${line}" is neither a path starting with "/" nor an https:// URL`);
      checkPattern(path, '_headers', lineNo);
      if (host) checkPattern(host, '_headers', lineNo);
      current = { path, ...(host ? { host } : {}), set: [], unset: [], line: lineNo };
      rules.push(current);
      if (rules.length > MAX_HEADER_RULES) throw new RulesError('_headers', lineNo, `more than ${MAX_HEADER_RULES} rules`);
      continue;
    }
    if (!current) throw new RulesError('_headers', lineNo, 'a header line must follow a URL pattern line');
    if (line.startsWith('!')) {
      const name = line.slice(1).trim();
      if (!isHeaderName(name)) throw new RulesError('_headers', lineNo, `"${name}" is not a header name`);
      current.unset.push(name);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new RulesError('_headers', lineNo, 'expected "Name: value"');
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!isHeaderName(name)) throw new RulesError('_headers', lineNo, `"${name}" is not a header name`);
    // eslint-disable-next-line no-control-regex -- a header value may not carry control characters
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw new RulesError('_headers', lineNo, 'the value contains a control character');
    current.set.push([name, value]);
  }
  return rules;
}

function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

function checkPattern(pattern: string, file: '_headers' | '_redirects', line: number): void {
  if ((pattern.match(/\*/g) ?? []).length > 1) throw new RulesError(file, line, `"${pattern}" has more than one "*"`);
}

/** A compiled pattern: a regular expression and the names of its groups in order ("splat" for `*`). */
export interface Pattern {
  re: RegExp;
  names: string[];
}

export function compilePattern(pattern: string, segment = '[^/]+'): Pattern {
  const names: string[] = [];
  let source = '';
  const token = /\*|:([A-Za-z_][A-Za-z0-9_]*)/g;
  let last = 0;
  for (let m = token.exec(pattern); m; m = token.exec(pattern)) {
    source += escapeRe(pattern.slice(last, m.index));
    if (m[0] === '*') {
      names.push('splat');
      source += '(.*)';
    } else {
      names.push(m[1]);
      // Atomic (a lookahead captures, the backreference consumes): a placeholder takes its whole segment and never
      // gives octets back, so a hostile pattern such as ":a:b:c..." cannot make matching backtrack exponentially.
      source += `(?=(${segment}))\\${names.length}`;
    }
    last = m.index + m[0].length;
  }
  source += escapeRe(pattern.slice(last));
  return { re: new RegExp(`^${source}$`), names };
}

export function matchPattern(pattern: Pattern, value: string): Record<string, string> | undefined {
  const m = pattern.re.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  pattern.names.forEach((name, i) => (params[name] = m[i + 1] ?? ''));
  return params;
}

/** Replaces `:splat` and `:name` with what the source matched; unknown placeholders stay as written. */
export function substitute(template: string, params: Record<string, string>): string {
  return template.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) => params[name] ?? whole);
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface CompiledRedirect extends RedirectRule {
  pattern: Pattern;
}

export interface CompiledHeaderRule extends HeaderRule {
  pattern: Pattern;
  hostPattern?: Pattern;
}

export function compileRedirects(rules: RedirectRule[]): CompiledRedirect[] {
  return rules.map((rule) => ({ ...rule, pattern: compilePattern(rule.from) }));
}

export function compileHeaderRules(rules: HeaderRule[]): CompiledHeaderRule[] {
  return rules.map((rule) => ({
    ...rule,
    pattern: compilePattern(rule.path),
    ...(rule.host ? { hostPattern: compilePattern(rule.host, '[^.]+') } : {}),
  }));
}

/** The first redirect whose source matches `path`, with its destination filled in. */
export function findRedirect(rules: CompiledRedirect[], path: string): { to: string; status: number } | undefined {
  for (const rule of rules) {
    const params = matchPattern(rule.pattern, path);
    if (params) return { to: substitute(rule.to, params), status: rule.status };
  }
  return undefined;
}

export interface HeaderChanges {
  /** Lower-cased name → [name as written, value]. */
  set: Map<string, [string, string]>;
  /** Lower-cased names to remove from the defaults. */
  unset: Set<string>;
}

export function headersFor(rules: CompiledHeaderRule[], host: string, path: string): HeaderChanges | undefined {
  let changes: HeaderChanges | undefined;
  for (const rule of rules) {
    const params = matchPattern(rule.pattern, path);
    if (!params) continue;
    if (rule.hostPattern) {
      const hostParams = matchPattern(rule.hostPattern, host);
      if (!hostParams) continue;
      Object.assign(params, hostParams);
    }
    changes ??= { set: new Map(), unset: new Set() };
    for (const name of rule.unset) {
      changes.set.delete(name.toLowerCase());
      changes.unset.add(name.toLowerCase());
    }
    for (const [name, template] of rule.set) {
      const key = name.toLowerCase();
      const value = substitute(template, params);
      const existing = changes.set.get(key);
      changes.set.set(key, existing ? [existing[0], `${existing[1]}, ${value}`] : [name, value]);
    }
  }
  return changes;
}
