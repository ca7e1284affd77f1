// Copyright 2026 the buffered-framing authors. MIT license.
// The length header: writing it, reading it, and checking the length it
// declares. Each rule is written once here; every encoder, writer and reader
// calls these. They are small enough for V8 to inline at every call site.

import { FrameTooLargeError } from "./errors.ts";

/** Writes `length` as a 4-byte big-endian header into `target` at `offset`. */
export function writeHeader(target: Uint8Array, offset: number, length: number): void {
  target[offset] = length >>> 24;
  target[offset + 1] = length >>> 16;
  target[offset + 2] = length >>> 8;
  target[offset + 3] = length;
}

/**
 * Returns the payload length the 4-byte big-endian header at `offset` of
 * `view` declares. A `DataView` read, which V8 compiles to one load, beats
 * assembling the bytes by hand.
 */
export function readHeader(view: DataView, offset: number): number {
  return view.getUint32(offset);
}

/**
 * Returns `length` when `maxFrameSize` allows a payload that long.
 *
 * @throws {FrameTooLargeError} When `length` exceeds `maxFrameSize`.
 */
export function checkFrameSize(length: number, maxFrameSize: number): number {
  if (length > maxFrameSize) throw new FrameTooLargeError(length, maxFrameSize);
  return length;
}
