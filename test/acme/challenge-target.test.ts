// Where the cluster writes a DNS-01 value for a name: in the served zone that holds `_acme-challenge.NAME`, or where
// that name's CNAME points when edgedns does not serve the name itself; nowhere (no order) otherwise.

import t from 'tap';
import { challengeTarget } from '../../src/acme/order.js';

const ZONES = ['example.com.', 'acme.example.net.'];
const cnames: Record<string, string[]> = { '_acme-challenge.www.other.org': ['www-other.acme.example.net'] };
const resolve = async (name: string): Promise<string[]> => {
  const found = cnames[name];
  if (!found) throw Object.assign(new Error('no CNAME'), { code: 'ENODATA' });
  return found;
};

t.test('a name in a served zone, a wildcard, a CNAME delegation, and a name edgedns cannot answer for', async (t) => {
  t.same(await challengeTarget('www.example.com', ZONES, resolve), { zone: 'example.com.', fqdn: '_acme-challenge.www.example.com.' });
  t.same(await challengeTarget('*.example.com', ZONES, resolve), { zone: 'example.com.', fqdn: '_acme-challenge.example.com.' });
  t.same(await challengeTarget('www.other.org', ZONES, resolve), { zone: 'acme.example.net.', fqdn: 'www-other.acme.example.net.' });
  await t.rejects(challengeTarget('www.elsewhere.org', ZONES, resolve), /edgedns serves no zone holding _acme-challenge\.www\.elsewhere\.org\./);
});
