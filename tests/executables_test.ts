// Copyright 2026 the buffered-framing authors. MIT license.
// server.ts and client.ts as real subprocesses, each run with --no-prompt and
// exactly the network permission it needs.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import {
  clientArgs,
  frame,
  freePort,
  HOST,
  modulePath,
  readFrame,
  spawnDeno,
  startServer,
  startServerProcess as startServerProcessWith,
  type Subprocess,
  writeAll,
} from "./_helpers.ts";

const SERVER = modulePath("server.ts");

/** Starts server.ts on 127.0.0.1, port 0, with exactly `--allow-net=127.0.0.1:0`. */
function startServerProcess(...flags: string[]): Promise<[Subprocess, number]> {
  return startServerProcessWith({ flags });
}

/** Runs client.ts against 127.0.0.1:`port`, with permission for that address only. */
function runClient(port: number, args: string[], stdin?: string | null): Subprocess {
  return spawnDeno(clientArgs(port, args), stdin);
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

Deno.test("server prints 'listening on 127.0.0.1:<port>' as its first stdout line", async () => {
  const [server, port] = await startServerProcess();
  await using _ = server;
  assert.ok(port > 0 && port < 65536);
  // It really listens there.
  await using client = await BufferedClient.connect(HOST, port, 16);
  await client.sendMessage("0123456789listening");
  assert.deepEqual(await client.receiveMessage(), ["listening", true]);
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stdout, "");
});

Deno.test("client prints the reply to each MESSAGE argument on its own line and exits 0", async () => {
  const [server, port] = await startServerProcess("--buffer-size", "16");
  await using _ = server;
  {
    await using client = runClient(port, [
      "--buffer-size",
      "16",
      "Four score and seven years ago",
      "0123456789é中😀 multi-byte",
      "short",
      "",
      "0123456789last",
    ]);
    const outcome = await client.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, " and seven years ago\né中😀 multi-byte\n\n\nlast\n");
    assert.equal(outcome.stderr, "");
  }
  server.child.kill("SIGTERM");
  assert.equal((await server.finish()).code, 0);
});

Deno.test("client with no MESSAGE sends each line of standard input and exits 0", async () => {
  await using s = startServer(16);
  await using client = runClient(
    s.port,
    ["--buffer-size", "16"],
    "0123456789one\n\n0123456789the second line, longer than 16\n0123456789no newline",
  );
  const outcome = await client.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stdout, "one\n\nthe second line, longer than 16\nno newline\n");
  assert.equal(outcome.stderr, "");
});

Deno.test("client sends a byte order mark at the start of standard input as part of the first message", async () => {
  await using s = startServer(16);
  // The mark is one character: the reply to "\uFEFF0123456789abc" starts at "9".
  await using client = runClient(s.port, [], "\uFEFF0123456789abc\n");
  const outcome = await client.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stdout, "9abc\n");
});

Deno.test("SIGTERM stops the server with exit status 0", async () => {
  const [server] = await startServerProcess();
  await using _ = server;
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.signal, null);
  assert.equal(outcome.code, 0, outcome.stderr);
});

Deno.test("SIGINT stops the server with exit status 0", async () => {
  const [server] = await startServerProcess();
  await using _ = server;
  server.child.kill("SIGINT");
  const outcome = await server.finish();
  assert.equal(outcome.signal, null);
  assert.equal(outcome.code, 0, outcome.stderr);
});

Deno.test("SIGTERM stops the server with exit status 0 while a client is connected", async () => {
  const [server, port] = await startServerProcess();
  await using _ = server;
  await using client = await BufferedClient.connect(HOST, port, 16);
  await client.sendMessage("0123456789connected");
  assert.deepEqual(await client.receiveMessage(), ["connected", true]);
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  assert.match(outcome.stderr, /disconnected: server stopping \(1 frame answered\)\n$/);
});

Deno.test("server writes a stderr line for each connection opened and closed", async () => {
  const [server, port] = await startServerProcess();
  await using _ = server;
  for (const name of ["first", "second"]) {
    // The default maxConnections is 1: the second is served after the first has gone.
    await using client = await BufferedClient.connect(HOST, port, 16);
    await client.sendMessage(`0123456789${name}`);
    assert.deepEqual(await client.receiveMessage(), [name, true]);
  }
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  const log = lines(outcome.stderr);
  const events = log.map((line) => {
    const match = line.match(/^(127\.0\.0\.1:\d+) (connected|disconnected)\b/);
    assert.ok(match, `unexpected log line: ${line}`);
    return [match[1], match[2]];
  });
  const [first, second] = [events[0]?.[0], events[2]?.[0]];
  assert.notEqual(first, second);
  assert.deepEqual(events, [
    [first, "connected"],
    [first, "disconnected"],
    [second, "connected"],
    [second, "disconnected"],
  ]);
  assert.match(log[1], /disconnected: closed by client \(1 frame answered\)$/);
});

