// Copyright 2026 the buffered-framing authors. MIT license.
// The interfaces the framing layer reads from, writes to and is configured by.

/**
 * Anything bytes can be read from, such as a `Deno.Conn`.
 *
 * @example Deno's readers are byte sources
 * ```ts
 * import type { ByteSource } from "./framing.ts";
 *
 * const source: ByteSource = Deno.stdin; // so is every Deno.Conn
 * ```
 */
export interface ByteSource {
  /**
   * Reads up to `p.byteLength` bytes into `p`; resolves to the number of
   * bytes read, or `null` at end of stream.
   */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Anything bytes can be written to, such as a `Deno.Conn`. A write may take
 * fewer bytes than it was given.
 *
 * @example Deno's writers are byte sinks
 * ```ts
 * import type { ByteSink } from "./framing.ts";
 *
 * const sink: ByteSink = Deno.stdout; // so is every Deno.Conn
 * ```
 */
export interface ByteSink {
  /** Writes some of `p`; resolves to the number of bytes written. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * The name of a length-field format: how a frame's header encodes its
 * payload's length.
 *
 * | name | header bytes | byte order | largest payload |
 * |---|---|---|---|
 * | `"u32be"` (default) | 4 | big-endian | 2^32 − 1 |
 * | `"u32le"` | 4 | little-endian | 2^32 − 1 |
 * | `"u16be"` | 2 | big-endian | 65,535 |
 * | `"u16le"` | 2 | little-endian | 65,535 |
 * | `"u8"` | 1 | — | 255 |
 * | `"u64be"` | 8 | big-endian | 2^32 − 1 (the `maxFrameSize` cap) |
 * | `"u64le"` | 8 | little-endian | 2^32 − 1 (the `maxFrameSize` cap) |
 * | `"varint"` | 1 to 5 | unsigned LEB128, low group first | 2^32 − 1 |
 *
 * `"varint"` is protobuf's delimited-message length (`writeDelimitedTo`,
 * Netty's `ProtobufVarint32LengthFieldPrepender`): writers write the
 * shortest form, readers accept any form up to 5 bytes whose value fits.
 *
 * @example Every name
 * ```ts
 * import { LENGTH_FIELDS, type LengthFieldName } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const name: LengthFieldName = "u16le";
 * assert.ok(LENGTH_FIELDS.includes(name));
 * ```
 */
export type LengthFieldName =
  | "u32be"
  | "u32le"
  | "u16be"
  | "u16le"
  | "u8"
  | "u64be"
  | "u64le"
  | "varint";

/**
 * Options that choose a frame's format and bound what it may declare: the
 * options of every encoder, writer and reader.
 *
 * @example A limit of 1 KiB
 * ```ts
 * import { encodeFrame, type FrameFormatOptions } from "./framing.ts";
 *
 * const limits: FrameFormatOptions = { maxFrameSize: 1024 };
 * const bytes = encodeFrame("small enough", limits);
 * ```
 *
 * @example Java's `DataOutputStream.writeShort` length, then the bytes
 * ```ts
 * import { encodeFrame } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeFrame("hi", { lengthField: "u16be" });
 * assert.deepEqual(frame, new Uint8Array([0, 2, 0x68, 0x69]));
 * ```
 */
export interface FrameFormatOptions {
  /**
   * How the header encodes the payload's length; see
   * {@linkcode LengthFieldName} for each format.
   *
   * @default {"u32be"}
   */
  lengthField?: LengthFieldName;
  /**
   * Whether the declared length counts the length field too, as Diameter's
   * and many ISO 8583 links' do (Netty: `lengthAdjustment = -headerSize`).
   * Only for the fixed widths: with `"varint"` it is a `RangeError`, and
   * anything but a boolean a `TypeError`. A frame that declares less than
   * its header's size is a {@linkcode CorruptFrameError}.
   *
   * @default {false}
   */
  lengthIncludesHeader?: boolean;
  /**
   * Largest payload accepted, in bytes, header not counted (with
   * `lengthIncludesHeader` too). A frame that declares more is refused with
   * a {@linkcode FrameTooLargeError} before any memory is allocated for it.
   * At most what the length field can declare and at most
   * {@linkcode MAX_FRAME_SIZE_LIMIT}: a higher value is a `RangeError`.
   * Encoders default to that most; readers to the smaller of it and
   * {@linkcode DEFAULT_MAX_FRAME_SIZE}, 16 MiB, since they allocate what
   * peers declare.
   */
  maxFrameSize?: number;
}

/**
 * The options of every encoder, writer and reader, under their name before
 * the length-field formats came.
 *
 * @deprecated Use {@linkcode FrameFormatOptions}, which also names the format.
 *
 * @example The same options under the new name
 * ```ts
 * import type { FrameFormatOptions, FrameLimitOptions } from "./framing.ts";
 *
 * const limits: FrameLimitOptions = { maxFrameSize: 1024 };
 * const same: FrameFormatOptions = limits;
 * ```
 */
export type FrameLimitOptions = FrameFormatOptions;
