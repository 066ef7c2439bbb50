// A line chart of metric series against step (uPlot on a canvas), with a caption that shows the
// latest value (or the hovered one) and a text alternative for assistive technology. The chart has a
// fixed height and follows its container's width, so nothing around it moves when data arrives.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from './dom';
import { describeSeries } from './run-format';
import { type Point, alignSeries } from './series';

/** Height of every chart's plotting area with its axes, in CSS pixels (the CSS reserves the same). */
export const CHART_HEIGHT = 170;

export interface ChartLine {
  label: string;
  color: string;
  dash?: number[];
  /** Line width in CSS pixels (default 2). */
  width?: number;
  /** Left out of the hover read-out (band edges). */
  quiet?: boolean;
}

export interface ChartSpec {
  /** `data-chart` of the figure, for styling and tests. */
  key: string;
  title: string;
  lines: ChartLine[];
  /** Pairs [upper, lower] of indices into `lines` whose area between is filled. */
  bands?: [number, number][];
  format: (value: number) => string;
  /** A fixed y range (e.g. [0, 1] for an accuracy); default: fitted to the data. */
  range?: [number, number];
  /** Shown over the empty plot. */
  empty: string;
}

export interface Chart {
  readonly element: HTMLElement;
  /** New data: one series per line (each by increasing step; missing ones are empty). The caption and text alternative describe the first line. */
  update(series: readonly (readonly Point[])[]): void;
  destroy(): void;
}

/** Room for the y axis's widest label (at most about 7.5 px per character at uPlot's 12 px font), its ticks and gap. */
const axisWidth = (_u: uPlot, values: string[] | null): number => Math.max(36, 20 + 7.5 * Math.max(0, ...(values ?? []).map((v) => v.length)));

/** Points are marked while a line has few of them. */
const FEW_POINTS = 16;

const fade = (hex: string, alpha: number): string => `${hex}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;

export function createChart(spec: ChartSpec): Chart {
  const latest = el('span', { class: 'latest', 'aria-hidden': 'true' }, '—');
  const legend = spec.lines.length > 1
    ? el('ul', { class: 'chart-legend', 'aria-hidden': 'true' }, ...spec.lines.filter((l) => !l.quiet).map((l) => el('li', { style: `--swatch: ${l.color}` }, l.label)))
    : null;
  const emptyNote = el('p', { class: 'chart-empty' }, spec.empty);
  const plotArea = el('div', { class: 'plot', role: 'img', tabindex: 0, 'aria-label': `${spec.title}: no points yet.` }, emptyNote);
  const element = el('figure', { class: 'chart', 'data-chart': spec.key, 'data-points': 0 }, el('figcaption', {}, el('span', { class: 'chart-title' }, spec.title), latest), legend, plotArea);

  let latestText = '—';
  const plot = new uPlot(
    {
      width: 320,
      height: CHART_HEIGHT,
      legend: { show: false },
      // One step alone gets a unit-wide axis (uPlot would pad it to a range of 100 steps).
      scales: { x: { time: false, range: (_u, min, max) => (min === max ? [min, min + 1] : [min, max]) }, ...(spec.range ? { y: { range: spec.range } } : {}) },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'step' },
        ...spec.lines.map((l) => ({ label: l.label, stroke: l.color, width: l.width ?? 2, dash: l.dash, spanGaps: true, points: { show: (u: uPlot) => u.data[0].length <= FEW_POINTS } })),
      ],
      bands: spec.bands?.map(([upper, lower]) => ({ series: [upper + 1, lower + 1] as [number, number], fill: fade(spec.lines[upper].color, 0.15) })),
      axes: [
        { size: 30, values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : '')) },
        { size: axisWidth, values: (_u, splits) => splits.map((s) => spec.format(s)) },
      ],
      hooks: {
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (i === null || i === undefined) {
              latest.textContent = latestText;
              return;
            }
            const values = spec.lines
              .map((l, k) => [l, u.data[k + 1][i]] as const)
              .filter(([l, v]) => !l.quiet && v !== null && v !== undefined)
              .map(([l, v]) => (spec.lines.length > 1 ? `${l.label} ${spec.format(v!)}` : spec.format(v!)));
            latest.textContent = `step ${u.data[0][i]}: ${values.join(', ') || '—'}`;
          },
        ],
      },
    },
    [[], ...spec.lines.map(() => [])],
    plotArea,
  );

  // Follow the container's width; the height stays fixed.
  const resize = new ResizeObserver(() => {
    const width = Math.floor(plotArea.clientWidth);
    if (width > 0 && width !== plot.width) plot.setSize({ width, height: CHART_HEIGHT });
  });
  resize.observe(plotArea);

  return {
    element,
    update(given) {
      const series = spec.lines.map((_, i) => given[i] ?? []);
      plot.setData(alignSeries(series) as uPlot.AlignedData);
      const main = series[0] ?? [];
      const last = main[main.length - 1];
      latestText = last ? `${spec.format(last.value)} at step ${last.step}` : '—';
      if (plot.cursor.idx === null || plot.cursor.idx === undefined) latest.textContent = latestText;
      emptyNote.hidden = series.some((s) => s.length > 0);
      plotArea.setAttribute('aria-label', `${spec.title}: ${describeSeries(main, spec.format)}`);
      element.dataset.points = String(main.length);
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
