import type { TopLevelSpec } from 'vega-lite';

export interface ChartPoint {
  series: string;
  batchSize: number;
  recordsPerSecond: number;
}

/** Throughput against batch size, one line per series, as an SVG the README can show. */
export const throughputChart = async (title: string, points: ChartPoint[]): Promise<string> => {
  // Both are ES modules with top-level await, which require() cannot load: imported at run time.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    height: 300,
    background: 'white',
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'batchSize',
        type: 'quantitative',
        title: 'batch size (records per inference call)',
        scale: { type: 'log', base: 2 },
        axis: { values: [...new Set(points.map((p) => p.batchSize))] },
      },
      y: { field: 'recordsPerSecond', type: 'quantitative', title: 'records per second' },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom', columns: 1, labelLimit: 400 },
      },
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
};
