// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * A minimal reproduction of why `writeTimeout` cannot see a slow reader's
 * progress finely on Deno 2.9 (issue 9, item 4): plain `Deno.Conn`s, no
 * framing. One side writes 4 MiB in a loop of `conn.write` calls; the other
 * reads 16 KiB every 20 ms (about 0.8 MB/s). It prints when each write call
 * completed and how much it took: once the kernel's send buffer is full, a
 * write resumes only after about a third of it has drained, so completions
 * come in steps of over a megabyte, more than a second apart.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/write_progress.ts
 * ```
 *
 * Reading the send queue instead (`/proc/net/tcp`) needs `--allow-all` on
 * Deno 2.9: `deno run --allow-read bench/write_progress.ts --proc` shows the
 * error.
 *
 * @module
 */

if (Deno.args.includes("--proc")) {
  try {
    Deno.readTextFileSync("/proc/net/tcp");
    console.log("/proc/net/tcp is readable");
  } catch (error) {
    console.log(`reading /proc/net/tcp: ${error}`);
  }
  Deno.exit(0);
}

const SIZE = 4 * 1024 * 1024;
using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const reader = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
using writer = await listener.accept();

const start = performance.now();
const reading = (async (): Promise<void> => {
  const buffer = new Uint8Array(16 * 1024);
  let total = 0;
  while (total < SIZE) {
    const n = await reader.read(buffer);
    if (n === null) break;
    total += n;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  reader.close();
})();

const reply = new Uint8Array(SIZE);
let written = 0;
let last = start;
while (written < SIZE) {
  const n = await writer.write(reply.subarray(written));
  const now = performance.now();
  written += n;
  console.log(
    `write took ${String(n).padStart(8)} bytes at ${(now - start).toFixed(0).padStart(5)} ms ` +
      `(${(now - last).toFixed(0)} ms after the previous one)`,
  );
  last = now;
}
await reading;
