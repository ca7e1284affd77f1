#!/usr/bin/env -S deno run --allow-net=localhost:4567
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * A client of the length-prefixed protocol: {@linkcode BufferedClient} sends
 * messages (text or bytes) and receives replies (as text or as bytes), and
 * tells a server that went away from a live one without throwing.
 *
 * It is also an executable that sends each MESSAGE (or each line of standard
 * input) and prints each reply on its own line:
 *
 * ```sh
 * deno run --allow-net=localhost:4567 jsr:@buffered/framing/client --port 4567 "Four score and seven years ago"
 * deno install --global --allow-net=localhost:4567 -n framing-client jsr:@buffered/framing/client
 * ```
 *
 * Exit status: 0 when every reply came, 1 when the server could not be
 * reached or went away, 2 on a usage error.
 *
 * @example Send a message and receive its reply
 * ```ts
 * import { BufferedClient } from "./client.ts";
 * import { BufferedServer } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
 * const done = server.start();
 *
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
 * await client.sendMessage("Four score and seven years ago");
 * assert.deepEqual(await client.receiveMessage(), [" and seven years ago", true]);
 *
 * client.shutdown(); // the server's lingering close waits for its clients to close
 * server.keepRunning = false;
 * await done;
 * ```
 *
 * @module
 */

import {
  type CommandLine,
  describeFormat,
  FORMAT_FLAGS,
  formatFlags,
  formatFlagsUsage,
  integerFlag,
  parseCommandLine,
  runMain,
  stringFlag,
  UsageError,
} from "./_cli.ts";
import { durationOption, integerOption, MAX_DURATION } from "./_options.ts";
import { errorMessage, formatHostPort } from "./_net.ts";
import { connect, endpoint, setNoDelay, type TransportOptions } from "./_transport.ts";

export type { TransportOptions };
import { decodeUtf8, utf8ByteLength } from "./_utf8.ts";
import { checkFrameSize, frameFormat } from "./_header.ts";
import {
  DEFAULT_BUFFER_SIZE,
  type FrameFormatOptions,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
} from "./framing.ts";

/**
 * Options for {@linkcode BufferedClient}.
 *
 * @example Give up on a reply after 5 seconds
 * ```ts
 * import { BufferedClient, type BufferedClientOptions } from "./client.ts";
 * import { BufferedServer } from "./server.ts";
 *
 * await using server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
 * server.start();
 * const options: BufferedClientOptions = { receiveTimeout: 5000, maxFrameSize: 64 * 1024 };
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port, 1024, options);
 * ```
 */
export interface BufferedClientOptions extends TransportOptions, FrameFormatOptions {
  /**
   * Connect over TLS, trusting the system's root certificates plus
   * `caCerts` (PEM strings), and checking the server's certificate against
   * `hostname` (by default the host connected to). TCP only.
   */
  tls?: { caCerts?: string[]; hostname?: string };
  /** Aborts the connection attempt (including a TLS handshake): `connect` rejects with its reason. */
  signal?: AbortSignal;
  /**
   * Largest payload sent or accepted, in bytes, header not counted. Sending
   * more throws a `FrameTooLargeError`; a reply that declares more ends the
   * connection. At most what the length field can declare (a `RangeError`
   * above it); by default the smaller of that and 16 MiB.
   *
   * @default {16777216}
   */
  maxFrameSize?: number;
  /**
   * How long {@linkcode BufferedClient.receiveMessage} or
   * {@linkcode BufferedClient.receiveBytes} waits for a reply, in
   * milliseconds, before it gives up, closes the connection and returns
   * `["", false]` (or an empty array and `false`). `0` waits for ever.
   *
   * @default {0}
   */
  receiveTimeout?: number;
}

/**
 * A reply: the payload, and whether the connection is still good. A failed
 * receive is `["", false]`; `client.failure` says why.
 *
 * @example Telling a reply from a dead server
 * ```ts
 * import type { Reply } from "./client.ts";
 *
 * function show([payload, ok]: Reply): string {
 *   return ok ? payload : "(the server has gone)";
 * }
 * show([" and seven years ago", true]);
 * ```
 */
