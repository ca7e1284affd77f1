// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Your own length-prefixed service on the robust server: {@linkcode serve}
 * takes a handler that turns each request's payload into a reply, and runs it
 * with everything the demo server has (connection limit, idle, frame and
 * write timeouts, lingering close, graceful stop, TLS, Unix sockets, replies
 * batched per read), shaped like `Deno.serve`.
 *
 * @example A binary echo service
 * ```ts
 * import { serve } from "./serve.ts";
 * import { BufferedClient } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = serve({ hostname: "127.0.0.1", port: 0, log: () => {} }, (payload) => {
 *   return payload; // echo: reply with the same bytes
 * });
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
 * await client.sendMessage("hello");
 * assert.deepEqual(await client.receiveMessage(), ["hello", true]);
 * ```
 *
 * @module
 */

import { decodeUtf8 } from "./_utf8.ts";
import { endpoint, type TransportOptions } from "./_transport.ts";
import { SERVER_DEFAULTS, ServerCore, type ServerStats } from "./_server.ts";
import type { ConnectionInfo, FrameHandler, HandlerResult } from "./_connection.ts";
import type { LengthFieldName } from "./types.ts";

export type { ConnectionInfo, FrameHandler, HandlerResult, ServerStats, TransportOptions };
export type { CloseKind } from "./_connection.ts";

/**
 * Options for {@linkcode serve}.
 *
 * @example A service for many clients on a Unix socket
 * ```ts
 * import { serve, type ServeOptions } from "./serve.ts";
 *
 * const path = `${await Deno.makeTempDir()}/service.sock`;
 * const options: ServeOptions = {
 *   transport: "unix",
 *   path,
 *   maxConnections: 10_000,
 *   maxInFlight: 64,
 *   idleTimeout: 60_000,
 *   log: () => {},
 * };
 * await using server = serve(options, () => null);
 * ```
 */
export interface ServeOptions extends TransportOptions {
  /**
   * Serve over TLS with this certificate chain and private key (PEM
   * strings). TCP only.
   */
  tls?: { cert: string; key: string };
  /**
   * Share the port with other processes that listen on it with `reusePort`
   * too (`SO_REUSEPORT`, Linux): the kernel spreads new connections across
   * them. Needs `--unstable-net`; without it, `serve` throws a `TypeError`
   * that says so. TCP only.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * The address to listen on (TCP).
   *
   * @default {"0.0.0.0"}
   */
  hostname?: string;
  /**
   * The port (TCP); `0` picks a free one, which `server.addr.port` reports.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Size of each connection's receive buffer, in bytes: no read asks for
   * more. Frames longer than it are read into an array of their own.
   *
   * @default {1024}
   */
  bufferSize?: number;
  /**
   * How each frame's header encodes its payload's length, both ways; see
   * {@linkcode LengthFieldName}.
   *
   * @default {"u32be"}
   */
  lengthField?: LengthFieldName;
  /**
   * Whether the declared length counts the length field too (fixed widths
   * only; with `"varint"` it is a `RangeError`). A client whose header
   * declares less than its own size loses its connection, counted as
   * `corruptFrame`.
   *
   * @default {false}
   */
  lengthIncludesHeader?: boolean;
  /**
   * Largest request payload accepted, in bytes, header not counted. A client
   * that declares more loses its connection (after the replies it is owed);
   * nothing is allocated for the frame. At most what the length field can
   * declare (a `RangeError` above it); by default the smaller of that and
   * 16 MiB. Replies are bounded only by the field: a longer one fails the
   * handler.
   *
   * @default {16777216}
   */
  maxFrameSize?: number;
  /**
   * Clients served at once. At the limit the server stops accepting until
   * one leaves; the others wait in the listen backlog.
   *
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Requests of one connection being handled at once (async handlers, and
   * replies waiting behind a slower earlier one). At the limit the server
   * stops reading that connection until replies leave: backpressure, so a
   * client that pipelines without bound costs bounded memory.
   *
   * @default {16}
   */
  maxInFlight?: number;
  /**
   * Milliseconds a client may stay silent between frames (with no request of
   * its own still being handled); `0` never closes it.
   *
   * @default {300000}
   */
  idleTimeout?: number;
  /**
   * Milliseconds a client has to finish a frame once its first byte came; `0`
   * waits for ever.
   *
   * @default {30000}
   */
  frameTimeout?: number;
  /**
   * Milliseconds the replies being written may go without progress (no bytes
   * accepted by the socket) before the connection is closed; `0` waits for
   * ever. The grain is the kernel's: a full send buffer wakes the writer only
   * once about a third of it has drained.
   *
   * @default {30000}
   */
  writeTimeout?: number;
  /**
   * On stop, milliseconds for handlers already running to finish and their
   * replies to leave; then every connection is closed regardless, a pending
   * handler's reply dropped with a log line.
   *
   * @default {5000}
   */
  shutdownTimeout?: number;
  /**
   * After the server hangs up, milliseconds a silent peer has to close
   * before the connection is closed anyway (nginx's `lingering_timeout`).
   *
   * @default {5000}
   */
  lingerTimeout?: number;
  /**
   * After the server hangs up, the longest the lingering close lasts, in
   * milliseconds (nginx's `lingering_time`).
   *
   * @default {30000}
   */
  lingerTime?: number;
  /** Stops the server gracefully when aborted; one already aborted stops it at once. */
  signal?: AbortSignal;
  /**
   * Called once the server listens, with its address; not called when
   * `signal` was already aborted (the server stops at once). If it throws,
   * the server is stopped and `serve` throws that error. By default nothing
   * is printed.
   */
  onListen?: (addr: Deno.Addr) => void;
  /**
   * Receives one line per event: a connection opened, closed (with the reason
   * and how many frames were answered), a handler that failed, an accept
   * error. Defaults to standard error.
   */
  log?: (line: string) => void;
}

