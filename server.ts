#!/usr/bin/env -S deno run --allow-net=0.0.0.0:4567
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * A demo service of the length-prefixed protocol: {@linkcode BufferedServer}
 * answers each message with the message minus its first 10 characters
 * (Unicode code points, as Python counts them), and keeps serving whatever
 * its clients do.
 *
 * It is also an executable:
 *
 * ```sh
 * deno run --allow-net=0.0.0.0:4567 jsr:@buffered/framing/server --port 4567
 * deno install --global --allow-net=0.0.0.0:4567 -n framing-server jsr:@buffered/framing/server
 * ```
 *
 * Its first line on standard output is `listening on HOST:PORT`; each
 * connection opened and closed logs a line on standard error; SIGINT or
 * SIGTERM stops it gracefully with exit status 0; a usage error exits 2.
 *
 * @example Serve, then stop
 * ```ts
 * import { BufferedServer } from "./server.ts";
 *
 * const server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
 * const done = server.start(); // resolves once the server has stopped
 * console.log(`serving on port ${server.addr.port}`);
 * server.keepRunning = false;
 * await done;
 * ```
 *
 * @module
 */

import {
  type CommandLine,
  integerFlag,
  parseCommandLine,
  runMain,
  stringFlag,
  UsageError,
} from "./_cli.ts";
import { durationOption, integerOption, MAX_DURATION } from "./_options.ts";
import { errorMessage, formatAddr } from "./_net.ts";
import { type AnyConn, endpoint, listen, setNoDelay, type TransportOptions } from "./_transport.ts";

export type { TransportOptions };
import { offsetAfterCodePointsIn } from "./_utf8.ts";
import {
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  InvalidUtf8Error,
  MAX_FRAME_SIZE_LIMIT,
} from "./framing.ts";

/**
 * Characters the demo service drops from the front of each message, counted
 * as Unicode code points.
 *
 * @example The reply to a message
 * ```ts
 * import { SKIPPED_CHARACTERS } from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * const message = "Four score and seven years ago";
 * assert.equal([...message].slice(SKIPPED_CHARACTERS).join(""), " and seven years ago");
 * ```
 */
export const SKIPPED_CHARACTERS = 10;

/**
 * Options for {@linkcode BufferedServer}.
 *
 * @example A server for many clients, with shorter timeouts
 * ```ts
 * import { BufferedServer, type BufferedServerOptions } from "./server.ts";
 *
 * const options: BufferedServerOptions = {
 *   maxConnections: 1000,
 *   maxFrameSize: 64 * 1024,
 *   idleTimeout: 60_000,
 *   log: () => {},
 * };
 * await using server = new BufferedServer("127.0.0.1", 0, 64 * 1024, options);
 * ```
 */
export interface BufferedServerOptions extends TransportOptions {
  /**
   * Serve over TLS with this certificate chain and private key (PEM
   * strings). TCP only.
   */
  tls?: { cert: string; key: string };
  /**
   * Share the port with other processes that listen on it with `reusePort`
   * too (`SO_REUSEPORT`): on Linux the kernel spreads new connections across
   * them, so several server processes use several cores. Deno marks it
   * unstable: the process needs `--unstable-net`, and without it the
   * constructor throws a `TypeError` that says so. TCP only; ignored by
   * Deno on systems other than Linux.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Largest payload accepted, in bytes. A client that declares more loses
   * its connection; nothing is allocated for the frame.
   *
   * @default {16777216}
   */
  maxFrameSize?: number;
  /**
   * Clients served at once. At the limit the server stops accepting until one
   * leaves; the others wait in the listen backlog. `1` is the assignment's
   * one-client-at-a-time server.
   *
   * @default {1}
   */
  maxConnections?: number;
  /**
   * Milliseconds a client may stay silent between frames before its
   * connection is closed. `0` never closes an idle client.
   *
   * @default {300000}
   */
  idleTimeout?: number;
  /**
   * Milliseconds a client has to finish a frame once its first byte has
   * arrived, so that a peer that stalls or dribbles cannot hold a slot. `0`
   * waits for ever.
   *
   * @default {30000}
   */
  frameTimeout?: number;
  /**
   * Milliseconds the replies being written may go without progress (no
   * bytes accepted by the socket, because the client does not read them)
   * before the connection is closed. A slow but steady reader is not cut;
   * the grain is the kernel's: a full send buffer wakes the writer only once
   * about a third of it has drained. `0` waits for ever.
   *
   * @default {30000}
   */
  writeTimeout?: number;
  /**
   * On stop, milliseconds to finish sending replies already owed before the
   * remaining connections are closed regardless. It also bounds the
   * lingering close of every connection during the stop.
   *
   * @default {5000}
   */
  shutdownTimeout?: number;
  /**
   * Lingering close: after the server hangs up (shuts its write side so the
   * peer reads every reply, then end of stream), milliseconds the peer may
   * go without sending anything or closing before the connection is closed
   * anyway. Until then the server reads and discards what the peer still
   * sends, since closing a socket with unread input resets the connection and
   * destroys replies still in flight. nginx's `lingering_timeout`, with the
   * same default. `0` closes at once.
   *
   * @default {5000}
   */
  lingerTimeout?: number;
  /**
   * Longest a lingering close lasts in all, in milliseconds, however much
   * the peer keeps sending: nginx's `lingering_time`, with the same default.
   *
   * @default {30000}
   */
  lingerTime?: number;
  /**
   * Receives one line per event: a connection opened, closed (with the
   * reason), an accept error. Defaults to standard error.
   */
  log?: (line: string) => void;
}

