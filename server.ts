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
  FORMAT_FLAGS,
  formatFlags,
  formatFlagsUsage,
  integerFlag,
  parseCommandLine,
  runMain,
  stringFlag,
  UsageError,
} from "./_cli.ts";
import { MAX_DURATION } from "./_options.ts";
import { errorMessage, formatAddr } from "./_net.ts";
import { endpoint, type TransportOptions } from "./_transport.ts";
import { offsetAfterCodePointsIn } from "./_utf8.ts";
import { SERVER_DEFAULTS, ServerCore, type ServerStats, type ServerTimeout } from "./_server.ts";
import type { ServeOptions } from "./serve.ts";
import { DEFAULT_BUFFER_SIZE, InvalidUtf8Error } from "./framing.ts";

export type { ServeOptions, ServerStats, TransportOptions };

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
export interface BufferedServerOptions
  extends Omit<ServeOptions, "hostname" | "port" | "bufferSize" | "signal" | "onListen"> {
  /**
   * Clients served at once. At the limit the server stops accepting until one
   * leaves; the others wait in the listen backlog. `1` is the assignment's
   * one-client-at-a-time server.
   *
   * @default {1}
   */
  maxConnections?: number;
}

/**
 * The demo's defaults: the generic server's, with the assignment's
 * one-client-at-a-time server.
 */
const DEFAULTS = { ...SERVER_DEFAULTS, maxConnections: 1 } as const;

/**
 * The demo service's rule, on the bytes: the reply is the request from just
 * past its first 10 code points, or an {@linkcode InvalidUtf8Error} when the
 * request is not text. As a suffix of the request, the reply is written
 * straight from the receive buffer, with no view allocated per frame.
 */
function skippedCharactersEnd(buffer: Uint8Array, start: number, end: number): number {
  const cut = offsetAfterCodePointsIn(buffer, start, end, SKIPPED_CHARACTERS);
  if (cut < 0) throw new InvalidUtf8Error(end - start);
  return cut;
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
 * a.shutdown(); // the server's lingering close waits for its clients to close
 * b.shutdown();
 * server.keepRunning = false;
 * await done;
 * ```
 */
export class BufferedServer implements AsyncDisposable {
  readonly #core: ServerCore;

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
    const where = endpoint(hostname === "" ? "0.0.0.0" : hostname, port, options);
    this.#core = new ServerCore(
      where,
      { ...options, bufferSize },
      { suffix: skippedCharactersEnd },
      DEFAULTS.maxConnections,
    );
  }

  /**
   * The address the server listens on, with the real port when it was
   * constructed with port 0.
   */
  get addr(): Deno.NetAddr {
    const addr = this.#core.addr;
    if (!("hostname" in addr)) {
      throw new TypeError("A Unix socket server has no network address: see localAddr");
    }
    return addr;
  }

  /** The address the server listens on, whatever the transport (a Unix socket's path included). */
  get localAddr(): Deno.Addr {
    return this.#core.addr;
  }

  /** Connections being served now. */
  get connectionCount(): number {
    return this.#core.connectionCount;
  }

  /**
   * `true` from construction until the server is told to stop. Setting it to
   * `false` stops the server (as {@linkcode BufferedServer.shutdown} does):
   * it stops accepting at once, replies to every request already read,
   * closes every connection, and `start()` resolves. A request whose read the
   * server takes in after that is not answered. The server never sets it to
   * `false` itself, and a stopped server does not start again.
   */
  get keepRunning(): boolean {
    return this.#core.keepRunning;
  }

  set keepRunning(value: boolean) {
    if (!value) this.#core.stop();
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
    return this.#core.start();
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
    this.#core.stop();
  }

  /**
   * What the server has done: connections, frames, bytes and why
   * connections ended; see {@linkcode ServerStats}.
   *
   * @returns The counters, connections still open included.
   *
   * @example After one exchange
   * ```ts
   * import { BufferedServer } from "./server.ts";
   * import { BufferedClient } from "./client.ts";
   * import assert from "node:assert/strict";
   *
   * await using server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
   * server.start();
   * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port);
   * await client.sendMessage("0123456789hi");
   * await client.receiveMessage();
   * assert.equal(server.stats().framesReceived, 1);
   * assert.equal(server.stats().bytesSent, 4 + 2);
   * ```
   */
  stats(): ServerStats {
    return this.#core.stats();
  }

  /** Stops the server and waits until it has stopped. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#core.stop();
    await this.#core.start();
  }
}

const USAGE = `Usage: deno run --allow-net=HOST:PORT server.ts [options]

Answers each frame with its text minus the first ${SKIPPED_CHARACTERS} characters.

Options:
  --hostname HOST          address to listen on; "" means all (default: 0.0.0.0)
  --port PORT              port; 0 picks a free one (default: 4567)
  --buffer-size N          receive buffer per connection, bytes (default: ${DEFAULT_BUFFER_SIZE})
${formatFlagsUsage("largest payload accepted")}
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
function durationFlag(values: CommandLine["values"], flag: string, name: ServerTimeout): number {
  return integerFlag(values, flag, DEFAULTS[name], 0, MAX_DURATION);
}

async function main(args: string[]): Promise<number> {
  const { values }: CommandLine = parseCommandLine(args, {
    hostname: { type: "string" },
    port: { type: "string" },
    "buffer-size": { type: "string" },
    ...FORMAT_FLAGS,
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
    ...formatFlags(values),
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
