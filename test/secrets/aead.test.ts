// Sealed values open only with the key that sealed them, in the document they were sealed for, unaltered.

import t from 'tap';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { open, seal } from '../../src/secrets/aead.js';
import { Keyring, newKey, readKeyFile, writeKeyFile } from '../../src/secrets/key-file.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

t.test('a value opens in its own document with its own key, and nowhere else', async (t) => {
  const key = newKey();
  const sealed = seal(key, PEM, 'cert/www.example.com');
  t.equal(open(key, sealed, 'cert/www.example.com'), PEM);
  t.notOk(JSON.stringify(sealed).includes('PRIVATE KEY'), 'no clear text in the sealed form');
  t.not(seal(key, PEM, 'cert/www.example.com').nonce, sealed.nonce, 'a fresh nonce per value');
  t.throws(() => open(key, sealed, 'cert/evil.example.com'), /does not open with key/, 'copied into another document it does not open');
  t.throws(() => open(newKey(), sealed, 'cert/www.example.com'), /does not open with key/, 'another key does not open it');
  const data = Buffer.from(sealed.data, 'base64');
  data[0] = (data[0] as number) ^ 1;
  t.throws(() => open(key, { ...sealed, data: data.toString('base64') }, 'cert/www.example.com'), /does not open with key/, 'an altered value does not open');
});

t.test('the key file: mode 0600, newest key first, older keys still open', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-keyfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'secrets.key');
  const first = newKey();
  await writeKeyFile(file, [first], { exclusive: true });
  t.equal((await stat(file)).mode & 0o777, 0o600);
  await t.rejects(writeKeyFile(file, [newKey()], { exclusive: true }), { code: 'EEXIST' }, 'a second first start keeps the first key');
  const keyring = new Keyring(file, (await readKeyFile(file)) ?? []);
  const old = keyring.seal(PEM, 'doc');
  await keyring.rotate(newKey());
  t.not(keyring.current.kid, first.kid);
  t.equal(keyring.open(old, 'doc'), PEM, 'a value sealed before the rotation still opens');
  t.same((await readKeyFile(file))?.map((k) => k.kid), keyring.kids());
  t.equal(await readKeyFile(path.join(dir, 'absent')), undefined);
  await writeFile(file, 'not a key\n');
  await t.rejects(readKeyFile(file), /secrets\.key:1: not a base64 32-byte key/);
});
