/**
 * The pacing plot of docs/pacing.svg: per second, the writes Graph accepted and the 429s it answered, ours beside
 * the Graph JS SDK's, under a few limit shapes, with the write rate the tenant grants. Hand-written SVG: no
 * plotting dependency for one figure.
 */
import type { ScaleResult } from "./scale";

/** One panel: a limit shape, and the two runs under it. */
export interface PlotPanel {
  title: string;
  /** Writes per second the tenant grants this app. */
  grantedPerSecond: number;
  ours: Pick<ScaleResult, "timeline">;
  theirs: Pick<ScaleResult, "timeline">;
}

const WIDTH = 760;
const PANEL_HEIGHT = 200;
const MARGIN = { left: 48, right: 16, top: 28, bottom: 30 };

/** Per whole second from the first request: accepted writes and 429s. Pure. */
export function perSecond(timeline: ScaleResult["timeline"]): { accepted: number[]; throttled: number[] } {
  const seconds = Math.ceil(Math.max(1, ...timeline.map((r) => r.atMs + 1)) / 1000);
  const accepted = new Array<number>(seconds).fill(0);
  const throttled = new Array<number>(seconds).fill(0);
  for (const r of timeline) {
    const i = Math.floor(r.atMs / 1000);
    if (r.throttled) throttled[i]++;
    else if (r.write) accepted[i]++;
  }
  return { accepted, throttled };
}

/** The SVG document. Pure. */
export function pacingSvg(panels: readonly PlotPanel[]): string {
  const height = panels.length * (PANEL_HEIGHT + MARGIN.top + MARGIN.bottom) + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    legend(),
  ];
  panels.forEach((panel, i) =>
    parts.push(panelSvg(panel, 40 + i * (PANEL_HEIGHT + MARGIN.top + MARGIN.bottom))),
  );
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

const SERIES = [
  { label: "ours: writes accepted/s", color: "#1f77b4", dash: "" },
  { label: "ours: 429s/s", color: "#1f77b4", dash: "4 3" },
  { label: "Graph JS SDK: writes accepted/s", color: "#ff7f0e", dash: "" },
  { label: "Graph JS SDK: 429s/s", color: "#ff7f0e", dash: "4 3" },
] as const;

function legend(): string {
  return SERIES.map(
    (s, i) =>
      `<line x1="${MARGIN.left + i * 140}" y1="16" x2="${MARGIN.left + i * 140 + 24}" y2="16" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/><text x="${MARGIN.left + i * 140 + 30}" y="20">${s.label}</text>`,
  ).join("\n");
}

function panelSvg(panel: PlotPanel, top: number): string {
  const ours = perSecond(panel.ours.timeline);
  const theirs = perSecond(panel.theirs.timeline);
  const seconds = Math.max(ours.accepted.length, theirs.accepted.length);
  const peak = Math.max(
    1,
    panel.grantedPerSecond,
    ...ours.accepted,
    ...ours.throttled,
    ...theirs.accepted,
    ...theirs.throttled,
  );
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const y0 = top + MARGIN.top + PANEL_HEIGHT;
  const x = (second: number) => MARGIN.left + (second / Math.max(1, seconds)) * plotWidth;
  const y = (value: number) => y0 - (value / peak) * PANEL_HEIGHT;
  const line = (values: number[], color: string, dash: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="${dash}" points="${values.map((v, i) => `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`;
  const ticks = Array.from({ length: 6 }, (_, i) => Math.round((i * seconds) / 5));
  return [
    `<text x="${MARGIN.left}" y="${top + MARGIN.top - 8}" font-weight="bold">${escape(panel.title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${y0}" x2="${WIDTH - MARGIN.right}" y2="${y0}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${y0}" x2="${MARGIN.left}" y2="${top + MARGIN.top}" stroke="#444"/>`,
    ...ticks.map((t) => `<text x="${x(t)}" y="${y0 + 14}" text-anchor="middle">${t} s</text>`),
    `<text x="${MARGIN.left - 6}" y="${y(peak) + 4}" text-anchor="end">${peak}</text>`,
    `<text x="${MARGIN.left - 6}" y="${y0}" text-anchor="end">0</text>`,
    `<line x1="${MARGIN.left}" y1="${y(panel.grantedPerSecond)}" x2="${WIDTH - MARGIN.right}" y2="${y(panel.grantedPerSecond)}" stroke="#2ca02c" stroke-dasharray="2 2"/>`,
    `<text x="${WIDTH - MARGIN.right}" y="${y(panel.grantedPerSecond) - 4}" text-anchor="end" fill="#2ca02c">granted: ${panel.grantedPerSecond} writes/s</text>`,
    line(ours.accepted, SERIES[0].color, SERIES[0].dash),
    line(ours.throttled, SERIES[1].color, SERIES[1].dash),
    line(theirs.accepted, SERIES[2].color, SERIES[2].dash),
    line(theirs.throttled, SERIES[3].color, SERIES[3].dash),
  ].join("\n");
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}
