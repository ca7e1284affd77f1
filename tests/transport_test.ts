// Copyright 2026 the buffered-framing authors. MIT license.
// The transports: TLS and Unix domain sockets, AbortSignal on connect and
// receive, and the executables' --cert/--key, --tls/--ca and --unix flags.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { BufferedServer } from "../server.ts";
import {
  frame,
  HOST,
  logEvents,
  modulePath,
  readFrame,
  spawnDeno,
  spawnServer,
  startServer,
} from "./_helpers.ts";
import { LiveServer } from "./_faults.ts";

const CLIENT = modulePath("client.ts");
const CA_FILE = modulePath("tests/fixtures/ca.crt");
const CERT_FILE = modulePath("tests/fixtures/localhost.crt");
const KEY_FILE = modulePath("tests/fixtures/localhost.key");

const ca = await Deno.readTextFile(CA_FILE);
const cert = await Deno.readTextFile(CERT_FILE);
const key = await Deno.readTextFile(KEY_FILE);

/** A fresh temporary directory, removed with everything in it when disposed. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "buffered-framing-" });
  return {
    path,
    async [Symbol.asyncDispose](): Promise<void> {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Whether a file (a socket included) exists at `path`. */
function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A quiet server on a Unix socket at `path`, started. */
function startUnixServer(
  path: string,
  bufferSize = 16,
): { server: BufferedServer; done: Promise<void>; logs: string[] } & AsyncDisposable {
  const logs: string[] = [];
  const server = new BufferedServer("", 0, bufferSize, {
    transport: "unix",
    path,
    log: (line: string): void => {
      logs.push(line);
    },
  });
  const done = server.start();
  return {
    server,
    done,
    logs,
    async [Symbol.asyncDispose](): Promise<void> {
      server.shutdown();
      await done;
    },
  };
}

// --- TLS -------------------------------------------------------------------

Deno.test("TLS: a client trusting the CA gets replies, multi-byte and longer than the buffer", async () => {
  await using s = startServer(16, { tls: { cert, key } });
  await using client = await BufferedClient.connect(HOST, s.port, 16, { tls: { caCerts: [ca] } });
  const long = "x".repeat(1000) + "é中😀";
  for (
    const [message, reply] of [
      ["0123456789hello", "hello"],
      ["0123456789é中😀 multi-byte", "é中😀 multi-byte"],
      [`0123456789${long}`, long],
      ["short", ""],
    ]
  ) {
    await client.sendMessage(message);
    assert.deepEqual(await client.receiveMessage(), [reply, true]);
  }
  assert.equal(client.failure, undefined);
});

Deno.test("TLS: a client that closes between frames without close_notify is logged as closed by client", async () => {
  await using live = new LiveServer(16, { tls: { cert, key } });
  // The client executable exits once it has its reply: the process's socket
  // closes without a TLS close_notify.
  await using client = spawnDeno([
    `--allow-net=${HOST}:${live.port}`,
    `--allow-read=${CA_FILE}`,
    CLIENT,
    "--hostname",
    HOST,
    "--port",
    `${live.port}`,
    "--tls",
    "--ca",
    CA_FILE,
    "0123456789hello",
  ]);
  const outcome = await client.finish();
  assert.equal(outcome.stdout, "hello\n", outcome.stderr);
  const line = await live.log.waitFor((l) => l.includes(" disconnected: "), "the disconnect");
  assert.match(line, / disconnected: closed by client \(1 frame answered\)$/);
});

