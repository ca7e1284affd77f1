// Copyright 2026 the buffered-framing authors. MIT license.
// The machinery under every server of this package: the listener, the accept
// loop and its gate, the timeout sweep, the graceful stop, and the counters.
// `serve()` and the demo `BufferedServer` are this plus a handler.

import { errorMessage, formatAddr } from "./_net.ts";
import { durationOption, integerOption } from "./_options.ts";
import { frameFormat, type LengthField } from "./_header.ts";
import { type AnyConn, type Endpoint, listen } from "./_transport.ts";
import type { ServeOptions } from "./serve.ts";
import {
  type CloseKind,
  Connection,
  type ConnectionContext,
  type FrameHandler,
  type SuffixHandlerOf,
} from "./_connection.ts";
import {
  DEFAULT_BUFFER_SIZE,
  type FrameFormatOptions,
  type FrameReaderOptions,
} from "./framing.ts";

/** The limits, timeouts and logging every server takes: `serve`'s options but where and when. */
export type ServerOptions = Omit<ServeOptions, "hostname" | "port" | "signal" | "onListen">;

/**
 * The defaults of the server options that are counts and durations
 * (milliseconds), declared once for every server, the flags and the help.
 */
export const SERVER_DEFAULTS = {
  /** For `serve`: a service serves many clients. The demo keeps the assignment's 1. */
  maxConnections: 1024,
  /** Enough to overlap a handler's I/O; bounds what one connection makes the server hold. */
  maxInFlight: 16,
  idleTimeout: 300_000,
  frameTimeout: 30_000,
  writeTimeout: 30_000,
  shutdownTimeout: 5_000,
  /** nginx's `lingering_timeout`. */
  lingerTimeout: 5_000,
  /** nginx's `lingering_time`. */
  lingerTime: 30_000,
} as const;

/** The server options that are durations in milliseconds. */
export type ServerTimeout =
  | "idleTimeout"
  | "frameTimeout"
  | "writeTimeout"
  | "shutdownTimeout"
  | "lingerTimeout"
  | "lingerTime";

/**
 * What a server has done: connections, frames and bytes, and why
 * connections ended. Netty, tokio-util and it-length-prefixed report none of
 * the frame counts.
 *
 * @example A summary line for a dashboard
 * ```ts
 * import { serve, type ServerStats } from "./serve.ts";
 *
 * await using server = serve({ hostname: "127.0.0.1", port: 0, log: () => {} }, (p) => p);
 * const stats: ServerStats = server.stats();
 * console.log(`${stats.connections} open, ${stats.framesReceived} requests, ${stats.bytesSent} bytes sent`);
 * ```
 */
export interface ServerStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since the server started. */
  accepted: number;
  /** Requests handed to the handler (a refused frame is not one). */
  framesReceived: number;
  /** Replies the socket accepted whole. */
  framesSent: number;
  /**
   * Bytes of the requests handed to the handler, headers included (a varint
   * header counted at its shortest form, however long the peer wrote it).
   */
  bytesReceived: number;
  /** Bytes of replies the sockets accepted, headers included. */
  bytesSent: number;
  /** Connections ended, by reason. */
  closed: Record<CloseKind, number>;
}

/** Time between two looks for timed-out connections, at most. */
const SWEEP_INTERVAL_MAX = 1000;
/** First pause of the accept loop after a failed accept; it doubles up to the next. */
const ACCEPT_BACKOFF_MIN = 10;
/** Longest pause between accept attempts while they fail (Node and hyper back off to 1 s). */
const ACCEPT_BACKOFF_MAX = 1000;

/**
 * Failed accepts, in episodes: out of file descriptors, most often. Retrying
 * at once would spin a core and flood the log, so the accept loop backs off
 * (10 ms doubling to 1 s, as Node and hyper do) and logs one line when an
 * episode starts and one with its count when it ends; a connection that
 * closes wakes the loop at once, so it resumes at full speed as soon as a
 * descriptor frees. An episode ends once no accept has failed for twice the
 * longest backoff, or when the server stops.
 */
