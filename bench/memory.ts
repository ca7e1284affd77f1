#!/usr/bin/env -S deno run --allow-net=127.0.0.1 --allow-run
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Measures the server executable's resident memory (VmRSS) with many idle
 * connections, and against peers that declare huge frames, to show that
 * memory is bounded by configuration and not by what peers send.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-run bench/memory.ts --connections 1000 --buffer-size 65536
 * ```
 *
 * Each idle connection first completes one exchange (so its buffers are
 * really in use), then stays open and silent.
 *
 * @module
 */

import { integerFlag, parseCommandLine, runMain } from "../_cli.ts";
import { encodeFrame, FrameReader, writeAll } from "../framing.ts";

const USAGE = `Usage: deno run --allow-net=127.0.0.1 --allow-run bench/memory.ts [options]

Options:
  --connections N    idle connections to open (default: 1000)
  --buffer-size N    the server's receive buffer (default: 65536)
  --huge-peers N     peers that declare a maximal frame and send part of it (default: 10)`;

const SERVER = new URL("../server.ts", import.meta.url).pathname;

/** Resident memory of `pid` in KiB, from `ps` (Deno reads /proc/<pid> only with --allow-all). */
async function rssKiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  const rss = Number(new TextDecoder().decode(stdout).trim());
  if (!Number.isFinite(rss) || rss === 0) throw new Error(`No RSS for process ${pid}`);
  return rss;
}

async function settle(pid: number): Promise<number> {
  // Let the server finish reacting, then take the lowest of a few samples.
  let lowest = Infinity;
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    lowest = Math.min(lowest, await rssKiB(pid));
  }
  return lowest;
}

async function exchange(conn: Deno.TcpConn, reader: FrameReader): Promise<void> {
  await writeAll(conn, encodeFrame("0123456789 idle connection"));
  const reply = await reader.read();
  if (reply === null) throw new Error("Server closed a connection during the exchange");
}

async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    connections: { type: "string" },
    "buffer-size": { type: "string" },
    "huge-peers": { type: "string" },
    help: { type: "boolean", short: "h" },
  }, false);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = integerFlag(values, "connections", 1000, 1);
  const bufferSize = integerFlag(values, "buffer-size", 65536, 1);
  const hugePeers = integerFlag(values, "huge-peers", 10, 0);

  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1:0",
      SERVER,
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
      "--buffer-size",
      String(bufferSize),
      "--max-connections",
      String(count + hugePeers + 10),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = (await lines.read()).value ?? "";
  const port = Number(first.match(/:(\d+)\s*$/m)?.[1]);
  const conns: Deno.TcpConn[] = [];
  try {
    // Warm the server up with one connection so the baseline includes its JIT.
    {
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const reader = new FrameReader(conn);
      for (let i = 0; i < 1000; i++) await exchange(conn, reader);
    }
    const baseline = await settle(server.pid);

    for (let i = 0; i < count; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await exchange(conn, new FrameReader(conn));
    }
    const idle = await settle(server.pid);
    const perConnection = (idle - baseline) / count;

    // A peer declaring 4 GiB is refused before any allocation.
    {
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(conn, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
      const reply = await new FrameReader(conn).read().catch(() => null);
      if (reply !== null) throw new Error("A 4 GiB header was answered");
    }
    const afterHuge = await settle(server.pid);

    // Peers that declare the largest allowed frame (16 MiB) and send 64 KiB of it.
    const hugeConns: Deno.TcpConn[] = [];
    for (let i = 0; i < hugePeers; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      hugeConns.push(conn);
      const header = new Uint8Array([0x01, 0x00, 0x00, 0x00]);
      await writeAll(conn, header);
      await writeAll(conn, new Uint8Array(64 * 1024).fill(0x61));
    }
    const withHuge = await settle(server.pid);
    for (const conn of hugeConns) conn.close();

    const report = [
      `server RSS, buffer ${bufferSize} B: baseline ${baseline} KiB`,
      `${count} idle connections (one exchange each): ${idle} KiB, ` +
      `${perConnection.toFixed(1)} KiB per connection`,
      `after a peer declared 0xFFFFFFFF bytes (refused): ${afterHuge} KiB`,
      `${hugePeers} peers each declaring 16 MiB and sending 64 KiB of it: ${withHuge} KiB ` +
      `(+${((withHuge - afterHuge) / Math.max(1, hugePeers)).toFixed(0)} KiB each)`,
    ];
    console.log(report.join("\n"));
  } finally {
    for (const conn of conns) conn.close();
    server.kill("SIGTERM");
    await lines.cancel();
    await server.status;
  }
  return 0;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args), USAGE);
}
