// Differential test: the same zone files served by knotd (the reference) and by edgedns must give the same rcode,
// header flags and sections for every fixture query (test/fixtures/diff/queries.ts), over UDP with EDNS, and for a
// subset over TCP, with a 512-byte buffer and without EDNS (where truncation shows).

import t from 'tap';
import { compareServers, formatDifferences, type CompareOptions } from './helpers/diff.js';
import { startTestNode } from './helpers/node.js';
import { startKnot } from './helpers/knotd.js';
import { FIXTURE_ZONES, QUERIES, TCP_QUERIES } from './fixtures/diff/queries.js';

const zones = FIXTURE_ZONES.map((z) => ({ ...z }));

t.test('edgedns answers the fixture zones as knotd does', async (t) => {
  const knot = await startKnot({ zones });
  t.teardown(() => knot.stop());
  const edge = await startTestNode({ zoneFiles: zones.map((z) => z.zoneFile), nodeId: 'differential-test' });
  t.teardown(() => edge.close());
  const edgePort = { port: edge.dnsPort };

  // Structural type: the few assertions used, whatever tap's plugin-built Test type is called.
  type Assert = { fail(message: string): unknown; equal(found: unknown, wanted: unknown, message: string): unknown };
  const check = async (t: Assert, queries: typeof QUERIES, options: CompareOptions): Promise<void> => {
    const differences = await compareServers(knot, edgePort, queries, { labels: ['knotd', 'edgedns'], ...options });
    // One assertion per differing query, so the tap report lists each of them readably.
    for (const d of differences) t.fail(d.message);
    t.equal(differences.length, 0, formatDifferences(differences, 5));
  };

  t.test('over UDP with EDNS (1232)', (t) => check(t, QUERIES, {}));
  t.test('over TCP', (t) => check(t, TCP_QUERIES, { dig: { tcp: true } }));
  t.test('over UDP with a 512-byte EDNS buffer, TC kept', (t) =>
    check(t, TCP_QUERIES, { dig: { bufsize: 512, ignoreTc: true } }));
  t.test('over UDP without EDNS, TC kept', (t) =>
    check(t, TCP_QUERIES, { dig: { edns: false, ignoreTc: true } }));
});
