/* global document */
// The "Flows" panel of /dev: the loaded flows drawn by mermaid (served from node_modules by the app),
// from the same Mermaid text `npm run flows -- diagram` writes to docs/flows/<id>.md.
import mermaid from '/dev/vendor/mermaid/mermaid.esm.min.mjs';

const list = document.getElementById('flows');

async function draw() {
  const res = await fetch('/dev/api/flows');
  const { flows } = await res.json();
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', flowchart: { htmlLabels: false } });
  list.replaceChildren();
  for (const flow of flows) {
    const figure = document.createElement('figure');
    figure.className = 'flow';
    figure.dataset.flow = flow.id;
    const caption = document.createElement('figcaption');
    caption.textContent = `${flow.id}${flow.description ? ` — ${flow.description}` : ''}`;
    figure.append(caption);
    try {
      const { svg } = await mermaid.render(`flow-${flow.id}`, flow.mermaid);
      // Mermaid's own sanitised output (securityLevel strict) of a diagram the app generated.
      const holder = document.createElement('div');
      holder.innerHTML = svg;
      figure.append(holder);
      figure.dataset.rendered = 'true';
    } catch (err) {
      const p = document.createElement('p');
      p.className = 'result error';
      p.textContent = `This diagram could not be drawn: ${err instanceof Error ? err.message : String(err)}`;
      figure.append(p);
      figure.dataset.rendered = 'error';
    }
    list.append(figure);
  }
}

document.getElementById('flows-refresh')?.addEventListener('click', () => void draw());
void draw();
