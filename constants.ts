// Copyright 2026 the buffered-framing authors. MIT license.
// The sizes of the frame formats and the defaults of the framing layer.

import type { LengthFieldName } from "./types.ts";

/**
 * Size of the default format's length header (`"u32be"`), in bytes.
 *
 * @example A frame is the header plus the payload
 * ```ts
 * import { encodeFrame, HEADER_SIZE } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeFrame("hello").byteLength, HEADER_SIZE + 5);
 * ```
 */
export const HEADER_SIZE = 4;

/**
 * Default size of a {@linkcode FrameReader}'s receive buffer, in bytes.
 *
 * @example A larger buffer for a busy connection
 * ```ts
 * import { DEFAULT_BUFFER_SIZE, FrameReader } from "./framing.ts";
 *
 * const source = { read: (_: Uint8Array) => Promise.resolve(null) };
 * const reader = new FrameReader(source, { bufferSize: 64 * DEFAULT_BUFFER_SIZE });
 * ```
 */
export const DEFAULT_BUFFER_SIZE = 1024;

/**
 * Default largest payload accepted, in bytes: 16 MiB.
 *
 * @example A reader refuses a header that declares one byte more
 * ```ts
 * import { DEFAULT_MAX_FRAME_SIZE, FrameReader, FrameTooLargeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const header = new Uint8Array(4);
 * new DataView(header.buffer).setUint32(0, DEFAULT_MAX_FRAME_SIZE + 1);
 * let sent = false;
 * const source = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(header);
 *     return Promise.resolve(header.byteLength);
 *   },
 * };
 * await assert.rejects(new FrameReader(source).read(), FrameTooLargeError);
 * ```
 */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/**
 * Largest payload the 4-byte header can declare: 2^32 − 1 bytes. The
 * highest `maxFrameSize` any option accepts.
 *
 * @example Lifting the limit to what the protocol allows
 * ```ts
 * import { FrameReader, MAX_FRAME_SIZE_LIMIT } from "./framing.ts";
 *
 * const source = { read: (_: Uint8Array) => Promise.resolve(null) };
 * const reader = new FrameReader(source, { maxFrameSize: MAX_FRAME_SIZE_LIMIT });
 * ```
 */
export const MAX_FRAME_SIZE_LIMIT = 0xffff_ffff;

/**
 * Every {@linkcode LengthFieldName}, the default (`"u32be"`) first: for
 * command lines and configuration that take a name as text.
 *
 * @example Check a name from a configuration file
 * ```ts
 * import { LENGTH_FIELDS, type LengthFieldName } from "./framing.ts";
 *
 * const configured: string = "u16be";
 * if (!(LENGTH_FIELDS as readonly string[]).includes(configured)) {
 *   throw new RangeError(`Unknown length field: ${configured}`);
 * }
 * const lengthField = configured as LengthFieldName;
 * ```
 */
export const LENGTH_FIELDS: readonly LengthFieldName[] = Object.freeze([
  "u32be",
  "u32le",
  "u16be",
  "u16le",
  "u8",
  "u64be",
  "u64le",
  "varint",
]);
