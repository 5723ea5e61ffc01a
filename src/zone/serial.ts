// SOA serial arithmetic (RFC 1982): serials compare within half the 32-bit space and wrap around.

/** RFC 1982 §3.2: is `a` greater than `b` in serial number arithmetic? */
export function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31));
}

/** The serial a write makes: the one proposed when it moves forward, else one past the previous. */
export function nextSerial(previous: number, proposed: number): number {
  return serialGreater(proposed, previous) ? proposed : (previous + 1) % 2 ** 32;
}

/** The greatest of some serials in serial order (the first when none is greater). */
export function maxSerial(serials: readonly number[]): number {
  let max = serials[0];
  for (const serial of serials) if (serialGreater(serial, max)) max = serial;
  return max;
}
