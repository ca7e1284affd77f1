// Copyright 2026 the buffered-framing authors. MIT license.
// serve(): binding, onListen, stopping by shutdown() or signal, the
// shutdownTimeout, and the addresses of the returned server. Handlers in
// flight are held by promises the test settles; a stop is observed through
// the socket (end of stream) and the server's promises, never by timing.

import assert from "node:assert/strict";
import { type FrameHandler, serve, type ServeOptions } from "../serve.ts";
import { connectRaw, frame, guard, HOST, peerOf, writeAllTo } from "./_faults.ts";
import { readFrame } from "./_helpers.ts";
import { decoder, expectEnd, expectReply, send, serveOn, Watch } from "./_serve.ts";

/** Long enough never to be what ends a test: a stop is then the peer's close, or the test's. */
const PATIENT = { lingerTimeout: 60_000, shutdownTimeout: 60_000 } as const;

function echo(payload: Uint8Array): Uint8Array {
  return payload;
}

/**
 * Asserts that nothing accepts connections on `port` any more. Right after
 * the listener closes, Deno may still hold its socket for the accept that was
 * pending (a plain `Deno.listen` does the same), and the kernel then answers
 * with a reset rather than a refusal: either says nobody is listening.
 */
async function assertNotListening(port: number): Promise<void> {
  await assert.rejects(
    Deno.connect({ hostname: HOST, port }),
    (error: unknown) =>
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.ConnectionReset,
  );
}

Deno.test("shutdown() sends the replies of handlers in flight, in request order, before the end of stream", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, watch.hold, PATIENT);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "a", "b", "c");
  await watch.untilHeld(3, peerOf(conn));
  assert.equal(watch.held.length, 3, "held calls");
  const stopping = server.shutdown();
  const [a, b, c] = watch.held;
  c.resolve("C");
  b.resolve("B");
  a.resolve("A");
  await expectReply(conn, "A");
  await expectReply(conn, "B");
  await expectReply(conn, "C");
  await expectEnd(conn);
  conn.close();
  await guard(stopping, "shutdown() to resolve");
  assert.match(watch.lines.join("\n"), /disconnected: server stopping \(3 frames answered\)/);
});

Deno.test("shutdown() resolves once the connection is closed, with finished already resolved", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, echo, PATIENT);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "x");
  await expectReply(conn, "x");
  let finished = false;
  let stopped = false;
  server.finished.then(() => finished = true);
  const stopping = server.shutdown();
  stopping.then(() => stopped = true);
  await expectEnd(conn);
  // The server lingers (for 60 s) until its peer closes: it cannot have finished yet.
  assert.equal(stopped, false, "shutdown() resolved before the peer closed");
  assert.equal(finished, false, "finished resolved before the peer closed");
  conn.close();
  await guard(stopping, "shutdown() to resolve");
  assert.equal(finished, true, "finished had resolved by the time shutdown() did");
});

Deno.test("after shutdown(), no new client is accepted while open connections finish", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, watch.hold, PATIENT);
  const { port } = server.addr;
  using conn = await connectRaw(port);
  await send(conn, "pending");
  await watch.untilHeld(1, peerOf(conn));
  assert.equal(watch.held.length, 1, "held calls");
  const stopping = server.shutdown();
  await assertNotListening(port);
  watch.held[0].resolve("done");
  await expectReply(conn, "done", "the reply of the handler in flight");
  await expectEnd(conn);
  conn.close();
  await guard(stopping, "shutdown() to resolve");
});

Deno.test("shutdown() again, and disposing a stopped server, do nothing more", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, echo);
  await guard(server.shutdown(), "the first shutdown()");
  await guard(server.shutdown(), "the second shutdown()");
  await guard(Promise.resolve(server[Symbol.asyncDispose]()), "disposal after shutdown()");
});

Deno.test("aborting the signal stops the server gracefully", async () => {
  const watch = new Watch();
  const controller = new AbortController();
  await using server = serveOn(watch, echo, { ...PATIENT, signal: controller.signal });
  const { port } = server.addr;
  using conn = await connectRaw(port);
  await send(conn, "x");
  await expectReply(conn, "x");
  controller.abort();
  await expectEnd(conn);
  conn.close();
  await guard(server.finished, "the server to finish after the abort");
  assert.match(watch.lines.join("\n"), /disconnected: server stopping \(1 frame answered\)/);
  await assertNotListening(port);
});

