// Copyright 2026 the buffered-framing authors. MIT license.
// Opening listeners and connections over TCP, TLS or a Unix socket, for the
// client and the server alike.

import { formatHostPort, withContext } from "./_net.ts";
import { integerOption } from "./_options.ts";

/**
 * How a client or server reaches its peer: TCP (the default), or a Unix
 * domain socket.
 *
 * @example A server and a client on a Unix socket
 * ```ts
 * import { BufferedClient, BufferedServer, type TransportOptions } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/framing.sock`;
 * const local: TransportOptions = { transport: "unix", path };
 * await using server = new BufferedServer("", 0, 1024, { ...local, log: () => {} });
 * server.start();
 * await using client = await BufferedClient.connect("", 0, 1024, local);
 * await client.sendMessage("0123456789near");
 * assert.deepEqual(await client.receiveMessage(), ["near", true]);
 * ```
 */
export interface TransportOptions {
  /**
   * `"tcp"` (with `hostname` and `port`), or `"unix"` for a Unix domain
   * socket at {@linkcode TransportOptions.path} (hostname and port are then
   * ignored; TLS is for TCP only).
   *
   * @default {"tcp"}
   */
  transport?: "tcp" | "unix";
  /**
   * The socket file of a `"unix"` transport. A server replaces a socket file
   * there that nobody listens on (one left by a server that was killed), and
   * throws `Deno.errors.AddrInUse` when a server answers there or the file is
   * not a socket.
   */
  path?: string;
}

/** A connection of any of the transports. */
export type AnyConn = Deno.TcpConn | Deno.TlsConn | Deno.UnixConn;

/** Where a listener or connection goes, checked. */
export type Endpoint =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** Checks `transport`, `path` and `port` together: a RangeError or TypeError names what is wrong. */
export function endpoint(hostname: string, port: number, options: TransportOptions): Endpoint {
  const transport = options.transport ?? "tcp";
  if (transport === "unix") {
    if (typeof options.path !== "string" || options.path === "") {
      throw new TypeError('Invalid path: a "unix" transport needs the socket file path');
    }
    return { transport, path: options.path };
  }
  if (transport !== "tcp") {
    throw new TypeError(`Invalid transport: expected "tcp" or "unix", got ${String(transport)}`);
  }
  integerOption("port", port, 0, 0, 65535);
  return { transport, hostname, port };
}

/** Names an endpoint for messages: `host:port` or `unix:/path`. */
export function describeEndpoint(where: Endpoint): string {
  return where.transport === "unix"
    ? `unix:${where.path}`
    : formatHostPort(where.hostname, where.port);
}

/** Turns off Nagle's algorithm where the transport has it: replies are already batched. */
export function setNoDelay(conn: AnyConn): void {
  if ("setNoDelay" in conn) conn.setNoDelay(true);
}

/**
 * Whether `--unstable-net` is on. Asking Deno for an unstable option without
 * it exits the process (status 70) instead of throwing, so it is checked
 * first; `Deno.listenDatagram` exists only under that flag.
 */
function unstableNetEnabled(): boolean {
  return "listenDatagram" in Deno;
}

/**
 * What connecting to an existing Unix socket file finds: a server (`"live"`),
 * nobody (`"refused"`: the server that bound it is gone), or no answer either
 * way (`"unknown"`: another error, or no result in time).
 */
type SocketProbe = "live" | "refused" | "unknown";

/** How long {@linkcode probeUnixSocket} waits for its worker's answer, in ms. */
const PROBE_TIMEOUT = 5_000;

// The worker of probeUnixSocket: connects once, and stores the outcome in the
// shared Int32Array it is given (1 live, 2 refused, 3 unknown) for the waiting
// thread.
const PROBE_WORKER = `self.onmessage = async ({ data: { path, state } }) => {
  const outcome = new Int32Array(state);
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    Atomics.store(outcome, 0, 1);
  } catch (error) {
    Atomics.store(outcome, 0, error instanceof Deno.errors.ConnectionRefused ? 2 : 3);
  }
  Atomics.notify(outcome, 0);
};`;

/**
 * Connects to the Unix socket at `path` and says whether a server answered,
 * synchronously, so that the server's constructor can stay synchronous: Deno
 * has no synchronous connect, so a worker connects while this thread waits
 * on `Atomics.wait` (some 20 ms, paid only when the path is taken). The worker
 * inherits this thread's permissions, which already cover the path.
 */
