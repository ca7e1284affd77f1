// Copyright 2026 the buffered-framing authors. MIT license.
// One connection of a server, from accept to close: frames in, the handler,
// replies out in request order, backpressure, timeouts, and the lingering
// close. The server around it (serve.ts, via _server.ts) owns the listener.

import { errorMessage } from "./_net.ts";
import { type AnyConn, setNoDelay } from "./_transport.ts";
import {
  CorruptFrameError,
  type FrameFormatOptions,
  FrameReader,
  type FrameReaderOptions,
  FrameTooLargeError,
  FrameWriter,
  IncompleteFrameError,
  InvalidUtf8Error,
} from "./framing.ts";
import type { LengthField } from "./_header.ts";

/**
 * What a handler may return for one request: bytes, text (sent as UTF-8), or
 * `null`/`undefined` for no reply.
 *
 * @example Reply to some requests and not to others
 * ```ts
 * import type { HandlerResult } from "./serve.ts";
 *
 * function reply(payload: Uint8Array): HandlerResult {
 *   if (payload.byteLength === 0) return null; // a one-way "ping": no reply
 *   return payload[0] === 0x7b ? '{"ok":true}' : payload.slice(1);
 * }
 * reply(new Uint8Array([1, 2]));
 * ```
 */
export type HandlerResult = Uint8Array | string | null | undefined;

/**
 * Who a handler is serving.
 *
 * @example Log who asked
 * ```ts
 * import type { ConnectionInfo } from "./serve.ts";
 *
 * function describe(info: ConnectionInfo): string {
 *   return `request on connection ${info.id} from ${info.peer}`;
 * }
 * describe({ remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 9 }, peer: "127.0.0.1:9", id: 1 });
 * ```
 */
export interface ConnectionInfo {
  /** The peer's address (a Unix socket's clients have an empty path). */
  readonly remoteAddr: Deno.Addr;
  /** The peer as the log names it: `host:port`, `[v6]:port`, or `PATH client N` on a Unix socket. */
  readonly peer: string;
  /** The connection's number on this server, from 1 in accept order. */
  readonly id: number;
}

/**
 * Handles one request: see `serve` for the contract (payload lifetime, reply
 * order, errors).
 *
 * @example An async handler
 * ```ts
 * import type { FrameHandler } from "./serve.ts";
 *
 * const lookUp: FrameHandler = async (payload, info) => {
 *   const key = new TextDecoder().decode(payload); // a copy: the payload's memory is reused later
 *   await Promise.resolve(); // a database call
 *   return `${key} for connection ${info.id}`;
 * };
 * ```
 */
export type FrameHandler = (
  payload: Uint8Array,
  info: ConnectionInfo,
) => HandlerResult | PromiseLike<HandlerResult>;

/**
 * Why a connection ended, as the server's statistics count it: the client
 * closed it, the server stopped, a frame above `maxFrameSize`, a corrupt
 * length field, text that is not UTF-8, a stream cut inside a frame, an idle, frame or write timeout, a
 * handler that threw or rejected, or a reset (any other socket error).
 *
 * @example Connections lost to misbehaving clients
 * ```ts
 * import type { CloseKind } from "./serve.ts";
 *
 * const misbehaving: CloseKind[] = ["frameTooLarge", "corruptFrame", "invalidText", "timeout"];
 * ```
 */
export type CloseKind =
  | "closedByClient"
  | "serverStopping"
  | "frameTooLarge"
  | "corruptFrame"
  | "invalidText"
  | "incompleteFrame"
  | "timeout"
  | "handlerError"
  | "reset";

/**
 * A handler whose reply is always the tail of its request: it returns where
 * the reply starts in `buffer[start, end)`, or throws. The demo's rule has
 * this shape, and it lets a connection answer straight from the receive
 * buffer, with no view allocated per frame; `handler` then wraps it for
 * everything else.
 */
export type SuffixHandler = (buffer: Uint8Array, start: number, end: number) => number;

/** A handler given as a {@linkcode SuffixHandler}: see there. */
export interface SuffixHandlerOf {
  suffix: SuffixHandler;
}