interface Connection {
  readonly conn: AnyConn;
  readonly reader: FrameReader;
  readonly writer: FrameWriter;
  readonly peer: string;
  /**
   * What the connection is doing now, and since when (`performance.now()`):
   * for "writing", since the socket last accepted reply bytes.
   */
  state: "waiting" | "writing" | "working" | "lingering";
  since: number;
  /** `writer.bytesWritten` when the sweep last looked: a change is progress. */
  writtenAtSweep: number;
  /** When the sweep first saw part of a frame, while the peer holds one open. */
  frameSeenAt: number | undefined;
  /** Why the server ended the connection, for the log line. */
  closeReason: string | undefined;
  /** Our write side is shut: the peer has every reply and an end of stream. */
  hungUp: boolean;
  /** Closes a hung-up connection once its peer is silent, or at `lingerUntil`. */
  lingerTimer: ReturnType<typeof setTimeout> | undefined;
  lingerUntil: number;
  /** When the peer last sent bytes while the connection lingered (or when it began). */
  heardAt: number;
  /** The server has closed the socket. */
  closed: boolean;
  /**
   * Why the replies written may not all have reached the peer (a reset, a
   * close with input unread), for the log line; `undefined` while delivery
   * is intact.
   */
  cut: string | undefined;
}

/** The server's options that are durations in milliseconds. */
type Timeout =
  | "idleTimeout"
  | "frameTimeout"
  | "writeTimeout"
  | "shutdownTimeout"
  | "lingerTimeout"
  | "lingerTime";

/** Time between two looks for timed-out connections, at most. */
const SWEEP_INTERVAL_MAX = 1000;
/**
 * The defaults of the server's limits and timeouts (milliseconds), declared
 * once for the constructor, the flags and the help text.
 */
const DEFAULTS = {
  /** The assignment's one-client-at-a-time server. */
  maxConnections: 1,
  idleTimeout: 300_000,
  frameTimeout: 30_000,
  writeTimeout: 30_000,
  shutdownTimeout: 5_000,
  /** nginx's `lingering_timeout`. */
  lingerTimeout: 5_000,
  /** nginx's `lingering_time`. */
  lingerTime: 30_000,
} as const;
/** First pause of the accept loop after a failed accept; it doubles up to the next. */
const ACCEPT_BACKOFF_MIN = 10;
/** Longest pause between accept attempts while they fail (Node and hyper back off to 1 s). */
const ACCEPT_BACKOFF_MAX = 1000;
/** Where lingering reads go; shared, as nobody looks at what lands in it. */
const DISCARD = new Uint8Array(16 * 1024);

/**
 * Failed accepts, in episodes: out of file descriptors, most often. Retrying
 * at once would spin a core and flood the log, so the accept loop backs off
 * (10 ms doubling to 1 s, as Node and hyper do) and logs one line when an
 * episode starts and one with its count when it ends; a connection that
 * closes wakes the loop at once, so it resumes at full speed as soon as a
 * descriptor frees. An episode ends once accepts have succeeded for
 * `ACCEPT_BACKOFF_MAX` ms without a failure, or when the server stops.
 */
