// cluster status prints one line per link in at most 120 columns, however long the names, and says which links are
// reported by the nodes holding them and how old the report is.

import t from 'tap';
import { linkTable, type LinkRow } from '../../src/cluster/link-status.js';

const now = 10_000_000;
const row = (over: Partial<LinkRow>): LinkRow => ({
  id: 'edgedns:push:edgedns_data:http://10.0.0.2:5984/',
  db: 'edgedns_data',
  direction: 'push',
  from: 'node-a',
  to: 'node-b',
  holder: 'node-a',
  state: 'caught-up',
  pending: 0,
  lastProgressAt: now,
  restarts: 0,
  ...over,
});

t.test('every line fits 120 columns, even with long names and errors', async (t) => {
  const long = 'a-very-long-node-name-that-goes-on-and-on-for-a-while';
  const lines = linkTable(
    [
      row({}),
      row({ from: long, to: `http://a-peer-known-only-by-its-url.example.net:5984/`, holder: long, state: 'unreachable', lastProgressAt: now - 3_700_000, error: 'target unreachable; '.repeat(20) }),
      row({ state: 'stalled', pending: 250, lastProgressAt: now - 95_000, restarts: 3, reportAgeMs: 4000 }),
    ],
    120,
    now,
  );
  t.equal(lines.length, 4);
  for (const line of lines) t.ok(line.length <= 120, `${line.length}: ${line}`);
  t.match(lines[0], /^FROM\s+TO\s+DATABASE\s+HELD BY\s+STATE\s+PENDING\s+PROGRESS\s+RESTARTS\s+NOTE$/);
  t.match(lines[1], /^node-a\s+node-b\s+edgedns_data\s+node-a\s+caught up\s+0\s+now\s+0$/);
  t.match(lines[2], /unreachable\s+0\s+62m ago/);
  t.match(lines[3], /stalled\s+100\+\s+95s ago\s+3\s+report 4s old/);
});