/**
 * A running server, as {@linkcode serve} returns it.
 *
 * @example Stop, and wait until every connection is closed
 * ```ts
 * import { type FrameServer, serve } from "./serve.ts";
 *
 * const server: FrameServer = serve({ port: 0, log: () => {} }, (payload) => payload);
 * await server.shutdown();
 * await server.finished; // already settled
 * ```
 */
export interface FrameServer extends AsyncDisposable {
  /** The bound address (port 0 resolved). Throws `TypeError` for a Unix socket: see `localAddr`. */
  readonly addr: Deno.NetAddr;
  /** The bound address, whatever the transport (a Unix socket's path included). */
  readonly localAddr: Deno.Addr;
  /** Settles once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops the server gracefully: it stops accepting and reading, lets
   * handlers already running finish and their replies leave in order, then
   * closes (after `shutdownTimeout` regardless). Resolves with `finished`.
   */
  shutdown(): Promise<void>;
  /** The counters a service owner needs; see {@linkcode ServerStats}. */
  stats(): ServerStats;
}

/**
 * Serves a length-prefixed protocol with your handler: each request's
 * payload goes to `handler`, and what it returns goes back as one frame.
 *
 * The handler's contract:
 * - It gets the payload and {@linkcode ConnectionInfo} (peer address,
 *   connection number). The payload's memory is the handler's until the call
 *   returns, or until its promise settles; after that the server reuses it,
 *   so copy what you keep (`payload.slice()`).
 * - It returns a `Uint8Array`, a `string` (sent as UTF-8), or
 *   `null`/`undefined` for no reply (a one-way message), or a promise of one.
 *   A reply array of 64 KiB or more is written from the array itself: leave
 *   it unchanged once returned.
 * - Replies leave in the order the requests arrived on that connection, even
 *   when async handlers finish out of order; at most `maxInFlight` requests
 *   of one connection are handled at once.
 * - A handler that throws or rejects ends that connection only: the replies
 *   before it are sent, one log line names the peer and the error, and the
 *   server goes on serving. Throwing an {@linkcode InvalidUtf8Error} (as
 *   {@linkcode textHandler} does) counts as the client's invalid text.
 *
 * Like `Deno.serve`, it binds at once (an address in use or a missing
 * permission throws here) and serves until `shutdown()` or `signal`.
 *
 * @param options Where to listen, limits, timeouts, `signal` and `onListen`.
 * @param handler Turns a request's payload into its reply.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} When the address is taken; the message names it.
 * @throws {Deno.errors.NotCapable} Without `--allow-net` for the address.
 * @throws {RangeError} When a port, size, count or duration is out of range,
 * `lengthField` is unknown, or `lengthIncludesHeader` is combined with
 * `"varint"`.
 * @throws {TypeError} When `lengthIncludesHeader` is not a boolean.
 *
 * @example JSON requests and replies
 * ```ts
 * import { serve } from "./serve.ts";
 * import { BufferedClient } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new TextDecoder();
 * await using server = serve({ hostname: "127.0.0.1", port: 0, log: () => {} }, async (payload) => {
 *   const { a, b } = JSON.parse(decoder.decode(payload));
 *   await Promise.resolve(); // a database, another service...
 *   return JSON.stringify({ sum: a + b });
 * });
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
 * await client.sendMessage(JSON.stringify({ a: 2, b: 3 }));
 * assert.deepEqual(await client.receiveMessage(), ['{"sum":5}', true]);
 * ```
 */
