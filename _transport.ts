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
  /** The socket file of a `"unix"` transport. */
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
      return Deno.listen({ transport: "unix", path: where.path });
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
