/**
 * Renders the latency distributions of one benchmark run as a PNG: one row per use case, one
 * percentile glyph per side (the Worker and the pooled-pg baseline) on a log-scale millisecond
 * axis. Vega-Lite builds the chart, Vega renders it to SVG headlessly, sharp rasterises it.
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { percentile } from './stats.ts';

/** One benchmark series: the request latencies (ms) of one use case on one side. */
export type LatencySeries = { useCase: string; side: 'worker' | 'baseline'; samples: number[] };

/** The percentiles drawn for one series, plus its sub-row and its numbers as text. */
type SeriesSummary = {
  useCase: string;
  side: string;
  /** The sub-row: the side, or {@link ALONE} to centre a use case's only series. */
  slot: string;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  label: string;
};

const SIDES = { worker: 'Worker', baseline: 'pooled-pg baseline' } as const;
const ALONE = 'alone';
const COLOURS = ['#e8711a', '#3b6fb6'];
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
/**
 * Fixed margins around the plot (autosize 'none'): headless Vega estimates text at 0.8 em per
 * character, which would pad the image with empty space and truncate labels.
 */
const MARGIN = { left: 210, right: 250, top: 96, bottom: 48 };
const PLOT_WIDTH = 1060 - MARGIN.left - MARGIN.right;
const ROW_HEIGHT = 56;
/** Floor for the log scale: a sample of 0 ms (clock resolution) would have no position. */
const MIN_MS = 0.001;

/** A millisecond value: two significant digits below 10, one decimal below 100, else whole. */
function formatMs(ms: number): string {
  if (ms >= 100) return Math.round(ms).toLocaleString('en-US');
  return ms >= 10 ? ms.toFixed(1) : ms.toPrecision(2);
}

/** The drawn percentiles of one non-empty series; `alone` if its use case has no other side. */
function summarise({ useCase, side, samples }: LatencySeries, alone: boolean): SeriesSummary {
  const sorted = samples.map((ms) => Math.max(ms, MIN_MS)).toSorted((a, b) => a - b);
  const p50 = percentile(sorted, 50)!;
  const p95 = percentile(sorted, 95)!;
  const p99 = percentile(sorted, 99)!;
  // SVG collapses runs of spaces; em spaces keep the numbers apart.
  const label = [
    `p50 ${formatMs(p50)}`,
    `p95 ${formatMs(p95)}`,
    `p99 ${formatMs(p99)}`,
    `n=${sorted.length}`,
  ].join('\u2003');
  const [min, max] = [sorted[0]!, sorted.at(-1)!];
  return {
    useCase,
    side: SIDES[side],
    slot: alone ? ALONE : SIDES[side],
    min,
    p50,
    p95,
    p99,
    max,
    label,
  };
}

/** The Vega-Lite spec: whisker min–max, bar p50–p95, tick at p99, the numbers on the right. */
function chartSpec(rows: SeriesSummary[], title: string): TopLevelSpec {
  const useCases = [...new Set(rows.map((r) => r.useCase))];
  const x = {
    field: 'p50',
    type: 'quantitative',
    title: 'latency (ms, log scale)',
    scale: { type: 'log', nice: true },
    axis: {
      format: '~g',
      // Darker grid lines at the powers of ten.
      gridColor: {
        condition: {
          test: 'abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6',
          value: '#c8c8c8',
        },
        value: '#ececec',
      },
    },
  } as const;
  const tick = (field: string, size: number, thickness: number) => ({
    mark: { type: 'tick' as const, size, thickness, opacity: 1 },
    encoding: { x: { ...x, field } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: 'whisker: min–max · bar: p50–p95 · tick: p99',
      frame: 'group',
      dx: 16 - MARGIN.left,
      offset: 12,
    },
    width: PLOT_WIDTH,
    height: useCases.length * ROW_HEIGHT,
    autosize: { type: 'none' },
    padding: MARGIN,
    background: 'white',
    data: { values: rows },
    encoding: {
      y: {
        field: 'useCase',
        type: 'nominal',
        sort: useCases,
        title: null,
        scale: { paddingInner: 0.45, paddingOuter: 0.2 },
        axis: { labelFontSize: 12, labelPadding: 8, ticks: false, domain: false },
      },
      yOffset: { field: 'slot', type: 'nominal', sort: [SIDES.worker, ALONE, SIDES.baseline] },
      color: {
        field: 'side',
        type: 'nominal',
        title: null,
        scale: { domain: Object.values(SIDES), range: COLOURS },
        legend: { orient: 'top', offset: 12, symbolType: 'square' },
      },
    },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: { x: { ...x, field: 'min' }, x2: { field: 'max' } },
      },
      tick('min', 7, 1.5),
      tick('max', 7, 1.5),
      { mark: { type: 'bar', height: 10, cornerRadius: 2 }, encoding: { x, x2: { field: 'p95' } } },
      tick('p99', 16, 2.5),
      {
        mark: { type: 'text', align: 'left', dx: 12, fontSize: 10.5 },
        encoding: { x: { value: PLOT_WIDTH }, text: { field: 'label' }, color: { value: '#444' } },
      },
    ],
    config: {
      font: FONT,
      title: { fontSize: 17, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start' },
      axis: { labelFontSize: 11, titleFontSize: 12, labelColor: '#333', labelLimit: 0 },
      axisX: { titlePadding: 8 },
      legend: { labelFontSize: 12, labelLimit: 0 },
      view: { stroke: '#ccc' },
    },
  };
}

/**
 * Renders the latency distribution of each series (empty ones are skipped) as a box-plot-like
 * chart, one row per use case in first-appearance order, coloured by side, and writes a PNG
 * (rendered at scale 2) to `file`.
 */
export async function renderLatencyChart(
  series: LatencySeries[],
  file: URL,
  title: string,
): Promise<void> {
  const drawn = series.filter((s) => s.samples.length > 0);
  const rows = drawn.map((s) =>
    summarise(s, drawn.filter((other) => other.useCase === s.useCase).length === 1),
  );
  const view = new View(parse(compile(chartSpec(rows, title)).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG(2);
    await sharp(Buffer.from(svg)).png().toFile(fileURLToPath(file));
  } finally {
    view.finalize();
  }
}