class AcceptFailures {
  #log: (line: string) => void;
  #count = 0;
  #since = 0;
  #backoff = 0;
  #calm: ReturnType<typeof setTimeout> | undefined;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** Records a failed accept; returns how long to wait before the next, in ms. */
  failed(error: unknown): number {
    clearTimeout(this.#calm);
    this.#calm = undefined;
    if (this.#count++ === 0) {
      this.#since = performance.now();
      this.#log(
        `accept failed: ${errorMessage(error)}; backing off up to ${ACCEPT_BACKOFF_MAX} ms`,
      );
    }
    this.#backoff = Math.min(ACCEPT_BACKOFF_MAX, Math.max(ACCEPT_BACKOFF_MIN, this.#backoff * 2));
    return this.#backoff;
  }

  /** Records an accept that worked: the episode ends if none fails for a while. */
  succeeded(): void {
    if (this.#count === 0 || this.#calm !== undefined) return;
    this.#calm = setTimeout(() => this.end(), ACCEPT_BACKOFF_MAX);
  }

  /**
   * Ends the episode, if one is under way, with its summary line: recovered,
   * or still failing when the server stops (`recovered` false).
   */
  end(recovered = true): void {
    const calm = this.#calm !== undefined;
    clearTimeout(this.#calm);
    this.#calm = undefined;
    if (this.#count === 0) return;
    const lasted = Math.round(performance.now() - this.#since);
    const times = this.#count === 1 ? "1 time" : `${this.#count} times`;
    this.#log(
      recovered || calm
        ? `accept recovered: it had failed ${times} over ${lasted} ms`
        : `accept still failing when the server stopped: ${times} over ${lasted} ms`,
    );
    this.#count = this.#backoff = 0;
  }
}

/**
 * The demo server: answers each frame with its text minus the first 10
 * characters.
 *
 * The constructor binds, so an address in use or a missing permission throws
 * at once. {@linkcode BufferedServer.start} serves until
 * {@linkcode BufferedServer.keepRunning} is set to `false` (or
 * {@linkcode BufferedServer.shutdown} is called), then replies to every
 * request already received, closes every socket and resolves.
 *
 * A client that misbehaves (a frame above `maxFrameSize`, bytes that are not
 * UTF-8, a connection cut inside a frame, a timeout) loses its own
 * connection, with one log line; the server goes on serving the others.
 *
 * @example Several clients at once
 * ```ts
 * import { BufferedServer } from "./server.ts";
 * import { BufferedClient } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new BufferedServer("127.0.0.1", 0, 1024, {
 *   maxConnections: 2,
 *   log: () => {},
 * });
 * const done = server.start();
 * await using a = await BufferedClient.connect("127.0.0.1", server.addr.port);
 * await using b = await BufferedClient.connect("127.0.0.1", server.addr.port);
 * await a.sendMessage("0123456789from a");
 * await b.sendMessage("0123456789from b");
 * assert.deepEqual(await b.receiveMessage(), ["from b", true]);
 * assert.deepEqual(await a.receiveMessage(), ["from a", true]);
 * server.keepRunning = false;
 * await done;
 * ```
 */
export class BufferedServer implements AsyncDisposable {
  #listener: Deno.Listener<AnyConn, Deno.Addr>;
  #bufferSize: number;
  #maxFrameSize: number;
  #maxConnections: number;
  #idleTimeout: number;
  #frameTimeout: number;
  #writeTimeout: number;
  #shutdownTimeout: number;
  #lingerTimeout: number;
  #lingerTime: number;
  #log: (line: string) => void;

  #keepRunning = true;
  #accepted = 0;
  #serving: Promise<void> | undefined;
  #connections = new Map<Deno.Conn, Connection>();
  #connectionTasks = new Set<Promise<void>>();
  #wakeAcceptLoop: (() => void) | undefined;
  #acceptFailures: AcceptFailures;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #shutdownTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Binds `hostname:port` and prepares to serve.
   *
   * @param hostname The address to listen on; `""` means all IPv4
   * interfaces, as Python's `bind(("", port))`.
   * @param port The port; `0` picks a free one (see {@linkcode BufferedServer.addr}).
   * @param bufferSize Size of each connection's receive buffer, in bytes.
   * @param options Limits, timeouts and logging.
   * @throws {Deno.errors.AddrInUse} When the address is taken; the message names it.
   * @throws {Deno.errors.NotCapable} Without `--allow-net` for the address.
   * @throws {RangeError} When `port`, `bufferSize` or an option is out of range.
   *
   * @example Port 0 picks a free port
   * ```ts
   * import { BufferedServer } from "./server.ts";
   * import assert from "node:assert/strict";
   *
   * await using server = new BufferedServer("127.0.0.1", 0);
   * assert.notEqual(server.addr.port, 0);
   * ```
   */
  constructor(
    hostname: string,
    port: number,
    bufferSize: number = DEFAULT_BUFFER_SIZE,
    options: BufferedServerOptions = {},
  ) {
    const listenHostname = hostname === "" ? "0.0.0.0" : hostname;
    const where = endpoint(listenHostname, port, options);
    this.#bufferSize = integerOption("bufferSize", bufferSize, DEFAULT_BUFFER_SIZE, 1);
    this.#maxFrameSize = integerOption(
      "maxFrameSize",
      options.maxFrameSize,
      DEFAULT_MAX_FRAME_SIZE,
      0,
      MAX_FRAME_SIZE_LIMIT,
    );
    this.#maxConnections = integerOption(
      "maxConnections",
      options.maxConnections,
      DEFAULTS.maxConnections,
      1,
    );
    const duration = (name: Timeout): number => durationOption(name, options[name], DEFAULTS[name]);
    this.#idleTimeout = duration("idleTimeout");
    this.#frameTimeout = duration("frameTimeout");
    this.#writeTimeout = duration("writeTimeout");
    this.#shutdownTimeout = duration("shutdownTimeout");
    this.#lingerTimeout = duration("lingerTimeout");
    this.#lingerTime = duration("lingerTime");
    this.#log = options.log ?? ((line) => console.error(line));
    this.#acceptFailures = new AcceptFailures(this.#log);
    this.#listener = listen(where, options.tls, options.reusePort ?? false);
  }

  /**
   * The address the server listens on, with the real port when it was
   * constructed with port 0.
   */
  get addr(): Deno.NetAddr {
    const addr = this.#listener.addr;
    if (!("hostname" in addr)) {
      throw new TypeError("A Unix socket server has no network address: see localAddr");
    }
    return addr;
  }

  /** The address the server listens on, whatever the transport (a Unix socket's path included). */
  get localAddr(): Deno.Addr {
    return this.#listener.addr;
  }

  /** Connections being served now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * `true` from construction until the server is told to stop. Setting it to
   * `false` stops the server (as {@linkcode BufferedServer.shutdown} does):
   * it stops accepting at once, replies to every request already received,
   * closes every connection, and `start()` resolves. The server never sets it
   * to `false` itself, and a stopped server does not start again.
   */
  get keepRunning(): boolean {
    return this.#keepRunning;
  }

  set keepRunning(value: boolean) {
    if (!value) this.#stop();
  }

  /**
   * Serves clients until the server is stopped.
   *
   * @returns A promise that resolves once the server has stopped and every
   * connection is closed. Calling it again returns the same promise.
   *
   * @example Basic usage
   * ```ts
   * import { BufferedServer } from "./server.ts";
   *
   * const server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
   * const done = server.start();
   * server.keepRunning = false;
   * await done;
   * ```
   */
  start(): Promise<void> {
    this.#serving ??= this.#acceptLoop();
    return this.#serving;
  }

  /**
   * Stops the server: the same as setting `keepRunning` to `false`. Calling
   * it again does nothing.
   *
   * @example Basic usage
   * ```ts
   * import { BufferedServer } from "./server.ts";
   *
   * const server = new BufferedServer("127.0.0.1", 0);
   * server.shutdown();
   * server.shutdown();
   * ```
   */
  shutdown(): void {
    this.#stop();
  }

  /** Stops the server and waits until it has stopped. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop();
    await this.#serving;
  }

  #stop(): void {
    if (!this.#keepRunning) return;
    this.#keepRunning = false;
    this.#closeListener();
    this.#wakeAcceptLoop?.();
    // A connection waiting on its client has no whole request left unanswered
    // (the serve loop parses every buffered frame before it waits), so it is
    // hung up now; the others finish the replies they owe, then hang up
    // themselves. A read whose completion the serve loop takes in after this
    // point brought requests that arrived after the stop: they are not
    // answered (the assignment's shutdown scenario expects `["", false]`).
    for (const connection of this.#connections.values()) {
      if (connection.state === "waiting") this.#hangUp(connection, "server stopping");
    }
    if (this.#connections.size > 0 && this.#shutdownTimeout > 0) {
      this.#shutdownTimer = setTimeout(() => {
        const why = `server stopping: shutdownTimeout of ${this.#shutdownTimeout} ms reached`;
        for (const connection of this.#connections.values()) {
          if (connection.hungUp) {
            this.#endLinger(connection, why);
          } else {
            connection.cut ??= why;
            this.#close(
              connection,
              `server stopping: replies unsent after ${this.#shutdownTimeout} ms`,
            );
          }
        }
      }, this.#shutdownTimeout);
    }
  }

  #closeListener(): void {
    try {
      this.#listener.close();
    } catch {
      return; // Already closed.
    }
    const addr = this.#listener.addr;
    if ("path" in addr && addr.path !== "") {
      // A Unix socket's file outlives its listener: remove it so the path can be reused.
      try {
        Deno.removeSync(addr.path);
      } catch {
        // Removed already, or not ours to remove.
      }
    }
  }

  async #acceptLoop(): Promise<void> {
    try {
      while (this.#keepRunning) {
        if (this.#connections.size >= this.#maxConnections) {
          await this.#pauseAcceptLoop(undefined);
          continue;
        }
        let conn: AnyConn;
        try {
          conn = await this.#listener.accept();
        } catch (error) {
          if (!this.#keepRunning || error instanceof Deno.errors.BadResource) break;
          await this.#pauseAcceptLoop(this.#acceptFailures.failed(error));
          continue;
        }
        this.#acceptFailures.succeeded();
        if (!this.#keepRunning) {
          conn.close();
          break;
        }
        this.#track(conn);
      }
    } finally {
      this.#closeListener();
      this.#acceptFailures.end(false);
      while (this.#connectionTasks.size > 0) await Promise.all(this.#connectionTasks);
      clearTimeout(this.#shutdownTimer);
    }
  }

  /**
   * Waits until a connection closes (freeing a descriptor and a slot) or the
   * server stops, or `ms` have passed when given.
   */
  async #pauseAcceptLoop(ms: number | undefined): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wakeAcceptLoop = resolve;
      if (ms !== undefined) timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#wakeAcceptLoop = undefined;
  }

