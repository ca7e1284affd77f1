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

import { integerOption } from "./_options.ts";
import { utf8ByteLength } from "./_utf8.ts";
import { FrameTooLargeError, IncompleteFrameError } from "./errors.ts";

export * from "./errors.ts";

/**
 * Size of the length header in bytes.
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
 * Options that bound what a frame may declare.
 *
 * @example A limit of 1 KiB
 * ```ts
 * import { encodeFrame, type FrameLimitOptions } from "./framing.ts";
 *
 * const limits: FrameLimitOptions = { maxFrameSize: 1024 };
 * const bytes = encodeFrame("small enough", limits);
 * ```
 */
export interface FrameLimitOptions {
  /**
   * Largest payload accepted, in bytes. A frame that declares more is refused
   * with a {@linkcode FrameTooLargeError} before any memory is allocated for
   * it. At most {@linkcode MAX_FRAME_SIZE_LIMIT}, the default when encoding
   * (what the header can declare); readers default to
   * {@linkcode DEFAULT_MAX_FRAME_SIZE}, 16 MiB, since they allocate what
   * peers declare.
   */
  maxFrameSize?: number;
}

/**
 * Options for {@linkcode FrameReader}.
 *
 * @example A 16-byte buffer still reads a longer frame, in several reads
 * ```ts
 * import { encodeFrame, FrameReader, type FrameReaderOptions } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrame("a message longer than the buffer");
 * let offset = 0;
 * const source = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     if (offset === bytes.byteLength) return Promise.resolve(null);
 *     const n = Math.min(p.byteLength, bytes.byteLength - offset);
 *     p.set(bytes.subarray(offset, offset + n));
 *     offset += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * const options: FrameReaderOptions = { bufferSize: 16, maxFrameSize: 1024 };
 * const payload = await new FrameReader(source, options).read();
 * assert.equal(new TextDecoder().decode(payload!), "a message longer than the buffer");
 * ```
 */
export interface FrameReaderOptions extends FrameLimitOptions {
  /**
   * Size of the receive buffer in bytes: no `read` call asks for more. Any
   * integer from 1 up works; frames longer than the buffer are read in
   * several calls.
   *
   * @default {1024}
   */
  bufferSize?: number;
}

function maxFrameSizeOption(options: FrameLimitOptions | undefined, fallback: number): number {
  return integerOption("maxFrameSize", options?.maxFrameSize, fallback, 0, MAX_FRAME_SIZE_LIMIT);
}

const encoder = new TextEncoder();

/**
 * Writes a frame for `payload` into `target` at `offset`, which must have
 * room for `HEADER_SIZE + byteLength`. Text is encoded straight into place.
 */
function writeFrameInto(
  target: Uint8Array,
  offset: number,
  payload: string | Uint8Array,
  byteLength: number,
): void {
  target[offset] = byteLength >>> 24;
  target[offset + 1] = byteLength >>> 16;
  target[offset + 2] = byteLength >>> 8;
  target[offset + 3] = byteLength;
  if (typeof payload === "string") {
    encoder.encodeInto(payload, target.subarray(offset + HEADER_SIZE));
  } else {
    target.set(payload, offset + HEADER_SIZE);
  }
}

function payloadByteLength(payload: string | Uint8Array, maxFrameSize: number): number {
  const length = typeof payload === "string" ? utf8ByteLength(payload) : payload.byteLength;
  if (length > maxFrameSize) throw new FrameTooLargeError(length, maxFrameSize);
  return length;
}

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
  const maxFrameSize = maxFrameSizeOption(options, MAX_FRAME_SIZE_LIMIT);
  const length = payloadByteLength(payload, maxFrameSize);
  const frame = new Uint8Array(HEADER_SIZE + length);
  writeFrameInto(frame, 0, payload, length);
  return frame;
}

/**
 * The error for a sink whose `write` took no bytes of a non-empty array: it
 * would take none the next time either, so writing on would loop for ever.
 */
function writeZeroError(written: number, total: number): Deno.errors.WriteZero {
  return new Deno.errors.WriteZero(
    `Sink accepted 0 bytes of a write: ${written} of ${total} bytes written`,
  );
}

