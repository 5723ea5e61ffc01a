// Builds a GeoIP database from the readable CSV in geoip/ (network,latitude,longitude,country,continent,city), in
// either layout edgedns reads: GeoLite2/GeoIP2 City (nested `location`, `country`, `continent`) or DB-IP City
// Lite (flat `latitude`, `longitude`, `country_code`). Usage:
//   npx tsc -p tsconfig.bench.json && node dist-bench/geoip/mmdb-build.js geoip/test-networks.csv out.mmdb [--dbip]

import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { writeMmdb, type MmdbNetwork, type MmdbValue } from './mmdb-writer.js';

export type MmdbLayout = 'geolite2' | 'dbip';

export function networksFromCsv(text: string, layout: MmdbLayout): MmdbNetwork[] {
  const networks: MmdbNetwork[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [cidr, lat, lon, country, continent, city = ''] = line.split(',').map((f) => f.trim());
    const latitude = Number(lat);
    const longitude = Number(lon);
    if (!cidr || !Number.isFinite(latitude) || !Number.isFinite(longitude) || !/^[A-Z]{2}$/.test(country ?? '')) {
      throw new Error(`line ${i + 1}: expected network,latitude,longitude,country,continent,city`);
    }
    const data: { [key: string]: MmdbValue } =
      layout === 'dbip'
        ? { city, country_code: country, latitude, longitude, postcode: '', state1: '', state2: '', timezone: '' }
        : {
            city: { names: { en: city } },
            continent: { code: continent },
            country: { iso_code: country },
            location: { latitude, longitude, accuracy_radius: 20 },
          };
    networks.push({ cidr, data });
  });
  return networks;
}

export function buildMmdbFromCsv(text: string, layout: MmdbLayout): Buffer {
  return writeMmdb(networksFromCsv(text, layout), {
    databaseType: layout === 'dbip' ? 'dbip-city-lite-test' : 'GeoLite2-City-Test',
    description: 'edgedns test database built from geoip/test-networks.csv',
    buildEpoch: 1_700_000_000,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [input, output] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (!input || !output) {
    process.stderr.write('usage: mmdb-build CSV OUT.mmdb [--dbip]\n');
    process.exit(2);
  }
  const layout: MmdbLayout = process.argv.includes('--dbip') ? 'dbip' : 'geolite2';
  writeFileSync(output, buildMmdbFromCsv(readFileSync(input, 'utf8'), layout));
}
