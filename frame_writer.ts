// Copyright 2026 the buffered-framing authors. MIT license.
// Writing frames in order through one batch, for any number of callers.

import type { ByteSink, FrameFormatOptions } from "./types.ts";
import {
  checkFrameSize,
  DEFAULT_LENGTH_FIELD,
  frameFormat,
  type LengthField,
  writeU32BE,
} from "./_header.ts";
import { utf8ByteLength } from "./_utf8.ts";
import { writeZeroError } from "./_write_zero.ts";

const encoder = new TextEncoder();

/** Capacity a {@linkcode FrameWriter}'s batch starts with: small, so an idle connection costs little; it doubles as needed. */
const WRITER_INITIAL_CAPACITY = 256;
/** A batch buffer grown past this is dropped once drained, so idle connections stay small. */
const WRITER_RETAINED_CAPACITY = 64 * 1024;
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
  #lengthField: LengthField;
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
   * @param options The length field's format and the limit on each payload's size.
   * @throws {RangeError} When `lengthField` is unknown, `lengthIncludesHeader`
   * is combined with `"varint"`, or `maxFrameSize` is not an integer from 0
   * to what the field can declare.
   */
  constructor(sink: ByteSink, options?: FrameFormatOptions) {
    this.#sink = sink;
    ({ lengthField: this.#lengthField, maxFrameSize: this.#maxFrameSize } = frameFormat(
      options,
      false,
    ));
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
   * took before failing are counted too. Watch it to tell a slow peer from a
   * stalled one, or to count the bytes sent.
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
   * {@linkcode FrameWriter.flush} resolves. A long payload, such as one just
   * read, is then sent from where it already is.
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
    const length = checkFrameSize(payload.byteLength, this.#maxFrameSize);
    if (borrow && length >= BORROW_THRESHOLD) {
      const lengthField = this.#lengthField;
      const batch = this.#reserve(lengthField.headerSize(length));
      this.#batchLength += lengthField.write(batch, this.#batchLength, length);
      this.#seal();
      this.#segments.push(payload);
      this.#segmentBytes += length;
      return;
    }
    this.#copyFrame(payload, 0, length);
  }

  /**
   * Queues one frame for `source[start, end)`, as
   * {@linkcode FrameWriter.enqueue} does for `source.subarray(start, end)`,
   * without the view: header and payload go into the batch together. For
   * hot loops that work on offsets, such as one over
   * {@linkcode FrameReader.readEachBuffered}.
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
    const length = checkFrameSize(end - start, this.#maxFrameSize);
    if (borrow && length >= BORROW_THRESHOLD) {
      this.enqueue(source.subarray(start, end), true);
      return;
    }
    this.#copyFrame(source, start, end);
  }

  /** Copies a frame for `source[start, end)` (checked already) into the batch, header first. */
  #copyFrame(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    const lengthField = this.#lengthField;
    let batch: Uint8Array;
    let at: number;
    if (lengthField === DEFAULT_LENGTH_FIELD) {
      // The default format's header written inline: the hot path of every
      // default-format server, where a call per frame shows.
      batch = this.#reserve(4 + length);
      at = this.#batchLength;
      writeU32BE(batch, at, length);
      at += 4;
    } else {
      batch = this.#reserve(lengthField.headerSize(length) + length);
      at = this.#batchLength;
      at += lengthField.write(batch, at, length);
    }
    if (length <= SMALL_COPY) {
      // A short copy byte by byte beats a view plus a native set().
      for (let i = start; i < end; i++) batch[at++] = source[i];
    } else {
      batch.set(start === 0 && end === source.length ? source : source.subarray(start, end), at);
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
    try {
      this.enqueue(payload);
    } catch (error) {
      // Rejected, not thrown: a caller of a promise-returning method catches one way.
      return Promise.reject(error);
    }
    return this.flush();
  }

  /**
   * Encodes text straight into the batch, with room reserved for the worst
   * case (3 bytes per UTF-16 unit), so its UTF-8 length need not be counted
   * first: the encoder reports it. A header whose size depends on the length
   * (a varint) gets the room the longest case needs, and the payload moves
   * back when the header came out shorter.
   */
  #enqueueText(text: string): void {
    const maxFrameSize = this.#maxFrameSize;
    // Text longer in UTF-16 units than the limit is longer in bytes too (a
    // unit takes at least one byte): refuse it before reserving room, with
    // its byte length counted for the error.
    if (text.length > maxFrameSize) checkFrameSize(utf8ByteLength(text), maxFrameSize);
    const lengthField = this.#lengthField;
    const mostBytes = text.length * 3;
    const headerRoom = lengthField.headerSize(Math.min(mostBytes, maxFrameSize + 1));
    const batch = this.#reserve(headerRoom + mostBytes);
    const start = this.#batchLength;
    const { written } = encoder.encodeInto(text, batch.subarray(start + headerRoom));
    const headerSize = lengthField.write(batch, start, checkFrameSize(written, maxFrameSize));
    if (headerSize !== headerRoom) {
      batch.copyWithin(start + headerSize, start + headerRoom, start + headerRoom + written);
    }
    this.#batchLength = start + headerSize + written;
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