/**
 * Writes all of `bytes` to `sink`, calling `write` again for whatever a call
 * did not take.
 *
 * @param sink Where to write, such as a `Deno.Conn`.
 * @param bytes The bytes to write.
 * @returns A promise that resolves once every byte is written.
 * @throws {Deno.errors.WriteZero} When a `write` call takes none of the bytes
 * it is given, as a sink that can take no more does, instead of retrying for
 * ever.
 *
 * @example Basic usage
 * ```ts
 * import { writeAll } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const written: number[] = [];
 * // A sink that takes one byte a call.
 * const sink = {
 *   write(p: Uint8Array): Promise<number> {
 *     written.push(p[0]);
 *     return Promise.resolve(1);
 *   },
 * };
 * await writeAll(sink, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(written, [1, 2, 3]);
 * ```
 */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const n = await sink.write(offset === 0 ? bytes : bytes.subarray(offset));
    if (n === 0) throw writeZeroError(offset, bytes.byteLength);
    offset += n;
  }
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

/** Capacity a {@linkcode FrameWriter}'s batch starts with: small, so an idle connection costs little; it doubles as needed. */
const WRITER_INITIAL_CAPACITY = 256;
/**
 * Turns Deno's `UnexpectedEof` into end of stream. A TLS peer that closes
 * without `close_notify` makes reads reject with it; frames delimit
 * themselves, so a cut inside one is still an {@linkcode IncompleteFrameError},
 * and a close between frames is a clean end, as over plain TCP.
 */
function endOfStreamOnUnexpectedEof(error: unknown): null {
  if (error instanceof Deno.errors.UnexpectedEof) return null;
  throw error;
}

/** A batch buffer grown past this is dropped once drained, so idle connections stay small. */
const WRITER_RETAINED_CAPACITY = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** Payloads up to this size are copied into the batch in JavaScript rather than by `set()`. */
const SMALL_COPY = 64;

/**
 * Byte payloads at least this long may be borrowed by
 * {@linkcode FrameWriter.enqueue} instead of copied: 64 KiB, where a copy
 * starts to cost more than the extra `write` call.
 *
 * @example A long payload, borrowed: it must stay unchanged until the flush
 * ```ts
 * import { BORROW_THRESHOLD, FrameWriter } from "./framing.ts";
 *
 * const sink = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };
 * const writer = new FrameWriter(sink);
 * const long = new Uint8Array(BORROW_THRESHOLD);
 * writer.enqueue(long, true); // written from `long` itself, not a copy
 * await writer.flush();
 * ```
 */
export const BORROW_THRESHOLD = 64 * 1024;

/**
 * Writes frames to a sink in order, batching those queued while a write is in
 * flight into one `write` call. Safe to share between concurrent callers:
 * frames never interleave.
 *
 * @example Queue several replies, then write them with one call
 * ```ts
 * import { FrameWriter } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const calls: number[] = [];
 * const sink = {
 *   write(p: Uint8Array): Promise<number> {
 *     calls.push(p.byteLength);
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * const writer = new FrameWriter(sink);
 * writer.enqueue("one");
 * writer.enqueue("two");
 * await writer.flush();
 * assert.deepEqual(calls, [14]);
 * ```
 */
export class FrameWriter {
  #sink: ByteSink;
  #maxFrameSize: number;
  /** Frames are encoded into `#batch[#sealed, #batchLength)`; earlier parts sit in `#segments`. */
  #batch: Uint8Array | null = null;
  #batchLength = 0;
  #sealed = 0;
  /** Whole pieces queued ahead of the batch's unsealed part: batch slices and borrowed payloads. */
  #segments: Uint8Array[] = [];
  #segmentBytes = 0;
  #spare: Uint8Array | null = null;
  #draining: Promise<void> | null = null;
  #bytesWritten = 0;

  /**
   * Constructs a writer over `sink`.
   *
   * @param sink Where to write, such as a `Deno.Conn`.
   * @param options The limit on each payload's size.
   * @throws {RangeError} When `maxFrameSize` is not an integer from 0 to 2^32 − 1.
   */
  constructor(sink: ByteSink, options?: FrameLimitOptions) {
    this.#sink = sink;
    this.#maxFrameSize = maxFrameSizeOption(options, MAX_FRAME_SIZE_LIMIT);
  }

