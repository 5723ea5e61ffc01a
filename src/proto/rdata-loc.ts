// LOC (RFC 1876): a location as degrees, minutes and seconds, altitude, size and precisions in metres, in the
// presentation form of RFC 1876 §3 and the 16 octets of §2. Printed as knot prints it, but single-spaced.

import { RdataError, type TokenReader, type WireReader } from './rdata-fields.js';

const EQUATOR = 2 ** 31; // latitude and longitude are offsets from 2^31 thousandths of an arc second
const ALTITUDE_BASE = 10_000_000; // altitude is in centimetres above 100,000 m below the WGS 84 spheroid
const MAX_ALTITUDE = 0xffffffff;
const DEFAULT_SIZE = 0x12; // 1 m
const DEFAULT_HORIZONTAL = 0x16; // 10,000 m
const DEFAULT_VERTICAL = 0x13; // 10 m
const MAX_PRECISION_CM = 9e9; // mantissa and exponent 9: 90,000,000 m

interface Axis {
  field: string;
  maxDegrees: number;
  positive: string;
  negative: string;
}

const LATITUDE: Axis = { field: 'latitude', maxDegrees: 90, positive: 'N', negative: 'S' };
const LONGITUDE: Axis = { field: 'longitude', maxDegrees: 180, positive: 'E', negative: 'W' };

/** "d [m [s]] N|S" (or E|W) to the wire value. */
function readAxis(r: TokenReader, axis: Axis): number {
  const parts: string[] = [];
  let hemisphere: string | undefined;
  while (hemisphere === undefined) {
    const text = r.word(axis.field);
    const upper = text.toUpperCase();
    if (upper === axis.positive || upper === axis.negative) hemisphere = upper;
    else if (parts.length < 3) parts.push(text);
    else r.fail(`${axis.field} "${parts.join(' ')} ${text}" needs ${axis.positive} or ${axis.negative} after at most degrees, minutes and seconds`);
  }
  if (parts.length === 0) r.fail(`${axis.field} has ${hemisphere} but no degrees`);
  const [degrees, minutes = '0', seconds = '0'] = parts;
  if (!/^\d{1,3}$/.test(degrees) || Number(degrees) > axis.maxDegrees) r.fail(`${axis.field} degrees "${degrees}" is not a number 0-${axis.maxDegrees}`);
  if (!/^\d{1,2}$/.test(minutes) || Number(minutes) > 59) r.fail(`${axis.field} minutes "${minutes}" is not a number 0-59`);
  const s = /^(\d{1,2})(?:\.(\d{0,3}))?$/.exec(seconds);
  if (!s || Number(s[1]) > 59) r.fail(`${axis.field} seconds "${seconds}" is not a number 0-59.999 (at most three decimals)`);
  const thousandths = ((Number(degrees) * 60 + Number(minutes)) * 60 + Number(s[1])) * 1000 + Number((s[2] ?? '').padEnd(3, '0'));
  if (thousandths > axis.maxDegrees * 3_600_000) r.fail(`${axis.field} is more than ${axis.maxDegrees} degrees`);
  return hemisphere === axis.positive ? EQUATOR + thousandths : EQUATOR - thousandths;
}

/** Metres with at most two decimals and an optional "m", to centimetres; undefined when malformed. */
function centimetres(text: string, signed: boolean): number | undefined {
  const m = (signed ? /^(-?)(\d+)(?:\.(\d{0,2}))?m?$/ : /^()(\d+)(?:\.(\d{0,2}))?m?$/).exec(text);
  if (!m) return undefined;
  const cm = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -cm : cm;
}

/** RFC 1876 §2 size and precision: a mantissa and a power of ten, both 0-9, in the high and low nibble (truncated, as knot does). */
function precision(r: TokenReader, field: string, fallback: number): number {
  if (r.remaining === 0) return fallback;
  const text = r.word(field);
  const cm = centimetres(text, false);
  if (cm === undefined || cm > MAX_PRECISION_CM) r.fail(`${field} "${text}" is not a number of metres 0-90000000 (at most two decimals)`);
  if (cm === 0) return 0;
  const exponent = String(cm).length - 1;
  return (Math.floor(cm / 10 ** exponent) << 4) | exponent;
}

