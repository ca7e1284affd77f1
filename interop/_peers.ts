// Copyright 2026 the buffered-framing authors. MIT license.
// The independent peers of the interop matrix (peer.py, peer.mjs, NettyPeer.java)
// as subprocesses, and the messages they are given.

import { guard as guardFor } from "../tests/_faults.ts";
import { modulePath, spawnCommand, type Subprocess } from "../tests/_helpers.ts";

/** Bound on every wait: a hang fails the test, naming what it waited for. */
export const LIMIT_MS = 60_000;

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export function guard<T>(promise: Promise<T>, what: string, ms = LIMIT_MS): Promise<T> {
  return guardFor(promise, what, ms);
}

/** A length-field format, as the executables' flags name it. */
export interface Format {
  lengthField: string;
  lengthIncludesHeader: boolean;
}

/** The executables' default: a 4-byte big-endian length. */
export const DEFAULT_FORMAT: Format = { lengthField: "u32be", lengthIncludesHeader: false };

/** `u16be`, or `u16be+header` when the length counts the header too. */
export function formatName(format: Format): string {
  return format.lengthField + (format.lengthIncludesHeader ? "+header" : "");
}

/** The same flags for our executables and every peer. */
export function formatFlags(format: Format): string[] {
  return [
    "--length-field",
    format.lengthField,
    ...(format.lengthIncludesHeader ? ["--length-includes-header"] : []),
  ];
}

/** How a subprocess ended, and everything it printed. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** How a run ended, with its standard output as bytes. */
export interface RunOutcome {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs `command ...args` to its exit, writing `input` to its standard input
 * while its output is read: a child that answers as it reads (client.ts, a
 * line at a time) never blocks on a full pipe while its input is still being
 * written.
 */
export async function run(command: string, args: string[], input = ""): Promise<RunOutcome> {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = new Response(child.stdout).bytes();
  const stderr = new Response(child.stderr).text();
  // A child that exits without reading all of its input breaks the pipe: its status says why.
  const written = ReadableStream.from([new TextEncoder().encode(input)]).pipeTo(child.stdin)
    .catch(() => {});
  try {
    const [status, out, err] = await guard(
      Promise.all([child.status, stdout, stderr, written]),
      `${command} ${args.join(" ").slice(0, 200)} to finish`,
    );
    return { code: status.code, stdout: out, stderr: err };
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // It has exited already.
    }
    await Promise.allSettled([child.status, stdout, stderr, written]);
    throw error;
  }
}

/** An independent peer: how to start it, once it is built. */
export interface Peer {
  name: string;
  /** The command and the arguments before the peer's own. */
  command(): Promise<[string, string[]]>;
}

export const PYTHON: Peer = {
  name: "Python",
  command: () => Promise.resolve(["python3", [modulePath("interop/peer.py")]]),
};

export const NODE: Peer = {
  name: "Node",
  command: () => Promise.resolve(["node", [modulePath("interop/peer.mjs")]]),
};

/** Debian's libnetty-java (4.1.48): the separate jars (its netty-all.jar is an empty shell). */
export const NETTY_JARS = ["buffer", "codec", "common", "handler", "transport", "resolver"].map(
  (name) => `/usr/share/java/netty-${name}.jar`,
);

let compiled: Promise<string> | undefined;

/**
 * Compiles NettyPeer.java once per test run, into a temporary directory that
 * is removed when the test module unloads, and returns the class path.
 */
