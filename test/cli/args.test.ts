// Command lines as util.parseArgs reads them in strict mode: whatever a command does not declare is refused with a
// message naming the option and the command's --help, and every command's help names every option it takes.

import t from 'tap';
import { parseCommandLine, UsageError, type CommandOptions } from '../../src/cli/args.js';
import { apiBaseUrl } from '../../src/cli/api-client.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { ConfigError } from '../../src/node/config.js';

const OPTIONS: CommandOptions = { lon: { type: 'string' }, replace: { type: 'boolean' } };

t.test('options, values and words in any order; the command stays first', async (t) => {
  t.same(parseCommandLine('edge', ['add', 'nyc', '--lon', '8.6', '--replace'], OPTIONS), { positionals: ['edge', 'add', 'nyc'], flags: { lon: '8.6', replace: true } });
  t.same(parseCommandLine('edge', ['--lon=1', 'x', '--', '--replace'], OPTIONS), { positionals: ['edge', 'x', '--replace'], flags: { lon: '1' } });
  t.same(parseCommandLine('edge', ['-h'], OPTIONS).flags, { help: true }, '-h is --help');
  t.same(parseCommandLine('edge', ['--help'], {}).flags, { help: true }, 'every command takes --help');
});

t.test('a negative number is a value, not an option', async (t) => {
  t.same(parseCommandLine('edge', ['set', 'nyc', '--lon', '-74.0'], OPTIONS).flags, { lon: '-74.0' });
  t.same(parseCommandLine('edge', ['--lon', '-.5'], OPTIONS).flags, { lon: '-.5' });
});

const refusals: [string, string[], boolean, string][] = [
  ['an unknown option', ['--no-such-flag'], true, "unknown option --no-such-flag; see 'edgedns serve --help'"],
  ['an unknown short option', ['-x'], true, "unknown option -x; see 'edgedns serve --help'"],
  ['an unknown option after a good one', ['--lon', '3', '--lat', '4'], true, "unknown option --lat; see 'edgedns serve --help'"],
  ['a missing value at the end', ['--lon'], true, "--lon needs a value; see 'edgedns serve --help'"],
  ['a missing value before another option', ['--lon', '--replace'], true, "--lon needs a value; see 'edgedns serve --help'"],
  ['a value that looks like an option', ['--lon', '-x'], true, '--lon needs a value (to give one that starts with "-", write --lon=-x); see \'edgedns serve --help\''],
  ['a value given to a switch', ['--replace=yes'], true, "--replace takes no value; see 'edgedns serve --help'"],
  ['a word where none is taken', ['extra'], false, 'unexpected argument "extra"; see \'edgedns serve --help\''],
];

for (const [title, argv, positionals, message] of refusals) {
  t.test(`refused: ${title}`, async (t) => {
    t.throws(() => parseCommandLine('serve', argv, OPTIONS, positionals), new UsageError(message));
  });
}

t.test('edgedns itself names its own --help', async (t) => {
  t.throws(() => parseCommandLine('', ['--nope'], {}), new UsageError("unknown option --nope; see 'edgedns --help'"));
});

t.test("every command's --help names each option it accepts", async (t) => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    for (const option of Object.keys(command.options)) t.match(command.help, new RegExp(`--${option}\\b`), `edgedns ${name} --help names --${option}`);
  }
});

t.test('the CLI reaches a node by address, host name or URL', async (t) => {
  t.equal(apiBaseUrl('127.0.0.1:8053', '--api'), 'http://127.0.0.1:8053');
  t.equal(apiBaseUrl('[::1]:8053', '--api'), 'http://[::1]:8053');
  t.equal(apiBaseUrl('ns1.example.com:8053', 'EDGEDNS_API'), 'http://ns1.example.com:8053', 'a host name, as the ACME docs write it');
  t.equal(apiBaseUrl('https://ns1.example.com:8443/', '--api'), 'https://ns1.example.com:8443');
  t.throws(() => apiBaseUrl('ns1.example.com', 'EDGEDNS_API'), new ConfigError('EDGEDNS_API "ns1.example.com" is not HOST:PORT or an http(s):// URL (use [::1]:8053 for IPv6)'));
  t.throws(() => apiBaseUrl('::1:8053', '--api'), /is not HOST:PORT/);
  t.throws(() => apiBaseUrl('bad_host!:80', '--api'), /--api host "bad_host!" is not an address or a host name/);
  t.throws(() => apiBaseUrl('127.0.0.1:0', '--api'), /--api port "0" is not 1-65535/);
});
