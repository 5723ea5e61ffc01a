// Expected latency from geography alone: the great-circle distance, light in fibre at ~2/3 c (200 km/ms), there and
// back, plus a fixed overhead for the last mile. Used for clients (where is the edge from them) and for observers
// (how much of an RTT their own distance explains).

export const FIBRE_KM_PER_MS = 200;
export const OVERHEAD_MS = 5;
const EARTH_RADIUS_KM = 6371;

export interface Place {
  latitude: number;
  longitude: number;
}

export function greatCircleKm(a: Place, b: Place): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function estimateMs(distanceKm: number): number {
  return OVERHEAD_MS + (2 * distanceKm) / FIBRE_KM_PER_MS;
}
