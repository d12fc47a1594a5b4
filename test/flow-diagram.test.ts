import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildDeps, type Built } from '../src/compose.js';
import { loadConfig } from '../src/config/load.js';
import { flowDiagram, flowDiagramPage } from '../src/flows/diagram.js';
import { loadFlows } from '../src/flows/load.js';
import { freePort } from '../scripts/lib/redis-server.js';
import { freshPrefix } from './support/prefix.js';

const CHROMIUM = '/usr/bin/chromium';
const shipped = loadFlows('flows');
const mermaidOf = (page: string) => /```mermaid\n([\s\S]*?)\n```/.exec(page)?.[1] ?? '';

describe('flow diagrams', () => {
  it('when the shipped flows change, then docs/flows/<id>.md must be regenerated (npm run flows -- diagram)', () => {
    for (const flow of shipped.byId.values()) {
      expect(readFileSync(`docs/flows/${flow.id}.md`, 'utf8'), `docs/flows/${flow.id}.md is stale: npm run flows -- diagram`).toBe(flowDiagramPage(flow, shipped));
    }
  });

  it('when a flow is drawn, then every node, every menu key, the gates and the protected actions are in it', () => {
    const text = flowDiagram(shipped.main, shipped);
    for (const id of Object.keys(shipped.main.nodes)) expect(text).toContain(`"${id}`);
    expect(text).toMatch(/\{"balance-gate: verify gate"\}:::gate/);
    expect(text).toMatch(/\[\["balance: action: balance — protected"\]\]:::protected/);
    expect(text).toMatch(/-->\|"0"\|/);
  });

  it('when a flow is drawn, then its low-risk nodes (FAIL_MODE=open-low-risk) carry the lowrisk class and nothing behind a gate does', () => {
    const text = flowDiagram(shipped.main, shipped);
    const ids = new Map([...text.matchAll(/^ {2}(n\d+)\W+"([\w.-]+)[ :]/gm)].map((m) => [m[2], m[1]]));
    const marked = /^ {2}class (\S+) lowrisk$/m.exec(text)?.[1]?.split(',') ?? [];
    const lowRisk = ['welcome', 'main-menu', 'agent', 'agent-unverified', 'technical-difficulty', 'goodbye'];
    expect(marked.sort()).toEqual(lowRisk.map((id) => ids.get(id)).sort());
    for (const id of ['balance-gate', 'balance', 'statement-gate', 'statement-sms']) expect(marked).not.toContain(ids.get(id));
    expect(text).toMatch(/^ {2}classDef lowrisk /m);
  });

  it('when a flow redirects into another, then the diagram draws the other flow as a box with the entry node', () => {
    const flows = {
      main: shipped.main,
      byId: new Map([...shipped.byId, ['extras', { ...shipped.main, id: 'extras' }]]),
    };
    const withRedirect = { ...shipped.main, nodes: { ...shipped.main.nodes, more: { kind: 'redirect' as const, flow: 'extras', node: 'goodbye' } } };
    expect(flowDiagram(withRedirect, flows)).toMatch(/x0\["flow extras: goodbye"\]:::external/);
  });
});

describe('the flow diagram in a browser (mermaid 11, headless Chromium)', () => {
  let browser: Browser;
  let built: Built;
  let server: Server;
  let url = '';
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const port = await freePort();
    const config = loadConfig({ NODE_ENV: 'development', PORT: String(port), REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: freshPrefix('diagram'), LOG_LEVEL: 'silent' });
    built = await buildDeps(config);
    server = createApp(built.deps).listen(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    url = `http://127.0.0.1:${port}`;
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await built?.close();
  });

  it('when /dev opens, then it shows the diagram of the loaded flows, the same text as docs/flows/main.md, drawn by mermaid with every node and no syntax error', async () => {
    const api = (await (await fetch(`${url}/dev/api/flows`)).json()) as { flows: { id: string; mermaid: string }[] };
    expect(api.flows.find((f) => f.id === 'main')?.mermaid).toBe(mermaidOf(readFileSync('docs/flows/main.md', 'utf8')));

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      // The browser's own favicon probe is no part of the page.
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${url}/dev`);
    const figure = page.locator('figure.flow[data-flow="main"]');
    await expect.poll(() => figure.getAttribute('data-rendered'), { timeout: 20_000 }).toBe('true');
    const drawn = await figure.locator('svg').textContent();
    expect(drawn).not.toMatch(/syntax error/i);
    for (const id of Object.keys(shipped.main.nodes)) expect(drawn, id).toContain(id);
    // One drawn shape per flow node, plus the start circle.
    expect(await figure.locator('svg g.node').count()).toBe(Object.keys(shipped.main.nodes).length + 1);
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);
});
