/* global document, location */
// The console's sign-in page. Text goes into the page with textContent only, never parsed as markup.
const $ = (id) => document.getElementById(id);
let csrf = '';

function show(text) {
  const el = $('message');
  el.textContent = text;
  el.hidden = text === '';
}

async function start() {
  if (new URLSearchParams(location.search).has('ended')) $('ended').hidden = false;
  // Already signed in (another tab): straight to the console.
  const session = await fetch('api/session', { credentials: 'same-origin' });
  if (session.ok) {
    location.replace('calls');
    return;
  }
  const res = await fetch('api/sign-in-token', { credentials: 'same-origin' });
  if (!res.ok) {
    show('The console cannot be reached right now. Reload the page to try again.');
    return;
  }
  csrf = (await res.json()).csrf;
  $('sign-in-button').disabled = false;
}

$('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  show('');
  $('sign-in-button').disabled = true;
  try {
    const res = await fetch('api/sign-in', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name: $('name').value, secret: $('secret').value }),
    });
    if (res.ok) {
      location.replace('calls');
      return;
    }
    const body = await res.json().catch(() => ({}));
    show(typeof body.message === 'string' ? body.message : `Sign-in failed (${res.status}).`);
    $('secret').value = '';
  } catch {
    show('The console cannot be reached right now.');
  } finally {
    $('sign-in-button').disabled = false;
  }
});

start().catch(() => show('The console cannot be reached right now. Reload the page to try again.'));
