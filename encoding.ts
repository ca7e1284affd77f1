// Copyright 2026 the buffered-framing authors. MIT license.
// Encoding one payload as one frame, into a new array or onto a sink.

import { HEADER_SIZE, MAX_FRAME_SIZE_LIMIT } from "./constants.ts";
import type { ByteSink, FrameLimitOptions } from "./types.ts";
import { writeAll } from "./write_all.ts";
import { checkFrameSize, writeHeader } from "./_header.ts";
import { maxFrameSizeOption } from "./_options.ts";
import { utf8ByteLength } from "./_utf8.ts";

const encoder = new TextEncoder();

/**
 * Encodes `payload` as one frame: the 4-byte big-endian length, then the
 * payload's bytes (text as UTF-8), in a single new buffer. Text is encoded
 * straight into that buffer, with no intermediate copy.
 *
 * @param payload The message, as text or bytes.
 * @param options The limit on the payload's size.
 * @returns The frame's bytes.
 * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`.
 * @throws {RangeError} When `maxFrameSize` is not an integer from 0 to 2^32 − 1.
 *
 * @example Basic usage
 * ```ts
 * import { encodeFrame } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeFrame("hé"), new Uint8Array([0, 0, 0, 3, 0x68, 0xc3, 0xa9]));
 * ```
 */
export function encodeFrame(payload: string | Uint8Array, options?: FrameLimitOptions): Uint8Array {
  const maxFrameSize = maxFrameSizeOption(options?.maxFrameSize, MAX_FRAME_SIZE_LIMIT);
  const length = checkFrameSize(
    typeof payload === "string" ? utf8ByteLength(payload) : payload.byteLength,
    maxFrameSize,
  );
  const frame = new Uint8Array(HEADER_SIZE + length);
  writeHeader(frame, 0, length);
  if (typeof payload === "string") {
    encoder.encodeInto(payload, frame.subarray(HEADER_SIZE));
  } else {
    frame.set(payload, HEADER_SIZE);
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
 * @param options The limit on the payload's size.
 * @returns A promise that resolves once the whole frame is written.
 * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`.
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
  options?: FrameLimitOptions,
): Promise<void> {
  return writeAll(sink, encodeFrame(payload, options));
}
