/* global document, window, speechSynthesis, SpeechSynthesisUtterance, isSecureContext */
// The /dev console: a softphone on the built-in simulator, a demo authenticator, the SMS inbox
// and the audit timeline of the current call. Plain DOM, no framework, no build step. Text from
// the server only ever goes into textContent (an SMS link becomes an <a> built by hand).
import { confirm, describe, enroll, loadDevice } from './authenticator.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 300;
const state = { info: null, callSid: null, after: 0, inboxAfter: 0, heardCode: null, device: null, timelineBusy: false, timelineShown: 0 };
const pause = () => new Promise((r) => setTimeout(r, POLL_MS));

async function api(path, options = {}) {
  const res = await fetch(`/dev/api${path}`, {
    ...options,
    headers: options.body ? { 'content-type': 'application/json' } : {},
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
  return body;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function line(list, className, who, text) {
  list.querySelector('.empty')?.remove();
  const li = el('li', className);
  if (who) li.append(el('span', 'who', who));
  li.append(document.createTextNode(text));
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

// ---- phone ----------------------------------------------------------------

const ENDED = { caller: 'you hung up', ivr: 'the IVR hung up', transferred: 'transferred out of the IVR', rejected: 'rejected', 'end-of-twiml': 'the IVR had nothing more to say', api: 'ended by the app', error: 'ended by an error' };

function show(entry) {
  const list = $('transcript');
  switch (entry.kind) {
    case 'say': {
      line(list, 'say', 'IVR', entry.text);
      const code = /code is ([\d,\s]+)/i.exec(entry.text);
      if (code) {
        state.heardCode = code[1].replace(/\D/g, '');
        $('use-heard').disabled = false;
      }
      if ($('speak').checked && 'speechSynthesis' in window) {
        const u = new SpeechSynthesisUtterance(entry.text);
        if (entry.language) u.lang = entry.language;
        speechSynthesis.speak(u);
      }
      return;
    }
    case 'play': return line(list, 'meta', '', `(plays ${entry.url})`);
    case 'pause': return line(list, 'meta', '', `(pause, ${entry.seconds} s)`);
    case 'listening': return;
    case 'keys': return line(list, 'keys', 'You', entry.ignored ? `pressed ${entry.digits} (nothing was listening)` : `pressed ${entry.digits}`);
    case 'silence': return line(list, 'meta', '', '(you stayed silent)');
    case 'redirect': return line(list, 'meta', '', entry.by === 'api' ? `↪ the app redirected the live call to ${entry.path}` : `↪ redirect to ${entry.path}`);
    case 'transfer': return line(list, 'meta', '', `Transferred (${entry.via}) to ${entry.to}`);
    case 'ended': return line(list, 'meta', '', `Call ended: ${ENDED[entry.reason] ?? entry.reason}`);
    case 'status-callback': return line(list, 'meta', '', `status callback sent (${entry.callStatus}) → ${entry.httpStatus ?? 'no answer'}`);
    case 'error': return line(list, 'error', '⚠', entry.text);
  }
}

function setLive(live, listening) {
  $('dial').disabled = live;
  $('hangup').disabled = !live;
  $('silence').disabled = !listening;
  $('keypad').classList.toggle('listening', Boolean(listening));
  for (const b of $('keypad').querySelectorAll('button')) b.disabled = !live;
}

async function pollCall(callSid) {
  while (state.callSid === callSid) {
    let snap;
    try {
      snap = await api(`/calls/${callSid}?after=${state.after}`);
    } catch (err) {
      line($('transcript'), 'error', '⚠', `lost the call: ${err.message}`);
      break;
    }
    for (const entry of snap.entries) {
      state.after = entry.seq;
      show(entry);
    }
    const done = snap.status === 'completed' && snap.entries.some((e) => e.kind === 'status-callback');
    const status = $('call-status');
    status.textContent = snap.status === 'completed' ? 'Call ended' : snap.listening ? 'Listening for keys' : snap.status === 'ringing' ? 'Ringing…' : 'In call';
    status.classList.toggle('live', snap.status !== 'completed');
    setLive(snap.status !== 'completed', snap.listening);
    if (snap.entries.length > 0 || done) void refreshTimeline(callSid);
    if (done) return followTimeline(callSid);
    await pause();
  }
}

async function dial() {
  // The last call's timeline stops following it here, before the new call's events are drawn.
  state.callSid = null;
  $('transcript').replaceChildren();
  $('timeline').replaceChildren(el('li', 'empty', 'No events yet.'));
  state.timelineShown = 0;
  state.after = 0;
  state.heardCode = null;
  $('use-heard').disabled = true;
  setLive(true, null);
  try {
    const { callSid } = await api('/calls', { method: 'POST', body: '{}' });
    state.callSid = callSid;
    $('timeline-call').textContent = callSid;
    void pollCall(callSid);
  } catch (err) {
    setLive(false, null);
    line($('transcript'), 'error', '⚠', `could not place the call: ${err.message}`);
  }
}

async function press(key) {
  if (!state.callSid) return;
  await api(`/calls/${state.callSid}/keys`, { method: 'POST', body: JSON.stringify({ keys: key }) }).catch(() => undefined);
}

// ---- timeline and inbox ---------------------------------------------------

/** Redraws the call's audit timeline when it has new events; false when it could not be read. */
async function refreshTimeline(callSid) {
  if (state.timelineBusy) return true;
  state.timelineBusy = true;
  try {
    const { events } = await api(`/calls/${callSid}/timeline`);
    // Events are only ever appended: an unchanged count means nothing new, and the reader's scroll position holds.
    if (state.callSid !== callSid || events.length === state.timelineShown) return true;
    state.timelineShown = events.length;
    const list = $('timeline');
    list.replaceChildren();
    if (events.length === 0) list.append(el('li', 'empty', 'No events yet.'));
    for (const ev of events) {
      const li = el('li');
      li.append(el('time', '', ev.at.slice(11, 23)), el('span', 'type', ev.type));
      const details = Object.entries(ev).filter(([k]) => !['type', 'at', 'callId'].includes(k)).map(([k, v]) => `${k}=${v}`).join('  ');
      if (details) li.append(document.createTextNode(' '), el('span', 'details', details));
      list.append(li);
    }
    return true;
  } catch {
    // During the call the next transcript change tries again; after it, followTimeline stops.
    return false;
  } finally {
    state.timelineBusy = false;
  }
}

/**
 * The timeline still grows after hang-up (the caller opens the SMS link: statement_link_spent, or
 * statement_link_refused for a used link), so it follows the ended call until another call starts.
 * It stops when the timeline cannot be read: the app restarted or no longer keeps that call.
 */
async function followTimeline(callSid) {
  for (;;) {
    await pause();
    if (state.callSid !== callSid || !(await refreshTimeline(callSid))) return;
  }
}

function linkified(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    frag.append(document.createTextNode(text.slice(last, m.index)));
    const a = el('a', '', m[0]);
    a.href = m[0];
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    frag.append(a);
    last = m.index + m[0].length;
  }
  frag.append(document.createTextNode(text.slice(last)));
  return frag;
}

async function pollInbox() {
  try {
    const { messages } = await api(`/messages?after=${state.inboxAfter}`);
    const list = $('inbox');
    for (const m of messages) {
      state.inboxAfter = m.seq;
      list.querySelector('.empty')?.remove();
      const li = el('li', 'sms');
      // Last four only, as everywhere else in this app.
      li.append(el('time', '', m.at.slice(11, 19)), el('span', 'who', `to …${m.to.slice(-4)}`), linkified(m.body));
      list.append(li);
    }
  } catch {
    // The app may be restarting; keep polling.
  }
  setTimeout(pollInbox, 1000);
}

// ---- authenticator --------------------------------------------------------

function customerId() {
  const select = $('customer-select');
  return (select.hidden ? $('customer-input').value : select.value).trim();
}

function showDevice() {
  const d = state.device;
  const status = $('device-status');
  if (!d) status.textContent = customerId() ? `No device enrolled in this browser for ${customerId()}.` : 'Choose a customer.';
  else status.textContent = `Device ${d.deviceId} (${d.status}) for ${d.customerId}; key: ECDSA P-256, ${d.privateKey.extractable ? 'EXTRACTABLE' : 'non-extractable'}.`;
  $('enroll').textContent = d ? 'Enroll again (new key)' : 'Enroll this browser';
}

async function customerChanged() {
  localStorage.setItem('vaultline-dev-customer', customerId());
  state.device = null;
  showDevice();
  if (!customerId()) return;
  try {
    state.device = await loadDevice(customerId());
  } catch (err) {
    $('device-status').textContent = `Could not read this browser's device: ${err.message}`;
    return;
  }
  showDevice();
}

function result(ok, text) {
  const r = $('auth-result');
  r.textContent = text;
  r.className = `result ${ok ? 'ok' : 'bad'}`;
}

async function enrollClicked() {
  if (!customerId()) return result(false, 'Choose a customer first.');
  try {
    state.device = await enroll(customerId());
    showDevice();
    result(true, `Enrolled: this browser is now an authenticator for ${customerId()}.`);
  } catch (err) {
    result(false, `Enrollment failed: ${err.message}`);
  }
}

async function confirmSubmitted(event) {
  event.preventDefault();
  const did = $('code').value.replace(/\D/g, '');
  if (!state.device) return result(false, 'Enroll this browser first.');
  if (!did) return result(false, 'Type the code you heard.');
  try {
    const answer = describe(await confirm(state.device, did, state.info.publicBaseUrl));
    result(answer.ok, answer.text);
    if (answer.ok) $('code').value = '';
  } catch (err) {
    result(false, `Could not send the confirmation: ${err.message}`);
  }
}

// ---- start ----------------------------------------------------------------

async function start() {
  if (!isSecureContext || !window.crypto?.subtle) {
    $('device-status').textContent = 'WebCrypto needs a secure context: open this page at http://localhost or http://127.0.0.1.';
    $('enroll').disabled = true;
  }
  state.info = await api('/info');
  if (!state.info.simulator) {
    const note = $('target-note');
    note.textContent = 'TWILIO_API_BASE_URL is set: live-call redirects and SMS go there, not to this simulator. Press 1 in the wait loop after confirming.';
    note.classList.add('warn');
  }
  const saved = localStorage.getItem('vaultline-dev-customer') ?? '';
  if (state.info.customers.length > 0) {
    const select = $('customer-select');
    for (const c of state.info.customers) {
      const option = el('option', '', c.name ? `${c.name} (${c.id})` : c.id);
      option.value = c.id;
      select.append(option);
    }
    if (state.info.customers.some((c) => c.id === saved)) select.value = saved;
    select.hidden = false;
    select.addEventListener('change', customerChanged);
  } else {
    const input = $('customer-input');
    input.value = saved || 'cust_001';
    input.hidden = false;
    input.addEventListener('change', customerChanged);
  }

  $('dial').addEventListener('click', dial);
  $('hangup').addEventListener('click', () => state.callSid && api(`/calls/${state.callSid}/hangup`, { method: 'POST', body: '{}' }).catch(() => undefined));
  $('silence').addEventListener('click', () => state.callSid && api(`/calls/${state.callSid}/silence`, { method: 'POST', body: '{}' }).catch(() => undefined));
  for (const b of $('keypad').querySelectorAll('button')) b.addEventListener('click', () => press(b.dataset.key));
  $('enroll').addEventListener('click', enrollClicked);
  $('use-heard').addEventListener('click', () => {
    if (state.heardCode) $('code').value = state.heardCode;
  });
  $('confirm-form').addEventListener('submit', confirmSubmitted);
  setLive(false, null);
  void pollInbox();
  await customerChanged();
}

start().catch((err) => {
  $('device-status').textContent = `The console could not start: ${err.message}`;
});
