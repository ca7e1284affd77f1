// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Length-prefixed framing: every message is a 4-byte big-endian unsigned
 * payload length followed by that many payload bytes.
 *
 * ```
 * +--------+--------+--------+--------+-------------------------------+
 * |        payload length (uint32 BE) |  payload (length bytes)  ...  |
 * +--------+--------+--------+--------+-------------------------------+
 * ```
 *
 * That is the default format, `"u32be"`; the `lengthField` option of every
 * encoder, writer and reader names another ({@linkcode LengthFieldName}:
 * 2-, 1- and 8-byte lengths in either byte order, protobuf's varint) and
 * `lengthIncludesHeader` makes the length count the header too.
 *
 * This module knows nothing of clients or servers: it turns payloads into
 * bytes ({@linkcode encodeFrame}, {@linkcode writeFrame},
 * {@linkcode FrameWriter}) and bytes back into payloads
 * ({@linkcode FrameReader}), whatever the network does to them.
 *
 * @example Round trip through an in-memory stream
 * ```ts
 * import { encodeFrame, FrameReader } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrame("Four score and seven years ago");
 * let offset = 0;
 * const source = {
 *   // Hands out at most 3 bytes a call, as a slow network might.
 *   read(p: Uint8Array): Promise<number | null> {
 *     if (offset === bytes.length) return Promise.resolve(null);
 *     const n = Math.min(3, p.length, bytes.length - offset);
 *     p.set(bytes.subarray(offset, offset + n));
 *     offset += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * const reader = new FrameReader(source, { bufferSize: 8 });
 * const payload = await reader.read();
 * assert.deepEqual(new TextDecoder().decode(payload!), "Four score and seven years ago");
 * assert.deepEqual(await reader.read(), null);
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./types.ts";
export * from "./errors.ts";
export * from "./encoding.ts";
export * from "./write_all.ts";
export * from "./frame_writer.ts";
export * from "./frame_reader.ts";
