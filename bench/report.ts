#!/usr/bin/env -S deno run --allow-read --allow-write
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Turns the JSON lines of a protocol benchmark run (one `row` object per
 * peer, scenario and run, as the C load generator's harness writes them) into
 * a Markdown table of medians with our ratios against the targets, and an SVG
 * chart.
 *
 * ```sh
 * deno run --allow-read --allow-write bench/report.ts bench/results/2026-11-25.jsonl bench/results/2026-11-25.svg
 * ```
 *
 * @module
 */

interface Row {
  kind: "row";
  run: number;
  peer: string;
  scenario: string;
  status: string;
  peer_cpu: number;
  result?: {
    frames: number;
    frames_per_s: number;
    payload_MB_per_s: number;
    p50_us: number;
    p99_us: number;
    seconds: number;
    errors: number;
  };
}

const SCENARIOS: Record<string, string> = {
  S1: "S1 ping-pong, 32 B",
  S2: "S2 window 64, 32 B",
  S3: "S3 window 4, 1 MiB",
  S4: "S4 100 conns, 64 B",
  S5: "S5 window 1024, 32 B",
};
const OURS = "deno";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Cell {
  rate: number; // frames/s, or MB/s for S3
  p50: number;
  cpuPerFrame: number; // µs
  runs: number;
}

function cells(rows: Row[]): Map<string, Map<string, Cell>> {
  const grouped = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.status !== "ok" || row.result === undefined) continue;
    const key = `${row.peer}\u0000${row.scenario}`;
    grouped.set(key, [...(grouped.get(key) ?? []), row]);
  }
  const table = new Map<string, Map<string, Cell>>();
  for (const [key, group] of grouped) {
    const [peer, scenario] = key.split("\u0000");
    const results = group.map((r) => r.result as NonNullable<Row["result"]>);
    const cell: Cell = {
      rate: median(
        results.map((r) => scenario === "S3" ? r.payload_MB_per_s : r.frames_per_s),
      ),
      p50: median(results.map((r) => r.p50_us)),
      cpuPerFrame: median(group.map((r) => {
        const res = r.result as NonNullable<Row["result"]>;
        return r.peer_cpu * res.seconds * 1e6 / Math.max(1, res.frames);
      })),
      runs: group.length,
    };
    if (!table.has(peer)) table.set(peer, new Map());
    table.get(peer)?.set(scenario, cell);
  }
  return table;
}

