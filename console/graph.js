// The state machine drawn from its ASL definition: a small layered layout, written here (a graph
// of a dozen states needs no layout library). Layers by longest path from StartAt, so every
// transition points down; Catch transitions are dashed.

const svgNs = 'http://www.w3.org/2000/svg';
const nodeWidth = 188;
const nodeHeight = 38;
const layerGap = 64;
const columnGap = 28;

/** Every transition of the definition: Next, Choice branches and Default, Catch targets, and the ends. */
export const transitionsOf = (definition) => {
  const edges = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Next) edges.push({ from: name, to: state.Next, kind: 'next' });
    for (const choice of state.Choices ?? []) edges.push({ from: name, to: choice.Next, kind: 'choice' });
    if (state.Default) edges.push({ from: name, to: state.Default, kind: 'default' });
    for (const caught of state.Catch ?? [])
      edges.push({ from: name, to: caught.Next, kind: 'catch', label: caught.ErrorEquals.join(', ') });
    if (state.End || state.Type === 'Succeed' || state.Type === 'Fail')
      edges.push({ from: name, to: '(end)', kind: 'end' });
  }
  edges.unshift({ from: '(start)', to: definition.StartAt, kind: 'start' });
  return edges;
};

/** Layers by longest path from the start (back edges of a loop are ignored), nodes ordered by first reach. */
export const layoutOf = (definition) => {
  const edges = transitionsOf(definition);
  const names = ['(start)', ...Object.keys(definition.States), '(end)'];
  const outgoing = new Map(names.map((name) => [name, []]));
  for (const edge of edges) outgoing.get(edge.from)?.push(edge.to);
  // Depth-first order to find back edges, so a loop cannot lengthen paths forever.
  const order = [];
  const state = new Map();
  const back = new Set();
  const visit = (name) => {
    state.set(name, 'open');
    for (const next of outgoing.get(name) ?? []) {
      if (state.get(next) === 'open') back.add(`${name}->${next}`);
      else if (!state.has(next)) visit(next);
    }
    state.set(name, 'done');
    order.unshift(name);
  };
  visit('(start)');
  for (const name of names) if (!state.has(name)) visit(name);
  const layer = new Map(names.map((name) => [name, 0]));
  for (const name of order) {
    for (const next of outgoing.get(name) ?? []) {
      if (back.has(`${name}->${next}`)) continue;
      layer.set(next, Math.max(layer.get(next), layer.get(name) + 1));
    }
  }
  const layers = [];
  for (const name of order) (layers[layer.get(name)] ??= []).push(name);
  const widest = Math.max(...layers.map((l) => l.length));
  const width = widest * (nodeWidth + columnGap) + columnGap;
  const position = new Map();
  layers.forEach((names, depth) => {
    const rowWidth = names.length * (nodeWidth + columnGap) - columnGap;
    names.forEach((name, i) => {
      position.set(name, {
        x: (width - rowWidth) / 2 + i * (nodeWidth + columnGap),
        y: 16 + depth * (nodeHeight + layerGap),
      });
    });
  });
  return { edges, position, width, height: 16 + layers.length * (nodeHeight + layerGap) - layerGap + 16 };
};

const element = (name, attributes = {}, text) => {
  const node = document.createElementNS(svgNs, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
};

/**
 * Draws the graph. `statusOf(name)` says what the execution did in each state (a CSS class);
 * `onSelect(name)` is called when a state is clicked or chosen with the keyboard.
 */
export const drawStateMachine = (container, definition, statusOf, onSelect, selected) => {
  const { edges, position, width, height } = layoutOf(definition);
  const svg = element('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'group',
    'aria-label': 'State machine',
    class: 'graph',
  });
  const defs = element('defs');
  const marker = element('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.append(element('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs);
  const taken = (edge) => statusOf(edge.from) !== 'unvisited' && statusOf(edge.to) !== 'unvisited';
  for (const edge of edges) {
    const from = position.get(edge.from);
    const to = position.get(edge.to);
    if (!from || !to) continue;
    const x1 = from.x + nodeWidth / 2;
    const y1 = from.y + (edge.from.startsWith('(') ? 12 : nodeHeight);
    const x2 = to.x + nodeWidth / 2;
    const y2 = to.y;
    const bend = Math.max(24, (y2 - y1) / 2);
    const path = element('path', {
      d:
        y2 > y1
          ? `M ${x1} ${y1} C ${x1} ${y1 + bend}, ${x2} ${y2 - bend}, ${x2} ${y2}`
          : `M ${x1} ${y1} C ${x1 + 120} ${y1 + 40}, ${x2 + 120} ${y2 - 40}, ${x2} ${y2}`,
      class: `edge ${edge.kind}${taken(edge) ? ' taken' : ''}`,
      'marker-end': 'url(#arrow)',
    });
    if (edge.label) path.append(element('title', {}, `Catch ${edge.label}`));
    svg.append(path);
  }
  for (const [name, { x, y }] of position) {
    if (name.startsWith('(')) {
      const group = element('g', { class: 'terminal' });
      group.append(element('circle', { cx: x + nodeWidth / 2, cy: y + 6, r: 6 }));
      group.append(element('title', {}, name === '(start)' ? 'Start' : 'End'));
      svg.append(group);
      continue;
    }
    const state = definition.States[name];
    const status = statusOf(name);
    const group = element('g', {
      class: `state ${status}${selected === name ? ' selected' : ''}`,
      tabindex: 0,
      role: 'button',
      'data-state': name,
      'aria-label': `${name}: ${state.Type}, ${status}`,
    });
    group.append(
      element('rect', { x, y, width: nodeWidth, height: nodeHeight, rx: state.Type === 'Choice' ? 18 : 6 }),
    );
    const label = name.length > 27 ? `${name.slice(0, 26)}…` : name;
    group.append(
      element('text', { x: x + nodeWidth / 2, y: y + nodeHeight / 2 + 4, 'text-anchor': 'middle' }, label),
    );
    group.append(element('title', {}, `${name} (${state.Type}) — ${status}`));
    group.addEventListener('click', () => onSelect(name));
    group.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onSelect(name);
      }
    });
    svg.append(group);
  }
  // Fits the box, but shrinks no further than 70%: below that the names cannot be read, and the box scrolls.
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.style.width = '100%';
  svg.style.height = 'auto';
  svg.style.maxWidth = `${width}px`;
  svg.style.minWidth = `${Math.round(width * 0.7)}px`;
  container.replaceChildren(svg);
};