export type Reply = [payload: string, ok: boolean];

/**
 * A reply received as bytes by {@linkcode BufferedClient.receiveBytes}: the
 * payload, an array the caller owns, and whether the connection is still
 * good. A failed receive is `[new Uint8Array(0), false]`; `client.failure`
 * says why.
 *
 * @example Telling a reply from a dead server
 * ```ts
 * import type { ByteReply } from "./client.ts";
 *
 * function size([payload, ok]: ByteReply): number | undefined {
 *   return ok ? payload.byteLength : undefined;
 * }
 * size([new Uint8Array([0xff, 0xfe, 0x00]), true]);
 * ```
 */
export type ByteReply = [payload: Uint8Array, ok: boolean];

/**
 * How a receive turns a payload into its reply: text for
 * {@linkcode BufferedClient.receiveMessage}, bytes for
 * {@linkcode BufferedClient.receiveBytes}. One receive path serves both.
 */
interface Decoding<T> {
  /**
   * Turns the payload, a view of the receive buffer valid until the next
   * read, into the reply's value. Throwing ends the connection.
   */
  decode(payload: Uint8Array): T;
  /** The reply of a receive once the connection is gone: a new array each time. */
  failed(): [T, boolean];
}

/** Text replies: strict UTF-8, as the server checks requests. */
const TEXT: Decoding<string> = {
  decode: decodeUtf8,
  failed: (): Reply => ["", false],
};

/** Byte replies: a copy, since the receive buffer is reused; no UTF-8 check. */
const BYTES: Decoding<Uint8Array> = {
  decode: (payload: Uint8Array): Uint8Array => payload.slice(),
  failed: (): ByteReply => [new Uint8Array(0), false],
};

/**
 * Held-back sends released at once anyway, so that the server works on the
 * first requests while the client still hands out later replies: with all of
 * a window in one write, client and server would take turns instead. Writes
 * cost a system call each, so a batch is still a few of them.
 */
const HOLD_FRAMES = 16;
/**
 * Held-back text (UTF-16 units) and bytes, counted alike, released at once
 * anyway, so that long messages go out early.
 */
const HOLD_UNITS = 64 * 1024;

/**
 * A client of the length-prefixed protocol over one connection.
 *
 * A server that goes away is never an exception: it shows as `ok === false`
 * from {@linkcode BufferedClient.receiveMessage} (or
 * {@linkcode BufferedClient.receiveBytes}), and
 * {@linkcode BufferedClient.failure} says why. Sends and receives may be
 * issued concurrently: frames never interleave, and replies come back in
 * order. Messages may be text or bytes, and each reply may be received as
 * either, on one connection.
 *
 * @example Pipelining: three sends, then three receives
 * ```ts
 * import { BufferedClient } from "./client.ts";
 * import { BufferedServer } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new BufferedServer("127.0.0.1", 0, 16, { log: () => {} });
 * const done = server.start();
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port, 16);
 *
 * await Promise.all(["0123456789a", "0123456789bb", "0123456789ccc"].map((m) => client.sendMessage(m)));
 * assert.deepEqual(await client.receiveMessage(), ["a", true]);
 * assert.deepEqual(await client.receiveMessage(), ["bb", true]);
 * assert.deepEqual(await client.receiveMessage(), ["ccc", true]);
 *
 * server.keepRunning = false; // the client sees the end at once
 * assert.deepEqual(await client.receiveMessage(), ["", false]);
 * await done;
 * ```
 */