  #track(conn: AnyConn): void {
    const connection: Connection = {
      conn,
      reader: new FrameReader(conn, {
        bufferSize: this.#bufferSize,
        maxFrameSize: this.#maxFrameSize,
      }),
      writer: new FrameWriter(conn),
      // A Unix socket's clients have no address of their own: number them.
      peer: "hostname" in conn.remoteAddr
        ? formatAddr(conn.remoteAddr)
        : `${formatAddr(this.#listener.addr)} client ${++this.#accepted}`,
      state: "working",
      since: performance.now(),
      writtenAtSweep: 0,
      frameSeenAt: undefined,
      closeReason: undefined,
      hungUp: false,
      lingerTimer: undefined,
      lingerUntil: 0,
      heardAt: 0,
      closed: false,
      cut: undefined,
    };
    this.#connections.set(conn, connection);
    this.#startSweeping();
    const task: Promise<void> = this.#serve(connection).finally(() => {
      this.#connections.delete(conn);
      this.#connectionTasks.delete(task);
      if (this.#connections.size === 0) this.#stopSweeping();
      this.#wakeAcceptLoop?.();
    });
    this.#connectionTasks.add(task);
  }

  async #serve(connection: Connection): Promise<void> {
    const { conn, reader, writer, peer } = connection;
    this.#log(`${peer} connected`);
    let reason = "closed by client";
    let linger = true;
    /** Replies queued, and of those, replies the socket has accepted whole. */
    let queued = 0;
    let answered = 0;
    // One closure per connection, so the reader's call to it stays monomorphic.
    const answer = (buffer: Uint8Array, start: number, end: number): void => {
      const replyStart = offsetAfterCodePointsIn(buffer, start, end, SKIPPED_CHARACTERS);
      if (replyStart < 0) throw new InvalidUtf8Error(end - start);
      // A long reply is written straight from the receive array: it is not
      // reused before the flush that follows, which comes before the next read.
      writer.enqueueRange(buffer, replyStart, end, true);
      queued++;
    };
    try {
      setNoDelay(conn);
      while (true) {
        // No whole frame is left buffered here: each read's frames are all
        // answered before the next.
        if (connection.hungUp || !this.#keepRunning) {
          reason = "server stopping";
          break;
        }
        connection.state = "waiting";
        connection.since = performance.now();
        connection.frameSeenAt = undefined;
        const payload = await reader.readView();
        connection.state = "working";
        if (payload === null) {
          linger = false;
          break;
        }
        // Hung up while this frame arrived, or it arrived after the stop:
        // either way it is not answered.
        if (connection.hungUp || !this.#keepRunning) {
          reason = "server stopping";
          break;
        }
        answer(payload, 0, payload.byteLength);
        // The frames that came with it are parsed synchronously, without a
        // view each, so that the replies to one read go out in one write.
        reader.readEachBuffered(answer);
        await this.#flush(connection);
        answered = queued;
        connection.state = "working";
      }
    } catch (error) {
      reason = errorMessage(error);
      // A frame the server refuses leaves the stream usable up to it: the
      // requests that arrived whole before it are still answered. A broken
      // socket (reset, end inside a frame) has nobody left to answer.
      linger = error instanceof FrameTooLargeError || error instanceof InvalidUtf8Error;
      if (linger && connection.closeReason === undefined && writer.pendingBytes > 0) {
        try {
          await this.#flush(connection);
        } catch (error) {
          reason = errorMessage(error);
          linger = false;
        }
      }
      if (writer.pendingBytes === 0) answered = queued;
    } finally {
      if (linger && connection.closeReason === undefined) this.#hangUp(connection, reason);
      if (connection.hungUp) await this.#linger(connection);
      clearTimeout(connection.lingerTimer);
      const unsent = queued - answered;
      // Replies written and then lost to a reset or a close are not "answered".
      if (unsent > 0) connection.cut ??= `${unsent} ${unsent === 1 ? "reply" : "replies"} unsent`;
      this.#close(connection, reason);
      const frames = answered === 1 ? "1 frame" : `${answered} frames`;
      const why = connection.closeReason ?? reason;
      const delivery = connection.cut === undefined || queued === 0
        ? `${frames} answered`
        : connection.cut === why
        ? `${frames} written, delivery not confirmed`
        : `${frames} written, delivery not confirmed: ${connection.cut}`;
      this.#log(`${peer} disconnected: ${why} (${delivery})`);
    }
  }

  /** Flushes the replies, timed by the sweep as "writing" until the caller moves on. */
  #flush(connection: Connection): Promise<void> {
    connection.state = "writing";
    connection.since = performance.now();
    connection.writtenAtSweep = connection.writer.bytesWritten;
    return connection.writer.flush();
  }

  /**
   * Shuts our write side, so the peer receives every reply already written
   * and then end of stream; {@linkcode BufferedServer.#linger} then waits for
   * the peer to close.
   */
  #hangUp(connection: Connection, reason: string): void {
    connection.closeReason ??= reason;
    if (connection.hungUp) return;
    connection.hungUp = true;
    // Rejects (already shut or closed, a TLS alert) are of no interest: the
    // connection is ending either way.
    connection.conn.closeWrite().catch(() => {});
    connection.lingerUntil = performance.now() + this.#lingerTime;
    connection.heardAt = -Infinity;
    this.#armLinger(connection);
  }

  /** (Re)starts the linger timer: `lingerTimeout` of silence, within `lingerTime` in all. */
  #armLinger(connection: Connection): void {
    clearTimeout(connection.lingerTimer);
    const left = connection.lingerUntil - performance.now();
    const silence = this.#lingerTimeout;
    const wait = Math.max(0, Math.min(silence, left));
    connection.lingerTimer = setTimeout(() => {
      this.#endLinger(
        connection,
        wait < silence ? `linger time of ${this.#lingerTime} ms reached` : "linger timeout",
      );
    }, wait);
  }

  /**
   * Lingering close, as nginx does it: reads and discards what a hung-up peer
   * still sends until it closes. Closing while its bytes sit unread would
   * reset the connection and destroy replies the peer has not read yet; the
   * peer's end of stream says it has read them all.
   */
  async #linger(connection: Connection): Promise<void> {
    connection.state = "lingering";
    try {
      while (!connection.closed) {
        const n = await connection.conn.read(DISCARD);
        if (n === null) return;
        connection.heardAt = performance.now();
        this.#armLinger(connection);
      }
    } catch (error) {
      // Closed by the linger or shutdown timer, which judged the delivery; or reset by the peer.
      if (!connection.closed) connection.cut ??= `${errorMessage(error)} while lingering`;
    }
  }

  /**
   * Ends a linger before the peer closed. A peer that went silent has nothing
   * unread on our side, so the close sends no reset and the kernel still
   * delivers what is queued; a peer still sending will be reset by its next
   * bytes, which may destroy replies it has not read yet.
   */
  #endLinger(connection: Connection, why: string): void {
    if (performance.now() - connection.heardAt < this.#lingerTimeout) {
      connection.cut ??= `${why} while the peer was still sending`;
    }
    this.#close(connection, connection.closeReason ?? why);
  }

  /** Closes at once: used when nothing more can reach the peer. */
  #close(connection: Connection, reason: string): void {
    connection.closeReason ??= reason;
    connection.closed = true;
    try {
      connection.conn.close();
    } catch {
      // Already closed.
    }
  }

  #startSweeping(): void {
    if (this.#sweepTimer !== undefined) return;
    const shortest = Math.min(
      ...[this.#idleTimeout, this.#frameTimeout, this.#writeTimeout].filter((t) => t > 0),
    );
    if (!Number.isFinite(shortest)) return;
    const interval = Math.max(10, Math.min(SWEEP_INTERVAL_MAX, Math.floor(shortest / 4)));
    this.#sweepTimer = setInterval(() => this.#sweep(), interval);
  }

  #stopSweeping(): void {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  /** Closes connections that exceeded a timeout: one timer for all of them. */
  #sweep(): void {
    const now = performance.now();
    for (const connection of this.#connections.values()) {
      if (connection.state === "writing") {
        // A peer that reads slowly but steadily is making progress: the
        // timeout counts from the last bytes the socket accepted.
        const written = connection.writer.bytesWritten;
        if (written !== connection.writtenAtSweep) {
          connection.writtenAtSweep = written;
          connection.since = now;
        } else if (this.#writeTimeout > 0 && now - connection.since > this.#writeTimeout) {
          const why = `write timeout: replies not read for ${this.#writeTimeout} ms`;
          connection.cut ??= why;
          this.#close(connection, why);
        }
      } else if (connection.state === "waiting") {
        if (connection.reader.isMidFrame) {
          connection.frameSeenAt ??= now;
          if (this.#frameTimeout > 0 && now - connection.frameSeenAt > this.#frameTimeout) {
            this.#hangUp(
              connection,
              `frame timeout: frame incomplete after ${this.#frameTimeout} ms`,
            );
          }
        } else if (this.#idleTimeout > 0 && now - connection.since > this.#idleTimeout) {
          this.#hangUp(connection, `idle timeout: no frame for ${this.#idleTimeout} ms`);
        }
      }
    }
  }
}

