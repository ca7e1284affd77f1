// Copyright 2026 the buffered-framing authors. MIT license.
// What the benchmark drivers (clients.ts, fairness.ts, load.ts) share: waits,
// this process's CPU time, and percentiles of histograms and sorted samples.

import process from "node:process";

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU seconds (user + system) this process has used. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * The value below which a fraction `p` of the `total` recorded samples fall,
 * in a histogram whose bucket `b` counts the samples of value `valueOf(b)`
 * (by default the bucket's index: 1 µs buckets); `NaN` when it holds fewer.
 */
export function histogramPercentile(
  histogram: Uint32Array,
  total: number,
  p: number,
  valueOf: (bucket: number) => number = (bucket) => bucket,
): number {
  const rank = Math.floor(total * p);
  let seen = 0;
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    seen += histogram[bucket];
    if (seen > rank) return valueOf(bucket);
  }
  return NaN;
}

/** Nearest-rank percentile of the ascending `sorted`. */
export function sortedPercentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(0, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.min(rank, sorted.length - 1)];
}
