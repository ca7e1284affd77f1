// Copyright 2026 the buffered-framing authors. MIT license.
// Shared helpers for the network tests: a quiet in-process server, raw
// sockets that speak the wire format by hand, and Deno subprocesses.

import { BufferedClient, type BufferedClientOptions } from "../client.ts";
import { BufferedServer, type BufferedServerOptions } from "../server.ts";
import { concat, frame, utf8 } from "./_bytes.ts";

export { concat, frame, utf8 };

/** Every test talks over loopback only. */
export const HOST = "127.0.0.1";

/** A started server whose log lines are collected instead of printed. */
export interface TestServer extends AsyncDisposable {
  server: BufferedServer;
  port: number;
  /** What `server.start()` returned: resolves once the server has stopped. */
  done: Promise<void>;
  /** The server's log lines, in order. */
  logs: string[];
}

/** Builds a {@linkcode BufferedServer} on 127.0.0.1, port 0, and starts it. */
export function startServer(
  bufferSize = 16,
  options: Omit<BufferedServerOptions, "log"> = {},
): TestServer {
  const logs: string[] = [];
  const server = new BufferedServer(HOST, 0, bufferSize, {
    ...options,
    log: (line: string): void => {
      logs.push(line);
    },
  });
  const done = server.start();
  return {
    server,
    port: server.addr.port,
    done,
    logs,
    async [Symbol.asyncDispose](): Promise<void> {
      server.shutdown();
      await done;
    },
  };
}

/** `connected` or `disconnected` for each log line, to assert on their order. */
export function logEvents(logs: string[]): string[] {
  return logs.map((line) => line.match(/ (connected|disconnected)\b/)?.[1] ?? line);
}

/** A port nothing listens on: one the system just handed out and took back. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/**
 * Reads exactly `length` bytes; returns fewer only when the stream ends
 * (or is reset) first.
 */
export async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    let n: number | null;
    try {
      n = await conn.read(out.subarray(filled));
    } catch {
      n = null; // a reset ends the stream as surely as a close
    }
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}

/** Reads one whole frame (header included), or `null` when the stream ends first. */
export async function readFrame(conn: Deno.Conn): Promise<Uint8Array | null> {
  const header = await readExactly(conn, 4);
  if (header.length < 4) return null;
  const length = new DataView(header.buffer).getUint32(0);
  const payload = await readExactly(conn, length);
  return payload.length < length ? null : concat(header, payload);
}

/** Reads until the stream ends or is reset, and returns everything read. */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(1024);
  while (true) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      n = null;
    }
    if (n === null) return concat(...chunks);
    chunks.push(buffer.slice(0, n));
  }
}

/** Absolute path of a module of this package, for `deno run`. */
export function modulePath(name: string): string {
  return decodeURIComponent(new URL(`../${name}`, import.meta.url).pathname);
}

/** How a subprocess ended, and everything it printed. */
export interface Outcome {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** A running subprocess, read line by line; disposing it kills it if still running. */
export interface Subprocess extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** Writes `text` to standard input (only when spawned with `stdin: null`). */
  write(text: string): Promise<void>;
  /** The next line of standard output, without its newline; `null` at the end. */
  readLine(): Promise<string | null>;
  /** Closes standard input, waits for the exit; `stdout` is what `readLine` had not returned. */
  finish(): Promise<Outcome>;
}

/**
 * Runs `deno run --no-prompt ...args`, as {@linkcode spawnCommand} runs any
 * command: standard input none when `stdin` is undefined, the given text when
 * it is a string, left open when it is `null`.
 */
export function spawnDeno(
  args: string[],
  stdin?: string | null,
  openFileLimit?: number,
): Subprocess {
  const deno = [Deno.execPath(), "run", "--no-prompt", ...args];
  // prlimit (util-linux) runs the process with a lower descriptor limit, as `ulimit -n` would.
  const command = openFileLimit === undefined
    ? deno
    : ["prlimit", `--nofile=${openFileLimit}:${openFileLimit}`, ...deno];
  return spawnCommand(command[0], command.slice(1), stdin);
}

/**
 * Runs `command ...args`. Standard error is collected from the start, so that
 * a chatty child never blocks. Standard input: none when `stdin` is undefined;
 * the given text, then end of file, when it is a string; left open for
 * {@linkcode Subprocess.write} (until {@linkcode Subprocess.finish}) when it
 * is `null`.
 */
