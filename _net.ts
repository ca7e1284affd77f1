// Copyright 2026 the buffered-framing authors. MIT license.
// Addresses and socket errors, described for people.

/**
 * Formats `hostname` and `port` as `host:port`, or `[v6]:port`; a hostname
 * given already in brackets (`[::1]`, which Deno accepts) keeps its one pair.
 */
export function formatHostPort(hostname: string, port: number): string {
  const bracketed = hostname.startsWith("[") && hostname.endsWith("]");
  return hostname.includes(":") && !bracketed ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Formats a socket address for logs: `host:port`, `[v6]:port` or a socket path. */
export function formatAddr(addr: Deno.Addr): string {
  if ("hostname" in addr) return formatHostPort(addr.hostname, addr.port);
  if ("path" in addr) return addr.path || "(unnamed socket)";
  return `vsock:${addr.cid}:${addr.port}`;
}

/** The message of `error`, or its string form when it is not an `Error`. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Returns an error of the same class as `error` whose message starts with
 * `context` (such as `Cannot connect to localhost:4567`), with the original as
 * its `cause`: callers can still test `instanceof Deno.errors.ConnectionRefused`.
 */
export function withContext(error: unknown, context: string): unknown {
  if (!(error instanceof Error)) return error;
  const ErrorClass = error.constructor as new (message: string, options: ErrorOptions) => Error;
  try {
    const wrapped = new ErrorClass(`${context}: ${error.message}`, { cause: error });
    wrapped.name = error.name;
    return wrapped;
  } catch {
    return error;
  }
}