export class BufferedClient implements AsyncDisposable, Disposable {
  #conn: Deno.Conn;
  #reader: FrameReader;
  #writer: FrameWriter;
  #receiveTimeout: number;
  #open = true;
  /** The caller called `shutdown()`: only then does a send throw. */
  #shutDownByCaller = false;
  #failure: Error | undefined;
  /** Receives run one at a time, in call order. */
  #lastReceive: Promise<unknown> = Promise.resolve();
  #queuedReceives = 0;
  #maxFrameSize: number;
  /**
   * Sends held back while buffered replies are handed out, to go in one
   * write. They stay out of the writer until released: a write in flight
   * would otherwise pick them up one or two at a time. Bytes are held as a
   * copy the client owns, so the caller may reuse its array at once.
   */
  #held: (string | Uint8Array)[] = [];
  #heldUnits = 0;
  /** Settles the promise the held sends returned, once they are written. */
  #heldWritten: ((written: Promise<void>) => void) | undefined;
  #heldPromise: Promise<void> | undefined;
  /** Releases held sends if the caller stops receiving; armed at most once at a time. */
  #fallback: ReturnType<typeof setTimeout> | undefined;
  readonly #onFallback = (): void => {
    this.#fallback = undefined;
    if (this.#held.length > 0) this.#release();
  };
  /** The writer's current flush, and the same with errors recorded instead of thrown. */
  #flushing: Promise<void> | undefined;
  #flushed: Promise<void> = Promise.resolve();

  /**
   * Connects to `hostname:port`.
   *
   * @param hostname The server's host name or address.
   * @param port The server's port.
   * @param bufferSize Size of the receive buffer, in bytes.
   * @param options Limits and timeouts.
   * @returns The connected client.
   * @throws {Deno.errors.ConnectionRefused} When nothing listens there; the
   * message names the address. Other connection errors keep their class and
   * name the address too.
   * @throws {RangeError} When `port`, `bufferSize` or an option is out of range.
   *
   * @example Basic usage
   * ```ts
   * import { BufferedClient } from "./client.ts";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await BufferedClient.connect("127.0.0.1", listener.addr.port, 1024);
   * ```
   */
  static async connect(
    hostname: string,
    port: number,
    bufferSize: number = DEFAULT_BUFFER_SIZE,
    options: BufferedClientOptions = {},
  ): Promise<BufferedClient> {
    const where = endpoint(hostname, port, options);
    validateOptions(bufferSize, options);
    const conn = await connect(where, options.tls, options.signal);
    setNoDelay(conn);
    return new BufferedClient(conn, bufferSize, options);
  }

  /**
   * Wraps a connection that is already open (TCP, TLS or Unix), which the
   * client then owns and closes.
   *
   * @param conn The connection.
   * @param bufferSize Size of the receive buffer, in bytes.
   * @param options Limits and timeouts.
   * @throws {RangeError} When `bufferSize` or an option is out of range.
   *
   * @example Wrap a connection
   * ```ts
   * import { BufferedClient } from "./client.ts";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
   * using client = new BufferedClient(conn);
   * ```
   */
  constructor(
    conn: Deno.Conn,
    bufferSize: number = DEFAULT_BUFFER_SIZE,
    options: BufferedClientOptions = {},
  ) {
    const { maxFrameSize, receiveTimeout } = validateOptions(bufferSize, options);
    this.#conn = conn;
    const format: FrameFormatOptions = {
      lengthField: options.lengthField,
      lengthIncludesHeader: options.lengthIncludesHeader,
      maxFrameSize,
    };
    this.#reader = new FrameReader(conn, { ...format, bufferSize });
    this.#writer = new FrameWriter(conn, format);
    this.#receiveTimeout = receiveTimeout;
    this.#maxFrameSize = maxFrameSize;
  }

  /** Whether the connection is still open: not shut down, not lost. */
  get isOpen(): boolean {
    return this.#open;
  }

