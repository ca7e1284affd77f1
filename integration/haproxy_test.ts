// Copyright 2026 the buffered-framing authors. MIT license.
// The scale-out recipe, run for real: examples/haproxy.cfg (its addresses moved
// to free loopback ports) in front of two server.ts processes.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { expectedReply, guard } from "../tests/_faults.ts";
import {
  answeredPerConnection,
  freePort,
  HOST,
  modulePath,
  startServerProcess,
  type Subprocess,
} from "../tests/_helpers.ts";

const RECIPE = modulePath("examples/haproxy.cfg");
/** `haproxy` from PATH, unless HAPROXY names the executable (Debian: /usr/sbin/haproxy). */
const HAPROXY = Deno.env.get("HAPROXY") ?? "haproxy";
/** Bound on every wait: a hang fails the test, naming what it waited for, instead of stalling CI. */
const LIMIT_MS = 10_000;

/** A server.ts process and the port it listens on; disposing it kills it if still running. */
interface ServerProcess extends AsyncDisposable {
  subprocess: Subprocess;
  port: number;
}

/** Starts server.ts as the recipe does, but on port 0, and learns the port from its first line. */
async function startServer(): Promise<ServerProcess> {
  // --no-prompt and exactly one address (startServerProcess): any other access fails.
  const [subprocess, port] = await guard(
    startServerProcess({ flags: ["--max-connections", "1000"] }),
    "the server's first line",
    LIMIT_MS,
  );
  return {
    subprocess,
    port,
    async [Symbol.asyncDispose](): Promise<void> {
      await subprocess[Symbol.asyncDispose]();
    },
  };
}

/**
 * Stops a server with SIGTERM and returns, from its log, the frames answered
 * on each connection it closed, in order.
 */
async function stopServer(server: ServerProcess, context: string): Promise<number[]> {
  server.subprocess.child.kill("SIGTERM");
  const outcome = await guard(server.subprocess.finish(), "a server to stop", LIMIT_MS);
  assert.equal(outcome.code, 0, `${outcome.stderr}\n${context}`);
  return answeredPerConnection(outcome.stderr);
}

function sum(numbers: number[]): number {
  return numbers.reduce((total, n) => total + n, 0);
}

function ascending(numbers: number[]): number[] {
  return [...numbers].sort((x, y) => x - y);
}

/**
 * The recipe with its three addresses moved: the frontend to 127.0.0.1:`port`
 * (loopback only), servers s1 and s2 to `backends`. Nothing else changes, so
 * what runs here is the file users copy; if its addresses change, this fails
 * instead of quietly testing something else.
 */
function rewriteRecipe(recipe: string, port: number, backends: readonly [number, number]): string {
  const found: string[] = [];
  const lines = recipe.split("\n").map((line) => {
    const bind = line.match(/^(\s*bind )0\.0\.0\.0:4567\s*$/);
    if (bind) {
      found.push("bind");
      return `${bind[1]}${HOST}:${port}`;
    }
    const server = line.match(/^(\s*server \S+ )127\.0\.0\.1:(4568|4569)\s*$/);
    if (server) {
      found.push(server[2]);
      return `${server[1]}${HOST}:${backends[server[2] === "4568" ? 0 : 1]}`;
    }
    return line;
  });
  assert.deepEqual(found, ["bind", "4568", "4569"], "the recipe's addresses, once each");
  return lines.join("\n");
}

/** HAProxy running the recipe, as this process's child. */
interface Haproxy extends AsyncDisposable {
  /** The frontend's port on 127.0.0.1. */
  port: number;
  /** Stops HAProxy; resolves, once it and its worker have exited, with everything it printed. */
  stop(): Promise<string>;
}

