// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * The errors of the framing layer: what a peer can do wrong to a stream of
 * frames. Each is a class a caller is meant to catch, with the facts as
 * readonly fields.
 *
 * @example Telling the faults apart
 * ```ts
 * import {
 *   CorruptFrameError,
 *   FrameTooLargeError,
 *   IncompleteFrameError,
 *   InvalidUtf8Error,
 * } from "./errors.ts";
 *
 * function describe(error: unknown): string {
 *   if (error instanceof FrameTooLargeError) return `declared ${error.length} bytes`;
 *   if (error instanceof IncompleteFrameError) return `cut ${error.missing} bytes short`;
 *   if (error instanceof CorruptFrameError) return `corrupt: ${error.reason}`;
 *   if (error instanceof InvalidUtf8Error) return "not text";
 *   return "a socket error";
 * }
 * describe(new InvalidUtf8Error(3));
 * ```
 *
 * @module
 */

/**
 * A frame declared a payload longer than the accepted limit. Thrown before
 * any memory is allocated for that payload.
 *
 * @example Catching an oversized frame
 * ```ts
 * import { encodeFrame, FrameTooLargeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => encodeFrame("too long", { maxFrameSize: 4 }),
 *   (error) => error instanceof FrameTooLargeError && error.length === 8,
 * );
 * ```
 */
export class FrameTooLargeError extends Error {
  /**
   * The payload length the frame declared, in bytes; with `lengthIsExact`
   * `false`, a lower bound of it.
   */
  readonly length: number;
  /** The limit it exceeds, in bytes. */
  readonly maxFrameSize: number;
  /**
   * Whether `length` is the declared length itself. `false` when the frame
   * was refused before its whole length was known (a varint whose leading
   * groups already exceed the limit) or when the length is past 2^53 (a u64)
   * and so only approximately a `number`.
   */
  readonly lengthIsExact: boolean;

  /**
   * Constructs the error from the declared length and the limit.
   *
   * @param length The payload length declared, in bytes, or a lower bound of it.
   * @param maxFrameSize The limit, in bytes.
   * @param lengthIsExact Whether `length` is exact rather than a lower bound.
   */
  constructor(length: number, maxFrameSize: number, lengthIsExact = true) {
    super(
      `Frame of ${
        lengthIsExact ? "" : "at least "
      }${length} bytes exceeds the limit: ${maxFrameSize}`,
    );
    this.name = "FrameTooLargeError";
    this.length = length;
    this.maxFrameSize = maxFrameSize;
    this.lengthIsExact = lengthIsExact;
  }
}

/**
 * The stream ended inside a frame: in its header or in its payload.
 *
 * @example What a reader reports for a cut-short payload
 * ```ts
 * import { FrameReader, IncompleteFrameError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0, 0, 0, 5, 104, 105]); // declares 5, sends 2
 * let sent = false;
 * const reader = new FrameReader({
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * });
 * await assert.rejects(
 *   reader.read(),
 *   (error) => error instanceof IncompleteFrameError && error.missing === 3,
 * );
 * ```
 */
export class IncompleteFrameError extends Error {
  /** Where the stream ended: in the length field (the header) or in the payload. */
  readonly part: "header" | "payload";
  /** Bytes that part needed. */
  readonly expected: number;
  /** Bytes of that part that arrived. */
  readonly received: number;

  /**
   * Constructs the error from what was expected and what arrived.
   *
   * @param part Where the stream ended.
   * @param expected Bytes that part needed.
   * @param received Bytes of that part that arrived.
   */
  constructor(part: "header" | "payload", expected: number, received: number) {
    super(
      `Stream ended inside a frame ${part}: ${received} of ${expected} bytes received`,
    );
    this.name = "IncompleteFrameError";
    this.part = part;
    this.expected = expected;
    this.received = received;
  }

  /** Bytes that were missing when the stream ended. */
  get missing(): number {
    return this.expected - this.received;
  }
}

/**
 * A frame's length field made no sense: a length that counts the header
 * declared less than the header itself (`lengthIncludesHeader`), or a varint
 * ran past the 5 bytes a 32-bit length needs (protobuf's varint32 bound, as
 * Netty's `ProtobufVarint32FrameDecoder` enforces it) or past 2^32 − 1.
 * Nothing after such a header can be trusted to start a frame, so the reader
 * fails for good, like Netty's `CorruptedFrameException`.
 *
 * @example A 2-byte length that counts itself must be at least 2
 * ```ts
 * import { CorruptFrameError, FrameReader } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x00, 0x01]); // declares 1: less than its own 2 bytes
 * let sent = false;
 * const reader = new FrameReader({
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * }, { lengthField: "u16be", lengthIncludesHeader: true });
 * await assert.rejects(
 *   reader.read(),
 *   (error) => error instanceof CorruptFrameError && error.reason === "length-below-header",
 * );
 * ```
 */
export class CorruptFrameError extends Error {
  /**
   * What was wrong: `"length-below-header"` when a length that counts the
   * header declared less than the header's size, `"varint-too-long"` when a
   * varint length needed more than 5 bytes or exceeded 2^32 − 1.
   */
  readonly reason: "length-below-header" | "varint-too-long";
  /** The header's bytes as received, as far as they were read. */
  readonly header: Uint8Array;

  /**
   * Constructs the error from the reason and the header's bytes.
   *
   * @param reason What was wrong with the length field.
   * @param header The header's bytes as received (copied).
   */
  constructor(reason: "length-below-header" | "varint-too-long", header: Uint8Array) {
    const hex = Array.from(header, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
    const size = header.length === 1 ? "1 byte" : `${header.length} bytes`;
    super(
      reason === "length-below-header"
        ? `Corrupt frame: the length field [${hex}] declares less than its own size, ${size}`
        : `Corrupt frame: the varint length field [${hex}] needs more than 5 bytes or exceeds 2^32 - 1`,
    );
    this.name = "CorruptFrameError";
    this.reason = reason;
    this.header = header.slice();
  }
}

/**
 * A payload that had to be text was not well-formed UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF included, as Python's strict
 * `decode` refuses them). Every part of this package that decodes text
 * throws this one class, whichever side of a connection it is on. A
 * `TypeError`, as `TextDecoder` with `fatal: true` throws.
 *
 * @example A payload that is not text
 * ```ts
 * import { InvalidUtf8Error } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new InvalidUtf8Error(2);
 * assert.ok(error instanceof TypeError);
 * assert.equal(error.message, "Frame of 2 bytes is not valid UTF-8");
 * ```
 */
export class InvalidUtf8Error extends TypeError {
  /** Size of the payload that was refused, in bytes. */
  readonly byteLength: number;

  /**
   * Constructs the error from the payload's size.
   *
   * @param byteLength Size of the payload, in bytes.
   * @param options The underlying error, when there is one, as `cause`.
   */
  constructor(byteLength: number, options?: ErrorOptions) {
    super(`Frame of ${byteLength} bytes is not valid UTF-8`, options);
    this.name = "InvalidUtf8Error";
    this.byteLength = byteLength;
  }
}