function probeUnixSocket(path: string): SocketProbe {
  const state = new SharedArrayBuffer(4);
  const outcome = new Int32Array(state);
  const url = URL.createObjectURL(new Blob([PROBE_WORKER], { type: "text/javascript" }));
  let worker: Worker | undefined;
  try {
    worker = new Worker(url, { type: "module" });
    worker.postMessage({ path, state });
    Atomics.wait(outcome, 0, 0, PROBE_TIMEOUT);
  } catch {
    return "unknown"; // No workers here, or no Atomics.wait on this thread.
  } finally {
    worker?.terminate();
    URL.revokeObjectURL(url);
  }
  return (["unknown", "live", "refused"] as const)[Atomics.load(outcome, 0)] ?? "unknown";
}

/** Whether the file at `path` is a socket, and which file it is; `undefined` when it cannot be told. */
function fileAt(path: string): { isSocket: boolean; id: string } | undefined {
  try {
    const info = Deno.lstatSync(path);
    return { isSocket: info.isSocket === true, id: `${info.dev}:${info.ino}` };
  } catch {
    return undefined;
  }
}

/**
 * Listens on the Unix socket at `path`. A socket file there that nobody
 * listens on (left by a server that was killed) is removed and the path bound
 * again; a file that is not a socket, or a socket a server answers on, is
 * left alone and the `AddrInUse` thrown, saying which.
 */
function listenUnix(path: string): Deno.UnixListener {
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    const before = fileAt(path);
    if (before === undefined) throw error;
    if (!before.isSocket) throw withContext(error, "the file there is not a socket");
    const probe = probeUnixSocket(path);
    if (probe === "live") throw withContext(error, "a server is listening there");
    // Remove only the very socket file seen before the probe, not one bound since.
    if (probe !== "refused" || fileAt(path)?.id !== before.id) throw error;
  }
  // Nobody listens: the file is stale.
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return Deno.listen({ transport: "unix", path });
}

/** Opens a listener; errors keep their class and name the address. */
export function listen(
  where: Endpoint,
  tls: { cert: string; key: string } | undefined,
  reusePort = false,
): Deno.Listener<AnyConn, Deno.Addr> {
  try {
    if (where.transport === "unix") {
      if (tls !== undefined) throw new TypeError("TLS is for the tcp transport only");
      if (reusePort) throw new TypeError("reusePort is for the tcp transport only");
      return listenUnix(where.path);
    }
    const { hostname, port } = where;
    if (reusePort && !unstableNetEnabled()) {
      throw new TypeError("reusePort needs the --unstable-net flag (Deno marks it unstable)");
    }
    // Only set when asked for: the option alone counts as unstable use.
    const shared = reusePort ? { reusePort } : {};
    return tls === undefined
      ? Deno.listen({ hostname, port, ...shared })
      : Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, ...shared });
  } catch (error) {
    throw withContext(error, `Cannot listen on ${describeEndpoint(where)}`);
  }
}

/** Settles as `pending`, or rejects with the abort reason first (closing what `pending` yields late). */
function unlessAborted<T extends { close(): void }>(
  pending: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return pending;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then((value) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) value.close();
      else resolve(value);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

/**
 * Connects, and for TLS completes the handshake, so that an untrusted
 * certificate rejects here; errors keep their class and name the address.
 * An abort of `signal` rejects with its reason and closes what was opened;
 * during a TLS handshake, though, Deno keeps the TCP socket itself open until
 * the server answers or closes it.
 */
export async function connect(
  where: Endpoint,
  tls: { caCerts?: string[]; hostname?: string } | undefined,
  signal: AbortSignal | undefined,
): Promise<AnyConn> {
  signal?.throwIfAborted();
  let handshaking: { close(): void } | undefined;
  // An abort during the TLS handshake closes the TlsConn, which ends the handshake.
  const abortHandshake = (): void => {
    try {
      handshaking?.close();
    } catch {
      // Already closed.
    }
  };
  try {
    if (where.transport === "unix") {
      if (tls !== undefined) throw new TypeError("TLS is for the tcp transport only");
      return await unlessAborted(Deno.connect({ transport: "unix", path: where.path }), signal);
    }
    const tcp = await unlessAborted(
      Deno.connect({ hostname: where.hostname, port: where.port }),
      signal,
    );
    if (tls === undefined) return tcp;
    // Deno.startTls takes the socket at once: from here only `secured` can close it.
    const secured = await Deno.startTls(tcp, {
      hostname: tls.hostname ?? where.hostname,
      caCerts: tls.caCerts,
    });
    if (signal?.aborted) {
      secured.close();
      throw signal.reason;
    }
    // Closing a TlsConn whose handshake is pending ends the handshake, but
    // Deno 2.9 keeps the TCP socket open until the server answers or hangs up.
    handshaking = secured;
    signal?.addEventListener("abort", abortHandshake, { once: true });
    try {
      await secured.handshake();
    } catch (error) {
      secured.close();
      throw error;
    }
    return secured;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw withContext(error, `Cannot connect to ${describeEndpoint(where)}`);
  } finally {
    signal?.removeEventListener("abort", abortHandshake);
  }
}
