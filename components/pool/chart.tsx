'use client';

import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'react';
import type uPlot from 'uplot';
import { chartTick } from '@/lib/format';

export interface ChartSeries {
  label: string;
  /** One value per time; null where there is no point. null for a series Prometheus does not have. */
  values: Array<number | null> | null;
  color: string;
  format: (v: number | null) => string;
  /** Series with different units get their own axis (at most two: left and right). */
  unit: string;
}

function lastValue(values: Array<number | null> | null): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/**
 * A small time-series chart (uPlot on a canvas). Screen readers get the caption with each series'
 * latest value as text; the canvas itself is hidden from them.
 */
export function Chart(props: {
  title: string;
  times: number[];
  series: ChartSeries[];
  height?: number;
  /** Moments (unix seconds) to mark with a dashed vertical line: the staff actions of the range. */
  marks?: number[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Read by the draw hook, so that new marks redraw the chart without rebuilding it.
  const marks = useRef<number[]>([]);
  const [loaded, setLoaded] = useState(false);
  const height = props.height ?? 140;
  // The chart is rebuilt only when its series change; new data goes through setData below.
  const shape = JSON.stringify(props.series.map((s) => [s.label, s.color, s.unit]));

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let cancelled = false;
    let observer: ResizeObserver | undefined;
    const series = JSON.parse(shape) as Array<[string, string, string]>;
    const units = [...new Set(series.map(([, , unit]) => unit))];
    // uPlot touches the DOM when it loads, so it is loaded in the browser only.
    void import('uplot').then(({ default: UPlot }) => {
      if (cancelled) return;
      const axis = { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } };
      plot.current = new UPlot(
        {
          width: el.clientWidth || 300,
          height,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          // Every figure here is 0 or more: axes start at 0, so that noise never looks like a swing.
          scales: Object.fromEntries([
            ['x', { time: true }],
            ...units.map((unit) => [
              unit,
              {
                range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [
                  0,
                  max > 0 ? max * 1.15 : 1,
                ],
              },
            ]),
          ]),
          // The portal tells time in UTC everywhere.
          tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
          axes: [
            // 24-hour UTC ticks (uPlot's own are 12-hour with am/pm), as every time in the portal.
            { ...axis, values: (_u: uPlot, splits: number[]) => splits.map(chartTick) },
            ...units.map((unit, i) => ({
              ...axis,
              scale: unit,
              size: 60,
              side: i === 0 ? 3 : 1,
              label: unit,
              labelSize: 16,
              ...(i > 0 && { grid: { show: false } }),
            })),
          ],
          series: [{}, ...series.map(([label, stroke, scale]) => ({ label, stroke, width: 2, scale }))],
          hooks: {
            draw: [
              (u: uPlot) => {
                const { left, top, width, height: h } = u.bbox;
                u.ctx.save();
                u.ctx.strokeStyle = '#0f766e';
                u.ctx.lineWidth = 2;
                u.ctx.setLineDash([6, 4]);
                for (const t of marks.current) {
                  const x = u.valToPos(t, 'x', true);
                  if (x < left || x > left + width) continue;
                  u.ctx.beginPath();
                  u.ctx.moveTo(x, top);
                  u.ctx.lineTo(x, top + h);
                  u.ctx.stroke();
                }
                u.ctx.restore();
              },
            ],
          },
        },
        [[], ...series.map(() => [])],
        el,
      );
      observer = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height }));
      observer.observe(el);
      setLoaded(true);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
      setLoaded(false);
    };
  }, [shape, height]);

  useEffect(() => {
    marks.current = props.marks ?? [];
    if (loaded) plot.current?.redraw();
  }, [loaded, props.marks]);

  useEffect(() => {
    if (!loaded) return;
    const values = props.series.map((s) => s.values ?? props.times.map(() => null));
    plot.current?.setData([props.times, ...values] as uPlot.AlignedData);
  }, [loaded, props.times, props.series]);

  return (
    <figure className="min-w-0 rounded-md border border-slate-200 bg-white p-3">
      <figcaption className="mb-1 flex flex-wrap items-baseline justify-between gap-x-3 text-xs">
        <span className="font-medium text-slate-800">{props.title}</span>
        <span className="flex flex-wrap gap-x-3">
          {props.series.map((s) => (
            <span key={s.label} className="text-slate-700">
              <span
                aria-hidden="true"
                className="mr-1 inline-block h-2 w-3 rounded-sm"
                style={{ background: s.color }}
              />
              {s.label} (latest): {s.format(lastValue(s.values))}
            </span>
          ))}
        </span>
      </figcaption>
      <div
        ref={box}
        aria-hidden="true"
        style={{ height }}
        data-chart-loaded={loaded}
        data-marks={props.marks?.length ?? 0}
      />
    </figure>
  );
}