export function encodeLoc(r: TokenReader): Buffer[] {
  const latitude = readAxis(r, LATITUDE);
  const longitude = readAxis(r, LONGITUDE);
  const altitudeText = r.word('altitude');
  const altitude = centimetres(altitudeText, true);
  if (altitude === undefined || altitude + ALTITUDE_BASE < 0 || altitude + ALTITUDE_BASE > MAX_ALTITUDE) {
    r.fail(`altitude "${altitudeText}" is not a number of metres -100000.00 to 42849672.95 (at most two decimals)`);
  }
  const size = precision(r, 'size', DEFAULT_SIZE);
  const horizontal = precision(r, 'horizontal precision', DEFAULT_HORIZONTAL);
  const vertical = precision(r, 'vertical precision', DEFAULT_VERTICAL);
  const wire = Buffer.alloc(16);
  wire.writeUInt8(0, 0); // version
  wire.writeUInt8(size, 1);
  wire.writeUInt8(horizontal, 2);
  wire.writeUInt8(vertical, 3);
  wire.writeUInt32BE(latitude, 4);
  wire.writeUInt32BE(longitude, 8);
  wire.writeUInt32BE(altitude + ALTITUDE_BASE, 12);
  return [wire];
}

/** Hundredths as knot prints them: whole units alone, else two decimals. */
function hundredths(value: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  const whole = Math.floor(abs / 100);
  return abs % 100 === 0 ? `${sign}${whole}` : `${sign}${whole}.${String(abs % 100).padStart(2, '0')}`;
}

function axisText(w: WireReader, value: number, axis: Axis): string {
  const thousandths = Math.abs(value - EQUATOR);
  if (thousandths > axis.maxDegrees * 3_600_000) throw new RdataError(`${w.type} ${axis.field} is more than ${axis.maxDegrees} degrees`);
  const degrees = Math.floor(thousandths / 3_600_000);
  const minutes = Math.floor((thousandths % 3_600_000) / 60_000);
  const ms = thousandths % 60_000;
  const seconds = ms % 1000 === 0 ? String(ms / 1000) : `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
  return `${degrees} ${minutes} ${seconds} ${value >= EQUATOR ? axis.positive : axis.negative}`;
}

function precisionText(w: WireReader, byte: number, field: string): string {
  const mantissa = byte >> 4;
  const exponent = byte & 0x0f;
  if (mantissa > 9 || exponent > 9) throw new RdataError(`${w.type} ${field} 0x${byte.toString(16)} has a digit over 9 (RFC 1876 §2)`);
  // Zero has one form, 0x00; another would not survive the text form, which has only "0m".
  if (mantissa === 0 && exponent !== 0) throw new RdataError(`${w.type} ${field} 0x${byte.toString(16).padStart(2, '0')} is zero with an exponent; zero is 0x00`);
  return `${hundredths(mantissa * 10 ** exponent)}m`;
}

export function decodeLoc(w: WireReader): string[] {
  const version = w.u8();
  if (version !== 0) throw new RdataError(`${w.type} version ${version} is not 0 (RFC 1876 §2)`);
  const [size, horizontal, vertical] = [w.u8(), w.u8(), w.u8()];
  const latitude = axisText(w, w.u32(), LATITUDE);
  const longitude = axisText(w, w.u32(), LONGITUDE);
  const altitude = `${hundredths(w.u32() - ALTITUDE_BASE)}m`;
  return [
    latitude,
    longitude,
    altitude,
    precisionText(w, size, 'size'),
    precisionText(w, horizontal, 'horizontal precision'),
    precisionText(w, vertical, 'vertical precision'),
  ];
}
