// Copyright 2026 the buffered-framing authors. MIT license.
// UTF-8 helpers that work on bytes, so that hot paths need no string round trip.

import { isUtf8 as nodeIsUtf8 } from "node:buffer";
import { InvalidUtf8Error } from "./errors.ts";

/**
 * Returns whether `bytes` is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF): the same bytes Python's strict
 * `bytes.decode("utf-8")` accepts. Native, and allocates nothing.
 */
export function isUtf8(bytes: Uint8Array): boolean {
  return nodeIsUtf8(bytes);
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Returns the number of bytes `text` takes in UTF-8, without encoding it.
 * A lone surrogate counts 3 bytes, as `TextEncoder` writes it as U+FFFD.
 */
export function utf8ByteLength(text: string): number {
  // A native scan settles the common all-ASCII case several times faster than the loop.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes.
        bytes += 2;
        i++;
      } else {
        bytes += 2;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * Returns the byte offset just past the first `count` code points of the
 * well-formed UTF-8 in `bytes`, or `bytes.length` when it holds fewer.
 * Counting lead bytes (everything but `10xxxxxx`) counts code points, as
 * Python's `str` indexing does.
 */
export function skipCodePoints(bytes: Uint8Array, count: number): number {
  let offset = 0;
  let seen = 0;
  const length = bytes.length;
  while (offset < length) {
    if ((bytes[offset] & 0xc0) !== 0x80) {
      if (seen === count) return offset;
      seen++;
    }
    offset++;
  }
  return length;
}

/** Payloads up to this size are first scanned in JavaScript for the all-ASCII case. */
const ASCII_SCAN_LIMIT = 256;

/**
 * Returns the byte offset just past the first `count` code points of `bytes`,
 * as {@linkcode skipCodePoints} does, or `-1` when `bytes` is not well-formed
 * UTF-8. Short all-ASCII payloads, the common case, take one JavaScript pass
 * and no native call.
 */
export function offsetAfterCodePoints(bytes: Uint8Array, count: number): number {
  return offsetAfterCodePointsIn(bytes, 0, bytes.length, count);
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Payloads up to this size that are all ASCII become strings without a native call. */
const ASCII_DECODE_LIMIT = 64;

/**
 * Decodes well-formed UTF-8 as Python's strict `bytes.decode("utf-8")` does:
 * a leading BOM is kept as U+FEFF, and malformed input throws.
 *
 * @throws {InvalidUtf8Error} When `bytes` is not well-formed UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length <= ASCII_DECODE_LIMIT) {
    let i = 0;
    while (i < length && bytes[i] < 0x80) i++;
    if (i === length) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new InvalidUtf8Error(length, { cause: error });
  }
}

/**
 * {@linkcode offsetAfterCodePoints} on `bytes[start, end)`, with offsets into
 * `bytes`: the offset just past the first `count` code points, `end` when
 * there are fewer, or `-1` when the range is not well-formed UTF-8. Needs no
 * view for the common all-ASCII payload.
 */
export function offsetAfterCodePointsIn(
  bytes: Uint8Array,
  start: number,
  end: number,
  count: number,
): number {
  let i = start;
  // A long payload goes straight to the native check, much faster than this loop.
  if (end - start <= ASCII_SCAN_LIMIT) { while (i < end && bytes[i] < 0x80) i++; }
  const cut = start + count;
  if (i === end) return cut < end ? cut : end;
  // An ASCII prefix is whole code points, so the rest is UTF-8 exactly when the whole is.
  const rest = bytes.subarray(i, end);
  if (!isUtf8(rest)) return -1;
  return cut <= i ? cut : i + skipCodePoints(rest, cut - i);
}
