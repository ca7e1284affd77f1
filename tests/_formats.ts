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