Deno.test("an already aborted signal stops the server at once, accepting nothing", async () => {
  const watch = new Watch();
  let calls = 0;
  await using server = serveOn(watch, () => {
    calls++;
    return null;
  }, { signal: AbortSignal.abort() });
  const { port } = server.addr;
  await guard(server.finished, "the server to finish");
  await assertNotListening(port);
  assert.equal(server.stats().accepted, 0);
  assert.equal(calls, 0);
});

Deno.test("onListen is called once with the bound address", async () => {
  const watch = new Watch();
  const seen: Deno.Addr[] = [];
  await using server = serveOn(watch, echo, { onListen: (addr) => seen.push(addr) });
  assert.deepEqual(seen, [server.addr]);
  assert.equal(server.addr.hostname, HOST);
  assert.notEqual(server.addr.port, 0, "port 0 resolved to the one bound");
});

Deno.test("after shutdownTimeout, a handler that never settles is abandoned and its reply dropped with a log line", async () => {
  const watch = new Watch();
  // "hang" is held and never settled.
  const never: FrameHandler = (payload, info) =>
    decoder.decode(payload) === "hang" ? watch.hold(payload, info) : payload;
  await using server = serveOn(watch, never, { shutdownTimeout: 200 });
  using conn = await connectRaw(server.addr.port);
  const peer = peerOf(conn);
  await send(conn, "before", "hang");
  await expectReply(conn, "before");
  await watch.untilHeld(1, peer);
  assert.equal(watch.held.length, 1, "held calls");
  await guard(server.shutdown(), "shutdown() to give up on the handler");
  await expectEnd(conn);
  const dropped = watch.lines.filter((line) => line.includes("its reply is dropped"));
  assert.deepEqual(dropped, [
    `${peer}: handler still pending when server stopping: shutdownTimeout of 200 ms reached: its reply is dropped`,
  ], watch.lines.join("\n"));
  assert.equal(watch.recorder.disconnects(peer).length, 1, watch.lines.join("\n"));
});

Deno.test("serve() throws AddrInUse, naming the address, when the port is taken", async () => {
  const watch = new Watch();
  await using first = serveOn(watch, echo);
  const { port } = first.addr;
  assert.throws(
    () => serve({ hostname: HOST, port, log: watch.log }, echo),
    (error: unknown) =>
      error instanceof Deno.errors.AddrInUse && error.message.includes(`${HOST}:${port}`),
  );
});

Deno.test("serve() throws a TypeError for a handler that is not a function", () => {
  assert.throws(
    () => serve({ hostname: HOST, port: 0, log: () => {} }, "echo" as unknown as FrameHandler),
    TypeError,
  );
});

Deno.test("serve() throws a RangeError naming an option out of range, and binds nothing", () => {
  const cases: [string, Partial<ServeOptions>][] = [
    ["port", { port: 65536 }],
    ["bufferSize", { bufferSize: 0 }],
    ["maxFrameSize", { maxFrameSize: -1 }],
    ["maxConnections", { maxConnections: 0 }],
    ["maxInFlight", { maxInFlight: 0 }],
    ["idleTimeout", { idleTimeout: -1 }],
    ["shutdownTimeout", { shutdownTimeout: 1.5 }],
  ];
  for (const [name, options] of cases) {
    assert.throws(
      () => serve({ hostname: HOST, port: 0, log: () => {}, ...options }, echo),
      (error: unknown) => error instanceof RangeError && error.message.includes(name),
      name,
    );
  }
});

Deno.test("a Unix socket server has no addr but a localAddr with its path, and numbers its clients", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/serve.sock`;
  try {
    const watch = new Watch();
    await using server = serve(
      { transport: "unix", path, log: watch.log },
      (_payload, info) => `${info.id} ${info.peer}`,
    );
    assert.throws(() => server.addr, TypeError);
    assert.deepEqual(server.localAddr, { transport: "unix", path });
    using conn = await Deno.connect({ transport: "unix", path });
    await writeAllTo(conn, frame("?"));
    assert.deepEqual(await guard(readFrame(conn), "the reply"), frame(`1 ${path} client 1`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