export function serve(options: ServeOptions, handler: FrameHandler): FrameServer {
  if (typeof handler !== "function") {
    throw new TypeError(`Invalid handler: expected a function, got ${typeof handler}`);
  }
  const where = endpoint(options.hostname ?? "0.0.0.0", options.port ?? 0, options);
  const core = new ServerCore(where, options, handler, SERVER_DEFAULTS.maxConnections);
  const { signal } = options;
  const stop = (): void => core.stop();
  signal?.addEventListener("abort", stop, { once: true });
  const finished = core.start().finally(() => signal?.removeEventListener("abort", stop));
  if (signal?.aborted) {
    core.stop();
  } else if (options.onListen !== undefined) {
    try {
      options.onListen(core.addr);
    } catch (error) {
      // The caller gets no server to stop: stop it here.
      core.stop();
      throw error;
    }
  }
  return {
    get addr(): Deno.NetAddr {
      const addr = core.addr;
      if (!("hostname" in addr)) {
        throw new TypeError("A Unix socket server has no network address: see localAddr");
      }
      return addr;
    },
    get localAddr(): Deno.Addr {
      return core.addr;
    },
    finished,
    shutdown(): Promise<void> {
      core.stop();
      return finished;
    },
    stats: () => core.stats(),
    [Symbol.asyncDispose](): Promise<void> {
      core.stop();
      return finished;
    },
  };
}

/**
 * A handler of text messages, for {@linkcode serve}: each payload is decoded
 * as UTF-8 with the fatal check (as Python's strict `decode`), and a payload
 * that is not valid UTF-8 ends its connection with an
 * {@linkcode InvalidUtf8Error}, the class a `BufferedClient` reports for the
 * same fault. What `handler` returns is sent as for `serve`.
 *
 * @param handler Turns a request's text into its reply.
 * @returns The handler to give `serve`.
 *
 * @example Upper-case every message
 * ```ts
 * import { serve, textHandler } from "./serve.ts";
 * import { BufferedClient } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = serve(
 *   { hostname: "127.0.0.1", port: 0, log: () => {} },
 *   textHandler((text) => text.toUpperCase()),
 * );
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
 * await client.sendMessage("héllo");
 * assert.deepEqual(await client.receiveMessage(), ["HÉLLO", true]);
 * ```
 */
export function textHandler(
  handler: (text: string, info: ConnectionInfo) => HandlerResult | PromiseLike<HandlerResult>,
): FrameHandler {
  return (payload, info) => handler(decodeUtf8(payload), info);
}
