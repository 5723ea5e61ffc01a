// Messages that get no answer at all are counted by why, with the label values operators' dashboards know:
// `short` (not even a header) and `response` (QR set; answering responses is how reflection loops start).

import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { Catalog } from '../../src/zone/catalog.js';
import { buildQuery } from '../helpers/wire.js';

t.test('runts and responses are dropped and counted as short and response', async (t) => {
  const registry = new Registry();
  const handle = createHandler({ catalog: new Catalog(), chaos: { nodeId: 'n1' }, metrics: new DnsMetrics(registry), logger: pino({ level: 'silent' }) });
  t.equal(handle(Buffer.alloc(11), 'udp'), undefined, 'an 11-octet message is not answered');
  t.equal(handle(Buffer.alloc(0), 'tcp'), undefined, 'nor an empty one');
  t.equal(handle(buildQuery('example.org.', 1, { flags: 0x8400 }), 'udp'), undefined, 'nor a response');
  const text = await registry.getSingleMetricAsString('edgedns_dns_dropped_total');
  t.match(text, /^edgedns_dns_dropped_total\{reason="short"\} 2$/m);
  t.match(text, /^edgedns_dns_dropped_total\{reason="response"\} 1$/m);
  t.equal(text.match(/reason="/g)?.length, 2, 'no other reason was counted');
});
