// Copyright 2026 the buffered-framing authors. MIT license.
// What the serve() tests share: a watch on the server's log and on handler
// calls held until the test settles them, and frame-level send and expect.

import assert from "node:assert/strict";
import {
  type ConnectionInfo,
  type FrameHandler,
  type FrameServer,
  type HandlerResult,
  serve,
  type ServeOptions,
  type ServerStats,
} from "../serve.ts";
import { concat, frame, guard, HOST, LogRecorder, readUntilClosed, writeAllTo } from "./_faults.ts";
import { readFrame } from "./_helpers.ts";

/** Non-fatal: only names a request in the test's own bookkeeping. */
export const decoder = new TextDecoder();

/** A handler call whose reply waits until the test settles it. */
export interface Held {
  /** The request, decoded when the call came. */
  text: string;
  /** The payload exactly as the handler got it: a view the server lends. */
  payload: Uint8Array;
  info: ConnectionInfo;
  resolve(reply: HandlerResult): void;
  reject(error: unknown): void;
}

/**
 * What one test watches: the server's log and the handler's calls, with a
 * wait that wakes on either, so that a connection the server drops ends the
 * wait at once instead of running into the guard.
 */
export class Watch {
  readonly recorder = new LogRecorder();
  /** Every request the handler saw, in call order. */
  readonly seen: string[] = [];
  /** The calls of {@linkcode Watch.hold}, in call order. */
  readonly held: Held[] = [];
  #wakers = new Set<() => void>();

  /** Pass as the server's `log` option. */
  readonly log = (line: string): void => {
    this.recorder.log(line);
    this.#changed();
  };

  get lines(): string[] {
    return this.recorder.lines;
  }

  /** Records a request; call at the top of a handler. */
  note(payload: Uint8Array): string {
    const text = decoder.decode(payload);
    this.seen.push(text);
    this.#changed();
    return text;
  }

  /**
   * Records a request and returns a reply the test settles through
   * {@linkcode Watch.held}. A bound function: pass it as the handler itself.
   */
  readonly hold = (payload: Uint8Array, info: ConnectionInfo): Promise<HandlerResult> => {
    const text = this.note(payload);
    const { promise, resolve, reject } = Promise.withResolvers<HandlerResult>();
    this.held.push({ text, payload, info, resolve, reject });
    this.#changed();
    return promise;
  };

  /** Whether the server has logged the end of `peer`'s connection. */
  disconnected(peer: string): boolean {
    return this.lines.some((line) => line.startsWith(`${peer} disconnected: `));
  }

  /** Resolves once `done()` holds, checked after every log line and handler call. */
  async until(done: () => boolean, what: string): Promise<void> {
    while (!done()) {
      await guard(
        new Promise<void>((resolve) => this.#wakers.add(resolve)),
        `${what}; log so far:\n${this.lines.join("\n")}`,
      );
    }
  }

  /**
   * Resolves once the handler has held `count` calls; throws at once if
   * `peer`'s connection ends first (the server dropped it).
   */
  async untilHeld(count: number, peer: string): Promise<void> {
    await this.until(
      () => this.held.length >= count || this.disconnected(peer),
      `${count} held handler calls`,
    );
    assert.ok(
      this.held.length >= count,
      `the connection ended after ${this.held.length} of ${count} handler calls:\n` +
        this.lines.join("\n"),
    );
  }

  #changed(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }
}

/** serve() on 127.0.0.1, a port of the system's choice, logging into `watch`. */
export function serveOn(
  watch: Watch,
  handler: FrameHandler,
  options: Omit<ServeOptions, "hostname" | "port" | "log"> = {},
): FrameServer {
  return serve({ ...options, hostname: HOST, port: 0, log: watch.log }, handler);
}

/** Writes the frames of `payloads` in one write: the client pipelines them. */
export function send(conn: Deno.Conn, ...payloads: (string | Uint8Array)[]): Promise<void> {
  return writeAllTo(conn, concat(...payloads.map((payload) => frame(payload))));
}

/** Reads one frame and asserts that it carries `payload`. */
export async function expectReply(
  conn: Deno.Conn,
  payload: string | Uint8Array,
  what = "a reply",
): Promise<void> {
  const got = await guard(readFrame(conn), what);
  assert.deepEqual(got, frame(payload), `${what}: ${got === null ? "end of stream" : "wrong"}`);
}

/** Asserts that the server ends the stream, cleanly, without sending anything more. */
export async function expectEnd(conn: Deno.Conn): Promise<void> {
  const { bytes, end } = await guard(readUntilClosed(conn), "the end of the stream");
  assert.equal(end, "eof", "the stream ends with a FIN, not a reset");
  assert.equal(bytes.byteLength, 0, `nothing after the last reply: ${bytes.byteLength} bytes`);
}

/** Connections ended, by reason, all at zero: spread it and name the reasons a test expects. */
export const NO_CLOSE: Readonly<ServerStats["closed"]> = {
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

/** Waits until the server has logged the end of every one of `peers`, then stops it. */
export async function stopAfter(
  server: FrameServer,
  watch: Watch,
  peers: string[],
): Promise<ServerStats> {
  await watch.until(
    () => peers.every((peer) => watch.disconnected(peer)),
    `the disconnect lines of ${peers.join(", ")}`,
  );
  await guard(server.shutdown(), "the server to stop");
  return server.stats();
}