export function spawnCommand(command: string, args: string[], stdin?: string | null): Subprocess {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let exited = false;
  child.status.then(() => {
    exited = true;
  });
  const stderr = new Response(child.stderr).text();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const input = stdin === undefined ? undefined : child.stdin.getWriter();
  let inputClosed: Promise<void> | undefined;

  function write(text: string): Promise<void> {
    if (input === undefined) throw new TypeError("spawned without standard input");
    return input.write(utf8(text));
  }

  function closeInput(): Promise<void> {
    // A child that exits without reading its input breaks the pipe: not our concern.
    inputClosed ??= input?.close().catch(() => {}) ?? Promise.resolve();
    return inputClosed;
  }

  if (typeof stdin === "string") {
    write(stdin).catch(() => {});
    closeInput();
  }

  let pending = "";
  let ended = false;
  async function fill(): Promise<void> {
    const { value, done } = await stdout.read();
    if (done) ended = true;
    else pending += value;
  }

  async function readLine(): Promise<string | null> {
    while (!pending.includes("\n") && !ended) await fill();
    if (pending === "") return null;
    const newline = pending.indexOf("\n");
    const end = newline === -1 ? pending.length : newline;
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    return line;
  }

  let finished: Promise<Outcome> | undefined;
  function finish(): Promise<Outcome> {
    finished ??= (async (): Promise<Outcome> => {
      // Output is read while the input drains: a child whose output outgrows
      // the pipe before it has read all its input would otherwise deadlock.
      const inputDone = closeInput();
      while (!ended) await fill();
      await inputDone;
      const rest = pending;
      pending = "";
      const status = await child.status;
      return { code: status.code, signal: status.signal, stdout: rest, stderr: await stderr };
    })();
    return finished;
  }

  return {
    child,
    write,
    readLine,
    finish,
    async [Symbol.asyncDispose](): Promise<void> {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // It has exited already.
        }
      }
      await finish();
    },
  };
}

/** How a server process is started by {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /** The port to ask for; 0, the default, lets the system pick one. */
  port?: number;
  /** Flags for `deno run`; by default exactly `--allow-net=127.0.0.1:PORT`. */
  denoFlags?: string[];
  /** Flags for server.ts after `--hostname 127.0.0.1 --port PORT`. */
  flags?: string[];
  /** The process's limit on open file descriptors (`ulimit -n`); the system's by default. */
  openFileLimit?: number;
}

/**
 * Runs `deno run ...denoFlags server.ts ...flags` and returns it with the
 * address its first line names (`listening on ADDRESS`): a host and port, or
 * a Unix socket's path.
 */
export async function spawnServer(
  denoFlags: string[],
  flags: string[],
  openFileLimit?: number,
): Promise<[Subprocess, string]> {
  const server = spawnDeno(
    [...denoFlags, modulePath("server.ts"), ...flags],
    undefined,
    openFileLimit,
  );
  try {
    const line = await server.readLine();
    if (line === null || !line.startsWith("listening on ")) {
      throw new Error(`unexpected first line: ${line}`);
    }
    return [server, line.slice("listening on ".length)];
  } catch (error) {
    const outcome = await server.finish().catch(() => undefined);
    await server[Symbol.asyncDispose]();
    throw new Error(`server did not start: ${outcome?.stderr}`, { cause: error });
  }
}

/**
 * The `deno run` arguments of client.ts against 127.0.0.1:`port`, with
 * permission for that address only, then `args`.
 */
export function clientArgs(port: number, args: string[]): string[] {
  return [
    `--allow-net=${HOST}:${port}`,
    modulePath("client.ts"),
    "--hostname",
    HOST,
    "--port",
    `${port}`,
    ...args,
  ];
}

/** Starts server.ts on 127.0.0.1 and learns its port from its first line. */
export async function startServerProcess(
  options: ServerProcessOptions = {},
): Promise<[Subprocess, number]> {
  const port = options.port ?? 0;
  // Listening on port 0 needs permission for exactly that: 127.0.0.1:0.
  const denoFlags = options.denoFlags ?? [`--allow-net=${HOST}:${port}`];
  const [server, address] = await spawnServer(denoFlags, [
    "--hostname",
    HOST,
    "--port",
    `${port}`,
    ...options.flags ?? [],
  ], options.openFileLimit);
  const match = address.match(/^127\.0\.0\.1:(\d+)$/);
  if (!match) {
    await server[Symbol.asyncDispose]();
    throw new Error(`unexpected address: ${address}`);
  }
  return [server, Number(match[1])];
}

/**
 * A disconnect line's reason without the `(N frames answered)`, or `(N
 * frames written, delivery not confirmed...)`, that ends it.
 */
export function reasonOf(disconnect: string): string {
  return disconnect.replace(/ \(\d+ frames? (answered|written, delivery not confirmed.*)\)$/, "");
}

/** The N of each `PEER disconnected: REASON (N frames answered)` line of a server's log, in order. */
export function answeredPerConnection(log: string): number[] {
  return Array.from(
    log.matchAll(/ disconnected: .* \((\d+) frames? answered\)$/gm),
    ([, count]) => Number(count),
  );
}

/** The frames a server answered, summed over the disconnect lines of its log. */
export function framesAnswered(log: string): number {
  return answeredPerConnection(log).reduce((total, n) => total + n, 0);
}

/** A client connected to a fake server: the test speaks the wire format on `conn` by hand. */
export interface Pair extends AsyncDisposable {
  client: BufferedClient;
  /** The fake server's end of the connection. */
  conn: Deno.TcpConn;
}

export async function connectPair(
  bufferSize: number,
  options: BufferedClientOptions = {},
): Promise<Pair> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  try {
    const client = await BufferedClient.connect(HOST, listener.addr.port, bufferSize, options);
    const conn = await listener.accept();
    return {
      client,
      conn,
      async [Symbol.asyncDispose](): Promise<void> {
        await client[Symbol.asyncDispose]();
        try {
          conn.close();
        } catch {
          // The test closed it already.
        }
      },
    };
  } finally {
    listener.close();
  }
}