const USAGE = `Usage: deno run --allow-net=HOST:PORT server.ts [options]

Answers each frame with its text minus the first ${SKIPPED_CHARACTERS} characters.

Options:
  --hostname HOST          address to listen on; "" means all (default: 0.0.0.0)
  --port PORT              port; 0 picks a free one (default: 4567)
  --buffer-size N          receive buffer per connection, bytes (default: ${DEFAULT_BUFFER_SIZE})
  --max-frame-size N       largest payload accepted, bytes (default: ${DEFAULT_MAX_FRAME_SIZE})
  --max-connections N      clients served at once (default: ${DEFAULTS.maxConnections})
  --idle-timeout MS        close a client silent between frames this long (default: ${DEFAULTS.idleTimeout}; 0: never)
  --frame-timeout MS       close a client that leaves a frame unfinished this long (default: ${DEFAULTS.frameTimeout})
  --write-timeout MS       close a client whose replies make no progress this long (default: ${DEFAULTS.writeTimeout})
  --shutdown-timeout MS    on SIGINT/SIGTERM, time to send owed replies (default: ${DEFAULTS.shutdownTimeout})
  --linger-timeout MS      after hanging up, wait this long for a silent peer to close (default: ${DEFAULTS.lingerTimeout})
  --linger-time MS         after hanging up, wait at most this long in all (default: ${DEFAULTS.lingerTime})
  --cert FILE --key FILE   serve TLS with this PEM certificate chain and key
                           (needs --allow-read for exactly those files)
  --unix PATH              listen on a Unix domain socket instead of TCP
                           (needs --allow-net=unix:PATH --allow-read=PATH --allow-write=PATH)
  --reuse-port             share the port with other server processes started the
                           same way; Linux spreads connections across them
                           (needs deno run --unstable-net)
  -h, --help               print this help

Prints "listening on HOST:PORT" first on standard output, and a line on
standard error for each connection opened and closed. SIGINT or SIGTERM stops
it gracefully (exit 0); a usage error exits 2.`;

