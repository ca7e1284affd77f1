// Copyright 2026 the buffered-framing authors. MIT license.
// The length-field formats, described here independently of the library, for
// the tests that run every one of them.

import type { LengthFieldName } from "../framing.ts";

/** A length-field format, as the options name it. */
export interface Format {
  lengthField: LengthFieldName;
  lengthIncludesHeader: boolean;
}

export type FixedName = Exclude<LengthFieldName, "varint">;

/** Header bytes of each fixed-width format; `varint` takes 1 to 5. */
export const FIXED_WIDTHS: Readonly<Record<FixedName, number>> = {
  u32be: 4,
  u32le: 4,
  u16be: 2,
  u16le: 2,
  u8: 1,
  u64be: 8,
  u64le: 8,
};
export const FIXED_NAMES = Object.keys(FIXED_WIDTHS) as FixedName[];

/** Every format: each name, then every fixed width counting its header. */
export const FORMATS: readonly Format[] = [
  ...[...FIXED_NAMES, "varint" as const].map((lengthField) => ({
    lengthField,
    lengthIncludesHeader: false,
  })),
  ...FIXED_NAMES.map((lengthField) => ({ lengthField, lengthIncludesHeader: true })),
];

export function formatName(format: Format): string {
  return `${format.lengthField}${format.lengthIncludesHeader ? " counting its header" : ""}`;
}

/** The largest payload the format can declare, at most 2^32 - 1. */
export function largestPayload(format: Format): number {
  if (format.lengthField === "varint") return 2 ** 32 - 1;
  const width = FIXED_WIDTHS[format.lengthField];
  const counted = format.lengthIncludesHeader ? width : 0;
  return Math.min(2 ** (8 * width) - 1 - counted, 2 ** 32 - 1);
}

/** Header bytes of a fixed-width format, or the most a varint takes (5). */
export function maxHeaderBytes(format: Format): number {
  return format.lengthField === "varint" ? 5 : FIXED_WIDTHS[format.lengthField];
}

/**
 * The length field declaring `declared`, written here by hand, not by the
 * library: a fixed width's bytes in its byte order (`declared` taken modulo
 * its range), or the shortest unsigned LEB128 of `declared`. The declared
 * value is written as given: a length that counts its header is the caller's
 * sum.
 */
export function lengthFieldBytes(format: Format, declared: bigint): Uint8Array {
  if (format.lengthField === "varint") {
    const out: number[] = [];
    let rest = declared;
    do {
      const group = Number(rest % 128n);
      rest /= 128n;
      out.push(rest > 0n ? group | 0x80 : group);
    } while (rest > 0n);
    return new Uint8Array(out);
  }
  const width = FIXED_WIDTHS[format.lengthField];
  const littleEndian = format.lengthField.endsWith("le");
  const out = new Uint8Array(width);
  for (let significance = 0; significance < width; significance++) {
    const byte = Number((declared >> BigInt(8 * significance)) & 0xffn);
    out[littleEndian ? significance : width - 1 - significance] = byte;
  }
  return out;
}

/** The header of a `length`-byte payload: the declared length counts the header when the format says so. */
export function headerFor(format: Format, length: number): Uint8Array {
  const counted = format.lengthIncludesHeader ? maxHeaderBytes(format) : 0;
  return lengthFieldBytes(format, BigInt(length + counted));
}

/** One frame in `format`, built by hand: the header of the payload's length, then the payload. */
export function frameIn(format: Format, payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const head = headerFor(format, bytes.byteLength);
  const out = new Uint8Array(head.byteLength + bytes.byteLength);
  out.set(head);
  out.set(bytes, head.byteLength);
  return out;
}