Deno.test("TLS: a client that does not trust the certificate is rejected by connect; the server serves the next", async () => {
  await using s = startServer(16, { tls: { cert, key } });
  const error = await BufferedClient.connect(HOST, s.port, 16, { tls: {} }).then(
    () => assert.fail("connect should have rejected"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof Deno.errors.InvalidData, String(error));
  assert.ok(error.message.includes(`127.0.0.1:${s.port}`), error.message);
  assert.match(error.message, /certificate/i);
  // maxConnections is 1: this client is accepted only once the untrusted one has gone.
  await using client = await BufferedClient.connect(HOST, s.port, 16, { tls: { caCerts: [ca] } });
  await client.sendMessage("0123456789next");
  assert.deepEqual(await client.receiveMessage(), ["next", true]);
  assert.deepEqual(logEvents(s.logs).slice(0, 3), ["connected", "disconnected", "connected"]);
  const [first, , second] = s.logs;
  assert.notEqual(first.split(" ")[0], second.split(" ")[0]);
  assert.ok(s.logs[1].startsWith(`${first.split(" ")[0]} disconnected`), s.logs[1]);
});

Deno.test("TLS: a certificate that does not match tls.hostname is rejected", async () => {
  await using s = startServer(16, { tls: { cert, key } });
  const error = await BufferedClient.connect(HOST, s.port, 16, {
    tls: { caCerts: [ca], hostname: "example.com" },
  }).then(
    () => assert.fail("connect should have rejected"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof Deno.errors.InvalidData, String(error));
  assert.ok(error.message.includes(`127.0.0.1:${s.port}`), error.message);
  assert.match(error.message, /certificate/i);
});

// --- Unix sockets ----------------------------------------------------------

Deno.test("Unix socket: a client with the same transport options gets replies", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/server.sock`;
  {
    await using s = startUnixServer(path);
    const addr = s.server.localAddr;
    assert.equal(addr.transport, "unix");
    assert.ok("path" in addr && addr.path === path, JSON.stringify(addr));
    await using client = await BufferedClient.connect("", 0, 16, { transport: "unix", path });
    await client.sendMessage("0123456789over a Unix socket, longer than 16");
    assert.deepEqual(await client.receiveMessage(), ["over a Unix socket, longer than 16", true]);
    await client.sendMessage("0123456789é中😀");
    assert.deepEqual(await client.receiveMessage(), ["é中😀", true]);
  }
});

Deno.test("Unix socket: server.addr throws TypeError; localAddr has the path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/addr.sock`;
  await using s = startUnixServer(path);
  assert.throws(() => s.server.addr, TypeError);
  assert.deepEqual(s.server.localAddr, { transport: "unix", path });
});

Deno.test("Unix socket: the socket file is removed once the server has stopped", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/removed.sock`;
  const s = startUnixServer(path);
  try {
    assert.ok(exists(path));
    await using client = await BufferedClient.connect("", 0, 16, { transport: "unix", path });
    await client.sendMessage("0123456789bye");
    assert.deepEqual(await client.receiveMessage(), ["bye", true]);
  } finally {
    await s[Symbol.asyncDispose]();
  }
  assert.ok(!exists(path), `${path} still exists`);
  // The path can be listened on again.
  await using again = startUnixServer(path);
  assert.ok(exists(path));
  again.server.shutdown();
  await again.done;
  assert.ok(!exists(path));
});

Deno.test("Unix socket: a unix transport without a path throws TypeError", async () => {
  assert.throws(() => new BufferedServer("", 0, 16, { transport: "unix" }), TypeError);
  assert.throws(() => new BufferedServer("", 0, 16, { transport: "unix", path: "" }), TypeError);
  await assert.rejects(BufferedClient.connect("", 0, 16, { transport: "unix" }), TypeError);
  await assert.rejects(
    BufferedClient.connect("", 0, 16, { transport: "unix", path: "" }),
    TypeError,
  );
});

Deno.test("Unix socket: connecting to a missing socket rejects with NotFound naming unix:<path>", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/missing.sock`;
  const error = await BufferedClient.connect("", 0, 16, { transport: "unix", path }).then(
    () => assert.fail("connect should have rejected"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof Deno.errors.NotFound, String(error));
  assert.ok(error.message.includes(`unix:${path}`), error.message);
});

/** The device and inode of the file at `path`: which file it is. */
function identity(path: string): string {
  const info = Deno.lstatSync(path);
  return `${info.dev}:${info.ino}`;
}

/** Whether `error` is an `AddrInUse` whose message names the Unix socket at `path`. */
function addrInUseAt(path: string): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(error instanceof Deno.errors.AddrInUse, String(error));
    assert.ok(error.message.includes(`unix:${path}`), error.message);
    return true;
  };
}