class AcceptFailures {
  #log: (line: string) => void;
  #count = 0;
  #since = 0;
  #last = 0;
  #backoff = 0;
  /** The loop is pausing after a failure, not waiting in an accept. */
  #backingOff = false;
  #calm: ReturnType<typeof setTimeout> | undefined;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** Records a failed accept; returns how long to pause before the next, in ms. */
  failed(error: unknown): number {
    this.#last = performance.now();
    if (this.#count++ === 0) {
      this.#since = this.#last;
      this.#log(
        `accept failed: ${errorMessage(error)}; backing off up to ${ACCEPT_BACKOFF_MAX} ms`,
      );
    }
    this.#backingOff = true;
    clearTimeout(this.#calm);
    this.#calm = setTimeout(() => this.end(), 2 * ACCEPT_BACKOFF_MAX);
    this.#backoff = Math.min(ACCEPT_BACKOFF_MAX, Math.max(ACCEPT_BACKOFF_MIN, this.#backoff * 2));
    return this.#backoff;
  }

  /** The pause is over: the loop accepts again. */
  retrying(): void {
    this.#backingOff = false;
  }

  /** Ends the episode, if one is under way, with its summary line. */
  end(): void {
    clearTimeout(this.#calm);
    this.#calm = undefined;
    if (this.#count === 0) return;
    const lasted = Math.round(this.#last - this.#since);
    const times = this.#count === 1 ? "1 time" : `${this.#count} times`;
    this.#log(
      this.#backingOff
        ? `accept still failing when the server stopped: ${times} over ${lasted} ms`
        : `accept recovered: it had failed ${times} over ${lasted} ms`,
    );
    this.#count = this.#backoff = 0;
    this.#backingOff = false;
  }
}

/** Counts of connections ended, by reason, all at zero. */
function noneClosed(): Record<CloseKind, number> {
  return {
    closedByClient: 0,
    serverStopping: 0,
    frameTooLarge: 0,
    corruptFrame: 0,
    invalidText: 0,
    incompleteFrame: 0,
    timeout: 0,
    handlerError: 0,
    reset: 0,
  };
}

/**
 * A bound listener and the connections it serves with one handler. The
 * constructor binds, so an address in use throws at once; {@linkcode start}
 * serves until {@linkcode stop}.
 */
export class ServerCore implements ConnectionContext {
  readonly handler: FrameHandler | SuffixHandlerOf;
  readonly bufferSize: number;
  readonly maxFrameSize: number;
  readonly readerOptions: FrameReaderOptions;
  readonly writerOptions: FrameFormatOptions;
  readonly lengthField: LengthField;
  readonly maxInFlight: number;
  readonly idleTimeout: number;
  readonly frameTimeout: number;
  readonly writeTimeout: number;
  readonly lingerTimeout: number;
  readonly lingerTime: number;
  readonly log: (line: string) => void;
  readonly #maxConnections: number;
  readonly #shutdownTimeout: number;
  readonly #listener: Deno.Listener<AnyConn, Deno.Addr>;
  readonly #acceptFailures: AcceptFailures;

  #keepRunning = true;
  #accepted = 0;
  #serving: Promise<void> | undefined;
  #connections = new Set<Connection>();
  #tasks = new Set<Promise<void>>();
  #wakeAcceptLoop: (() => void) | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #shutdownTimer: ReturnType<typeof setTimeout> | undefined;
  /** Counters of the connections that have closed. */
  #framesReceived = 0;
  #framesSent = 0;
  #bytesReceived = 0;
  #bytesSent = 0;
  #closed = noneClosed();

  /**
   * Binds `where` and checks every option.
   *
   * @throws {RangeError} When an option is out of range.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   */
  constructor(
    where: Endpoint,
    options: ServerOptions,
    handler: FrameHandler | SuffixHandlerOf,
    maxConnectionsDefault: number,
  ) {
    this.handler = handler;
    this.bufferSize = integerOption("bufferSize", options.bufferSize, DEFAULT_BUFFER_SIZE, 1);
    ({ lengthField: this.lengthField, maxFrameSize: this.maxFrameSize } = frameFormat(
      options,
      true,
    ));
    // Replies are bounded only by what the field can declare: the limit is on requests.
    this.writerOptions = {
      lengthField: options.lengthField,
      lengthIncludesHeader: options.lengthIncludesHeader,
    };
    this.readerOptions = {
      ...this.writerOptions,
      bufferSize: this.bufferSize,
      maxFrameSize: this.maxFrameSize,
    };
    this.#maxConnections = integerOption(
      "maxConnections",
      options.maxConnections,
      maxConnectionsDefault,
      1,
    );
    this.maxInFlight = integerOption(
      "maxInFlight",
      options.maxInFlight,
      SERVER_DEFAULTS.maxInFlight,
      1,
    );
    const duration = (name: ServerTimeout): number =>
      durationOption(name, options[name], SERVER_DEFAULTS[name]);
    this.idleTimeout = duration("idleTimeout");
    this.frameTimeout = duration("frameTimeout");
    this.writeTimeout = duration("writeTimeout");
    this.#shutdownTimeout = duration("shutdownTimeout");
    this.lingerTimeout = duration("lingerTimeout");
    this.lingerTime = duration("lingerTime");
    this.log = options.log ?? ((line) => console.error(line));
    this.#acceptFailures = new AcceptFailures(this.log);
    this.#listener = listen(where, options.tls, options.reusePort ?? false);
  }

  /** The address the server listens on, whatever the transport. */
  get addr(): Deno.Addr {
    return this.#listener.addr;
  }

  get keepRunning(): boolean {
    return this.#keepRunning;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Serves until stopped; resolves once every connection is closed. */
  start(): Promise<void> {
    this.#serving ??= this.#acceptLoop();
    return this.#serving;
  }

  /** Stops accepting and reading; connections finish what they owe, then close. */
  stop(): void {
    if (!this.#keepRunning) return;
    this.#keepRunning = false;
    this.#closeListener();
    this.#wakeAcceptLoop?.();
    // A read whose completion a connection takes in after this point brought
    // requests that arrived after the stop: they are not handled (the
    // assignment's shutdown scenario expects `["", false]`).
    for (const connection of this.#connections) connection.stop();
    if (this.#connections.size > 0 && this.#shutdownTimeout > 0) {
      this.#shutdownTimer = setTimeout(() => {
        const why = `server stopping: shutdownTimeout of ${this.#shutdownTimeout} ms reached`;
        for (const connection of this.#connections) connection.abandon(why);
      }, this.#shutdownTimeout);
    }
  }

  /** The counters, live connections included. */
  stats(): ServerStats {
    let framesReceived = this.#framesReceived;
    let framesSent = this.#framesSent;
    let bytesReceived = this.#bytesReceived;
    let bytesSent = this.#bytesSent;
    for (const connection of this.#connections) {
      framesReceived += connection.framesReceived;
      framesSent += connection.framesSent;
      bytesReceived += connection.bytesReceived;
      bytesSent += connection.bytesSent;
    }
    return {
      connections: this.#connections.size,
      accepted: this.#accepted,
      framesReceived,
      framesSent,
      bytesReceived,
      bytesSent,
      closed: { ...this.#closed },
    };
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
          // A stop during the pause leaves the episode as it was: still failing.
          if (this.#keepRunning) this.#acceptFailures.retrying();
          continue;
        }
        if (!this.#keepRunning) {
          conn.close();
          break;
        }
        this.#track(conn);
      }
    } finally {
      this.#closeListener();
      this.#acceptFailures.end();
      while (this.#tasks.size > 0) await Promise.all(this.#tasks);
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
    const id = ++this.#accepted;
    // A Unix socket's clients have no address of their own: number them.
    const peer = "hostname" in conn.remoteAddr
      ? formatAddr(conn.remoteAddr)
      : `${formatAddr(this.#listener.addr)} client ${id}`;
    const connection = new Connection(conn, { remoteAddr: conn.remoteAddr, peer, id }, this);
    this.#connections.add(connection);
    this.#startSweeping();
    const task: Promise<void> = connection.run().finally(() => {
      this.#connections.delete(connection);
      this.#tasks.delete(task);
      this.#framesReceived += connection.framesReceived;
      this.#framesSent += connection.framesSent;
      this.#bytesReceived += connection.bytesReceived;
      this.#bytesSent += connection.bytesSent;
      this.#closed[connection.kind ?? "reset"]++;
      if (this.#connections.size === 0) this.#stopSweeping();
      this.#wakeAcceptLoop?.();
    });
    this.#tasks.add(task);
  }

  #startSweeping(): void {
    if (this.#sweepTimer !== undefined) return;
    const shortest = Math.min(
      ...[this.idleTimeout, this.frameTimeout, this.writeTimeout].filter((t) => t > 0),
    );
    if (!Number.isFinite(shortest)) return;
    const interval = Math.max(10, Math.min(SWEEP_INTERVAL_MAX, Math.floor(shortest / 4)));
    // One timer for every connection: timeouts cost nothing per frame.
    this.#sweepTimer = setInterval(() => {
      const now = performance.now();
      for (const connection of this.#connections) connection.sweep(now);
    }, interval);
  }

  #stopSweeping(): void {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }
}
