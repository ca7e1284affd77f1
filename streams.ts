// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Web streams over the framing layer: {@linkcode FrameDecoderStream} turns a
 * byte stream, such as a `Deno.Conn`'s `readable`, into one chunk per
 * payload, and {@linkcode FrameEncoderStream} turns messages into frames,
 * such as for a `Deno.Conn`'s `writable`.
 *
 * The decoder is a {@linkcode FrameReader} underneath, so it has the same
 * limits and reports the same errors. It pulls: it takes bytes from its
 * writable side only as fast as its readable side is read, so a slow
 * consumer slows the producer down instead of filling memory. Once it has
 * errored, it stays errored with that error: nothing after a refused or cut
 * frame is decoded.
 *
 * Requests and replies over one `Deno.Conn` need care: `pipeTo(conn.writable)`
 * closes `conn.writable` when the requests run out, and that closes the whole
 * connection, not just its write side. The replies in flight are lost: the
 * client's read fails (`Interrupted`) and the server's writes fail
 * (`BrokenPipe`). Pipe with `{ preventClose: true }`, then shut only the
 * write side with `await conn.closeWrite()`, so the server sees the end of
 * the requests and can still answer them; read the replies from
 * `conn.readable.pipeThrough(new FrameDecoderStream())` meanwhile. When that
 * readable side reaches the end of the replies, Deno closes the connection
 * (a later `conn.close()` throws `BadResource`). See
 * {@linkcode FrameEncoderStream} for the whole pattern.
 *
 * @example Round trip through in-memory streams
 * ```ts
 * import { FrameDecoderStream, FrameEncoderStream } from "./streams.ts";
 * import assert from "node:assert/strict";
 *
 * const payloads = ReadableStream.from(["Four score", "", "and seven years ago"])
 *   .pipeThrough(new FrameEncoderStream())
 *   .pipeThrough(new FrameDecoderStream());
 * const decoder = new TextDecoder();
 * const messages = await Array.fromAsync(payloads, (payload) => decoder.decode(payload));
 * assert.deepEqual(messages, ["Four score", "", "and seven years ago"]);
 * ```
 *
 * @module
 */

import { frameFormat } from "./_header.ts";
import {
  type ByteSource,
  encodeFrame,
  type FrameFormatOptions,
  FrameReader,
  type FrameReaderOptions,
} from "./framing.ts";

/** How a promise handed out earlier is settled later. */
interface Settlers<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Describes a chunk of the wrong type for a `TypeError` message. */
function describe(chunk: unknown): string {
  if (chunk === null) return "null";
  if (typeof chunk !== "object") return typeof chunk;
  return chunk.constructor?.name ?? "object";
}

/**
 * The byte source a {@linkcode FrameDecoderStream}'s reader reads from. It
 * holds at most one chunk, the one written to the decoder's writable side,
 * and hands it out as each `read` asks, keeping the rest for the next call.
 * The `write` that delivered the chunk resolves only once every byte of it
 * has been taken: that is what makes the producer wait for the consumer.
 */
class ChunkSource implements ByteSource {
  /** Bytes not yet taken are `#chunk[#offset, end)`. */
  #chunk: Uint8Array | null = null;
  #offset = 0;
  /** Settles the `write` that delivered `#chunk`. */
  #written: Settlers<void> | null = null;
  /** A `read` waiting for the next chunk. */
  #pending: (Settlers<number | null> & { target: Uint8Array }) | null = null;
  #ended = false;
  #failure: { reason: unknown } | null = null;

  /**
   * Copies at most `target.byteLength` bytes of the current chunk into
   * `target`, waiting for a chunk when there is none; `null` once the
   * writable side has closed.
   */
  read(target: Uint8Array): Promise<number | null> {
    if (this.#failure !== null) return Promise.reject(this.#failure.reason);
    if (this.#chunk !== null) return Promise.resolve(this.#take(target));
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#pending = { target, resolve, reject };
    });
  }

  /**
   * Hands `chunk` to the reader, without copying it. The writable stream
   * calls this only once the previous write has resolved, so no chunk is
   * held here yet.
   *
   * @returns A promise that resolves once the reader has taken all of it.
   */
  write(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return Promise.resolve();
    const written = new Promise<void>((resolve, reject) => {
      this.#written = { resolve, reject };
    });
    this.#chunk = chunk;
    this.#offset = 0;
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      pending.resolve(this.#take(pending.target));
    }
    return written;
  }

  /** Marks the end of input: the waiting read and every later one get `null`. */
  end(): void {
    this.#ended = true;
    const pending = this.#pending;
    this.#pending = null;
    pending?.resolve(null);
  }

  /** Rejects the waiting read, the unfinished write and every later read with `reason`. */
  fail(reason: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = { reason };
    this.#chunk = null;
    const pending = this.#pending;
    const written = this.#written;
    this.#pending = this.#written = null;
    pending?.reject(reason);
    written?.reject(reason);
  }

