// _redirects and _headers with Cloudflare Pages semantics: parsing (a bad line fails the deploy, naming its line)
// and what a deployed site answers.

import t from 'tap';
import { compileHeaderRules, compileRedirects, findRedirect, headersFor, parseHeaders, parseRedirects, RulesError } from '../../src/pages/rules.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { deployTree, get } from './pages-helpers.js';

t.test('redirect table: first match wins, splats and placeholders fill the destination', async (t) => {
  const rules = compileRedirects(
    parseRedirects(`# comment
/home301 / 301
/home302 /
/twitch https://twitch.tv
/blog/* https://blog.example.org/:splat
/products/:code/:name /products?code=:code&name=:name
/movies/:title /media/:title 308
/movies/* /first-never 301
/spa/* /spa/index.html 200
`),
  );
  const cases: [string, string | undefined, number | undefined][] = [
    ['/home301', '/', 301],
    ['/home302', '/', 302],
    ['/twitch', 'https://twitch.tv', 302],
    ['/blog/2024/post', 'https://blog.example.org/2024/post', 302],
    ['/blog/', 'https://blog.example.org/', 302],
    ['/products/42/shoe', '/products?code=42&name=shoe', 302],
    ['/products/42/shoe/extra', undefined, undefined],
    ['/movies/alien', '/media/alien', 308],
    ['/movies/alien/2', '/first-never', 301],
    ['/spa/deep/link', '/spa/index.html', 200],
    ['/nothing', undefined, undefined],
  ];
  for (const [path, to, status] of cases) {
    const found = findRedirect(rules, path);
    t.same(found && [found.to, found.status], to === undefined ? undefined : [to, status], path);
  }
});

t.test('a bad _redirects line is an error naming the line', async (t) => {
  const bad: [string, RegExp][] = [
    ['/a', /line 1: expected "source destination/],
    ['/ok /fine\n/a /b 404', /line 2: status "404"/],
    ['a /b', /must start with "\/"/],
    ['/a/* /b/* /c', /line 1/],
    ['/a/*/*/ /b', /more than one "\*"/],
    ['/a https://x.example 200', /200 rule serves another path/],
  ];
  for (const [text, message] of bad) {
    try {
      parseRedirects(text);
    } catch (err) {
      t.ok(err instanceof RulesError, 'a RulesError');
    }
    t.throws(() => parseRedirects(text), { message }, JSON.stringify(text));
  }
});

t.test('headers table: every matching rule applies, repeated headers join, ! removes', async (t) => {
  const rules = compileHeaderRules(
    parseHeaders(`# security for everything
/*
  X-Frame-Options: DENY
  Link: </a>
/static/*
  Access-Control-Allow-Origin: *
  Link: </b>
/static/private/*
  ! Access-Control-Allow-Origin
/users/:name
  X-User: :name
https://:sub.example.test/*
  X-Sub: :sub
`),
  );
  const at = (host: string, path: string) => {
    const changes = headersFor(rules, host, path);
    return changes ? Object.fromEntries([...changes.set.values()]) : undefined;
  };
  t.same(at('a.test', '/page'), { 'X-Frame-Options': 'DENY', Link: '</a>' });
  t.same(at('a.test', '/static/x.js'), { 'X-Frame-Options': 'DENY', Link: '</a>, </b>', 'Access-Control-Allow-Origin': '*' });
  t.same(at('a.test', '/static/private/x'), { 'X-Frame-Options': 'DENY', Link: '</a>, </b>' });
  t.ok(headersFor(rules, 'a.test', '/static/private/x')?.unset.has('access-control-allow-origin'));
  t.same(at('a.test', '/users/ada'), { 'X-Frame-Options': 'DENY', Link: '</a>', 'X-User': 'ada' });
  t.same(at('www.example.test', '/'), { 'X-Frame-Options': 'DENY', Link: '</a>', 'X-Sub': 'www' });
});

t.test('a bad _headers line is an error naming the line', async (t) => {
  t.throws(() => parseHeaders('  X-A: 1'), { message: /line 1: a header line must follow/ });
  t.throws(() => parseHeaders('/a\n  no colon here'), { message: /line 2: expected "Name: value"/ });
  t.throws(() => parseHeaders('/a\n  Bad Name: v'), { message: /line 2: "Bad Name" is not a header name/ });
  t.throws(() => parseHeaders('http://x.test/a\n  A: b'), { message: /line 1/ });
});

t.test('a deployed site applies its _redirects before files and its _headers to files', async (t) => {
  const node: TestNode = await startTestNode();
  t.teardown(() => node.close());
  const site = 'rules.example.test';
  const { result } = await deployTree(node, site, {
    'index.html': 'home',
    'about.html': 'about',
    'shadowed.html': 'never served',
    'app/index.html': 'the app',
    'old.html': 'old',
    _redirects: '/shadowed /about 301\n/go/* /:splat 307\n/app/* /app/index.html 200\n/ext https://example.org/x?y=1\n',
    _headers: '/*\n  X-Frame-Options: DENY\n/about\n  Cache-Control: no-cache\n  ! X-Content-Type-Options\n',
  });
  t.equal(result.status, 201);
  const shadowed = await get(node.httpPort, site, '/shadowed?q=1');
  t.equal(shadowed.status, 301, 'a redirect wins even where a file exists');
  t.equal(shadowed.headers.location, '/about?q=1', 'the query string is kept');
  const splat = await get(node.httpPort, site, '/go/about');
  t.equal(splat.status, 307);
  t.equal(splat.headers.location, '/about');
  const rewrite = await get(node.httpPort, site, '/app/some/deep/route');
  t.equal(rewrite.status, 200, 'a 200 rule serves another path');
  t.equal(rewrite.body.toString(), 'the app');
  t.equal((await get(node.httpPort, site, '/ext?z=2')).headers.location, 'https://example.org/x?y=1', 'a destination with its own query keeps it');
  const home = await get(node.httpPort, site, '/');
  t.equal(home.headers['x-frame-options'], 'DENY');
  const about = await get(node.httpPort, site, '/about');
  t.equal(about.headers['cache-control'], 'no-cache', '_headers overrides the default');
  t.equal(about.headers['x-content-type-options'], undefined, '! removes a default header');
  t.equal(shadowed.headers['x-frame-options'], undefined, 'headers do not apply to redirects');

  const bad = await deployTree(node, site, { 'index.html': 'x', _redirects: '/a /b 418\n' });
  t.equal(bad.result.status, 422);
  t.match(bad.result.body.error, { code: 'invalid_rules', message: /_redirects line 1/, field: 'files./_redirects' });
  t.equal((await get(node.httpPort, site, '/')).body.toString(), 'home', 'the failed deploy changed nothing');
});