Deno.test("Unix socket: a socket file nobody listens on is replaced by the next server", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.sock`;
  {
    // Deno removes a socket's file when its listener closes; a second link to
    // it outlives the listener: a socket file nobody listens on, as a killed
    // server leaves.
    using listener = Deno.listen({ transport: "unix", path: `${dir.path}/dead.sock` });
    Deno.linkSync(listener.addr.path, path);
  }
  assert.ok(Deno.lstatSync(path).isSocket);
  await using _ = startUnixServer(path);
  await using client = await BufferedClient.connect("", 0, 16, { transport: "unix", path });
  await client.sendMessage("0123456789after a stale file");
  assert.deepEqual(await client.receiveMessage(), ["after a stale file", true]);
});

Deno.test("Unix socket: a second server on the path of a live one throws AddrInUse naming the path; the live one keeps its file and serves", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/live.sock`;
  await using _ = startUnixServer(path);
  const before = identity(path);
  assert.throws(
    () => new BufferedServer("", 0, 16, { transport: "unix", path, log: () => {} }),
    addrInUseAt(path),
  );
  assert.equal(identity(path), before);
  await using client = await BufferedClient.connect("", 0, 16, { transport: "unix", path });
  await client.sendMessage("0123456789still serving");
  assert.deepEqual(await client.receiveMessage(), ["still serving", true]);
});

Deno.test("Unix socket: a regular file at the path is left alone; the server throws AddrInUse naming the path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/regular.sock`;
  await Deno.writeTextFile(path, "not a socket");
  assert.throws(
    () => new BufferedServer("", 0, 16, { transport: "unix", path, log: () => {} }),
    addrInUseAt(path),
  );
  assert.equal(await Deno.readTextFile(path), "not a socket");
});

// --- AbortSignal -------------------------------------------------------------

Deno.test("AbortSignal: connect with an already-aborted signal rejects with its reason, opening nothing", async () => {
  // A listener that must never see a connection.
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const reason = new Error("given up before starting");
  const signal = AbortSignal.abort(reason);
  for (const tls of [undefined, { caCerts: [ca] }]) {
    await assert.rejects(
      BufferedClient.connect(HOST, listener.addr.port, 16, { signal, tls }),
      (error: unknown) => error === reason,
    );
  }
  // Had either opened a connection, the listener would accept it before this one.
  using probe = await Deno.connect({ hostname: HOST, port: listener.addr.port });
  using accepted = await listener.accept();
  assert.deepEqual(accepted.remoteAddr, probe.localAddr);
  // The resource sanitizer checks that nothing else was left open.
});

Deno.test("AbortSignal: receiveMessage with an already-aborted signal rejects and leaves the connection usable", async () => {
  await using s = startServer(16);
  await using client = await BufferedClient.connect(HOST, s.port, 16);
  await client.sendMessage("0123456789still here");
  const reason = new Error("not now");
  await assert.rejects(
    client.receiveMessage({ signal: AbortSignal.abort(reason) }),
    (error: unknown) => error === reason,
  );
  assert.equal(client.isOpen, true);
  assert.deepEqual(await client.receiveMessage(), ["still here", true]);
});

Deno.test("AbortSignal: an abort while Deno.startTls is pending rejects connect with the reason", async () => {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const controller = new AbortController();
  const reason = new Error("given up during startTls");
  const startTls = Deno.startTls;
  // Aborts right after connect() has handed its socket to Deno.startTls: a
  // window too short to hit by timing.
  Deno.startTls = (conn, options) => {
    const secured = startTls(conn, options);
    controller.abort(reason);
    return secured;
  };
  try {
    const connecting = BufferedClient.connect(HOST, listener.addr.port, 16, {
      signal: controller.signal,
      tls: { caCerts: [ca] },
    });
    const settled = connecting.then(
      () => "resolved",
      (error: unknown) => error === reason ? "reason" : error,
    );
    using accepted = await listener.accept();
    // A guard, not a synchronisation: connect() used to wait for the server's
    // answer to the handshake, which never comes.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      settled,
      new Promise((resolve) => timer = setTimeout(() => resolve("still pending"), 2000)),
    ]);
    clearTimeout(timer);
    if (outcome === "still pending") {
      accepted.close(); // the server hangs up: the handshake fails, connect settles
      await settled;
    }
    assert.equal(outcome, "reason");
  } finally {
    Deno.startTls = startTls;
  }
});

