import { computeLowRisk } from './low-risk.js';
import { isProtectedAction, type Flow, type FlowNode, type Flows, type Kind, type NodeOf } from './schema.js';

/**
 * A flow as a Mermaid flowchart (docs/flows.md, Seeing a flow): menus with their keys, verify gates and
 * their exits, protected actions marked, the low-risk nodes (low-risk.ts: served while the store is away
 * with FAIL_MODE=open-low-risk) outlined, and redirects into other flows. `npm run flows -- diagram`
 * writes it to docs/flows/<id>.md and /dev draws the same text for the flows the app has loaded.
 */

interface Shape {
  open: string;
  close: string;
  label: string;
  className: string;
}

// A Record, not a switch, so a new node kind does not compile until it has a shape.
const shapeOf: { [K in Kind]: (n: NodeOf<K>) => Shape } = {
  say: (n) => ({ open: '(', close: ')', label: `say: ${n.prompt}`, className: 'say' }),
  menu: (n) => ({ open: '{{', close: '}}', label: `menu: keys ${Object.keys(n.options).join(' ')}`, className: 'menu' }),
  verify: () => ({ open: '{', close: '}', label: 'verify gate', className: 'gate' }),
  action: (n) => ({
    open: '[[',
    close: ']]',
    label: `action: ${n.action}${n.period ? ` (${n.period})` : ''}${isProtectedAction(n.action) ? ' — protected' : ''}`,
    className: isProtectedAction(n.action) ? 'protected' : 'action',
  }),
  transfer: (n) => ({ open: '[/', close: '/]', label: `transfer to ${n.queue}`, className: 'transfer' }),
  hangup: () => ({ open: '([', close: '])', label: 'hang up', className: 'hangup' }),
  redirect: (n) => ({ open: '>', close: ']', label: `redirect to flow ${n.flow}${n.node ? ` at ${n.node}` : ''}`, className: 'redirect' }),
  hours: (n) => ({ open: '{', close: '}', label: `hours (${n.timeZone})`, className: 'menu' }),
};

interface Link {
  to: string;
  label?: string;
  dotted?: boolean;
}

const linksOf: { [K in Kind]: (n: NodeOf<K>, flow: Flow) => Link[] } = {
  say: (n) => [{ to: n.next }],
  menu: (n) => [
    ...Object.entries(n.options).map(([key, o]) => ({ to: o.next, label: o.locale === undefined ? key : `${key} ${o.locale}` })),
    { to: n.onExhausted, label: `no choice ×${n.maxAttempts}`, dotted: true },
  ],
  verify: (n, f) => [
    { to: n.next, label: 'verified' },
    { to: n.onFail, label: 'failed', dotted: true },
    { to: n.onCancel ?? f.home, label: '0 cancel', dotted: true },
  ],
  action: (n, f) => {
    const next = n.next ?? f.home;
    const onFailure = n.onFailure ?? f.home;
    return [
      ...(next === onFailure ? [{ to: next, label: 'done or failed' }] : [{ to: next, label: 'done' }, { to: onFailure, label: 'failed', dotted: true }]),
      ...(n.gate === undefined ? [] : [{ to: n.gate, label: 'not verified', dotted: true }]),
    ];
  },
  transfer: () => [],
  hangup: () => [],
  redirect: () => [],
  hours: (n) => [
    { to: n.open, label: 'open' },
    { to: n.closed, label: 'closed', dotted: true },
  ],
};

/** Mermaid ids are kept to letters and digits: node ids may hold "." and "-", which Mermaid reads as syntax. */
const idOf = (index: number) => `n${index}`;

/** Text inside a quoted Mermaid label: quotes and "#" (entity start) as entities, no newlines. */
const label = (text: string) => `"${text.replace(/"/g, '#quot;').replace(/#(?!quot;)/g, '#35;').replace(/\s+/g, ' ')}"`;