  /**
   * Why the connection ended, once a receive has returned `ok === false`:
   * the server's misbehaviour or the socket error. `undefined` while the
   * connection is good, and after a clean close or a `shutdown()`.
   */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Sends `message` as one frame: text as its UTF-8 bytes, bytes as they
   * are. A server that has gone away is not an error here: it shows on the
   * next {@linkcode BufferedClient.receiveMessage} as `ok === false`. Only
   * misuse throws, so a loop of "send, receive, send again" never sees an
   * exception from the network.
   *
   * Bytes are copied before `sendMessage` returns: the caller may change or
   * reuse its array at once, without waiting for the promise.
   *
   * @param message The message, as text or as bytes. Other binary data (an
   * `ArrayBuffer`, a `DataView`, another typed array) is refused: wrap it as
   * `new Uint8Array(view.buffer, view.byteOffset, view.byteLength)` to send
   * its bytes in memory order.
   * @returns A promise that resolves once the frame is handed to the socket,
   * or at once when the connection has already ended (reset, end of stream, a
   * bad reply, a receive timeout, an abort): the message is then dropped and
   * receives return `ok === false`.
   * @throws {Deno.errors.BadResource} When the caller has shut the client down
   * with {@linkcode BufferedClient.shutdown} (or `using`).
   * @throws {FrameTooLargeError} When the message's size in bytes (UTF-8, for
   * text) exceeds `maxFrameSize`; nothing is sent.
   * @throws {TypeError} When `message` is neither a string nor a `Uint8Array`.
   *
   * @example Basic usage
   * ```ts
   * import { BufferedClient } from "./client.ts";
   * import { BufferedServer } from "./server.ts";
   *
   * await using server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
   * const done = server.start();
   * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
   * await client.sendMessage("hello, world");
   * client.shutdown(); // the server's lingering close waits for its clients to close
   * server.keepRunning = false;
   * await done;
   * ```
   *
   * @example Send bytes, and reuse the array at once
   * ```ts
   * import { BufferedClient } from "./client.ts";
   * import assert from "node:assert/strict";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * using client = await BufferedClient.connect("127.0.0.1", listener.addr.port);
   * using peer = await listener.accept();
   *
   * const bytes = new Uint8Array([0xff, 0xfe, 0x00]); // not UTF-8: sent as it is
   * const sent = client.sendMessage(bytes);
   * bytes.fill(0); // already copied
   * await sent;
   *
   * const frame = new Uint8Array(7);
   * for (let n = 0; n < frame.length;) n += await peer.read(frame.subarray(n)) ?? 0;
   * assert.deepEqual(frame, new Uint8Array([0, 0, 0, 3, 0xff, 0xfe, 0x00]));
   * ```
   */
  sendMessage(message: string | Uint8Array): Promise<void> {
    // Not async: most sends share the promise of a write already under way.
    const text = typeof message === "string";
    if (!text && !(message instanceof Uint8Array)) {
      return Promise.reject(
        new TypeError(
          `Cannot send a message of type ${typeName(message)}: expected a string or a Uint8Array`,
        ),
      );
    }
    if (this.#shutDownByCaller) {
      return Promise.reject(
        new Deno.errors.BadResource("Cannot send a message: the client has been shut down"),
      );
    }
    // Checked now, as held messages are encoded later. Text that cannot exceed
    // the limit (3 bytes a UTF-16 unit at most) is not measured.
    const bytes = !text
      ? message.byteLength
      : message.length * 3 > this.#maxFrameSize
      ? utf8ByteLength(message)
      : 0;
    try {
      checkFrameSize(bytes, this.#maxFrameSize);
    } catch (error) {
      return Promise.reject(error);
    }
    // The connection ended for a reason of the server's or the network's: not
    // the caller's misuse, so not an exception. The next receive reports it.
    if (!this.#open) return Promise.resolve();
    // While replies that already arrived are being handed out, a pipelining
    // caller answers each with a send: hold those back and write them in
    // batches of HOLD_FRAMES, the rest once the buffered replies run out (or
    // on the next turn of the event loop), instead of one system call each.
    if (
      this.#reader.hasBufferedFrame && this.#held.length < HOLD_FRAMES &&
      this.#heldUnits < HOLD_UNITS
    ) {
      if (text) {
        this.#held.push(message);
        this.#heldUnits += message.length;
      } else {
        // A copy (a plain Uint8Array even from a subclass such as Buffer): the
        // caller may reuse its array once this returns.
        this.#held.push(new Uint8Array(message));
        this.#heldUnits += message.byteLength;
      }
      this.#fallback ??= setTimeout(this.#onFallback, 0);
      return this.#heldPromise ??= new Promise<void>((resolve) => this.#heldWritten = resolve);
    }
    try {
      // The writer copies bytes into its batch (no borrow), as the contract says.
      return this.#release(message);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receives the next reply as text, however many reads it takes. For
   * replies that need not be UTF-8, see {@linkcode BufferedClient.receiveBytes}.
   *
   * @param options `signal` aborts the wait: the promise rejects with the
   * signal's reason. An abort while the receive waits on the network closes
   * the connection, since a reply cannot be left half-read (later receives
   * return `["", false]`); a signal aborted before this receive's turn
   * rejects without touching the connection.
   * @returns `[payload, true]` for a reply (an empty one is `["", true]`), or
   * `["", false]` when the server closed or reset the connection, sent a frame
   * above `maxFrameSize` or bytes that are not UTF-8, the receive timed out,
   * or the client was shut down. It never rejects for these.
   * @throws The signal's reason, when `signal` aborts.
   *
   * @example Basic usage
   * ```ts
   * import { BufferedClient } from "./client.ts";
   * import { BufferedServer } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
   * const done = server.start();
   * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
   * await client.sendMessage("short");
   * assert.deepEqual(await client.receiveMessage(), ["", true]);
   * client.shutdown(); // the server's lingering close waits for its clients to close
   * server.keepRunning = false;
   * await done;
   * ```
   */
  receiveMessage(options?: { signal?: AbortSignal }): Promise<Reply> {
    return this.#receive(options?.signal, TEXT);
  }

  /**
   * Receives the next reply as bytes, however many reads it takes, without
   * checking that it is UTF-8. Text and byte receives share one queue: they
   * may be mixed on a connection, and each takes the next reply in order.
   *
   * @param options `signal` aborts the wait, exactly as for
   * {@linkcode BufferedClient.receiveMessage}: the promise rejects with the
   * signal's reason, and an abort while the receive waits on the network
   * closes the connection.
   * @returns `[payload, true]` for a reply, where `payload` is a new array the
   * caller owns (an empty reply is an empty array), or
   * `[new Uint8Array(0), false]` when the server closed or reset the
   * connection, sent a frame above `maxFrameSize`, the receive timed out, or
   * the client was shut down. It never rejects for these.
   * @throws The signal's reason, when `signal` aborts.
   *
   * @example Bytes that are not UTF-8, through an echo peer
   * ```ts
   * import { BufferedClient } from "./client.ts";
   * import assert from "node:assert/strict";
   *
   * // A peer that writes back every byte it reads: each frame returns as it went.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const echo = listener.accept().then((conn) => conn.readable.pipeTo(conn.writable));
   *
   * const client = await BufferedClient.connect("127.0.0.1", listener.addr.port);
   * await client.sendMessage(new Uint8Array([0xff, 0xfe, 0x00]));
   * await client.sendMessage("text");
   * assert.deepEqual(await client.receiveBytes(), [new Uint8Array([0xff, 0xfe, 0x00]), true]);
   * assert.deepEqual(await client.receiveMessage(), ["text", true]); // the same queue, in order
   *
   * client.shutdown();
   * await echo;
   * assert.deepEqual(await client.receiveBytes(), [new Uint8Array(0), false]);
   * ```
   */
  receiveBytes(options?: { signal?: AbortSignal }): Promise<ByteReply> {
    return this.#receive(options?.signal, BYTES);
  }

  /**
   * The one receive path behind {@linkcode BufferedClient.receiveMessage}
   * and {@linkcode BufferedClient.receiveBytes}: they differ only in how a
   * payload is decoded, and they share the queue, so replies stay in order.
   */
  #receive<T>(signal: AbortSignal | undefined, decoding: Decoding<T>): Promise<[T, boolean]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // A reply already buffered, with no receive ahead of it, is handed out at once.
    if (this.#queuedReceives === 0) {
      const buffered = this.#receiveBuffered(decoding);
      if (buffered !== undefined) return Promise.resolve(buffered);
    }
    this.#queuedReceives++;
    // Each receive waits for the one before it to settle, whether it resolved or was aborted.
    const receive = (): Promise<[T, boolean]> => this.#receiveOne(signal, decoding);
    const reply = this.#lastReceive.then(receive, receive);
    this.#lastReceive = reply;
    return reply;
  }

  /**
   * Closes the connection. Pending and later receives return `["", false]`;
   * later sends throw. Calling it again does nothing.
   *
   * @example Basic usage
   * ```ts
   * import { BufferedClient } from "./client.ts";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const client = await BufferedClient.connect("127.0.0.1", listener.addr.port);
   * client.shutdown();
   * client.shutdown();
   * ```
   */
  shutdown(): void {
    this.#shutDownByCaller = true;
    this.#close();
  }

  /** Closes the connection, whoever ends it: the caller, a failure, a timeout, an abort. */
  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#fallback);
    this.#fallback = undefined;
    // Held sends go out before the close, as they would have without holding.
    if (this.#held.length > 0) this.#release();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime after an error: nothing left to free.
    }
  }

  /** Shuts the client down; see {@linkcode BufferedClient.shutdown}. */
  [Symbol.dispose](): void {
    this.shutdown();
  }

  /** Shuts the client down and waits for pending receives to settle. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.shutdown();
    await this.#lastReceive.catch(() => {});
  }

  /**
   * Writes held sends, then `message` behind them in the same write, and
   * settles the held sends' promise with that write's.
   */
  #release(message?: string | Uint8Array): Promise<void> {
    const held = this.#held;
    const heldWritten = this.#heldWritten;
    if (held.length > 0) {
      // Sizes were checked when each was held: enqueue cannot throw here. Held
      // bytes are the client's own copies, so a long one may be borrowed.
      for (let i = 0; i < held.length; i++) this.#writer.enqueue(held[i], true);
      held.length = 0;
      this.#heldUnits = 0;
      this.#heldWritten = this.#heldPromise = undefined;
    }
    let flushed: Promise<void>;
    try {
      if (message !== undefined) this.#writer.enqueue(message);
    } finally {
      // Even when `message` is refused, the held sends still go out.
      flushed = this.#flush();
      heldWritten?.(flushed);
    }
    return flushed;
  }

  /**
   * Flushes the writer. A server that went away is recorded for the next
   * receive to report, as the contract says, not thrown; sends that join a
   * write in flight share one promise.
   */
  #flush(): Promise<void> {
    const flushing = this.#writer.flush();
    if (flushing !== this.#flushing) {
      this.#flushing = flushing;
      this.#flushed = flushing.then(undefined, (error: unknown): void => {
        if (this.#open) {
          this.#failure ??= error instanceof Error ? error : new Error(String(error));
        }
      });
    }
    return this.#flushed;
  }

  /** The next reply if it is already in the buffer; `undefined` when it must be awaited. */
  #receiveBuffered<T>(decoding: Decoding<T>): [T, boolean] | undefined {
    if (!this.#open) return decoding.failed();
    try {
      const payload = this.#reader.readBuffered();
      return payload === undefined ? undefined : [decoding.decode(payload), true];
    } catch (error) {
      return this.#fail(error, decoding);
    }
  }

  async #receiveOne<T>(
    signal: AbortSignal | undefined,
    decoding: Decoding<T>,
  ): Promise<[T, boolean]> {
    try {
      signal?.throwIfAborted();
      const buffered = this.#receiveBuffered(decoding);
      if (buffered !== undefined) return buffered;
      // The reply has to come from the network: held-back sends go out first.
      if (this.#held.length > 0) this.#release();
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (this.#receiveTimeout > 0) {
        timer = setTimeout(() => {
          this.#failure ??= new Deno.errors.TimedOut(
            `No reply within the receive timeout: ${this.#receiveTimeout} ms`,
          );
          this.#close();
        }, this.#receiveTimeout);
      }
      // A read cannot be cancelled, only its socket closed: an abort ends the connection.
      const abort = (): void => {
        this.#failure ??= signal?.reason instanceof Error ? signal.reason : new Error("Aborted");
        this.#close();
      };
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const payload = await this.#reader.readView();
        if (payload === null) return this.#fail(undefined, decoding);
        return [decoding.decode(payload), true];
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        return this.#fail(error, decoding);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      }
    } finally {
      this.#queuedReceives--;
    }
  }

  /** Ends the connection after a failed receive; `error` is undefined for a clean close. */
  #fail<T>(error: unknown, decoding: Decoding<T>): [T, boolean] {
    if (this.#open && error !== undefined) {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
    }
    this.#close();
    return decoding.failed();
  }
}