/** The server's settings and state that each connection consults. */
export interface ConnectionContext {
  readonly handler: FrameHandler | SuffixHandlerOf;
  /** Each connection's reader options: receive buffer and format, checked. */
  readonly readerOptions: FrameReaderOptions;
  /** Each connection's writer options: the format, no limit but the field's. */
  readonly writerOptions: FrameFormatOptions;
  /** The format's length field, to count the bytes of each header. */
  readonly lengthField: LengthField;
  readonly maxInFlight: number;
  readonly idleTimeout: number;
  readonly frameTimeout: number;
  readonly writeTimeout: number;
  readonly lingerTimeout: number;
  readonly lingerTime: number;
  readonly log: (line: string) => void;
  /** `false` once the server is stopping: frames read from then on are not handled. */
  readonly keepRunning: boolean;
}

/** A handler's reply that cannot leave yet: an earlier request's reply is still pending. */
interface Slot {
  done: boolean;
  failed: boolean;
  value: HandlerResult;
  error: unknown;
}

/** An error the handler threw or rejected with, kept apart from the connection's own errors. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/** Where lingering reads go; shared, as nobody looks at what lands in it. */
const DISCARD = new Uint8Array(16 * 1024);

/** One connection's lifecycle; {@linkcode Connection.run} serves it until it closes. */
export class Connection {
  readonly conn: AnyConn;
  readonly info: ConnectionInfo;
  readonly #context: ConnectionContext;
  /** Exactly one of the two is set. */
  readonly #handler: FrameHandler | undefined;
  readonly #suffixHandler: SuffixHandler | undefined;
  readonly #reader: FrameReader;
  readonly #writer: FrameWriter;
  readonly #lengthField: LengthField;

  /** What the read loop is doing, and since when (`performance.now()`). */
  #state: "waiting" | "working" | "lingering" = "working";
  #since = performance.now();
  /** When the sweep first saw part of a frame, while the peer holds one open. */
  #frameSeenAt: number | undefined;
  /** Flushes under way, the time of the last write progress, and the bytes written then. */
  #writes = 0;
  #writeProgressAt = 0;
  #writtenAtProgress = 0;