/** Reads the duration flag `--flag` in milliseconds, defaulting as the option `name` does. */
function durationFlag(values: CommandLine["values"], flag: string, name: Timeout): number {
  return integerFlag(values, flag, DEFAULTS[name], 0, MAX_DURATION);
}

async function main(args: string[]): Promise<number> {
  const { values }: CommandLine = parseCommandLine(args, {
    hostname: { type: "string" },
    port: { type: "string" },
    "buffer-size": { type: "string" },
    "max-frame-size": { type: "string" },
    "max-connections": { type: "string" },
    "idle-timeout": { type: "string" },
    "frame-timeout": { type: "string" },
    "write-timeout": { type: "string" },
    "shutdown-timeout": { type: "string" },
    "linger-timeout": { type: "string" },
    "linger-time": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    unix: { type: "string" },
    "reuse-port": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, false);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const hostname = stringFlag(values, "hostname", "0.0.0.0");
  const port = integerFlag(values, "port", 4567, 0, 65535);
  const bufferSize = integerFlag(values, "buffer-size", DEFAULT_BUFFER_SIZE, 1);
  const options: BufferedServerOptions = {
    maxFrameSize: integerFlag(
      values,
      "max-frame-size",
      DEFAULT_MAX_FRAME_SIZE,
      0,
      MAX_FRAME_SIZE_LIMIT,
    ),
    maxConnections: integerFlag(values, "max-connections", DEFAULTS.maxConnections, 1),
    idleTimeout: durationFlag(values, "idle-timeout", "idleTimeout"),
    frameTimeout: durationFlag(values, "frame-timeout", "frameTimeout"),
    writeTimeout: durationFlag(values, "write-timeout", "writeTimeout"),
    shutdownTimeout: durationFlag(values, "shutdown-timeout", "shutdownTimeout"),
    lingerTimeout: durationFlag(values, "linger-timeout", "lingerTimeout"),
    lingerTime: durationFlag(values, "linger-time", "lingerTime"),
    reusePort: values["reuse-port"] === true,
  };
  if (typeof values.unix === "string") {
    options.transport = "unix";
    options.path = values.unix;
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError("--cert and --key go together: give both, or neither");
  }
  let server: BufferedServer;
  try {
    if (typeof values.cert === "string" && typeof values.key === "string") {
      options.tls = {
        cert: Deno.readTextFileSync(values.cert),
        key: Deno.readTextFileSync(values.key),
      };
    }
    server = new BufferedServer(hostname, port, bufferSize, options);
  } catch (error) {
    console.error(`error: ${errorMessage(error)}`);
    return 1;
  }
  const stop = (): void => server.shutdown();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  console.log(`listening on ${formatAddr(server.localAddr)}`);
  try {
    await server.start();
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
  }
  return 0;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args), USAGE);
}