  /** Bytes queued and not yet handed to the sink. */
  get pendingBytes(): number {
    return this.#segmentBytes + this.#batchLength - this.#sealed;
  }

  /**
   * Total bytes the sink has accepted so far, headers included: the sum of
   * what every `write` call on the sink resolved to. It grows as each call
   * resolves, partial writes included, so while a flush is in flight it
   * shows how far the sink has got; bytes of a failed flush that the sink
   * took before failing are counted too. A server watches it to time write
   * progress and to count bytes sent.
   *
   * @example A sink that takes 4 bytes a call
   * ```ts
   * import { FrameWriter } from "./framing.ts";
   * import assert from "node:assert/strict";
   *
   * const sink = { write: (p: Uint8Array) => Promise.resolve(Math.min(4, p.byteLength)) };
   * const writer = new FrameWriter(sink);
   * await writer.write("hello"); // a 4-byte header and 5 payload bytes, in 3 calls
   * assert.equal(writer.bytesWritten, 9);
   * await writer.write("");
   * assert.equal(writer.bytesWritten, 13);
   * ```
   */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Queues one frame for `payload` without writing it: text is encoded
   * straight into the batch, bytes are copied, so the caller may reuse its
   * array at once.
   *
   * With `borrow`, a byte payload of at least {@linkcode BORROW_THRESHOLD}
   * bytes is not copied: the writer keeps a reference and writes from it, so
   * the caller must leave it unchanged until the next
   * {@linkcode FrameWriter.flush} resolves. A server uses this to send a long
   * reply straight from the array it was received into.
   *
   * @param payload The message, as text or bytes.
   * @param borrow Whether a long byte payload may be written from the caller's array.
   * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`.
   */
  enqueue(payload: string | Uint8Array, borrow = false): void {
    if (typeof payload === "string") {
      this.#enqueueText(payload);
      return;
    }
    const length = payloadByteLength(payload, this.#maxFrameSize);
    if (borrow && length >= BORROW_THRESHOLD) {
      const batch = this.#reserve(HEADER_SIZE);
      writeFrameInto(batch, this.#batchLength, EMPTY, length);
      this.#batchLength += HEADER_SIZE;
      this.#seal();
      this.#segments.push(payload);
      this.#segmentBytes += length;
      return;
    }
    const batch = this.#reserve(HEADER_SIZE + length);
    writeFrameInto(batch, this.#batchLength, payload, length);
    this.#batchLength += HEADER_SIZE + length;
  }

  /**
   * Queues one frame for `source[start, end)`, as
   * {@linkcode FrameWriter.enqueue} does for `source.subarray(start, end)`,
   * without the view: header and payload go into the batch together. For
   * hot loops that work on offsets, such as a server's.
   *
   * @param source The array holding the payload.
   * @param start Where the payload starts in `source`.
   * @param end Where it ends (exclusive).
   * @param borrow Whether a long payload may be written from `source` itself.
   * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`.
   *
   * @example Frame part of an array
   * ```ts
   * import { FrameWriter } from "./framing.ts";
   * import assert from "node:assert/strict";
   *
   * const written: number[] = [];
   * const sink = {
   *   write: (p: Uint8Array) => (written.push(...p), Promise.resolve(p.byteLength)),
   * };
   * const writer = new FrameWriter(sink);
   * writer.enqueueRange(new TextEncoder().encode("xxhixx"), 2, 4);
   * await writer.flush();
   * assert.deepEqual(written, [0, 0, 0, 2, 0x68, 0x69]);
   * ```
   */
  enqueueRange(source: Uint8Array, start: number, end: number, borrow = false): void {
    const length = end - start;
    if (length > this.#maxFrameSize) throw new FrameTooLargeError(length, this.#maxFrameSize);
    if (borrow && length >= BORROW_THRESHOLD) {
      this.enqueue(source.subarray(start, end), true);
      return;
    }
    const batch = this.#reserve(HEADER_SIZE + length);
    let at = this.#batchLength;
    batch[at] = length >>> 24;
    batch[at + 1] = length >>> 16;
    batch[at + 2] = length >>> 8;
    batch[at + 3] = length;
    at += HEADER_SIZE;
    if (length <= SMALL_COPY) {
      // A short copy byte by byte beats a view plus a native set().
      for (let i = start; i < end; i++) batch[at++] = source[i];
    } else {
      batch.set(source.subarray(start, end), at);
      at += length;
    }
    this.#batchLength = at;
  }

  /**
   * Writes every queued frame. Frames queued while this write is in flight
   * are written by the same flush, batched into one call.
   *
   * @returns A promise that resolves once nothing is left queued, or rejects
   * with the sink's error (the queued frames are then dropped).
   * @throws {Deno.errors.WriteZero} When a `write` call takes none of the
   * bytes it is given, instead of retrying for ever; the queued frames are
   * dropped.
   */
  flush(): Promise<void> {
    if (this.#draining === null) {
      // An empty drain would finish before the assignment below and leave it stale.
      if (this.pendingBytes === 0) return Promise.resolve();
      this.#draining = this.#drain();
    }
    return this.#draining;
  }

  /**
   * Queues one frame and writes it: {@linkcode FrameWriter.enqueue} then
   * {@linkcode FrameWriter.flush}.
   *
   * @param payload The message, as text or bytes.
   * @returns A promise that resolves once the frame is written.
   * @throws {FrameTooLargeError} When the payload exceeds `maxFrameSize`.
   * @throws {Deno.errors.WriteZero} When a `write` call takes none of the
   * bytes it is given, as for {@linkcode FrameWriter.flush}.
   */
  write(payload: string | Uint8Array): Promise<void> {
    this.enqueue(payload);
    return this.flush();
  }

  /**
   * Encodes text straight into the batch, with room reserved for the worst
   * case (3 bytes per UTF-16 unit), so its UTF-8 length need not be counted
   * first: the encoder reports it.
   */
  #enqueueText(text: string): void {
    const maxFrameSize = this.#maxFrameSize;
    if (text.length > maxFrameSize) {
      throw new FrameTooLargeError(utf8ByteLength(text), maxFrameSize);
    }
    const batch = this.#reserve(HEADER_SIZE + text.length * 3);
    const start = this.#batchLength;
    const { written } = encoder.encodeInto(text, batch.subarray(start + HEADER_SIZE));
    if (written > maxFrameSize) throw new FrameTooLargeError(written, maxFrameSize);
    writeFrameInto(batch, start, EMPTY, written);
    this.#batchLength = start + HEADER_SIZE + written;
  }

