// The admin page's only script, sent inline with the response's nonce. Whatever it shows of a response goes in through
// textContent, never as markup, and a reset or an override's change is a JSON request (POST, PUT, DELETE), which a
// browser sends across sites only after a CORS preflight that these endpoints do not answer.
(() => {
  'use strict';
  const api = document.body.dataset.api;
  const status = document.getElementById('status');
  const form = document.getElementById('inspect');
  const result = document.getElementById('inspect-result');

  // data-outcome tells a reader (or a test) what the last action came to: pending, reset, inspected, refreshed,
  // override-set, override-removed, error.
  function report(outcome, text) {
    status.textContent = text;
    status.className = outcome === 'error' ? 'error' : '';
    status.dataset.outcome = outcome;
  }

  async function problemText(response) {
    try {
      const problem = await response.json();
      return problem.detail || problem.title || String(response.status);
    } catch {
      return `${response.status} ${response.statusText}`;
    }
  }

  // Fetches the page's data section again, rendered and encoded by the server as on the first load, and swaps it in.
  // DOMParser's document is inert: nothing in it runs.
  async function refresh() {
    const response = await fetch(`${api}?part=data`, { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) {
      throw new Error(`the page answered ${response.status}`);
    }
    const fragment = new DOMParser().parseFromString(await response.text(), 'text/html');
    const fresh = fragment.getElementById('data');
    if (!fresh) {
      throw new Error('the page came back without its data');
    }
    document.getElementById('data').replaceWith(document.adoptNode(fresh));
  }

  async function reset(button) {
    const { bucket, key } = button.dataset;
    button.disabled = true;
    report('pending', `Resetting ${key} in ${bucket}…`);
    try {
      const response = await fetch(`${api}/reset`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ bucket, key }),
        credentials: 'same-origin',
      });
      if (response.status !== 204) {
        button.disabled = false;
        report('error', `Reset failed: ${await problemText(response)}`);
        return;
      }
    } catch (error) {
      button.disabled = false;
      report('error', `Reset failed: ${error.message}`);
      return;
    }
    const done = `Reset ${key} in ${bucket}: its bucket is full again on every instance.`;
    try {
      await refresh();
      report('reset', done);
    } catch (error) {
      // The reset itself went through; only the view is stale.
      report('error', `${done} The page could not refresh: ${error.message}`);
    }
  }

  function show(state) {
    const rows = [
      ['Bucket', state.bucket],
      ['Client', state.key],
      ['Tokens', state.debt > 0 ? `0 of ${state.capacity}, in debt by ${state.debt}` : `${state.tokens} of ${state.capacity}`],
      ['Refill', `${state.rate} per second`],
      ['Full again', state.timeToFullSeconds > 0 ? `in ${state.timeToFullSeconds.toFixed(1)} s` : 'now'],
    ];
    result.replaceChildren(...rows.flatMap(([name, value]) => {
      const term = document.createElement('dt');
      term.textContent = name;
      const description = document.createElement('dd');
      description.textContent = value;
      return [term, description];
    }));
    result.hidden = false;
  }

  // One listener for every reset button, including those a refresh brings in.
  document.addEventListener('click', event => {
    const button = event.target.closest('button[data-reset]');
    if (button && !button.disabled) {
      reset(button);
    }
  });

  // Client overrides: set with the form, removed with each row's button, both as JSON requests like a reset, and
  // the list refreshed from the server afterwards.
  async function sendOverride(method, body, pending, done, failed) {
    report('pending', pending);
    try {
      const response = await fetch(`${api}/overrides`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
      });
      if (response.status !== 204) {
        report('error', `${failed}: ${await problemText(response)}`);
        return false;
      }
    } catch (error) {
      report('error', `${failed}: ${error.message}`);
      return false;
    }
    try {
      await refresh();
      report(method === 'PUT' ? 'override-set' : 'override-removed', done);
    } catch (error) {
      report('error', `${done} The page could not refresh: ${error.message}`);
    }
    return true;
  }

  document.addEventListener('click', async event => {
    const button = event.target.closest('button[data-remove-override]');
    if (!button || button.disabled) {
      return;
    }
    const { bucket, key } = button.dataset;
    button.disabled = true;
    if (!await sendOverride('DELETE', { bucket, key }, `Removing the override of ${key} in ${bucket}…`,
      `Removed the override of ${key} in ${bucket}: its plan or the limit's own values apply again on every instance within a second.`,
      'Remove failed')) {
      button.disabled = false;
    }
  });

  const overrideForm = document.getElementById('override');
  overrideForm.addEventListener('submit', async event => {
    event.preventDefault();
    const fields = overrideForm.elements;
    const body = {
      bucket: fields.bucket.value,
      key: fields.key.value,
      capacity: Number(fields.capacity.value),
      rate: Number(fields.rate.value),
      expiresAfterSeconds: Number(fields.minutes.value) * 60,
    };
    await sendOverride('PUT', body, `Setting the override of ${body.key} in ${body.bucket}…`,
      `${body.key} in ${body.bucket} gets capacity ${body.capacity} and ${body.rate} per second on every instance within a second.`,
      'Setting the override failed');
  });

  document.getElementById('refresh').addEventListener('click', async () => {
    report('pending', 'Refreshing…');
    try {
      await refresh();
      report('refreshed', '');
    } catch (error) {
      report('error', `Refresh failed: ${error.message}`);
    }
  });

  form.addEventListener('submit', async event => {
    event.preventDefault();
    const query = new URLSearchParams({ bucket: form.elements.bucket.value, key: form.elements.key.value });
    result.hidden = true;
    report('pending', 'Inspecting…');
    try {
      const response = await fetch(`${api}/inspect?${query}`, { cache: 'no-store', credentials: 'same-origin' });
      if (!response.ok) {
        report('error', `Inspect failed: ${await problemText(response)}`);
        return;
      }
      show(await response.json());
      report('inspected', '');
    } catch (error) {
      report('error', `Inspect failed: ${error.message}`);
    }
  });
})();