Deno.test("AbortSignal: aborting a pending receive rejects with the reason and closes the connection", async () => {
  await using s = startServer(16);
  await using client = await BufferedClient.connect(HOST, s.port, 16);
  await client.sendMessage("0123456789first");
  const controller = new AbortController();
  const reason = new Error("waited long enough");
  const first = client.receiveMessage();
  // Queued behind the first receive, this one starts reading as soon as the
  // first settles (its callback was registered before this test's await): by
  // the time the await below returns, it is waiting on the network, where
  // nothing more will come.
  const pending = client.receiveMessage({ signal: controller.signal });
  assert.deepEqual(await first, ["first", true]);
  controller.abort(reason);
  await assert.rejects(pending, (error: unknown) => error === reason);
  assert.equal(client.isOpen, false);
  assert.deepEqual(await client.receiveMessage(), ["", false]);
});

// --- Executables -------------------------------------------------------------

/** Exactly what Deno 2.9 needs to listen on or connect to a Unix socket at `path`. */
function unixPermissions(path: string): string[] {
  return [`--allow-net=unix:${path}`, `--allow-read=${path}`, `--allow-write=${path}`];
}

Deno.test("server --cert --key serves TLS; client --tls --ca prints the reply", async () => {
  const [server, address] = await spawnServer(
    [`--allow-net=${HOST}:0`, `--allow-read=${CERT_FILE},${KEY_FILE}`],
    ["--hostname", HOST, "--port", "0", "--cert", CERT_FILE, "--key", KEY_FILE],
  );
  await using _ = server;
  const match = address.match(/^127\.0\.0\.1:(\d+)$/);
  assert.ok(match, address);
  const port = Number(match[1]);
  {
    await using client = spawnDeno([
      `--allow-net=${HOST}:${port}`,
      `--allow-read=${CA_FILE}`,
      CLIENT,
      "--hostname",
      HOST,
      "--port",
      `${port}`,
      "--buffer-size",
      "16",
      "--tls",
      "--ca",
      CA_FILE,
      "0123456789over TLS",
      "0123456789é中😀 and a reply longer than sixteen bytes",
    ]);
    const outcome = await client.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, "over TLS\né中😀 and a reply longer than sixteen bytes\n");
    assert.equal(outcome.stderr, "");
  }
  // An in-process client, to be sure it is TLS indeed.
  {
    await using client = await BufferedClient.connect(HOST, port, 16, { tls: { caCerts: [ca] } });
    await client.sendMessage("0123456789in process");
    assert.deepEqual(await client.receiveMessage(), ["in process", true]);
  }
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
});

Deno.test("server --unix and client --unix talk over a Unix socket with exactly scoped permissions", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/exec.sock`;
  const [server, address] = await spawnServer(unixPermissions(path), ["--unix", path]);
  await using _ = server;
  assert.equal(address, path);
  {
    await using client = spawnDeno([
      ...unixPermissions(path),
      CLIENT,
      "--unix",
      path,
      "0123456789over a Unix socket",
      "0123456789é中😀",
    ]);
    const outcome = await client.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, "over a Unix socket\né中😀\n");
    assert.equal(outcome.stderr, "");
  }
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.ok(!exists(path), `${path} still exists`);
});

Deno.test("server --unix starts again on the path of a server killed with SIGKILL, and serves", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/restart.sock`;
  {
    const [killed] = await spawnServer(unixPermissions(path), ["--unix", path]);
    await using _ = killed;
    killed.child.kill("SIGKILL");
    assert.equal((await killed.finish()).signal, "SIGKILL");
  }
  assert.ok(Deno.lstatSync(path).isSocket, "SIGKILL left no socket file behind");
  const [server, address] = await spawnServer(unixPermissions(path), ["--unix", path]);
  await using _ = server;
  assert.equal(address, path);
  {
    await using client = await BufferedClient.connect("", 0, 16, { transport: "unix", path });
    await client.sendMessage("0123456789restarted");
    assert.deepEqual(await client.receiveMessage(), ["restarted", true]);
  }
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.ok(!exists(path), `${path} still exists`);
});