  /** Replies that wait for an earlier, still pending one, in request order. */
  #slots: Slot[] = [];
  /** Wakes the read loop when the slots drop below `maxInFlight`, or when all have left. */
  #slotsChanged: (() => void) | undefined;
  /** Views into the receive buffer are held by pending replies or handlers: read into new memory. */
  #holdBuffers = false;
  /**
   * Answers one frame with a suffix handler: no view, no pending replies
   * (it is synchronous), the reply written from the receive buffer, which is
   * not reused before the flush that follows.
   */
  readonly #visitSuffix = (buffer: Uint8Array, start: number, end: number): void => {
    this.framesReceived++;
    const lengthField = this.#lengthField;
    this.bytesReceived += (lengthField.fixedSize || lengthField.headerSize(end - start)) + end -
      start;
    let replyStart: number;
    try {
      replyStart = (this.#suffixHandler as SuffixHandler)(buffer, start, end);
    } catch (error) {
      throw new HandlerFailure(error);
    }
    this.#writer.enqueueRange(buffer, replyStart, end, true);
    this.#queued++;
  };
  /** Handles one buffered frame; stops the walk once `maxInFlight` requests are pending. */
  readonly #visit = (buffer: Uint8Array, start: number, end: number): boolean => {
    this.#handle(buffer.subarray(start, end));
    return this.#slots.length < this.#context.maxInFlight;
  };

  /** Why the connection ends, for the log line and the statistics. */
  #closeReason: string | undefined;
  #kind: CloseKind | undefined;
  /** The connection ends once the replies before a failed handler are out: nothing more is handled. */
  #ending = false;
  #stopping = false;
  /** Our write side is shut: the peer has every reply and an end of stream. */
  #hungUp = false;
  #closed = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerUntil = 0;
  /** When the peer last sent bytes while the connection lingered, or when it hung up. */
  #heardAt = -Infinity;
  /** Why the replies written may not all have reached the peer; `undefined` while intact. */
  #cut: string | undefined;

  /** Requests handed to the handler, their bytes on the wire, replies queued and replies written whole. */
  framesReceived = 0;
  bytesReceived = 0;
  #queued = 0;
  framesSent = 0;

  constructor(conn: AnyConn, info: ConnectionInfo, context: ConnectionContext) {
    this.conn = conn;
    this.info = info;
    this.#context = context;
    const handler = context.handler;
    this.#handler = typeof handler === "function" ? handler : undefined;
    this.#suffixHandler = typeof handler === "function" ? undefined : handler.suffix;
    this.#lengthField = context.lengthField;
    this.#reader = new FrameReader(conn, context.readerOptions);
    this.#writer = new FrameWriter(conn, context.writerOptions);
  }

  /** Bytes of replies the socket has accepted, headers included. */
  get bytesSent(): number {
    return this.#writer.bytesWritten;
  }

  /** Why the connection ended, once it has. */
  get kind(): CloseKind | undefined {
    return this.#kind;
  }

  /** Serves the connection until it is closed; never rejects. */
  async run(): Promise<void> {
    const reader = this.#reader;
    const context = this.#context;
    context.log(`${this.info.peer} connected`);
    let reason = "closed by client";
    let kind: CloseKind = "closedByClient";
    let linger = true;
    try {
      setNoDelay(this.conn);
      while (true) {
        if (this.#hungUp || this.#ending || !context.keepRunning) {
          reason = "server stopping";
          kind = "serverStopping";
          break;
        }
        if (this.#slots.length >= context.maxInFlight) {
          // Backpressure: no more reads until replies leave.
          await this.#slotsChange();
          continue;
        }
        if (this.#holdBuffers) {
          this.#holdBuffers = false;
          reader.detachBuffers();
        }
        this.#state = "waiting";
        this.#since = performance.now();
        this.#frameSeenAt = undefined;
        const payload = await reader.readView();
        this.#state = "working";
        if (payload === null) {
          linger = false;
          break;
        }
        // Hung up while this frame arrived, or it arrived after the stop:
        // either way it is not handled.
        if (this.#hungUp || this.#ending || !context.keepRunning) {
          reason = "server stopping";
          kind = "serverStopping";
          break;
        }
        // The frames that came with it are handled synchronously, so that
        // the replies to one read go out in one write.
        if (this.#suffixHandler === undefined) {
          this.#handle(payload);
          if (this.#slots.length < context.maxInFlight) reader.readEachBuffered(this.#visit);
        } else {
          this.#visitSuffix(payload, 0, payload.byteLength);
          reader.readEachBuffered(this.#visitSuffix);
        }
        // Also before the next read: a long reply may be written straight from the receive buffer.
        if (this.#writer.pendingBytes > 0) await this.#flush();
      }
    } catch (error) {
      [reason, kind, linger] = this.#classify(error);
    }
    await this.#finish(reason, kind, linger);
  }

  /**
   * Hangs up now if the connection waits on its peer with nothing owed;
   * otherwise it hangs up itself once its pending replies have left.
   */
  stop(): void {
    this.#stopping = true;
    if (this.#state === "waiting" && this.#slots.length === 0 && this.#writes === 0) {
      this.hangUp("server stopping", "serverStopping");
    }
  }

  /** Looks for a timeout; `now` from `performance.now()`. */
  sweep(now: number): void {
    const context = this.#context;
    if (this.#writes > 0) {
      // A peer that reads slowly but steadily is making progress: the timeout
      // counts from the last bytes the socket accepted.
      const written = this.#writer.bytesWritten;
      if (written !== this.#writtenAtProgress) {
        this.#writtenAtProgress = written;
        this.#writeProgressAt = now;
      } else if (context.writeTimeout > 0 && now - this.#writeProgressAt > context.writeTimeout) {
        const why = `write timeout: replies not read for ${context.writeTimeout} ms`;
        this.#cut ??= why;
        this.#kind ??= "timeout";
        this.close(why);
        return;
      }
    }
    if (this.#state !== "waiting" || this.#hungUp) return;
    if (this.#reader.isMidFrame) {
      this.#frameSeenAt ??= now;
      if (context.frameTimeout > 0 && now - this.#frameSeenAt > context.frameTimeout) {
        this.hangUp(`frame timeout: frame incomplete after ${context.frameTimeout} ms`, "timeout");
      }
    } else if (
      // Handlers still at work: the wait is the server's, not the peer's.
      this.#slots.length === 0 && context.idleTimeout > 0 &&
      now - this.#since > context.idleTimeout
    ) {
      this.hangUp(`idle timeout: no frame for ${context.idleTimeout} ms`, "timeout");
    }
  }

  /**
   * Ends a stop that ran out of time: the connection is closed, whatever it
   * still owes; a pending handler's reply is dropped.
   */
  abandon(why: string): void {
    this.#kind ??= "serverStopping";
    if (this.#slots.some((slot) => !slot.done)) {
      this.#context.log(
        `${this.info.peer}: handler still pending when ${why}: its reply is dropped`,
      );
    }
    if (this.#hungUp) {
      this.#endLinger(why);
    } else {
      this.#cut ??= why;
      this.close(`${why}, replies unsent`);
    }
  }

  /** Closes at once: used when nothing more can reach the peer. */
  close(reason: string): void {
    this.#closeReason ??= reason;
    this.#closed = true;
    this.#slotsChanged?.();
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * Shuts our write side, so the peer receives every reply already written
   * and then end of stream; the connection then lingers until the peer closes.
   */
  hangUp(reason: string, kind: CloseKind): void {
    this.#closeReason ??= reason;
    this.#kind ??= kind;
    if (this.#hungUp || this.#closed) return;
    this.#hungUp = true;
    this.#slotsChanged?.();
    // Rejects (already shut or closed, a TLS alert) are of no interest: the
    // connection is ending either way.
    this.conn.closeWrite().catch(() => {});
    this.#lingerUntil = performance.now() + this.#context.lingerTime;
    // Until the peer has been silent for a whole lingerTimeout, it may still send.
    this.#heardAt = performance.now();
    this.#armLinger();
  }

  /** Calls the handler for one request and queues its reply, in request order. */
  #handle(payload: Uint8Array): void {
    this.framesReceived++;
    this.bytesReceived += this.#lengthField.headerSize(payload.byteLength) + payload.byteLength;
    let result: HandlerResult | PromiseLike<HandlerResult>;
    try {
      result = (this.#handler as FrameHandler)(payload, this.info);
    } catch (error) {
      throw new HandlerFailure(error);
    }
    if (result instanceof Uint8Array && this.#slots.length === 0) {
      // The common case first: bytes, with nothing pending ahead of them.
      this.#enqueueReply(result);
      return;
    }
    if (
      result !== null && typeof result === "object" && !(result instanceof Uint8Array) &&
      typeof result.then === "function"
    ) {
      // The handler keeps its payload until its promise settles: the next
      // read goes to fresh memory.
      const slot: Slot = { done: false, failed: false, value: undefined, error: undefined };
      this.#slots.push(slot);
      this.#holdBuffers = true;
      try {
        result.then((value) => {
          slot.value = value;
          slot.done = true;
          this.#replyInOrder();
        }, (error: unknown) => {
          slot.error = error;
          slot.failed = slot.done = true;
          this.#replyInOrder();
        });
      } catch (error) {
        // A thenable whose `then` throws is a handler that failed.
        this.#slots.pop();
        throw new HandlerFailure(error);
      }
      return;
    }
    if (this.#slots.length === 0) {
      this.#enqueue(result as HandlerResult);
    } else {
      // Behind a pending reply: it may be a view of the receive buffer, which must stay as it is.
      this.#slots.push({
        done: true,
        failed: false,
        value: result as HandlerResult,
        error: undefined,
      });
      this.#holdBuffers = true;
    }
  }

  /**
   * Queues one reply of text or bytes. A reply longer than the length field
   * can declare (a u8 or u16 format) is the handler's failure, not the
   * client's.
   */
  #enqueueReply(reply: string | Uint8Array): void {
    try {
      this.#writer.enqueue(reply, true);
    } catch (error) {
      throw new HandlerFailure(error);
    }
    this.#queued++;
  }

  /** Queues one reply in the writer. */
  #enqueue(reply: HandlerResult): void {
    if (reply === null || reply === undefined) return;
    if (typeof reply === "string" || reply instanceof Uint8Array) {
      // A long byte reply is written from the handler's array itself, which
      // it handed over; it may be a view of the receive buffer, which is not
      // reused before the flush that follows.
      this.#enqueueReply(reply);
      return;
    }
    throw new HandlerFailure(
      new TypeError(
        `Invalid handler result: expected a Uint8Array, a string, null or undefined, got ${typeof reply}`,
      ),
    );
  }

  /** Sends the replies at the head of the queue that are ready, then wakes the read loop. */
  #replyInOrder(): void {
    if (this.#closed || this.#ending) return;
    const slots = this.#slots;
    let queued = false;
    let failure: unknown;
    while (slots.length > 0 && slots[0].done) {
      const slot = slots.shift() as Slot;
      try {
        if (slot.failed) throw new HandlerFailure(slot.error);
        this.#enqueue(slot.value);
        queued = true;
      } catch (error) {
        failure = error;
        break;
      }
    }
    // The wait for the peer's next frame starts once nothing of its own is being handled.
    if (slots.length === 0) this.#since = performance.now();
    this.#slotsChanged?.();
    if (failure !== undefined) {
      this.#endAfterReplies(...this.#classify(failure));
    } else if (queued) {
      this.#flush().then(() => this.#afterFlush(), (error: unknown) => this.#failWrite(error));
    } else {
      this.#afterFlush();
    }
  }

  /** A stopping connection whose last reply has left hangs up. */
  #afterFlush(): void {
    if (this.#stopping && this.#slots.length === 0 && this.#state === "waiting") {
      this.hangUp("server stopping", "serverStopping");
    }
  }

  /** A write failed: the peer is gone (reset, broken pipe); nothing more can reach it. */
  #failWrite(error: unknown): void {
    this.#kind ??= "reset";
    this.close(errorMessage(error));
  }

  /**
   * Ends the connection from outside the read loop (a handler rejected): the
   * replies before it leave, then the server hangs up; the read loop ends when
   * its read returns.
   */
  async #endAfterReplies(reason: string, kind: CloseKind, linger: boolean): Promise<void> {
    this.#ending = true;
    this.#kind ??= kind;
    this.#closeReason ??= reason;
    this.#slots.length = 0;
    this.#slotsChanged?.();
    try {
      await this.#flush();
    } catch (error) {
      this.#failWrite(error);
      return;
    }
    if (linger) this.hangUp(reason, kind);
    else this.close(reason);
  }

  /** Waits until the slots change: a reply left, or the connection closed. */
  #slotsChange(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#slotsChanged = (): void => {
        this.#slotsChanged = undefined;
        resolve();
      };
    });
  }

  /** Flushes the replies, timed by the sweep from its last progress. */
  async #flush(): Promise<void> {
    if (this.#writes++ === 0) {
      this.#writeProgressAt = performance.now();
      this.#writtenAtProgress = this.#writer.bytesWritten;
    }
    try {
      await this.#writer.flush();
      this.framesSent = this.#queued;
    } finally {
      this.#writes--;
    }
  }

  /** What an error that ended the read loop means: the log's reason, its kind, and whether to linger. */
  #classify(error: unknown): [string, CloseKind, boolean] {
    if (error instanceof HandlerFailure) {
      // The handler's own word that a request is not text is the client's fault, not a bug.
      if (error.error instanceof InvalidUtf8Error) {
        return [errorMessage(error.error), "invalidText", true];
      }
      return [`handler failed: ${errorMessage(error.error)}`, "handlerError", true];
    }
    // A frame the server refuses leaves the stream usable up to it: the
    // requests that arrived whole before it are still answered. A broken
    // socket (reset, end inside a frame) has nobody left to answer.
    if (error instanceof FrameTooLargeError) return [errorMessage(error), "frameTooLarge", true];
    if (error instanceof CorruptFrameError) return [errorMessage(error), "corruptFrame", true];
    if (error instanceof InvalidUtf8Error) return [errorMessage(error), "invalidText", true];
    if (error instanceof IncompleteFrameError) {
      return [errorMessage(error), "incompleteFrame", false];
    }
    return [errorMessage(error), this.#closed ? "timeout" : "reset", false];
  }

  /**
   * After the read loop: lets the handlers already running finish and their
   * replies leave, hangs up and lingers, or closes; then logs the line.
   */
  async #finish(reason: string, kind: CloseKind, linger: boolean): Promise<void> {
    const ending = this.#ending;
    if (!ending && this.#closeReason === undefined) this.#kind ??= kind;
    // A client that closed its side may still read: handlers at work still answer it.
    if ((linger || kind === "closedByClient") && !ending) {
      while (this.#slots.length > 0 && !this.#closed) await this.#slotsChange();
      try {
        if (!this.#closed) await this.#flush();
      } catch (error) {
        reason = errorMessage(error);
        this.#kind = "reset";
        linger = false;
      }
    }
    // A rejected handler ends the connection from #endAfterReplies: wait for its hang-up.
    if (ending) { while (!this.#hungUp && !this.#closed) await this.#slotsChange(); }
    if (linger && this.#closeReason === undefined) this.hangUp(reason, kind);
    if (this.#hungUp) await this.#linger();
    clearTimeout(this.#lingerTimer);
    const unsent = this.#queued - this.framesSent;
    // Replies queued and never handed to the socket are not "answered".
    if (unsent > 0) this.#cut ??= `${unsent} ${unsent === 1 ? "reply" : "replies"} unsent`;
    this.close(reason);
    this.#kind ??= kind;
    const answered = this.framesSent;
    const frames = answered === 1 ? "1 frame" : `${answered} frames`;
    const why = this.#closeReason ?? reason;
    const delivery = this.#cut === undefined || this.#queued === 0
      ? `${frames} answered`
      : this.#cut === why
      ? `${frames} written, delivery not confirmed`
      : `${frames} written, delivery not confirmed: ${this.#cut}`;
    this.#context.log(`${this.info.peer} disconnected: ${why} (${delivery})`);
  }

  /** (Re)starts the linger timer: `lingerTimeout` of silence, within `lingerTime` in all. */
  #armLinger(): void {
    clearTimeout(this.#lingerTimer);
    const { lingerTimeout, lingerTime } = this.#context;
    const wait = Math.max(0, Math.min(lingerTimeout, this.#lingerUntil - performance.now()));
    this.#lingerTimer = setTimeout(() => {
      if (wait < lingerTimeout) this.#endLinger(`linger time of ${lingerTime} ms reached`);
      // Silent for a whole lingerTimeout: nothing is left unread on our side.
      else this.close(this.#closeReason ?? "linger timeout");
    }, wait);
  }

  /**
   * Lingering close, as nginx does it: reads and discards what a hung-up peer
   * still sends until it closes. Closing while its bytes sit unread would
   * reset the connection and destroy replies the peer has not read yet; the
   * peer's end of stream says it has read them all.
   */
  async #linger(): Promise<void> {
    this.#state = "lingering";
    try {
      while (!this.#closed) {
        const n = await this.conn.read(DISCARD);
        if (n === null) return;
        this.#heardAt = performance.now();
        this.#armLinger();
      }
    } catch (error) {
      // Closed by the linger or shutdown timer, which judged the delivery; or reset by the peer.
      if (!this.#closed) this.#cut ??= `${errorMessage(error)} while lingering`;
    }
  }

  /**
   * Ends a linger before the peer closed. A peer that went silent has nothing
   * unread on our side, so the close sends no reset and the kernel still
   * delivers what is queued; a peer still sending will be reset by its next
   * bytes, which may destroy replies it has not read yet.
   */
  #endLinger(why: string): void {
    if (performance.now() - this.#heardAt < this.#context.lingerTimeout) {
      this.#cut ??= `${why} before the peer closed`;
    }
    this.close(this.#closeReason ?? why);
  }
}