  #take(target: Uint8Array): number {
    const chunk = this.#chunk as Uint8Array;
    const n = Math.min(target.byteLength, chunk.byteLength - this.#offset);
    target.set(chunk.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    if (this.#offset === chunk.byteLength) {
      // All taken: the producer may reuse its array and send the next chunk.
      this.#chunk = null;
      const written = this.#written;
      this.#written = null;
      written?.resolve();
    }
    return n;
  }
}

/**
 * Turns a stream of bytes into a stream of payloads, one chunk per frame,
 * however the bytes were cut into chunks. A {@linkcode FrameReader} does the
 * parsing, so the options, limits and errors are the same as its: a frame
 * declaring more than `maxFrameSize` errors the stream with a
 * {@linkcode FrameTooLargeError} before anything is allocated for it, and
 * input that ends inside a frame errors it with an
 * {@linkcode IncompleteFrameError}. Input that ends between frames closes
 * the readable side.
 *
 * Each payload is a new array the consumer owns.
 *
 * Backpressure: the decoder parses only when its readable side is read, and
 * a write to its writable side resolves only once the reader has taken that
 * chunk's bytes. Besides the frame being assembled, it holds at most one
 * written chunk and `bufferSize` received bytes, so a producer piped into
 * it runs no further ahead than the consumer allows. Closing the writable
 * side resolves once the consumer has read up to the end of the input (and
 * rejects if that end was inside a frame).
 *
 * Errors go both ways, as with a `TransformStream`: cancelling the readable
 * side errors the writable side with the cancel reason, aborting the
 * writable side errors the readable side with the abort reason, and a
 * decoding error errors both. An errored decoder stays errored with that
 * same error: after a {@linkcode FrameTooLargeError}, the bytes that follow
 * the refused header are never decoded, and every later read and write
 * rejects with it.
 *
 * @example Read the frames of a connection
 * ```ts
 * import { FrameDecoderStream, FrameEncoderStream } from "./streams.ts";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const conn = await accepted;
 *
 * // The client sends two frames, then closes its connection: when a pipe ends,
 * // it closes `client.writable`, which closes the whole connection.
 * const sent = ReadableStream.from(["first", "second"])
 *   .pipeThrough(new FrameEncoderStream())
 *   .pipeTo(client.writable);
 *
 * const received: string[] = [];
 * for await (const payload of conn.readable.pipeThrough(new FrameDecoderStream())) {
 *   received.push(new TextDecoder().decode(payload));
 * }
 * await sent;
 * assert.deepEqual(received, ["first", "second"]);
 * ```
 *
 * @example An oversized frame errors the stream
 * ```ts
 * import { FrameDecoderStream } from "./streams.ts";
 * import { FrameTooLargeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0, 0, 1, 0]); // declares 256 bytes
 * const payloads = ReadableStream.from([bytes])
 *   .pipeThrough(new FrameDecoderStream({ maxFrameSize: 255 }));
 * await assert.rejects(
 *   Array.fromAsync(payloads),
 *   (error) => error instanceof FrameTooLargeError && error.length === 256,
 * );
 * ```
 */
export class FrameDecoderStream implements TransformStream<Uint8Array, Uint8Array> {
  /** The payloads, one chunk per frame. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Where the bytes of the frames go, cut into chunks anywhere. */
  readonly writable: WritableStream<Uint8Array>;
  #source = new ChunkSource();
  #reader: FrameReader;
  #readableController: ReadableStreamDefaultController<Uint8Array> | null = null;
  #writableController: WritableStreamDefaultController | null = null;
  /** Settles the writable side's `close` once the reader has reached the end. */
  #closing: Settlers<void> | null = null;
  /** The readable side has closed, or both sides have errored. */
  #done = false;

  /**
   * Constructs a decoder.
   *
   * @param options The receive buffer's size, the length field's format and
   * the limit on a payload, as for a {@linkcode FrameReader}.
   * @throws {RangeError} For invalid options, as {@linkcode FrameReader}'s
   * constructor.
   */
  constructor(options?: FrameReaderOptions) {
    this.#reader = new FrameReader(this.#source, options);
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller): void => {
        this.#readableController = controller;
      },
      pull: (controller): Promise<void> => this.#pull(controller),
      cancel: (reason): void => this.#fail(reason),
      // No payload is decoded ahead of a read: the producer waits instead.
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller): void => {
        this.#writableController = controller;
        // An abort must not wait for the write in flight, which waits on the consumer.
        controller.signal.addEventListener(
          "abort",
          () => this.#fail(controller.signal.reason, false),
          { once: true },
        );
      },
      write: (chunk): Promise<void> => {
        if (!(chunk instanceof Uint8Array)) {
          const error = new TypeError(
            `Invalid chunk: must be a Uint8Array, got ${describe(chunk)}`,
          );
          this.#fail(error);
          return Promise.reject(error);
        }
        return this.#source.write(chunk);
      },
      close: (): Promise<void> =>
        new Promise((resolve, reject) => {
          this.#closing = { resolve, reject };
          this.#source.end();
        }),
      abort: (reason): void => this.#fail(reason, false),
    });
  }

  /** Size of the receive buffer, in bytes. */
  get bufferSize(): number {
    return this.#reader.bufferSize;
  }

  /** Largest payload accepted, in bytes. */
  get maxFrameSize(): number {
    return this.#reader.maxFrameSize;
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let payload: Uint8Array | null;
    try {
      // read(), not readView(): the consumer keeps each payload, so it needs its own array.
      payload = await this.#reader.read();
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#done) return;
    if (payload === null) {
      this.#done = true;
      controller.close();
      this.#closing?.resolve();
      this.#closing = null;
      return;
    }
    controller.enqueue(payload);
  }

  /**
   * Errors both sides with `reason` and settles everything still waiting.
   * An abort errors the writable side itself: erroring it again from here
   * would make the caller's `abort()` reject.
   */
  #fail(reason: unknown, errorWritable = true): void {
    if (this.#done) return;
    this.#done = true;
    this.#readableController?.error(reason);
    if (errorWritable) this.#writableController?.error(reason);
    this.#source.fail(reason);
    this.#closing?.reject(reason);
    this.#closing = null;
  }
}