/** Starts HAProxy on a copy of the recipe that sends clients to the servers on `backends`. */
async function startHaproxy(backends: readonly [number, number]): Promise<Haproxy> {
  const recipe = await Deno.readTextFile(RECIPE);
  const dir = await Deno.makeTempDir({ prefix: "framing-haproxy-" });
  try {
    // The free port can be taken by someone else before HAProxy binds it: one retry.
    for (let attempt = 1;; attempt++) {
      const port = freePort();
      const config = `${dir}/haproxy.cfg`;
      await Deno.writeTextFile(config, rewriteRecipe(recipe, port, backends));
      const started = await launchHaproxy(config);
      if (typeof started !== "string") {
        return {
          port,
          stop: started,
          async [Symbol.asyncDispose](): Promise<void> {
            await started();
          },
        };
      }
      if (attempt === 1 && started.includes("cannot bind socket")) continue;
      throw new Error(`HAProxy did not start:\n${started}`);
    }
  } finally {
    // HAProxy reads its configuration once, at startup (again only on a reload).
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `haproxy -W -f config` in the foreground and resolves once it is
 * listening, with the function that stops it; or, if it exits first, with
 * what it printed.
 *
 * Readiness without sleeping or polling: in master-worker mode (-W) the master
 * calls bind() and listen() for every address, then forks the worker, then
 * prints "Loading success." (seen with strace on HAProxy 2.6). From that line
 * on, a connection to the frontend succeeds: the kernel queues it until the
 * worker accepts. A bind failure makes the master exit with an ALERT instead.
 *
 * Cleanup: the master is this process's own child, and on SIGTERM it stops
 * the worker and exits only after reaping it, so awaiting the master's status
 * leaves no process behind (and a worker whose master dies exits too).
 */
async function launchHaproxy(config: string): Promise<(() => Promise<string>) | string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(HAPROXY, {
      args: ["-W", "-f", config],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      `${HAPROXY} not found: install HAProxy (apt-get install haproxy) or set HAPROXY to its path`,
    );
  }
  // The recipe logs one line per connection to standard output: read it all, so HAProxy never blocks.
  const stdout = new Response(child.stdout).text();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let errors = "";
  /** Reads standard error until `enough` says so or it ends; resolves with whether it ended. */
  async function readErrors(enough: () => boolean): Promise<boolean> {
    while (!enough()) {
      const { value, done } = await stderr.read();
      if (done) return true;
      errors += value;
    }
    return false;
  }

  let stopping: Promise<string> | undefined;
  function stop(): Promise<string> {
    stopping ??= (async (): Promise<string> => {
      try {
        child.kill("SIGTERM");
      } catch {
        // It has exited already.
      }
      try {
        await guard(child.status, "HAProxy to exit after SIGTERM", LIMIT_MS);
      } catch (error) {
        try {
          child.kill("SIGKILL");
        } catch {
          // It exited in the meantime.
        }
        await child.status;
        throw error;
      } finally {
        await readErrors(() => false);
      }
      return `${errors}${await stdout}`;
    })();
    return stopping;
  }

  try {
    const ended = await guard(
      readErrors(() => /^\[NOTICE\].*: Loading success\.$/m.test(errors)),
      `"Loading success." from HAProxy`,
      LIMIT_MS,
    );
    if (!ended) return stop;
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return await stop();
}

/** Connects `count` clients to `port`, all open at once; on a failure, closes those that opened. */
async function connectClients(port: number, count: number): Promise<BufferedClient[]> {
  const attempts = await Promise.allSettled(
    Array.from(
      { length: count },
      () => BufferedClient.connect(HOST, port, 1024, { receiveTimeout: LIMIT_MS }),
    ),
  );
  const clients = attempts.flatMap((a) => a.status === "fulfilled" ? [a.value] : []);
  const failed = attempts.find((a) => a.status === "rejected");
  if (failed !== undefined) {
    for (const client of clients) client.shutdown();
    throw failed.reason;
  }
  return clients;
}

/** Sends `message` and asserts its exact reply. */
async function roundTrip(client: BufferedClient, message: string): Promise<void> {
  await client.sendMessage(message);
  assert.deepEqual(await client.receiveMessage(), [expectedReply(message), true], message);
}

/** Larger than HAProxy's 16 KiB buffers, so that it forwards the frame in pieces. */
const LARGE = "0123456789" + "through HAProxy, in pieces: é中😀 ".repeat(2_000);

/**
 * One client's conversation: requests in series, then pipelined (all sent
 * before the first reply is read), every reply checked. Returns the number of
 * frames sent.
 */
async function converse(client: BufferedClient, name: string): Promise<number> {
  for (let i = 0; i < 3; i++) await roundTrip(client, `0123456789${name}, in series ${i}: é中😀`);
  const pipelined = [`0123456789${name}, pipelined`, "", "short", LARGE + name, "0123456789末尾😀"];
  for (const message of pipelined) await client.sendMessage(message);
  for (const message of pipelined) {
    assert.deepEqual(await client.receiveMessage(), [expectedReply(message), true], name);
  }
  return 3 + pipelined.length;
}

Deno.test("HAProxy spreads 20 clients over two server processes, every reply exact", async () => {
  await using a = await startServer();
  await using b = await startServer();
  await using haproxy = await startHaproxy([a.port, b.port]);

  // All open at once: leastconn balances open connections, so 10 go to each server.
  const clients = await connectClients(haproxy.port, 20);
  let sent: number[];
  try {
    sent = await guard(
      Promise.all(clients.map((client, i) => converse(client, `client ${i}`))),
      "20 conversations through HAProxy",
      LIMIT_MS,
    );
  } finally {
    for (const client of clients) client.shutdown();
  }

  const output = await haproxy.stop();
  const context = `HAProxy printed:\n${output}`;
  const servedA = await stopServer(a, context);
  const servedB = await stopServer(b, context);
  // Each client's connection shows up on exactly one server, with all its
  // frames. Connections that answered nothing are not clients' (HAProxy's
  // checks, should they ever reach the server: today they are reset first).
  const clientConnections = (served: number[]): number[] => served.filter((n) => n > 0);
  assert.ok(sum(servedA) > 0, `server A answered nothing: ${servedA}\n${context}`);
  assert.ok(sum(servedB) > 0, `server B answered nothing: ${servedB}\n${context}`);
  assert.equal(sum(servedA) + sum(servedB), sum(sent), context);
  assert.deepEqual(
    ascending([...clientConnections(servedA), ...clientConnections(servedB)]),
    ascending(sent),
    `frames answered per client connection\n${context}`,
  );
  assert.deepEqual(
    [clientConnections(servedA).length, clientConnections(servedB).length],
    [10, 10],
    `client connections per server (leastconn)\n${context}`,
  );
});

Deno.test("with one server killed, HAProxy sends new clients to the other", async () => {
  await using a = await startServer();
  await using b = await startServer();
  await using haproxy = await startHaproxy([a.port, b.port]);

  // Two clients open at once: leastconn puts one on each server.
  const old = await connectClients(haproxy.port, 2);
  try {
    for (const [i, client] of old.entries()) await roundTrip(client, `0123456789old ${i}, before`);

    // A crash, not a stop: its connections die and its port refuses new ones.
    a.subprocess.child.kill("SIGKILL");
    assert.equal(
      (await guard(a.subprocess.finish(), "server A to die", LIMIT_MS)).signal,
      "SIGKILL",
    );

    // The client that was on A has lost its connection; the one on B has not.
    const after = await guard(
      Promise.all(old.map(async (client) => {
        await client.sendMessage("0123456789old, after");
        return await client.receiveMessage();
      })),
      "the two old clients' replies",
      LIMIT_MS,
    );
    assert.deepEqual(
      after.map(([text, ok]) => ok ? text : "cut").sort(),
      ["cut", "old, after"],
      "one old client cut, one still served",
    );

    // HAProxy may still count A as up (its checks run every 2 s): leastconn then
    // picks A first, A refuses, and redispatch retries on B at once.
    const fresh = await connectClients(haproxy.port, 10);
    try {
      await guard(
        Promise.all(fresh.map(async (client, i) => {
          await roundTrip(client, `0123456789new ${i}, first`);
          await client.sendMessage(`0123456789new ${i}, second`);
          await client.sendMessage(`0123456789new ${i}, third`);
          assert.deepEqual(await client.receiveMessage(), [`new ${i}, second`, true]);
          assert.deepEqual(await client.receiveMessage(), [`new ${i}, third`, true]);
        })),
        "10 new clients through HAProxy with server A dead",
        LIMIT_MS,
      );
    } finally {
      for (const client of fresh) client.shutdown();
    }
  } finally {
    for (const client of old) client.shutdown();
  }

  const output = await haproxy.stop();
  const context = `HAProxy printed:\n${output}`;
  const servedB = await stopServer(b, context);
  // B answered the surviving old client twice and every frame of the 10 new ones.
  assert.deepEqual(
    ascending(servedB.filter((n) => n > 0)),
    [2, ...Array<number>(10).fill(3)],
    `frames per connection on server B\n${context}`,
  );
});