Deno.test("client exits 1 with an error line when nothing listens", async () => {
  const port = freePort();
  await using client = runClient(port, ["0123456789hello"]);
  const outcome = await client.finish();
  assert.equal(outcome.code, 1);
  assert.equal(outcome.stdout, "");
  assert.match(outcome.stderr, /^error: .*ConnectionRefused.*127\.0\.0\.1:\d+/);
  assert.ok(outcome.stderr.includes(`127.0.0.1:${port}`), outcome.stderr);
  assert.equal(lines(outcome.stderr).length, 1, outcome.stderr);
});

Deno.test("client exits 1 with an error line when the server goes away mid-session", async () => {
  // A fake server: answers the first request, reads the second, and hangs up.
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr;
  const fake = (async (): Promise<void> => {
    using conn = await listener.accept();
    assert.deepEqual(await readFrame(conn), frame("0123456789first"));
    await writeAll(conn, frame("first"));
    assert.deepEqual(await readFrame(conn), frame("0123456789second"));
  })();
  await using client = runClient(port, ["0123456789first", "0123456789second", "0123456789third"]);
  const outcome = await client.finish();
  await fake;
  assert.equal(outcome.code, 1);
  assert.equal(outcome.stdout, "first\n");
  assert.match(outcome.stderr, /^error: the server at 127\.0\.0\.1:\d+ went away/);
  assert.ok(outcome.stderr.includes(`127.0.0.1:${port}`), outcome.stderr);
});

Deno.test("client exits 1 when the server process is killed mid-session", async () => {
  const [server, port] = await startServerProcess();
  await using _ = server;
  // With no MESSAGE, the client waits on standard input between messages.
  await using client = runClient(port, [], null);
  await client.write("0123456789alive\n");
  assert.equal(await client.readLine(), "alive");

  server.child.kill("SIGKILL");
  assert.equal((await server.finish()).signal, "SIGKILL");
  await client.write("0123456789anyone there?\n");
  const outcome = await client.finish();
  assert.equal(outcome.code, 1);
  assert.equal(outcome.stdout, "");
  assert.match(outcome.stderr, /^error: the server at 127\.0\.0\.1:\d+ went away/);
});

const usageErrors: [string, string, string[]][] = [
  ["server", "--port", ["--port", "abc"]],
  ["server", "--bogus", ["--bogus"]],
  ["server", "--buffer-size", ["--buffer-size", "0"]],
  ["client", "--port", ["--port", "abc", "message"]],
  ["client", "--bogus", ["--bogus", "message"]],
  ["client", "--buffer-size", ["--buffer-size", "0", "message"]],
  ["server", "--cert", ["--cert", "tests/fixtures/localhost.crt"]],
  ["server", "--key", ["--key", "tests/fixtures/localhost.key"]],
  ["client", "--ca", ["--ca", "tests/fixtures/ca.crt", "message"]],
];
for (const [name, flag, args] of usageErrors) {
  Deno.test(`${name} ${args.join(" ")} is a usage error: exit 2, naming ${flag}`, async () => {
    // No permission at all: a usage error is reported before any is needed.
    await using child = spawnDeno([modulePath(`${name}.ts`), ...args]);
    const outcome = await child.finish();
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.equal(outcome.stdout, "");
    assert.match(outcome.stderr, /^error: /);
    assert.ok(outcome.stderr.includes(flag), outcome.stderr);
    assert.ok(!outcome.stderr.includes("NotCapable"), outcome.stderr);
  });
}

for (const name of ["server", "client"]) {
  Deno.test(`${name} --help prints its usage and exits 0`, async () => {
    await using child = spawnDeno([modulePath(`${name}.ts`), "--help"]);
    const outcome = await child.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, new RegExp(`^Usage: deno run .*${name}\\.ts`));
    for (const flag of ["--hostname", "--port", "--buffer-size", "--max-frame-size", "--help"]) {
      assert.ok(outcome.stdout.includes(flag), `usage lacks ${flag}`);
    }
    assert.equal(outcome.stderr, "");
  });
}

Deno.test("server exits 1 with a clear message when the port is taken", async () => {
  using taken = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = taken.addr;
  await using server = spawnDeno([
    `--allow-net=${HOST}:${port}`,
    SERVER,
    "--hostname",
    HOST,
    "--port",
    `${port}`,
  ]);
  const outcome = await server.finish();
  assert.equal(outcome.code, 1);
  assert.equal(outcome.stdout, "");
  assert.match(outcome.stderr, /^error: .*AddrInUse.*in use/i);
  assert.ok(outcome.stderr.includes(`127.0.0.1:${port}`), outcome.stderr);
  assert.equal(lines(outcome.stderr).length, 1, outcome.stderr);
});

Deno.test("server needs no permission beyond --allow-net for its address", async () => {
  // startServerProcess grants --allow-net=127.0.0.1:0 and nothing else, with
  // --no-prompt: any other access would fail instead of asking.
  const [server, port] = await startServerProcess("--max-connections", "2", "--idle-timeout", "0");
  await using _ = server;
  {
    await using client = runClient(port, ["0123456789permitted"]);
    const outcome = await client.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, "permitted\n");
  }
  server.child.kill("SIGINT");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  const log = lines(outcome.stderr);
  assert.equal(log.length, 2, outcome.stderr);
  for (const line of log) assert.match(line, /^127\.0\.0\.1:\d+ (connected|disconnected: .*)$/);
});
