// NSID (RFC 5001): a query that carries an empty NSID option gets the server's identifier back in the OPT record of
// its response, with whatever else the OPT carries (ECS); a query that does not ask gets none. `--nsid` sets it, the
// node id by default, `none` for none. Checked with dig +nsid, as an operator would.

import t from 'tap';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';

const node = await startTestNode({ zonesDir: 'zones', nodeId: 'ams-1' });
t.teardown(() => node.close());

t.test('dig +nsid gets the node id, over UDP and TCP, with the answer unchanged', async (t) => {
  for (const tcp of [false, true]) {
    const r = await dig(node.dnsPort, 'www.example.com', 'A', { nsid: true, tcp });
    t.equal(r.rcode, 'NOERROR');
    t.same(r.answer.map((rr) => `${rr.type} ${rr.data}`), ['CNAME example.com.', 'A 192.0.2.10'], 'the answer is the usual one');
    t.match(r.opt?.options.NSID ?? '', /\("ams-1"\)$/, `NSID over ${tcp ? 'TCP' : 'UDP'}`);
  }
});

t.test('without +nsid there is no NSID; an error response that asked gets it too', async (t) => {
  const plain = await dig(node.dnsPort, 'www.example.com', 'A');
  t.ok(plain.opt, 'the response has an OPT record');
  t.equal(plain.opt?.options.NSID, undefined, 'but no NSID in it');
  const refused = await dig(node.dnsPort, 'www.example.org', 'A', { nsid: true });
  t.equal(refused.rcode, 'REFUSED');
  t.match(refused.opt?.options.NSID ?? '', /\("ams-1"\)$/, 'REFUSED still says which server refused');
});

t.test('NSID and client subnet in one query: both options come back', async (t) => {
  const r = await dig(node.dnsPort, 'www.example.com', 'A', { nsid: true, subnet: '192.0.2.0/24' });
  t.match(r.opt?.options.NSID ?? '', /\("ams-1"\)$/);
  t.match(r.opt?.options['CLIENT-SUBNET'] ?? '', /^192\.0\.2\.0\/24\/0$/);
});

t.test('--nsid names the server; --nsid none sends nothing', async (t) => {
  const named = await startTestNode({ zonesDir: 'zones', nodeId: 'ams-1', flags: { nsid: 'ns1.example.net' } });
  t.teardown(() => named.close());
  t.match((await dig(named.dnsPort, 'www.example.com', 'A', { nsid: true })).opt?.options.NSID ?? '', /\("ns1\.example\.net"\)$/);
  const silent = await startTestNode({ zonesDir: 'zones', nodeId: 'ams-1', flags: { nsid: 'none' } });
  t.teardown(() => silent.close());
  const r = await dig(silent.dnsPort, 'www.example.com', 'A', { nsid: true });
  t.equal(r.rcode, 'NOERROR');
  t.equal(r.opt?.options.NSID, undefined, 'no NSID option at all');
});