function nettyClasspath(): Promise<string> {
  compiled ??= (async (): Promise<string> => {
    const dir = await Deno.makeTempDir({ prefix: "framing-netty-peer-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const classpath = NETTY_JARS.join(":");
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command("javac", {
        args: ["-d", dir, "-cp", classpath, modulePath("interop/NettyPeer.java")],
        stdin: "null",
      }).output();
    } catch (error) {
      throw new Error("javac did not run: install a JDK (Debian: default-jdk-headless)", {
        cause: error,
      });
    }
    if (!output.success) {
      throw new Error(
        `javac failed (Debian's libnetty-java provides ${NETTY_JARS[0]} and the rest):\n` +
          new TextDecoder().decode(output.stderr),
      );
    }
    return `${dir}:${classpath}`;
  })();
  return compiled;
}

export const NETTY: Peer = {
  name: "Netty",
  command: async () => ["java", ["-cp", await nettyClasspath(), "NettyPeer"]],
};

/** Starts a peer's server with `flags` and returns it with the port its first line names. */
export async function startPeerServer(
  peer: Peer,
  flags: string[],
): Promise<[Subprocess, number]> {
  const [command, args] = await peer.command();
  // Standard input stays open: closing it is a peer server's signal to stop.
  const server = spawnCommand(command, [...args, "server", ...flags], null);
  try {
    const line = await guard(server.readLine(), `the ${peer.name} server's first line`);
    const match = line?.match(/^listening on 127\.0\.0\.1:(\d+)$/);
    if (!match) throw new Error(`unexpected first line: ${line}`);
    return [server, Number(match[1])];
  } catch (error) {
    await server[Symbol.asyncDispose]();
    const { stderr } = await server.finish();
    throw new Error(`the ${peer.name} server did not start: ${stderr}`, { cause: error });
  }
}

/** Runs a peer's client against 127.0.0.1:`port` with `flags`, to its exit. */
export async function runPeerClient(
  peer: Peer,
  port: number,
  flags: string[],
): Promise<Outcome> {
  const [command, args] = await peer.command();
  const outcome = await run(command, [...args, "client", "--port", `${port}`, ...flags]);
  return { ...outcome, stdout: new TextDecoder().decode(outcome.stdout) };
}

/** Runs a peer's `--check-vectors FILE` mode, to its exit. */
export async function checkVectors(peer: Peer, file: string): Promise<Outcome> {
  const [command, args] = await peer.command();
  const outcome = await run(command, [...args, "--check-vectors", file]);
  return { ...outcome, stdout: new TextDecoder().decode(outcome.stdout) };
}

/** The sum of the `(N frames answered)` of a peer server's disconnect lines. */
export function peerFramesAnswered(log: string): number {
  return Array.from(log.matchAll(/ disconnected \((\d+) frames answered\)$/gm))
    .reduce((total, [, count]) => total + Number(count), 0);
}

/**
 * The demo rule, written here independently of the server: the text minus
 * its first 10 characters, counted in code points as Python's `s[10:]`.
 */
export function expectedReply(message: string): string {
  return Array.from(message).slice(10).join("");
}

const encoder = new TextEncoder();

/** Messages, each with the reply it must get. */
export interface Exchange {
  texts: string[];
  messages: Uint8Array[];
  replies: Uint8Array[];
}

export function exchange(texts: string[]): Exchange {
  return {
    texts,
    messages: texts.map((text) => encoder.encode(text)),
    replies: texts.map((text) => encoder.encode(expectedReply(text))),
  };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Writes the peers' messages file: every message and reply as hex, so that bytes are exact. */
export async function writeMessagesFile(
  path: string,
  { messages, replies }: Exchange,
): Promise<void> {
  const item = (bytes: Uint8Array): { hex: string } => ({ hex: hex(bytes) });
  await Deno.writeTextFile(
    path,
    JSON.stringify({ messages: messages.map(item), replies: replies.map(item) }),
  );
}

/** Fails naming the first byte where `got` differs from `expected`. */
export function assertSameBytes(got: Uint8Array, expected: Uint8Array, what: string): void {
  if (got.length === expected.length && got.every((byte, i) => byte === expected[i])) return;
  let at = 0;
  while (at < got.length && at < expected.length && got[at] === expected[at]) at++;
  const around = (bytes: Uint8Array): string => hex(bytes.subarray(at, at + 16)) || "end";
  throw new Error(
    `${what} differs at byte ${at}: expected ${expected.length} bytes (${
      around(expected)
    } there), got ${got.length} bytes (${around(got)} there)`,
  );
}
