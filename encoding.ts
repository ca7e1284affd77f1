// Copyright 2026 the buffered-framing authors. MIT license.
// Encoding one payload as one frame, into a new array or onto a sink.

import type { ByteSink, FrameFormatOptions } from "./types.ts";
import { writeAll } from "./write_all.ts";
import { checkFrameSize, frameFormat } from "./_header.ts";
import { utf8ByteLength } from "./_utf8.ts";

const encoder = new TextEncoder();

/**
 * Encodes `payload` as one frame: the length field (by default 4 bytes,
 * big-endian), then the payload's bytes (text as UTF-8), in a single new
 * buffer. Text is encoded straight into that buffer, with no intermediate
 * copy.
 *
 * @param payload The message, as text or bytes.
 * @param options The length field's format and the limit on the payload's size.
 * @returns The frame's bytes.
 * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`, or
 * what the length field can declare.
 * @throws {RangeError} When `lengthField` is unknown, `lengthIncludesHeader`
 * is combined with `"varint"`, or `maxFrameSize` is not an integer from 0 to
 * what the field can declare.
 *
 * @example Basic usage
 * ```ts
 * import { encodeFrame } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeFrame("hé"), new Uint8Array([0, 0, 0, 3, 0x68, 0xc3, 0xa9]));
 * ```
 *
 * @example Other formats: protobuf's varint, a little-endian length that counts itself
 * ```ts
 * import { encodeFrame, FrameTooLargeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeFrame("hi", { lengthField: "varint" }), new Uint8Array([2, 0x68, 0x69]));
 * assert.deepEqual(
 *   encodeFrame("hi", { lengthField: "u16le", lengthIncludesHeader: true }),
 *   new Uint8Array([4, 0, 0x68, 0x69]),
 * );
 * assert.throws(() => encodeFrame("x".repeat(256), { lengthField: "u8" }), FrameTooLargeError);
 * ```
 */
export function encodeFrame(
  payload: string | Uint8Array,
  options?: FrameFormatOptions,
): Uint8Array {
  const { lengthField, maxFrameSize } = frameFormat(options, false);
  const length = checkFrameSize(
    typeof payload === "string" ? utf8ByteLength(payload) : payload.byteLength,
    maxFrameSize,
  );
  const headerSize = lengthField.headerSize(length);
  const frame = new Uint8Array(headerSize + length);
  lengthField.write(frame, 0, length);
  if (typeof payload === "string") {
    encoder.encodeInto(payload, frame.subarray(headerSize));
  } else {
    frame.set(payload, headerSize);
  }
  return frame;
}

/**
 * Encodes `payload` as one frame and writes all of it to `sink`. Concurrent
 * calls on one sink may interleave their bytes: use a {@linkcode FrameWriter}
 * when several writers share a connection.
 *
 * @param sink Where to write, such as a `Deno.Conn`.
 * @param payload The message, as text or bytes.
 * @param options The length field's format and the limit on the payload's size.
 * @returns A promise that resolves once the whole frame is written.
 * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`, or
 * what the length field can declare.
 * @throws {RangeError} For invalid options, as for {@linkcode encodeFrame}.
 * @throws {Deno.errors.WriteZero} When a `write` call takes none of the bytes
 * it is given, as for {@linkcode writeAll}.
 *
 * @example Basic usage
 * ```ts
 * import { writeFrame } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const sink = {
 *   write(p: Uint8Array): Promise<number> {
 *     chunks.push(p.slice());
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * await writeFrame(sink, "hi");
 * assert.deepEqual(chunks, [new Uint8Array([0, 0, 0, 2, 0x68, 0x69])]);
 * ```
 */
export function writeFrame(
  sink: ByteSink,
  payload: string | Uint8Array,
  options?: FrameFormatOptions,
): Promise<void> {
  let frame: Uint8Array;
  try {
    frame = encodeFrame(payload, options);
  } catch (error) {
    // Rejected, not thrown: a caller of a promise-returning function catches one way.
    return Promise.reject(error);
  }
  return writeAll(sink, frame);
}
