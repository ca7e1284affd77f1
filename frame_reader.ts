// Copyright 2026 the buffered-framing authors. MIT license.
// Reading frames from a byte source through one fixed-size receive buffer.

import { DEFAULT_BUFFER_SIZE } from "./constants.ts";
import { IncompleteFrameError } from "./errors.ts";
import type { ByteSource, FrameFormatOptions } from "./types.ts";
import { checkFrameSize, DEFAULT_LENGTH_FIELD, frameFormat, type LengthField } from "./_header.ts";
import { integerOption } from "./_options.ts";

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
export interface FrameReaderOptions extends FrameFormatOptions {
  /**
   * Size of the receive buffer in bytes: no `read` call asks for more. Any
   * integer from 1 up works; frames longer than the buffer are read in
   * several calls.
   *
   * @default {1024}
   */
  bufferSize?: number;
}

/**
 * Most bytes a reader waits with between frames after a read that brought
 * less: 1 KiB, the default `bufferSize`. A server with 10,000 idle clients
 * and 64 KiB buffers so holds 10 MiB of buffers, not 640 MiB, as servers at
 * that scale do with lazily allocated or pooled read buffers.
 */
const QUIET_BUFFER_SIZE = 1024;

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
 * {@linkcode FrameTooLargeError}, a {@linkcode CorruptFrameError}, an
 * {@linkcode IncompleteFrameError}, or
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
  #lengthField: LengthField;
  #maxFrameSize: number;
  /** The receive buffer in use: `bufferSize` bytes, or the quiet-time buffer. */
  #buffer: Uint8Array;
  #view: DataView;
  /**
   * Size of the buffer a quiet connection waits with: at most
   * {@linkcode QUIET_BUFFER_SIZE}. The whole `bufferSize` is held only while
   * traffic needs it, so idle connections cost little whatever `bufferSize`.
   */
  #quietSize: number;
  /** The last read took less than `#quietSize`: wait for the next frame with the small buffer. */
  #quiet = true;
  /** The small buffer, once made; `undefined` after {@linkcode FrameReader.detachBuffers}. */
  #smallBuffer: Uint8Array | undefined;
  /** Unconsumed bytes are `#buffer[#start, #end)`. */
  #start = 0;
  #end = 0;
  /**
   * Gathers each header on the side when the buffer is too small to hold the
   * longest one (`bufferSize` below the length field's size); made only then.
   */
  #header: Uint8Array | undefined;
  #headerView: DataView | undefined;
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
   * @param options The receive buffer's size, the length field's format and
   * the limit on a payload.
   * @throws {RangeError} When `bufferSize` is not an integer of at least 1,
   * `lengthField` is unknown, `lengthIncludesHeader` is combined with
   * `"varint"`, or `maxFrameSize` is not an integer from 0 to what the field
   * can declare.
   */
  constructor(source: ByteSource, options?: FrameReaderOptions) {
    this.#source = source;
    this.#bufferSize = integerOption("bufferSize", options?.bufferSize, DEFAULT_BUFFER_SIZE, 1);
    ({ lengthField: this.#lengthField, maxFrameSize: this.#maxFrameSize } = frameFormat(
      options,
      true,
    ));
    this.#quietSize = Math.min(this.#bufferSize, QUIET_BUFFER_SIZE);
    this.#buffer = this.#smallBuffer = new Uint8Array(this.#quietSize);
    this.#view = new DataView(this.#buffer.buffer);
    const maxHeaderSize = this.#lengthField.maxHeaderSize;
    if (this.#bufferSize < maxHeaderSize) {
      this.#header = new Uint8Array(maxHeaderSize);
      this.#headerView = new DataView(this.#header.buffer);
    }
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
   * Whether bytes of a frame not yet returned have arrived. While the reader
   * waits on its source, this means part of a frame came and the rest has
   * not: a peer that stops here holds a frame open, which is what a timeout
   * for stalled peers watches for.
   */
  get isMidFrame(): boolean {
    return this.#inFrame || this.#end > this.#start;
  }

  /**
   * Whether a whole frame is already in the buffer, so that the next
   * {@linkcode FrameReader.read} needs no `read` call on the source. A loop
   * can so tell that more frames of the same read are waiting, and, say,
   * batch its replies to them into one write.
   */
  get hasBufferedFrame(): boolean {
    // Mid-frame, the buffer starts inside a payload, not at a header; after
    // a failure, nothing more is returned.
    if (this.#inFrame || this.#failure !== null) return false;
    const start = this.#start;
    const available = this.#end - start;
    let length: number;
    try {
      length = this.#lengthField.read(
        this.#buffer,
        this.#view,
        start,
        available,
        this.#maxFrameSize,
      );
    } catch {
      return false; // The next read throws the header's error.
    }
    return length >= 0 &&
      available - this.#lengthField.headerSizeAt(this.#buffer, start) >= length;
  }

  /**
   * Reads the next frame's payload into an array the caller owns.
   *
   * @returns The payload, or `null` when the stream ended cleanly between
   * frames.
   * @throws {FrameTooLargeError} When the frame declares more than `maxFrameSize`.
   * @throws {CorruptFrameError} When the length field cannot be valid (a
   * length that counts the header declares less than it, an over-long varint).
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
   * @throws {CorruptFrameError} When the length field cannot be valid (a
   * length that counts the header declares less than it, an over-long varint).
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
   * Hands the memory behind every payload view returned so far over to the
   * caller: the next read fills a new receive buffer (the bytes received and
   * not yet returned move into it) and a long frame a new array, so those
   * views keep their bytes for as long as the caller holds them. For code
   * that passes views to work outliving the next read, such as an async
   * request handler, at the cost of one allocation a call (of 1 KiB while the
   * connection is quiet, else of the buffer in use). Call
   * it between reads, not while one is pending.
   *
   * @example Keep a view across later reads
   * ```ts
   * import { encodeFrame, FrameReader } from "./framing.ts";
   * import assert from "node:assert/strict";
   *
   * const bytes = new Uint8Array([...encodeFrame("kept"), ...encodeFrame("next")]);
   * let offset = 0;
   * const source = {
   *   // Two bytes a call: every frame needs reads that reuse the buffer.
   *   read(p: Uint8Array): Promise<number | null> {
   *     if (offset === bytes.length) return Promise.resolve(null);
   *     const n = Math.min(2, p.length, bytes.length - offset);
   *     p.set(bytes.subarray(offset, offset + n));
   *     offset += n;
   *     return Promise.resolve(n);
   *   },
   * };
   * const reader = new FrameReader(source, { bufferSize: 8 });
   * const kept = await reader.readView();
   * reader.detachBuffers();
   * await reader.readView();
   * assert.equal(new TextDecoder().decode(kept!), "kept");
   * ```
   */
  detachBuffers(): void {
    // A quiet reader with nothing buffered waits with the small buffer next: make that one.
    const size = this.#quiet && this.#start === this.#end
      ? this.#quietSize
      : this.#buffer.byteLength;
    this.#moveTo(new Uint8Array(size));
    this.#smallBuffer = size === this.#quietSize ? this.#buffer : undefined;
    this.#long = undefined;
  }

  /** The small buffer, kept across bursts: only the whole one is dropped. */
  #quietBuffer(): Uint8Array {
    return this.#smallBuffer ??= new Uint8Array(this.#quietSize);
  }

  /** Makes `buffer` the receive buffer, with the bytes not yet consumed moved to its start. */
  #moveTo(buffer: Uint8Array): Uint8Array {
    buffer.set(this.#buffer.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buffer = buffer;
    this.#view = new DataView(buffer.buffer);
    return buffer;
  }

  /**
   * Returns the next frame's payload if the whole frame is already in the
   * receive buffer, without waiting and without copying (the view is valid
   * until the next read); otherwise `undefined`, and nothing is consumed.
   * A loop can so take every frame of one read synchronously, with no
   * promise per frame.
   *
   * @returns The payload, or `undefined` when the next frame is not all here.
   * @throws {FrameTooLargeError} When the frame declares more than `maxFrameSize`.
   * @throws {CorruptFrameError} When the length field cannot be valid (a
   * length that counts the header declares less than it, an over-long varint).
   * @throws {unknown} The reader's earlier error, if it has failed: every call
   * after any error throws that same error again.
   *
   * @example Take every frame that one read brought, with no await between them
   * ```ts
   * import { encodeFrame, FrameReader } from "./framing.ts";
   * import assert from "node:assert/strict";
   *
   * const bytes = new Uint8Array([...encodeFrame("one"), ...encodeFrame("two")]);
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
   * const seen = [new TextDecoder().decode((await reader.readView())!)];
   * assert.equal(reader.hasBufferedFrame, true);
   * let payload: Uint8Array | undefined;
   * while ((payload = reader.readBuffered()) !== undefined) {
   *   seen.push(new TextDecoder().decode(payload));
   * }
   * assert.deepEqual(seen, ["one", "two"]);
   * assert.equal(reader.hasBufferedFrame, false);
   * ```
   */
  readBuffered(): Uint8Array | undefined {
    if (this.#failure !== null) throw this.#failure.error;
    const buffer = this.#buffer;
    const start = this.#start;
    const length = this.#decodeHeader(buffer, this.#view, start, this.#end - start);
    if (length < 0) return undefined;
    const lengthField = this.#lengthField;
    const payloadStart = start + (lengthField.fixedSize || lengthField.headerSizeAt(buffer, start));
    if (this.#end - payloadStart < length) return undefined;
    this.#start = payloadStart + length;
    this.#long = undefined;
    return buffer.subarray(payloadStart, this.#start);
  }

  /**
   * Consumes every frame already whole in the receive buffer and hands each
   * payload to `visit` as bounds into the buffer, valid only during the call.
   * For hot loops: no view is allocated per frame. A
   * frame is consumed before `visit` sees it, so when `visit` throws, the
   * reader stands after that frame, as after
   * {@linkcode FrameReader.readBuffered}.
   *
   * @param visit Called with the receive buffer and the payload's `[start, end)`;
   * returning `false` (exactly) stops the walk after that frame (the rest stay
   * buffered for later reads), as a caller that bounds its work in flight does.
   * @throws {CorruptFrameError} When a buffered length field cannot be valid.
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
  readEachBuffered(
    visit: (buffer: Uint8Array, start: number, end: number) => unknown,
  ): void {
    if (this.#failure !== null) throw this.#failure.error;
    const buffer = this.#buffer;
    const view = this.#view;
    const lengthField = this.#lengthField;
    const fixedSize = lengthField.fixedSize;
    // The default format's header is read inline: the hot path of every
    // default-format server, where a call per frame shows.
    const inline = lengthField === DEFAULT_LENGTH_FIELD;
    const maxFrameSize = this.#maxFrameSize;
    const end = this.#end;
    let start = this.#start;
    while (start < end) {
      let length: number;
      let payloadStart: number;
      if (inline) {
        if (end - start < 4) break;
        length = view.getUint32(start);
        // Over the limit, #decodeHeader fails the reader with the error.
        if (length > maxFrameSize) this.#decodeHeader(buffer, view, start, end - start);
        payloadStart = start + 4;
      } else {
        length = this.#decodeHeader(buffer, view, start, end - start);
        if (length < 0) break;
        payloadStart = start + (fixedSize || lengthField.headerSizeAt(buffer, start));
      }
      const payloadEnd = payloadStart + length;
      if (payloadEnd > end) break;
      this.#start = payloadEnd;
      this.#long = undefined;
      if (visit(buffer, payloadStart, payloadEnd) === false) return;
      start = payloadEnd;
    }
  }

  /**
   * Returns the payload length the header at `bytes[offset]` declares, or -1
   * when the `available` bytes there hold no whole header yet. A length over
   * `maxFrameSize` or a corrupt header fails the reader
   * ({@linkcode FrameTooLargeError}, {@linkcode CorruptFrameError}). The
   * `try` costs nothing until it throws.
   */
  #decodeHeader(bytes: Uint8Array, view: DataView, offset: number, available: number): number {
    try {
      const length = this.#lengthField.read(bytes, view, offset, available, this.#maxFrameSize);
      return length < 0 ? length : checkFrameSize(length, this.#maxFrameSize);
    } catch (error) {
      throw this.#fail(error);
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
      const bufferSize = this.#bufferSize;
      const lengthField = this.#lengthField;
      while (bufferSize >= lengthField.maxHeaderSize) {
        let buffer = this.#buffer;
        const available = this.#end - this.#start;
        const length = this.#decodeHeader(buffer, this.#view, this.#start, available);
        let needed: number;
        if (length >= 0) {
          needed = lengthField.headerSizeAt(buffer, this.#start) + length;
          if (needed > bufferSize) break;
        } else {
          needed = lengthField.headerNeeds(available);
        }
        if (available === 0 && this.#quiet) {
          // Between frames, a quiet connection waits with the small buffer
          // and drops the whole one.
          this.#start = this.#end = 0;
          if (buffer.byteLength !== this.#quietSize) buffer = this.#moveTo(this.#quietBuffer());
        } else if (needed > buffer.byteLength) {
          // A frame the buffer cannot hold: room for it, in powers of two, so
          // that a ping-pong of frames just over 1 KiB allocates a little per
          // frame, not a whole `bufferSize`.
          const size = Math.min(bufferSize, 2 ** Math.ceil(Math.log2(needed)));
          buffer = this.#moveTo(new Uint8Array(size));
        } else if (
          !this.#quiet && buffer.byteLength < bufferSize &&
          (available === 0 || buffer.byteLength === this.#quietSize)
        ) {
          // Traffic: a whole buffer's worth a read. Not in the middle of a
          // frame that already has room of its own: that room is kept.
          buffer = this.#moveTo(new Uint8Array(bufferSize));
        } else if (available === 0) {
          this.#start = this.#end = 0;
        } else if (this.#start + needed > buffer.byteLength) {
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
          if (length < 0) throw new IncompleteFrameError("header", needed, available);
          const headerSize = needed - length;
          throw new IncompleteFrameError("payload", length, available - headerSize);
        }
        this.#end += n;
        this.#quiet = n < this.#quietSize;
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
    // A long frame is traffic: it is read through the whole buffer.
    if (this.#buffer.byteLength < this.#bufferSize) this.#moveTo(new Uint8Array(this.#bufferSize));
    this.#quiet = false;
    const buffer = this.#buffer;
    let length = this.#decodeHeader(buffer, this.#view, this.#start, this.#end - this.#start);
    if (length >= 0) {
      this.#start += this.#lengthField.headerSizeAt(buffer, this.#start);
    } else {
      // Only a buffer smaller than the longest header comes here, and it has #header.
      length = await this.#gatherHeader();
      if (length < 0) return null;
    }

    const available = this.#end - this.#start;
    if (length <= available) {
      // The header came through #gatherHeader and the payload is already buffered.
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
      await this.#readExactly(payload);
    }
    this.#inFrame = false;
    return payload;
  }

  /**
   * Moves a header into `#header` byte by byte, reading the source whenever
   * the buffer runs dry, until it parses: a byte at a time, since a varint's
   * end is known only once reached, and bytes after the header must stay in
   * the buffer. Resolves the declared length, or -1 when the stream ends
   * before the first byte.
   */
  async #gatherHeader(): Promise<number> {
    const header = this.#header as Uint8Array;
    const headerView = this.#headerView as DataView;
    const buffer = this.#buffer;
    let filled = 0;
    while (true) {
      if (this.#start === this.#end) {
        if (filled > 0) this.#inFrame = true;
        const n = await this.#source.read(buffer).catch(endOfStreamOnUnexpectedEof);
        if (n === null) {
          if (filled === 0) return -1;
          throw new IncompleteFrameError("header", this.#lengthField.headerNeeds(filled), filled);
        }
        this.#start = 0;
        this.#end = n;
      }
      header[filled++] = buffer[this.#start++];
      const length = this.#decodeHeader(header, headerView, 0, filled);
      if (length >= 0) return length;
    }
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
   * Fills `target`, a payload, from the buffer, then from the source:
   * straight into `target` while it can take a whole buffer's worth, else
   * through the buffer so that bytes past `target` are kept.
   */
  async #readExactly(target: Uint8Array): Promise<void> {
    const buffer = this.#buffer;
    const bufferSize = this.#bufferSize;
    let filled = Math.min(this.#end - this.#start, target.byteLength);
    target.set(buffer.subarray(this.#start, this.#start + filled));
    this.#start += filled;
    while (filled < target.byteLength) {
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
      if (n === null) throw new IncompleteFrameError("payload", target.byteLength, filled);
    }
  }
}