/** Names a value's type for an error message: `number`, `ArrayBuffer`, `DataView`. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return Object.prototype.toString.call(value).slice(8, -1);
}

function validateOptions(
  bufferSize: number,
  options: BufferedClientOptions,
): { maxFrameSize: number; receiveTimeout: number } {
  integerOption("bufferSize", bufferSize, DEFAULT_BUFFER_SIZE, 1);
  return {
    maxFrameSize: frameFormat(options, true).maxFrameSize,
    receiveTimeout: durationOption("receiveTimeout", options.receiveTimeout, 0),
  };
}

const USAGE = `Usage: deno run --allow-net=HOST:PORT client.ts [options] [MESSAGE...]

Sends each MESSAGE (or, with none, each line of standard input) as one frame
and prints each reply on its own line.

Options:
  --hostname HOST          server host name or address (default: localhost)
  --port PORT              server port (default: 4567)
  --buffer-size N          receive buffer size in bytes (default: ${DEFAULT_BUFFER_SIZE})
${formatFlagsUsage("largest payload sent or accepted")}
  --receive-timeout MS     give up on a reply after MS milliseconds (default: 0, never)
  --tls                    connect over TLS (system root certificates, plus --ca)
  --ca FILE                also trust this PEM CA certificate (needs --allow-read=FILE)
  --unix PATH              connect to a Unix domain socket instead of TCP
                           (needs --allow-net=unix:PATH --allow-read=PATH --allow-write=PATH)
  -h, --help               print this help

Exit status: 0 when every reply came, 1 when the server could not be reached
or went away or a message was too long to send, 2 on a usage error.`;

async function* standardInputLines(): AsyncGenerator<string> {
  let pending = "";
  for await (
    const text of Deno.stdin.readable.pipeThrough(
      new TextDecoderStream("utf-8", { ignoreBOM: true }),
    )
  ) {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
    }
  }
  if (pending !== "") yield pending;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals }: CommandLine = parseCommandLine(args, {
    hostname: { type: "string" },
    port: { type: "string" },
    "buffer-size": { type: "string" },
    ...FORMAT_FLAGS,
    "receive-timeout": { type: "string" },
    tls: { type: "boolean" },
    ca: { type: "string" },
    unix: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, true);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const hostname = stringFlag(values, "hostname", "localhost");
  const port = integerFlag(values, "port", 4567, 1, 65535);
  const bufferSize = integerFlag(values, "buffer-size", DEFAULT_BUFFER_SIZE, 1);
  const format = formatFlags(values);
  const receiveTimeout = integerFlag(values, "receive-timeout", 0, 0, MAX_DURATION);

  if (typeof values.ca === "string" && values.tls !== true) {
    throw new UsageError("--ca needs --tls");
  }
  const options: BufferedClientOptions = { ...format, receiveTimeout };
  if (typeof values.unix === "string") {
    options.transport = "unix";
    options.path = values.unix;
  }
  let client: BufferedClient;
  try {
    if (values.tls === true) {
      options.tls = typeof values.ca === "string"
        ? { caCerts: [Deno.readTextFileSync(values.ca)] }
        : {};
    }
    client = await BufferedClient.connect(hostname, port, bufferSize, options);
  } catch (error) {
    console.error(`error: ${errorMessage(error)}`);
    return 1;
  }
  await using _ = client;
  const messages = positionals.length > 0 ? positionals : standardInputLines();
  for await (const message of messages) {
    try {
      await client.sendMessage(message);
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        const limit = values["max-frame-size"] === undefined
          ? `what ${describeFormat(values)} allows`
          : "--max-frame-size";
        console.error(
          `error: message not sent: its ${error.length} bytes exceed ${error.maxFrameSize}, ${limit}`,
        );
      } else {
        console.error(`error: ${errorMessage(error)}`);
      }
      return 1;
    }
    const [reply, ok] = await client.receiveMessage();
    if (!ok) {
      const why = client.failure ? `: ${errorMessage(client.failure)}` : "";
      const where = options.path ?? formatHostPort(hostname, port);
      console.error(`error: the server at ${where} went away${why}`);
      return 1;
    }
    console.log(reply);
  }
  return 0;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args), USAGE);
}
