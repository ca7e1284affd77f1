// Copyright 2026 the buffered-framing authors. MIT license.
// Instrumentation shared by the bench/scale prototypes: per-connection service
// counts, per-connection worst gap between two services (server side), and
// the read-completion order as "runs" (how many completions in a row came
// from the same connection) and "turns" (completions between two event-loop
// macrotasks, detected with a self-rearming setTimeout(0)).
//
// Enabled with SCALE_STATS=FILE (the summary is written there as JSON on
// SIGTERM/SIGINT); otherwise every hook is a no-op.

let FILE: string | undefined;
try {
  FILE = Deno.env.get("SCALE_STATS");
} catch {
  FILE = undefined; // no --allow-env: no statistics
}

/** Statistics restart this long after the first frame (loadgen's warm-up is 2 s). */
const RESET_MS = 2500;

export const enabled = FILE !== undefined && FILE !== "";

const served: number[] = []; // frames served per connection id
const lastAt: number[] = [];
const worstGap: number[] = [];
let lastConn = -1;
let run = 0;
const runs: number[] = []; // histogram of run lengths (capped at 1000)
let turnCompletions = 0;
const turns: number[] = []; // completions per macrotask turn (histogram, capped at 100000)
let macro = 0;
let issuedMacro: number[] = [];
let sameTurn = 0; // reads that completed in the same macrotask turn as they were issued
let completions = 0;
let started = 0;

function bump(h: number[], v: number, cap: number): void {
  const k = Math.min(v, cap);
  h[k] = (h[k] ?? 0) + 1;
}

if (enabled) {
  const tick = (): void => {
    macro++;
    if (turnCompletions > 0) bump(turns, turnCompletions, 100000);
    turnCompletions = 0;
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const dump = (): void => {
    if (run > 0) bump(runs, run, 1000);
    const counts = served.filter((c) => c !== undefined).sort((a, b) => a - b);
    const gaps = worstGap.filter((g) => g !== undefined).sort((a, b) => a - b);
    const q = (a: number[], p: number): number =>
      a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN;
    const total = counts.reduce((s, c) => s + c, 0);
    const summary = {
      conns: counts.length,
      frames: total,
      served: {
        min: q(counts, 0),
        p1: q(counts, 0.01),
        p10: q(counts, 0.1),
        p50: q(counts, 0.5),
        p90: q(counts, 0.9),
        p99: q(counts, 0.99),
        max: q(counts, 1),
      },
      // share of frames served to the busiest 10% of connections
      top10share: total
        ? counts.slice(Math.floor(counts.length * 0.9)).reduce((s, c) => s + c, 0) / total
        : NaN,
      worstGapMs: { p50: q(gaps, 0.5), p99: q(gaps, 0.99), p999: q(gaps, 0.999), max: q(gaps, 1) },
      completions,
      sameTurnShare: completions ? sameTurn / completions : NaN,
      macroTurns: macro,
      completionsPerTurn: histSummary(turns),
      sameConnRuns: histSummary(runs),
      // op waits: share of ops above 1 ms, 16 ms, 128 ms, 1 s
      opWaits: Object.fromEntries(
        Object.entries(waitHist).map(([k, h]) => {
          let n = 0;
          const above = [0, 0, 0, 0];
          h.forEach((c, b) => {
            if (!c) return;
            n += c;
            [10, 14, 17, 20].forEach((t, i) => {
              if (b > t) above[i] += c;
            });
          });
          return [k, {
            n,
            over1ms: above[0] / n,
            over16ms: above[1] / n,
            over128ms: above[2] / n,
            over1s: above[3] / n,
          }];
        }),
      ),
      secs: (performance.now() - started) / 1000,
      // mean frames served per connection, by accept-order decile
      byIdDecile: Array.from({ length: 10 }, (_, d) => {
        const lo = Math.floor(served.length * d / 10),
          hi = Math.floor(served.length * (d + 1) / 10);
        let s = 0;
        for (let i = lo; i < hi; i++) s += served[i] ?? 0;
        return Math.round(s / Math.max(1, hi - lo));
      }),
    };
    Deno.writeTextFileSync(FILE as string, JSON.stringify(summary) + "\n");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", dump);
  Deno.addSignalListener("SIGINT", dump);
}

function histSummary(h: number[]): Record<string, number> {
  let n = 0, sum = 0, max = 0;
  h.forEach((c, v) => {
    if (c) {
      n += c;
      sum += c * v;
      max = v;
    }
  });
  // weighted by items: the turn/run length the average completion sits in
  let w = 0;
  h.forEach((c, v) => {
    if (c) w += c * v * v;
  });
  return { count: n, mean: n ? sum / n : 0, max, meanSeenByItem: sum ? w / sum : 0 };
}

/** A read is about to be issued on connection `id`. */
export function issue(id: number): void {
  if (!enabled) return;
  issuedMacro[id] = macro;
}

/** Connection `id` got data and served `frames` frames. */
export function complete(id: number, frames: number): void {
  if (!enabled) return;
  if (started === 0) {
    started = performance.now();
    resetAfter(RESET_MS);
  }
  completions++;
  turnCompletions++;
  if (issuedMacro[id] === macro) sameTurn++;
  if (id === lastConn) run++;
  else {
    if (run > 0) bump(runs, run, 1000);
    run = 1;
    lastConn = id;
  }
  served[id] = (served[id] ?? 0) + frames;
  const now = performance.now();
  const prev = lastAt[id];
  if (prev !== undefined) {
    const g = now - prev;
    if (!(worstGap[id] >= g)) worstGap[id] = g;
  }
  lastAt[id] = now;
}

const waitHist: Record<string, number[]> = { read: [], write: [] };
/** Records how long one read or write op took from issue to completion (log2 µs buckets). */
export function opWait(kind: "read" | "write", ms: number): void {
  if (!enabled) return;
  const b = Math.max(0, Math.ceil(Math.log2(Math.max(1, ms * 1000))));
  bump(waitHist[kind], b, 40);
}

/** Forget the warm-up: called once after `ms`. */
export function resetAfter(ms: number): void {
  if (!enabled) return;
  setTimeout(() => {
    for (const k of Object.keys(served)) served[+k] = 0;
    worstGap.length = 0;
    runs.length = 0;
    waitHist.read.length = 0;
    waitHist.write.length = 0;
    turns.length = 0;
    completions = sameTurn = 0;
    macro = 0;
    issuedMacro = [];
    started = performance.now();
  }, ms);
}

// ---------------------------------------------------------------- the protocol

/** Byte offset after the first 10 code points of buffer[start, end) (valid UTF-8 assumed). */
export function skip10(buffer: Uint8Array, start: number, end: number): number {
  let chars = 0;
  for (let i = start; i < end; i++) {
    if ((buffer[i] & 0xc0) !== 0x80) {
      if (chars === 10) return i;
      chars++;
    }
  }
  return end;
}

/** Parses flags of the form --name value. */
export function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}