export function flowDiagram(flow: Flow, flows?: Flows): string {
  const ids = new Map<string, string>(Object.keys(flow.nodes).map((id, i) => [id, idOf(i)]));
  const lines = ['flowchart TD', `  start((start)) --> ${ids.get(flow.start) ?? 'missing'}`];
  const external = new Map<string, string>();
  for (const [id, node] of Object.entries(flow.nodes)) {
    const shape = (shapeOf[node.kind] as (n: FlowNode) => Shape)(node);
    const extra = id === flow.failClosed ? ' (failClosed)' : id === flow.home && id !== flow.start ? ' (home)' : '';
    lines.push(`  ${ids.get(id)}${shape.open}${label(`${id}${extra}: ${shape.label}`)}${shape.close}:::${shape.className}`);
  }
  for (const [id, node] of Object.entries(flow.nodes)) {
    const from = ids.get(id) ?? '';
    for (const link of (linksOf[node.kind] as (n: FlowNode, f: Flow) => Link[])(node, flow)) {
      const to = ids.get(link.to);
      if (to === undefined) continue;
      const arrow = link.dotted ? '-.->' : '-->';
      lines.push(`  ${from} ${arrow}${link.label === undefined ? '' : `|${label(link.label)}|`} ${to}`);
    }
    if (node.kind === 'redirect') {
      const target = flows?.byId.get(node.flow);
      const key = `${node.flow}:${node.node ?? target?.start ?? ''}`;
      let ext = external.get(key);
      if (ext === undefined) {
        ext = `x${external.size}`;
        external.set(key, ext);
        lines.push(`  ${ext}[${label(`flow ${node.flow}: ${node.node ?? target?.start ?? 'start'}`)}]:::external`);
      }
      lines.push(`  ${from} --> ${ext}`);
    }
  }
  // The flow as loaded among the others: a redirect's target decides whether its node is low-risk.
  const lowRisk = computeLowRisk({ byId: new Map([...(flows?.byId ?? []), [flow.id, flow]]) }).get(flow.id) ?? new Set<string>();
  const lowRiskIds = [...lowRisk].map((id) => ids.get(id)).filter((id) => id !== undefined);
  if (lowRiskIds.length > 0) lines.push(`  class ${lowRiskIds.join(',')} lowrisk`);
  lines.push(
    '  classDef say fill:#ffffff,stroke:#555555',
    '  classDef menu fill:#e8f5e9,stroke:#2e7d32',
    '  classDef action fill:#f3e5f5,stroke:#6a1b9a',
    '  classDef hangup fill:#ffffff,stroke:#555555',
    '  classDef redirect fill:#eeeeee,stroke:#777777',
    '  classDef gate fill:#fff3c4,stroke:#b58900',
    '  classDef protected fill:#fde2e2,stroke:#c0392b,stroke-width:2px',
    '  classDef transfer fill:#e3f2fd,stroke:#1e6fb8',
    '  classDef external fill:#eeeeee,stroke:#777777,stroke-dasharray:4 3',
    // Last, so its border wins over the kind's: the part a store outage leaves the caller (A10).
    '  classDef lowrisk stroke:#1b5e20,stroke-width:3px',
  );
  return lines.join('\n');
}

/** The Markdown page `npm run flows -- diagram` writes for one flow. */
export function flowDiagramPage(flow: Flow, flows?: Flows): string {
  return [
    `# Flow \`${flow.id}\``,
    '',
    `${flow.description ? `${flow.description}. ` : ''}Generated by \`npm run flows -- diagram\` from the flow file; do not edit.`,
    'Diamonds are verify gates, red boxes protected actions (reachable only through a gate), dotted arrows',
    'the exits a caller takes when something does not go to plan, grey boxes other flows. Thick dark-green',
    'borders mark the low-risk nodes: the self-service a caller keeps while the store is away',
    '(`FAIL_MODE=open-low-risk`).',
    '',
    '```mermaid',
    flowDiagram(flow, flows),
    '```',
    '',
  ].join('\n');
}