/**
 * Turns a stream of messages into a stream of frames: each chunk, text or
 * bytes, becomes one chunk holding its whole frame, made by
 * {@linkcode encodeFrame}. A chunk longer than `maxFrameSize` errors the
 * stream with a {@linkcode FrameTooLargeError}.
 *
 * To send requests and read replies over one `Deno.Conn`, do not let a pipe
 * close `conn.writable`: closing it closes the whole connection, reading
 * side included, so the replies never arrive. Pipe into it with
 * `{ preventClose: true }`, then call `conn.closeWrite()` to shut only the
 * write side, while reading the replies through a
 * {@linkcode FrameDecoderStream} (see the example below). Deno closes the
 * connection itself once `conn.readable` has reached the end of the replies.
 *
 * @example Basic usage
 * ```ts
 * import { FrameEncoderStream } from "./streams.ts";
 * import assert from "node:assert/strict";
 *
 * const frames = ReadableStream.from(["hé", new Uint8Array([7])])
 *   .pipeThrough(new FrameEncoderStream());
 * assert.deepEqual(await Array.fromAsync(frames), [
 *   new Uint8Array([0, 0, 0, 3, 0x68, 0xc3, 0xa9]),
 *   new Uint8Array([0, 0, 0, 1, 7]),
 * ]);
 * ```
 *
 * @example Requests and replies over one connection
 * ```ts
 * import { FrameDecoderStream, FrameEncoderStream } from "./streams.ts";
 * import { FrameReader, FrameWriter } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * // An echo server: answers each frame with its payload until the requests end.
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   using conn = await listener.accept();
 *   const writer = new FrameWriter(conn);
 *   for await (const payload of new FrameReader(conn)) await writer.write(payload);
 * })();
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * // Read the replies while the requests go out, so neither side waits on the other.
 * const decoder = new TextDecoder();
 * const replies = Array.fromAsync(
 *   conn.readable.pipeThrough(new FrameDecoderStream()),
 *   (payload) => decoder.decode(payload),
 * );
 * await ReadableStream.from(["one", "two", "three"])
 *   .pipeThrough(new FrameEncoderStream())
 *   .pipeTo(conn.writable, { preventClose: true }); // keeps the connection open
 * await conn.closeWrite(); // shuts only the write side: the server sees the end
 * // The replies end when the server closes; Deno then closes `conn` itself.
 * assert.deepEqual(await replies, ["one", "two", "three"]);
 * await serving;
 * ```
 *
 * @example A message over the limit errors the stream
 * ```ts
 * import { FrameEncoderStream } from "./streams.ts";
 * import { FrameTooLargeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const frames = ReadableStream.from(["short", "far too long"])
 *   .pipeThrough(new FrameEncoderStream({ maxFrameSize: 8 }));
 * await assert.rejects(
 *   Array.fromAsync(frames),
 *   (error) => error instanceof FrameTooLargeError && error.length === 12,
 * );
 * ```
 */
export class FrameEncoderStream extends TransformStream<string | Uint8Array, Uint8Array> {
  /**
   * Constructs an encoder.
   *
   * @param options The length field's format and the limit on each
   * message's size, in bytes; by default the most the length field can
   * declare, as for {@linkcode encodeFrame}.
   * @throws {RangeError} When `lengthField` is unknown, `lengthIncludesHeader`
   * is combined with `"varint"`, or `maxFrameSize` is not an integer from 0
   * to what the field can declare.
   */
  constructor(options?: FrameFormatOptions) {
    // Checked once here, not at the first chunk; a copy, so later changes to
    // the caller's object do not reach the stream.
    frameFormat(options, false);
    const limit: FrameFormatOptions = {
      lengthField: options?.lengthField,
      lengthIncludesHeader: options?.lengthIncludesHeader,
      maxFrameSize: options?.maxFrameSize,
    };
    super({
      transform(chunk, controller): void {
        if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
          throw new TypeError(
            `Invalid chunk: must be a string or a Uint8Array, got ${describe(chunk)}`,
          );
        }
        controller.enqueue(encodeFrame(chunk, limit));
      },
    });
  }
}
