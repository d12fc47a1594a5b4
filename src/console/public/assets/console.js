/* global document, location */
// The compliance console. Everything shown comes from api/* and goes into the page with
// textContent, never parsed as markup: a value in an event can never become markup or script.
const $ = (id) => document.getElementById(id);
let csrf = '';
/** The last search run: its filters (for Next page) and its days (for export and verify). */
let current;

const DAY_MS = 86_400_000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const shownTime = (iso) => (iso ? iso.replace('T', ' ').replace('Z', '') : '—');

function fail(text) {
  const el = $('error');
  el.textContent = text;
  el.hidden = text === '';
}

/** A session that ended (signed out elsewhere, idle 15 minutes) sends the reviewer to sign in again. */
function toSignIn() {
  location.replace('sign-in?ended=1');
}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...options, headers: { 'X-CSRF-Token': csrf, ...(options.headers ?? {}) } });
  if (res.status === 401) {
    toSignIn();
    throw new Error('signed out');
  }
  const body = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof body.message === 'string' ? body.message : `The console answered ${res.status}.`);
  return body;
}

/** The days of the search form as an ISO range [from 00:00, day after `to` 00:00). */
function range() {
  const from = $('from').value;
  const to = $('to').value;
  if (!from || !to) throw new Error('Choose both days.');
  return { from: `${from}T00:00:00.000Z`, to: new Date(Date.parse(`${to}T00:00:00.000Z`) + DAY_MS).toISOString() };
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

function renderCalls(calls, append) {
  const body = $('calls').querySelector('tbody');
  if (!append) body.replaceChildren();
  for (const call of calls) {
    const tr = document.createElement('tr');
    tr.dataset.callId = call.callId;
    cell(tr, shownTime(call.startedAt));
    cell(tr, shownTime(call.endedAt));
    cell(tr, call.outcome ?? 'in progress', `outcome-${call.outcome ?? 'none'}`);
    cell(tr, call.verified ? 'yes' : 'no');
    cell(tr, call.customerId ?? '—');
    cell(tr, call.maskedCaller);
    cell(tr, call.callId, 'mono');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'open-timeline';
    open.textContent = 'Timeline';
    open.addEventListener('click', () => showTimeline(call.callId, tr).catch((e) => fail(e.message)));
    cell(tr, '').append(open);
    body.append(tr);
  }
  $('calls').hidden = body.children.length === 0;
}

async function search(cursor) {
  fail('');
  const params = cursor ? new URLSearchParams({ ...current.filters, cursor }) : undefined;
  if (!cursor) {
    const filters = range();
    for (const [name, id] of [['outcome', 'outcome'], ['verified', 'verified'], ['customerId', 'customer-id']]) {
      if ($(id).value) filters[name] = $(id).value;
    }
    current = { filters, range: { from: filters.from, to: filters.to } };
  }
  const result = await api(`api/calls?${params ?? new URLSearchParams(current.filters)}`);
  renderCalls(result.calls, Boolean(cursor));
  const shown = $('calls').querySelector('tbody').children.length;
  $('search-status').textContent = shown === 0 ? 'No call matches.' : `${shown} call${shown === 1 ? '' : 's'} shown.`;
  const next = $('next-page');
  next.hidden = !result.nextCursor;
  next.dataset.cursor = result.nextCursor ?? '';
}

async function showTimeline(callId, tr) {
  for (const row of document.querySelectorAll('#calls tr.selected')) row.classList.remove('selected');
  tr?.classList.add('selected');
  const result = await api(`api/calls/${encodeURIComponent(callId)}/events`);
  $('timeline-title').textContent = `Timeline of call ${result.callId}`;
  const body = $('timeline').querySelector('tbody');
  body.replaceChildren();
  for (const r of result.rows) {
    const row = document.createElement('tr');
    row.dataset.eventId = r.id;
    row.dataset.type = r.type;
    cell(row, shownTime(r.at), 'mono');
    cell(row, r.event);
    cell(row, r.outcome, `outcome-${r.outcome}`);
    cell(row, r.actor);
    cell(row, r.details);
    body.append(row);
  }
  $('timeline-panel').hidden = false;
}

async function verify() {
  fail('');
  const out = $('verify-result');
  out.className = 'status';
  out.textContent = 'Checking…';
  const r = current?.range ?? range();
  const result = await api(`api/verify?${new URLSearchParams(r)}`);
  out.className = result.ok ? 'status ok' : 'status bad';
  out.textContent = result.ok
    ? `Chain intact: ${result.checked} event${result.checked === 1 ? '' : 's'} checked.`
    : `Chain broken: first bad event ${result.firstBadEventId} (after ${result.checked - 1} good).`;
}

function exportRange() {
  fail('');
  const r = current?.range ?? range();
  $('export-csrf').value = csrf;
  $('export-from').value = r.from;
  $('export-to').value = r.to;
  $('export-form').submit();
}

async function signOut() {
  await api('api/sign-out', { method: 'POST' }).catch(() => undefined);
  location.replace('sign-in');
}

async function start() {
  const res = await fetch('api/session', { credentials: 'same-origin' });
  if (!res.ok) {
    toSignIn();
    return;
  }
  const session = await res.json();
  csrf = session.csrf;
  $('reviewer').textContent = session.reviewer;
  const today = Date.now();
  $('to').value = isoDay(today);
  $('from').value = isoDay(today - 6 * DAY_MS);
}

$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  search().catch((e) => fail(e.message));
});
$('next-page').addEventListener('click', () => search($('next-page').dataset.cursor).catch((e) => fail(e.message)));
$('verify-button').addEventListener('click', () => verify().catch((e) => fail(e.message)));
$('export-button').addEventListener('click', () => {
  try {
    exportRange();
  } catch (e) {
    fail(e.message);
  }
});
$('sign-out').addEventListener('click', () => signOut());
start().catch(() => fail('The console cannot be reached right now. Reload the page to try again.'));