  /** Returns the batch with room for `bytes` more, grown (by doubling) when needed. */
  #reserve(bytes: number): Uint8Array {
    const batch = this.#batch;
    const needed = this.#batchLength + bytes;
    if (batch !== null && needed <= batch.byteLength) return batch;
    // Sealed bytes stay readable through their segments: only the open part moves.
    const open = this.#batchLength - this.#sealed;
    let capacity = Math.max(WRITER_INITIAL_CAPACITY, batch?.byteLength ?? 0);
    while (capacity < open + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    if (batch !== null) grown.set(batch.subarray(this.#sealed, this.#batchLength));
    this.#batch = grown;
    this.#batchLength = open;
    this.#sealed = 0;
    return grown;
  }

  /** Moves the batch's open part into the segments, so a borrowed payload can follow it. */
  #seal(): void {
    if (this.#batchLength === this.#sealed) return;
    const batch = this.#batch as Uint8Array;
    this.#segments.push(batch.subarray(this.#sealed, this.#batchLength));
    this.#segmentBytes += this.#batchLength - this.#sealed;
    this.#sealed = this.#batchLength;
  }

  async #drain(): Promise<void> {
    const sink = this.#sink;
    try {
      while (this.pendingBytes > 0) {
        this.#seal();
        const segments = this.#segments;
        // Double buffering: frames queued during these writes go to the spare batch.
        const full = this.#batch;
        this.#batch = this.#spare;
        this.#spare = full;
        this.#batchLength = this.#sealed = this.#segmentBytes = 0;
        this.#segments = [];
        for (const segment of segments) {
          // One write usually takes it all: only a short write goes round again.
          const length = segment.byteLength;
          let offset = 0;
          while (offset < length) {
            const n = await sink.write(offset === 0 ? segment : segment.subarray(offset));
            this.#bytesWritten += n;
            if (n === 0) throw writeZeroError(offset, length);
            offset += n;
          }
        }
      }
    } catch (error) {
      this.#batchLength = this.#sealed = this.#segmentBytes = 0;
      this.#segments = [];
      throw error;
    } finally {
      this.#draining = null;
      if ((this.#batch?.byteLength ?? 0) > WRITER_RETAINED_CAPACITY) this.#batch = null;
      if ((this.#spare?.byteLength ?? 0) > WRITER_RETAINED_CAPACITY) this.#spare = null;
    }
  }
}

/**
 * Reads frames from a byte source with one fixed-size receive buffer.
 *
 * Every `read` call on the source asks for at most `bufferSize` bytes, and
 * calls repeat until the declared length is met. Bytes of the next frame that
 * arrive with the current one stay in the buffer for the next call: never
 * lost, never mixed in. A frame longer than the buffer is read straight into
 * its own array, which is allocated only after its length has been checked
 * against `maxFrameSize`.
 *
 * A reader that has thrown stays failed: after its first error (a
 * {@linkcode FrameTooLargeError}, an {@linkcode IncompleteFrameError}, or
 * an error from the source such as a reset), every later
 * {@linkcode FrameReader.read}, {@linkcode FrameReader.readView},
 * {@linkcode FrameReader.readBuffered} and
 * {@linkcode FrameReader.readEachBuffered} throws that same error object
 * again, without calling the source, and
 * {@linkcode FrameReader.hasBufferedFrame} is `false`. Once a frame is
 * refused or cut, the bytes after it cannot be trusted to start a frame, so
 * the reader never parses them. (tokio's `FramedRead` likewise stops
 * decoding after an error, since tokio-rs/tokio#3976, though it then ends
 * the stream where this reader repeats the error.)
 *
 * @example A refused frame fails the reader for good
 * ```ts
 * import { FrameReader, FrameTooLargeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * // Declares 17 bytes, over the limit; the 4 bytes after it would parse as an empty frame.
 * const bytes = new Uint8Array([0, 0, 0, 17, 0, 0, 0, 0]);
 * let sent = false;
 * const source = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.byteLength);
 *   },
 * };
 * const reader = new FrameReader(source, { maxFrameSize: 16 });
 * const failure = await reader.read().catch((error) => error);
 * assert.ok(failure instanceof FrameTooLargeError);
 * await assert.rejects(reader.read(), (error) => error === failure);
 * assert.equal(reader.hasBufferedFrame, false);
 * ```
 *
 * @example Read every frame of a connection
 * ```ts
 * import { FrameReader, writeFrame } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr;
 * const sent = (async () => {
 *   using conn = await Deno.connect({ hostname: "127.0.0.1", port });
 *   await writeFrame(conn, "first");
 *   await writeFrame(conn, "second");
 * })();
 * using conn = await listener.accept();
 * const received: string[] = [];
 * for await (const payload of new FrameReader(conn, { bufferSize: 4 })) {
 *   received.push(new TextDecoder().decode(payload));
 * }
 * await sent;
 * assert.deepEqual(received, ["first", "second"]);
 * ```
 */
export class FrameReader implements AsyncIterable<Uint8Array> {
  #source: ByteSource;
  #bufferSize: number;
  #maxFrameSize: number;
  #buffer: Uint8Array;
  #view: DataView;
  /** Unconsumed bytes are `#buffer[#start, #end)`. */
  #start = 0;
  #end = 0;
  /** Holds a header that arrives split when the buffer is too small to gather it. */
  #header = new Uint8Array(HEADER_SIZE);
  /** Bytes of the current frame have arrived that are not in `#buffer` (a header or long payload). */
  #inFrame = false;
  /** The array {@linkcode FrameReader.readView} reads long frames into, kept between long frames. */
  #long: Uint8Array | undefined;
  /**
   * The first error thrown, boxed since a source may reject with anything:
   * every later read throws it again.
   */
  #failure: { error: unknown } | null = null;

  /**
   * Constructs a reader over `source`.
   *
   * @param source Where to read from, such as a `Deno.Conn`.
   * @param options The receive buffer's size and the limit on a payload.
   * @throws {RangeError} When `bufferSize` is not an integer of at least 1, or
   * `maxFrameSize` not an integer from 0 to 2^32 − 1.
   */
  constructor(source: ByteSource, options?: FrameReaderOptions) {
    this.#source = source;
    this.#bufferSize = integerOption("bufferSize", options?.bufferSize, DEFAULT_BUFFER_SIZE, 1);
    this.#maxFrameSize = maxFrameSizeOption(options, DEFAULT_MAX_FRAME_SIZE);
    this.#buffer = new Uint8Array(this.#bufferSize);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Size of the receive buffer, in bytes. */
  get bufferSize(): number {
    return this.#bufferSize;
  }

  /** Largest payload accepted, in bytes. */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  /** Bytes received and not yet returned as part of a frame. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * Whether bytes of a frame not yet returned have arrived: while the reader
   * waits on its source, this means part of a frame came and the rest has
   * not, so a peer that stops here holds a frame open. A server times such
   * peers out.
   */
  get isMidFrame(): boolean {
    return this.#inFrame || this.#end > this.#start;
  }

  /**
   * Whether a whole frame is already in the buffer, so that the next
   * {@linkcode FrameReader.read} needs no `read` call on the source. A server
   * uses this to batch the replies of one read into one write.
   */
  get hasBufferedFrame(): boolean {
    // Mid-frame, the buffer starts inside a payload, not at a header; after
    // a failure, nothing more is returned.
    if (this.#inFrame || this.#failure !== null) return false;
    const available = this.#end - this.#start;
    return available >= HEADER_SIZE &&
      available - HEADER_SIZE >= this.#view.getUint32(this.#start);
  }

  /**
   * Reads the next frame's payload into an array the caller owns.
   *
   * @returns The payload, or `null` when the stream ended cleanly between
   * frames.
   * @throws {FrameTooLargeError} When the frame declares more than `maxFrameSize`.
   * @throws {IncompleteFrameError} When the stream ends inside a frame.
   * @throws {unknown} The source's error, as it rejected with it (except
   * `Deno.errors.UnexpectedEof`, which counts as the end of the stream).
   * After any error, every later call throws that same error again.
   */
  async read(): Promise<Uint8Array | null> {
    const payload = this.readBuffered() ?? await this.#readFromSource(false);
    // A view into the receive buffer is copied out; a long frame already has its own array.
    return payload !== null && payload.buffer === this.#buffer.buffer ? payload.slice() : payload;
  }

  /**
   * Reads the next frame's payload without copying it: the view is valid only
   * until the next call. A frame longer than the receive buffer is read into
   * a second array that is kept for the next long frame (and dropped when a
   * frame that fits the buffer comes), so a stream of long frames allocates
   * once.
   *
   * @returns The payload, or `null` when the stream ended cleanly between
   * frames.
   * @throws {FrameTooLargeError} When the frame declares more than `maxFrameSize`.
   * @throws {IncompleteFrameError} When the stream ends inside a frame.
   * @throws {unknown} The source's error, as for {@linkcode FrameReader.read}.
   * After any error, every later call throws that same error again.
   */
  readView(): Promise<Uint8Array | null> {
    let payload: Uint8Array | undefined;
    try {
      payload = this.readBuffered();
    } catch (error) {
      // Rejected, not thrown: a caller of a promise-returning method catches one way.
      return Promise.reject(error);
    }
    return payload === undefined ? this.#readFromSource(true) : Promise.resolve(payload);
  }

  /**
   * Returns the next frame's payload if the whole frame is already in the
   * receive buffer, without waiting and without copying (the view is valid
   * until the next read); otherwise `undefined`, and nothing is consumed.
   * A server's hot loop uses it to parse every frame of one read
   * synchronously.
   *
   * @returns The payload, or `undefined` when the next frame is not all here.
   * @throws {FrameTooLargeError} When the frame declares more than `maxFrameSize`.
   * @throws {unknown} The reader's earlier error, if it has failed: every call
   * after any error throws that same error again.
   */
  readBuffered(): Uint8Array | undefined {
    if (this.#failure !== null) throw this.#failure.error;
    const start = this.#start;
    const available = this.#end - start;
    if (available < HEADER_SIZE) return undefined;
    const length = this.#view.getUint32(start);
    if (length > this.#maxFrameSize) {
      throw this.#fail(new FrameTooLargeError(length, this.#maxFrameSize));
    }
    if (available - HEADER_SIZE < length) return undefined;
    this.#start = start + HEADER_SIZE + length;
    this.#long = undefined;
    return this.#buffer.subarray(start + HEADER_SIZE, this.#start);
  }

  /**
   * Consumes every frame already whole in the receive buffer and hands each
   * payload to `visit` as bounds into the buffer, valid only during the call.
   * For hot loops such as a server's: no view is allocated per frame. A
   * frame is consumed before `visit` sees it, so when `visit` throws, the
   * reader stands after that frame, as after
   * {@linkcode FrameReader.readBuffered}.
   *
   * @param visit Called with the receive buffer and the payload's `[start, end)`.
   * @throws {FrameTooLargeError} When a buffered header declares more than
   * `maxFrameSize`; the frames before it have been visited.
   * @throws {unknown} The reader's earlier error, if it has failed: every call
   * after any error throws that same error again, visiting nothing. An error
   * thrown by `visit` is passed on and does not fail the reader.
   *
   * @example Sum the payload sizes of every frame that one read brought
   * ```ts
   * import { encodeFrame, FrameReader } from "./framing.ts";
   * import assert from "node:assert/strict";
   *
   * const bytes = new Uint8Array([...encodeFrame("one"), ...encodeFrame("three")]);
   * let given = false;
   * const source = {
   *   read(p: Uint8Array): Promise<number | null> {
   *     if (given) return Promise.resolve(null);
   *     given = true;
   *     p.set(bytes);
   *     return Promise.resolve(bytes.byteLength);
   *   },
   * };
   * const reader = new FrameReader(source);
   * const first = await reader.readView(); // one network read, both frames buffered
   * let total = first!.byteLength;
   * reader.readEachBuffered((_buffer, start, end) => total += end - start);
   * assert.equal(total, 8);
   * ```
   */
  readEachBuffered(visit: (buffer: Uint8Array, start: number, end: number) => void): void {
    if (this.#failure !== null) throw this.#failure.error;
    const buffer = this.#buffer;
    const view = this.#view;
    const end = this.#end;
    const maxFrameSize = this.#maxFrameSize;
    let start = this.#start;
    while (end - start >= HEADER_SIZE) {
      const length = view.getUint32(start);
      if (length > maxFrameSize) throw this.#fail(new FrameTooLargeError(length, maxFrameSize));
      const payloadEnd = start + HEADER_SIZE + length;
      if (payloadEnd > end) break;
      this.#start = payloadEnd;
      this.#long = undefined;
      visit(buffer, start + HEADER_SIZE, payloadEnd);
      start = payloadEnd;
    }
  }

  /**
   * Records `error` as the reader's failure, unless it has one already, and
   * returns the failure to throw.
   */
  #fail(error: unknown): unknown {
    if (this.#failure === null) {
      this.#failure = { error };
      this.#long = undefined;
    }
    return this.#failure.error;
  }

  /**
   * Reads the next frame when at least part of it still has to come from the
   * source. Whatever it throws fails the reader: one `try` around the whole
   * body costs nothing per read, where a wrapper would cost a promise.
   */
  async #readFromSource(reuseLong: boolean): Promise<Uint8Array | null> {
    try {
      // The common case, a frame that fits in the buffer, reads straight into
      // the buffer and parses there: one await a read, no intermediate copies.
      const buffer = this.#buffer;
      const bufferSize = this.#bufferSize;
      while (bufferSize >= HEADER_SIZE) {
        const available = this.#end - this.#start;
        let needed = HEADER_SIZE;
        if (available >= HEADER_SIZE) {
          const length = this.#view.getUint32(this.#start);
          if (length > this.#maxFrameSize) throw new FrameTooLargeError(length, this.#maxFrameSize);
          needed += length;
          if (needed > bufferSize) break;
        }
        if (available === 0) {
          this.#start = this.#end = 0;
        } else if (this.#start + needed > bufferSize) {
          buffer.copyWithin(0, this.#start, this.#end);
          this.#end = available;
          this.#start = 0;
        }
        let n: number | null;
        try {
          // Not `.catch()`: that would cost a second promise on every read.
          n = await this.#source.read(buffer.subarray(this.#end));
        } catch (error) {
          n = endOfStreamOnUnexpectedEof(error);
        }
        if (n === null) {
          if (available === 0) return null;
          throw available < HEADER_SIZE
            ? new IncompleteFrameError("header", HEADER_SIZE, available)
            : new IncompleteFrameError("payload", needed - HEADER_SIZE, available - HEADER_SIZE);
        }
        this.#end += n;
        const payload = this.readBuffered();
        if (payload !== undefined) return payload;
      }
      return await this.#readLongFrame(reuseLong);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Reads a frame longer than the buffer, or any frame when the buffer cannot hold a header. */
  async #readLongFrame(reuseLong: boolean): Promise<Uint8Array | null> {
    let length: number;
    if (this.#end - this.#start >= HEADER_SIZE) {
      length = this.#view.getUint32(this.#start);
      this.#start += HEADER_SIZE;
    } else {
      const header = this.#header;
      if (!await this.#readExactly(header, "header")) return null;
      length = (header[0] * 0x100_0000) + ((header[1] << 16) | (header[2] << 8) | header[3]);
    }
    if (length > this.#maxFrameSize) throw new FrameTooLargeError(length, this.#maxFrameSize);

    const available = this.#end - this.#start;
    if (length <= available) {
      // The header came through #readExactly and the payload is already buffered.
      const payload = this.#buffer.subarray(this.#start, this.#start + length);
      this.#start += length;
      this.#inFrame = false;
      return payload;
    }
    this.#inFrame = true;
    let payload: Uint8Array;
    if (length <= this.#bufferSize) {
      this.#long = undefined;
      payload = await this.#readIntoBuffer(length);
    } else {
      if (reuseLong) {
        if (this.#long === undefined || this.#long.byteLength < length) {
          this.#long = new Uint8Array(length);
        }
        payload = this.#long.subarray(0, length);
      } else {
        payload = new Uint8Array(length);
      }
      await this.#readExactly(payload, "payload");
    }
    this.#inFrame = false;
    return payload;
  }

  /** Yields each payload until the stream ends; see {@linkcode FrameReader.read}. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (true) {
      const payload = await this.read();
      if (payload === null) return;
      yield payload;
    }
  }

  /** Reads until `length` payload bytes sit contiguous in the buffer, and returns them. */
  async #readIntoBuffer(length: number): Promise<Uint8Array> {
    const buffer = this.#buffer;
    if (this.#start + length > this.#bufferSize) {
      buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end - this.#start < length) {
      const n = await this.#source.read(buffer.subarray(this.#end)).catch(
        endOfStreamOnUnexpectedEof,
      );
      if (n === null) {
        throw new IncompleteFrameError("payload", length, this.#end - this.#start);
      }
      this.#end += n;
    }
    const payload = buffer.subarray(this.#start, this.#start + length);
    this.#start += length;
    return payload;
  }

  /**
   * Fills `target` from the buffer, then from the source: straight into
   * `target` while it can take a whole buffer's worth, else through the
   * buffer so that bytes past `target` are kept. Resolves `false` when the
   * stream ends before the first byte of a header.
   */
  async #readExactly(target: Uint8Array, part: "header" | "payload"): Promise<boolean> {
    const buffer = this.#buffer;
    const bufferSize = this.#bufferSize;
    let filled = Math.min(this.#end - this.#start, target.byteLength);
    target.set(buffer.subarray(this.#start, this.#start + filled));
    this.#start += filled;
    while (filled < target.byteLength) {
      if (filled > 0) this.#inFrame = true;
      const remaining = target.byteLength - filled;
      let n: number | null;
      if (remaining >= bufferSize) {
        n = await this.#source.read(target.subarray(filled, filled + bufferSize)).catch(
          endOfStreamOnUnexpectedEof,
        );
        if (n !== null) filled += n;
      } else {
        this.#start = this.#end = 0;
        n = await this.#source.read(buffer).catch(endOfStreamOnUnexpectedEof);
        if (n !== null) {
          const taken = Math.min(n, remaining);
          target.set(buffer.subarray(0, taken), filled);
          filled += taken;
          this.#start = taken;
          this.#end = n;
        }
      }
      if (n === null) {
        if (part === "header" && filled === 0) return false;
        throw new IncompleteFrameError(part, target.byteLength, filled);
      }
    }
    return true;
  }
}