function format(value: number): string {
  if (value >= 100_000) return `${(value / 1000).toFixed(0)} k`;
  if (value >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  return value.toFixed(value >= 10 ? 0 : 1);
}

function markdown(table: Map<string, Map<string, Cell>>): string {
  const peers = [...table.keys()];
  const lines = [
    `| peer | ${Object.values(SCENARIOS).join(" | ")} |`,
    `|---|${Object.keys(SCENARIOS).map(() => "---").join("|")}|`,
  ];
  for (const peer of peers) {
    const row = Object.keys(SCENARIOS).map((s) => {
      const c = table.get(peer)?.get(s);
      if (c === undefined) return "—";
      const unit = s === "S3" ? "MB/s" : "frames/s";
      return `${format(c.rate)} ${unit} · p50 ${format(c.p50)} µs · ${
        c.cpuPerFrame.toFixed(2)
      } µs CPU/frame`;
    });
    lines.push(`| ${peer === OURS ? "**deno (ours)**" : peer} | ${row.join(" | ")} |`);
  }
  return lines.join("\n");
}

interface Target {
  what: string;
  ours: (t: Map<string, Map<string, Cell>>) => number | undefined;
  reference: (t: Map<string, Map<string, Cell>>) => number | undefined;
  goal: number;
  lowerIsBetter?: boolean;
}

const get = (peer: string, scenario: string, field: keyof Cell) =>
(
  t: Map<string, Map<string, Cell>>,
): number | undefined => t.get(peer)?.get(scenario)?.[field];

const TARGETS: Target[] = [
  {
    what: "S2 frames/s ≥ 1.0× node_net",
    ours: get(OURS, "S2", "rate"),
    reference: get("node_net", "S2", "rate"),
    goal: 1.0,
  },
  {
    what: "S2 frames/s ≥ 1.2× netty",
    ours: get(OURS, "S2", "rate"),
    reference: get("netty", "S2", "rate"),
    goal: 1.2,
  },
  {
    what: "S2 CPU µs/frame ≤ node_net's",
    ours: get(OURS, "S2", "cpuPerFrame"),
    reference: get("node_net", "S2", "cpuPerFrame"),
    goal: 1.0,
    lowerIsBetter: true,
  },
  {
    what: "S5 frames/s ≥ 1.0× node_net",
    ours: get(OURS, "S5", "rate"),
    reference: get("node_net", "S5", "rate"),
    goal: 1.0,
  },
  {
    what: "S3 MB/s ≥ 0.8× raw_echo",
    ours: get(OURS, "S3", "rate"),
    reference: get("raw_echo", "S3", "rate"),
    goal: 0.8,
  },
  {
    what: "S1 p50 ≤ 1.1× raw_echo",
    ours: get(OURS, "S1", "p50"),
    reference: get("raw_echo", "S1", "p50"),
    goal: 1.1,
    lowerIsBetter: true,
  },
  {
    what: "S4 frames/s ≥ 1.0× node_net",
    ours: get(OURS, "S4", "rate"),
    reference: get("node_net", "S4", "rate"),
    goal: 1.0,
  },
];

function targets(table: Map<string, Map<string, Cell>>): string {
  const lines = ["| target | ours | reference | ratio | met |", "|---|---|---|---|---|"];
  for (const target of TARGETS) {
    const ours = target.ours(table);
    const reference = target.reference(table);
    if (ours === undefined || reference === undefined) continue;
    const ratio = ours / reference;
    const met = target.lowerIsBetter ? ratio <= target.goal : ratio >= target.goal;
    lines.push(
      `| ${target.what} | ${format(ours)} | ${format(reference)} | ${ratio.toFixed(2)}× | ${
        met ? "yes" : "**no**"
      } |`,
    );
  }
  return lines.join("\n");
}

function svg(table: Map<string, Map<string, Cell>>): string {
  const peers = [...table.keys()];
  const scenarios = Object.keys(SCENARIOS);
  const panelWidth = 230;
  const barHeight = 16;
  const top = 40;
  const panelHeight = peers.length * (barHeight + 6) + 30;
  const width = panelWidth * scenarios.length + 20;
  const height = top + panelHeight + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Protocol benchmark: median of runs (higher is better; S3 in MB/s, others in frames/s)</text>`,
  ];
  scenarios.forEach((scenario, index) => {
    const x0 = 10 + index * panelWidth;
    const values = peers.map((p) => table.get(p)?.get(scenario)?.rate ?? 0);
    const max = Math.max(...values, 1);
    parts.push(
      `<text x="${x0}" y="${top}" font-weight="bold">${SCENARIOS[scenario]}</text>`,
    );
    peers.forEach((peer, row) => {
      const y = top + 10 + row * (barHeight + 6);
      const length = (values[row] / max) * (panelWidth - 110);
      const color = peer === OURS ? "#1f77b4" : "#aaaaaa";
      parts.push(
        `<text x="${x0}" y="${y + 12}">${peer}</text>`,
        `<rect x="${x0 + 62}" y="${y}" width="${
          length.toFixed(1)
        }" height="${barHeight}" fill="${color}"/>`,
        `<text x="${x0 + 66 + length}" y="${y + 12}">${
          values[row] ? format(values[row]) : "—"
        }</text>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

if (import.meta.main) {
  const [input, svgOut] = Deno.args;
  if (input === undefined) {
    console.error("Usage: bench/report.ts RESULTS.jsonl [CHART.svg]");
    Deno.exit(2);
  }
  const rows = Deno.readTextFileSync(input).split("\n").filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l)).filter((r): r is Row => r.kind === "row");
  const table = cells(rows);
  console.log(markdown(table));
  console.log();
  console.log(targets(table));
  if (svgOut !== undefined) Deno.writeTextFileSync(svgOut, svg(table));
}