Deno.test("server --unix exits 1 naming the path while another server listens there, and leaves it serving", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/taken.sock`;
  const [first] = await spawnServer(unixPermissions(path), ["--unix", path]);
  await using _ = first;
  const before = identity(path);
  {
    await using second = spawnDeno([
      ...unixPermissions(path),
      modulePath("server.ts"),
      "--unix",
      path,
    ]);
    // A second server that did start would print its address, and be killed on disposal.
    assert.equal(await second.readLine(), null);
    const outcome = await second.finish();
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, /^error: AddrInUse: /);
    assert.ok(outcome.stderr.includes(`unix:${path}`), outcome.stderr);
  }
  assert.equal(identity(path), before);
  {
    await using client = await BufferedClient.connect("", 0, 16, { transport: "unix", path });
    await client.sendMessage("0123456789first still serving");
    assert.deepEqual(await client.receiveMessage(), ["first still serving", true]);
  }
  first.child.kill("SIGTERM");
  assert.equal((await first.finish()).code, 0);
});

// --- IPv6 addresses in messages ----------------------------------------------

/** Whether this machine has IPv6 loopback; the tests below are skipped without it. */
const hasIpv6 = ((): boolean => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();

/** A port on ::1 that nothing listens on: one the system just handed out and took back. */
function freeIpv6Port(): number {
  const listener = Deno.listen({ hostname: "::1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("IPv6: a refused connect to ::1 or [::1] names [::1]:PORT, bracketed once", {
  ignore: !hasIpv6,
}, async () => {
  const port = freeIpv6Port();
  for (const hostname of ["::1", "[::1]"]) {
    const error = await BufferedClient.connect(hostname, port, 16).then(
      () => assert.fail("connect should have rejected"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof Deno.errors.ConnectionRefused, String(error));
    assert.ok(error.message.includes(`[::1]:${port}`), error.message);
    assert.ok(!error.message.includes("[["), error.message);
  }
});

Deno.test("IPv6: a server on ::1 or [::1] whose port is taken names [::1]:PORT, bracketed once", {
  ignore: !hasIpv6,
}, () => {
  using taken = Deno.listen({ hostname: "::1", port: 0 });
  const { port } = taken.addr;
  for (const hostname of ["::1", "[::1]"]) {
    assert.throws(
      () => new BufferedServer(hostname, port, 16, { log: () => {} }),
      (error: unknown) => {
        assert.ok(error instanceof Deno.errors.AddrInUse, String(error));
        assert.ok(error.message.includes(`[::1]:${port}`), error.message);
        assert.ok(!error.message.includes("[["), error.message);
        return true;
      },
    );
  }
});

Deno.test("IPv6: client --hostname [::1] says the server at [::1]:PORT went away, bracketed once", {
  ignore: !hasIpv6,
}, async () => {
  // A fake server: reads the request and hangs up without a reply.
  using listener = Deno.listen({ hostname: "::1", port: 0 });
  const { port } = listener.addr;
  await using client = spawnDeno([
    `--allow-net=[::1]:${port}`,
    CLIENT,
    "--hostname",
    "[::1]",
    "--port",
    `${port}`,
    "0123456789hello",
  ]);
  {
    using conn = await listener.accept();
    assert.deepEqual(await readFrame(conn), frame("0123456789hello"));
  }
  const outcome = await client.finish();
  assert.equal(outcome.code, 1);
  assert.match(outcome.stderr, /^error: the server at \[::1\]:\d+ went away/);
  assert.ok(outcome.stderr.includes(`[::1]:${port}`), outcome.stderr);
  assert.ok(!outcome.stderr.includes("[["), outcome.stderr);
});
