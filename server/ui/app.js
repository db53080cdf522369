// vodhook's status page. It reads the /v1 API with the bearer token the
// person gives, kept in this tab's sessionStorage only (never in a URL, a
// cookie or a log), and follows GET /v1/stream for live changes. The
// stream is read with fetch(), as EventSource cannot send an Authorization
// header; the Server-Sent Events lines are parsed here.
'use strict';

const TOKEN_KEY = 'vodhook.token';
const PAGE_SIZE = 50;
const FINAL = new Set(['ready', 'failed', 'canceled', 'deleted']);
const RUNNING = ['queued', 'uploading', 'committing'];
const UPLOAD_ORDER = ['queued', 'uploading', 'committing', 'uploaded', 'confirmed', 'processing', 'ready',
  'failed', 'canceled'];
const PROVIDERS = ['tencent', 'alibaba'];
const MEDIA_STATES = ['uploaded', 'confirmed', 'processing', 'ready', 'failed', 'deleted'];
// The longest pause between two attempts to reconnect the stream.
const BACKOFF_MAX_MS = 30000;

const $ = (id) => document.getElementById(id);

// Build an element: attributes (on* are listeners), then children (text or nodes).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// s as one path segment, or null: a browser resolves "." and ".." (even
// as %2E) against the path, and no media has such an id.
function segment(s) {
  return s === '.' || s === '..' ? null : encodeURIComponent(s);
}

function fill(tbody, rows, empty, cols) {
  tbody.replaceChildren(...rows);
  if (rows.length === 0) tbody.append(el('tr', {}, el('td', { colspan: cols, class: 'muted', text: empty })));
}

function stateTag(s) {
  return el('span', { class: 'state state-' + (s || 'none'), 'data-state': s || '', text: s || '—' });
}

function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : String(v)) + ' ' + u[i];
}

function duration(ms) {
  if (!(ms >= 0)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 1) return ms.toFixed(0) + ' ms';
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

function when(t) {
  if (!t) return '—';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().replace('T', ' ').replace('Z', ' UTC');
}

// ---------------------------------------------------------------- API

let token = sessionStorage.getItem(TOKEN_KEY);

class Unauthorized extends Error {}

async function api(path, opts) {
  const o = Object.assign({ headers: {} }, opts || {});
  o.headers = Object.assign({ Authorization: 'Bearer ' + token }, o.headers);
  o.cache = 'no-store';
  const res = await fetch(path, o);
  if (res.status === 401) throw new Unauthorized('the token was refused');
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error((body && body.error && body.error.message) || res.status + ' ' + res.statusText);
    err.status = res.status;
    throw err;
  }
  return body;
}

// A refused token ends the session: forget it and show no data.
function signOut(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stream.stop();
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  for (const t of document.querySelectorAll('.view tbody, .view ul, .view ol, #md-facts')) t.replaceChildren();
  uploads.clear();
  webhooks.key = '';
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('conn').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

function failed(err) {
  if (err instanceof Unauthorized) signOut('The token was refused: ' + err.message + '.');
  else status('Error: ' + err.message, 'down');
}

function status(text, cls) {
  $('conn').textContent = text;
  $('conn').className = cls || '';
}

// ---------------------------------------------------------------- stream

// Follows GET /v1/stream: "event:" and "data:" lines, a blank line ends an
// event, ":" lines are heartbeats. Reconnects with a doubling back-off.
const stream = {
  ctl: null,
  backoff: 500,
  timer: null,
  snapshot: null,
  start() {
    this.stop();
    this.ctl = new AbortController();
    this.run(this.ctl.signal);
  },
  stop() {
    if (this.ctl) this.ctl.abort();
    this.ctl = null;
    clearTimeout(this.timer);
  },
  async run(signal) {
    try {
      status('connecting…');
      const res = await fetch('/v1/stream', {
        headers: { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' },
        cache: 'no-store', signal,
      });
      if (res.status === 401) throw new Unauthorized('the token was refused');
      if (!res.ok) throw new Error('stream: ' + res.status);
      this.snapshot = new Set(); // the uploads of the snapshot, until synced
      await this.read(res.body.getReader(), signal);
      throw new Error('stream ended');
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Unauthorized) return signOut('The token was refused: ' + err.message + '.');
      status('disconnected, retrying in ' + duration(this.backoff), 'down');
      this.timer = setTimeout(() => { if (!signal.aborted) this.run(signal); }, this.backoff);
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    }
  },
  async read(reader, signal) {
    const dec = new TextDecoder();
    let buf = '';
    let ev = { type: 'message', data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) return;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (ev.data.length) this.dispatch(ev.type, ev.data.join('\n'));
          ev = { type: 'message', data: [] };
        } else if (line.startsWith(':')) {
          continue; // heartbeat
        } else {
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v.startsWith(' ')) v = v.slice(1);
          if (field === 'event') ev.type = v;
          else if (field === 'data') ev.data.push(v);
        }
      }
    }
  },
  dispatch(type, data) {
    let p;
    try { p = JSON.parse(data); } catch (e) { return; }
    if (type === 'synced') {
      this.backoff = 500;
      status('live', 'live');
      // A job shown as running that the snapshot left out ended while the
      // stream was away: read its state.
      for (const j of uploads.jobs.values()) {
        if (RUNNING.includes(j.state) && !this.snapshot.has(j.id)) uploads.details(j);
      }
      this.snapshot = null;
      refreshSoon();
    } else if (type === 'upload') {
      if (this.snapshot) this.snapshot.add(p.upload_id);
      uploads.change(p);
    } else if (type === 'media') {
      media.change(p);
    }
  }
};

// ---------------------------------------------------------------- uploads

const uploads = {
  jobs: new Map(),
  doneKey: '',
  clear() { this.jobs.clear(); this.doneKey = ''; },
  // One change of a job (a stream payload): keep its last two progress
  // points for the speed, fetch its name and error once.
  change(p) {
    const now = performance.now();
    let j = this.jobs.get(p.upload_id);
    if (!j) {
      j = { id: p.upload_id, samples: [] };
      this.jobs.set(p.upload_id, j);
      this.details(j);
    }
    const was = j.state;
    Object.assign(j, { provider: p.provider, file_id: p.file_id, state: p.state,
      bytes_done: Number(p.bytes_done || 0), bytes_total: p.bytes_total === null ? null : Number(p.bytes_total) });
    if (p.error !== undefined) j.error = p.error;
    if (p.name !== undefined) j.name = p.name;
    j.samples.push([now, j.bytes_done]);
    while (j.samples.length > 2 && now - j.samples[0][0] > 5000) j.samples.shift();
    if (FINAL.has(j.state) && was !== j.state && j.state !== 'ready') this.details(j);
    this.render();
  },
  async details(j) {
    try {
      const u = await api('/v1/uploads/' + encodeURIComponent(j.id));
      j.name = u.name;
      // States only move forward: a change the stream brought while this
      // answer was on its way is newer than it.
      if (UPLOAD_ORDER.indexOf(u.state) > UPLOAD_ORDER.indexOf(j.state)) j.state = u.state;
      j.error = u.error;
      j.file_id = j.file_id || u.file_id;
      this.render();
    } catch (err) {
      if (err instanceof Unauthorized) failed(err);
    }
  },
  speed(j) {
    const s = j.samples;
    if (s.length < 2) return null;
    const dt = (s[s.length - 1][0] - s[0][0]) / 1000;
    return dt > 0 ? (s[s.length - 1][1] - s[0][1]) / dt : null;
  },
  async cancel(j, button) {
    button.disabled = true;
    try {
      await api('/v1/uploads/' + encodeURIComponent(j.id), { method: 'DELETE' });
      status('cancel requested for ' + j.id, 'live');
    } catch (err) {
      button.disabled = false;
      failed(err);
    }
  },
  card(j) {
    const total = j.bytes_total;
    const pct = total ? Math.min(100, (100 * j.bytes_done) / total) : 0;
    const sp = this.speed(j);
    const left = sp > 0 && total ? ((total - j.bytes_done) / sp) * 1000 : null;
    const label = 'Upload ' + (j.name || j.id);
    return el('li', { 'data-upload-id': j.id, 'data-state': j.state },
      el('div', { class: 'row' },
        el('strong', { text: j.name || j.id }), stateTag(j.state), el('span', { text: j.provider }),
        el('span', { class: 'muted', text: j.id })),
      el('progress', { max: '100', value: pct.toFixed(1), 'aria-label': label + ' progress',
        'data-bytes-done': String(j.bytes_done) }),
      el('div', { class: 'row' },
        el('span', { text: bytes(j.bytes_done) + ' of ' + bytes(total) + ' (' + pct.toFixed(0) + '%)' }),
        el('span', { text: 'speed ' + (sp > 0 ? bytes(sp) + '/s' : '—') }),
        el('span', { text: 'time left ' + (left !== null ? duration(left) : '—') }),
        el('button', { type: 'button', class: 'cancel', 'aria-label': 'Cancel ' + label,
          onclick: (e) => this.cancel(j, e.currentTarget) }, 'Cancel')));
  },
  render() {
    const all = [...this.jobs.values()];
    const running = all.filter((j) => RUNNING.includes(j.state));
    // Keep focus on a cancel button across re-renders.
    const focused = document.activeElement && document.activeElement.closest('#up-running li');
    const fid = focused && focused.dataset.uploadId;
    $('up-running').replaceChildren(...running.map((j) => this.card(j)));
    if (fid) {
      const b = document.querySelector('#up-running li[data-upload-id="' + CSS.escape(fid) + '"] button');
      if (b) b.focus();
    }
    $('up-none').hidden = running.length > 0;
    $('ov-running').textContent = String(running.length);
    const done = all.filter((j) => !RUNNING.includes(j.state)).reverse();
    // Rebuilt only when it changed, so that focus and a click on it are
    // not lost to the progress of another job.
    const key = JSON.stringify(done.map((j) => [j.id, j.state, j.file_id, j.error]));
    if (key === this.doneKey) return;
    this.doneKey = key;
    fill($('up-done').tBodies[0], done.map((j) => el('tr', { 'data-upload-id': j.id },
      el('td', {}, el('code', { text: j.id })), el('td', { text: j.provider }), el('td', {}, stateTag(j.state)),
      el('td', {}, j.file_id ? el('a', { href: '#media/' + j.provider + '/' + encodeURIComponent(j.file_id),
        text: j.file_id }) : '—'),
      el('td', { text: j.error ? (j.error.code || '') + ' ' + (j.error.message || '') : '' }))),
    'None since the page opened.', 5);
  },
};

// ---------------------------------------------------------------- overview

let summaryTimer = null;
// Refresh what is shown at most once a second, however many changes arrive.
function refreshSoon() {
  if (summaryTimer) return;
  summaryTimer = setTimeout(() => {
    summaryTimer = null;
    refresh();
  }, 1000);
}

function refresh() {
  if (!token) return;
  const v = currentView();
  if (v === 'overview') overview();
  else if (v === 'failures') failures();
}

async function overview() {
  let s;
  try { s = await api('/v1/summary'); } catch (err) { return failed(err); }
  const db = $('ov-db');
  db.replaceChildren(s.database.ready ? stateTag('ready') : el('span', { class: 'state state-down',
    text: 'not ready: ' + s.database.reason }));
  if (s.uploads) $('ov-running').textContent = String(RUNNING.reduce((n, k) => n + (s.uploads[k] || 0), 0));
  $('ov-spool').textContent = bytes(s.spool.pending_bytes) +
    (s.spool.quarantined ? ', ' + s.spool.quarantined + ' quarantined' : '');
  let rec = 0;
  let rej = 0;
  for (const m of s.callbacks) { rec += m.received; rej += m.rejected; }
  $('ov-callbacks').textContent = rec + ' received, ' + rej + ' rejected';
  webhookCounts(s.webhooks);
  const rows = ['tencent', 'alibaba'].map((p) => el('tr', {},
    el('th', { scope: 'row', text: p }),
    ...MEDIA_STATES.map((st) => {
      const c = (s.media || []).find((x) => x.provider === p && x.state === st);
      return el('td', { class: 'num', 'data-provider': p, 'data-state': st, text: s.media ? String(c ? c.count : 0) : '—' });
    })));
  fill($('ov-media').tBodies[0], rows, '', 1 + MEDIA_STATES.length);
  const max = Math.max(1, ...s.callbacks.map((m) => m.received + m.rejected));
  fill($('ov-minutes').tBodies[0], s.callbacks.slice().reverse().map((m) => {
    const a = el('span', { class: 'bar' });
    const b = el('span', { class: 'bar rej' });
    a.style.width = (8 * m.received) / max + 'rem';
    b.style.width = (8 * m.rejected) / max + 'rem';
    return el('tr', {}, el('td', { text: m.minute.slice(11, 16) }),
      el('td', {}, a, ' ', String(m.received)), el('td', {}, b, ' ', String(m.rejected)));
  }), '', 3);
}

// "n what", a link to the failures view when n > 0 and trouble is set.
function count(n, what, trouble) {
  const text = n + ' ' + what;
  return trouble && n > 0 ? el('a', { href: '#failures', class: 'state state-failed', text }) : text;
}

// The webhooks in trouble, from the summary's counts (null while the
// database is away).
function webhookCounts(w) {
  if (!w) {
    $('ov-webhooks').textContent = '—';
    $('ov-webhook-messages').textContent = '—';
    return;
  }
  $('ov-webhooks').replaceChildren(count(w.subscriptions.enabled, 'enabled'), ', ',
    count(w.subscriptions.disabled, 'disabled', true));
  $('ov-webhook-messages').replaceChildren(count(w.messages.pending, 'pending'), ', ',
    count(w.messages.failed, 'failed', true));
}

// ---------------------------------------------------------------- media

const media = {
  cursors: [null], // the cursor of each page seen; the last is the current
  next: null,
  filter() {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if ($('mf-provider').value) q.set('provider', $('mf-provider').value);
    if ($('mf-state').value) q.set('state', $('mf-state').value);
    const c = this.cursors[this.cursors.length - 1];
    if (c) q.set('cursor', c);
    return q;
  },
  async list() {
    let doc;
    try { doc = await api('/v1/media?' + this.filter()); } catch (err) { return failed(err); }
    this.next = doc.next_cursor;
    this.rows(doc.items);
    $('media-msg').textContent = '';
    $('media-page').textContent = 'page ' + this.cursors.length;
    $('media-prev').disabled = this.cursors.length < 2;
    $('media-next').disabled = !this.next;
  },
  rows(items) {
    fill($('media-list').tBodies[0], items.map((m) => el('tr', { 'data-provider': m.provider, 'data-file-id': m.file_id },
      el('td', {}, el('a', { href: '#media/' + m.provider + '/' + encodeURIComponent(m.file_id), text: m.file_id })),
      el('td', { text: m.provider }), el('td', {}, stateTag(m.state)), el('td', { text: when(m.updated_at) }))),
    'No media.', 4);
  },
  async search(id) {
    const found = [];
    for (const p of segment(id) === null ? [] : PROVIDERS) {
      try {
        found.push(await api('/v1/media/' + p + '/' + segment(id)));
      } catch (err) {
        if (err.status !== 404) return failed(err);
      }
    }
    this.rows(found);
    $('media-msg').textContent = found.length ? '' : 'No media has the file id ' + id + '.';
    $('media-prev').disabled = true;
    $('media-next').disabled = true;
  },
  change(p) {
    const row = document.querySelector('#media-list tr[data-provider="' + p.provider + '"][data-file-id="' +
      CSS.escape(p.file_id) + '"]');
    if (row) row.cells[2].replaceChildren(stateTag(p.state));
    if (this.open && this.open[0] === p.provider && this.open[1] === p.file_id) this.detail(p.provider, p.file_id);
    for (const j of uploads.jobs.values()) if (j.id === p.upload_id && !j.file_id) j.file_id = p.file_id;
    refreshSoon();
  },
  open: null,
  async detail(provider, fileId) {
    this.open = [provider, fileId];
    let m;
    let events;
    try {
      // Both come from the address: a provider is one of two names, and a
      // file id stays one path segment.
      if (!PROVIDERS.includes(provider) || segment(fileId) === null) {
        throw Object.assign(new Error('no such media'), { status: 404 });
      }
      const where = '/v1/media/' + provider + '/' + segment(fileId);
      m = await api(where);
      events = await api(where + '/events');
    } catch (err) {
      if (err.status === 404) {
        $('h-detail').textContent = fileId;
        $('md-facts').replaceChildren(el('div', {}, el('dt', { text: 'Not found' }), el('dd', { text: provider + ' has no such media' })));
        $('md-timeline').replaceChildren();
        $('md-events').replaceChildren();
        return;
      }
      return failed(err);
    }
    $('h-detail').textContent = 'Media ' + m.file_id;
    const fact = (k, v) => el('div', {}, el('dt', { text: k }), el('dd', {}, v));
    $('md-facts').replaceChildren(fact('Provider', m.provider), fact('State', stateTag(m.state)),
      fact('Upload', m.upload_id || '—'), fact('Size', bytes(m.size)),
      fact('Error', m.error_code ? m.error_code + ' ' + (m.error_message || '') : '—'));
    this.timeline(m);
    this.events(events);
  },
  // Each transition at the time it happened (the platform's time, whatever
  // order its events arrived in), and the time spent in each state.
  timeline(m) {
    const steps = Object.entries(m.transitions || {}).filter(([, t]) => t)
      .map(([state, t]) => ({ state, t: Date.parse(t), at: t }))
      .sort((a, b) => a.t - b.t || MEDIA_STATES.indexOf(a.state) - MEDIA_STATES.indexOf(b.state));
    const items = steps.map((s, i) => {
      const end = i + 1 < steps.length ? steps[i + 1].t : (FINAL.has(s.state) ? null : Date.now());
      const spent = end === null ? 'final' : duration(end - s.t) + (i + 1 < steps.length ? '' : ' so far');
      return el('li', { 'data-state': s.state, 'data-time': s.at },
        stateTag(s.state), ' at ', el('time', { datetime: s.at, text: when(s.at) }),
        el('span', { class: 'muted', text: ' — ' + spent }));
    });
    $('md-timeline').replaceChildren(...items);
    if (!items.length) $('md-timeline').append(el('li', { class: 'muted', text: 'No transition yet.' }));
  },
  events(list) {
    const keyed = list.map((e, arrival) => ({ e, arrival, t: Date.parse(e.event_time || e.received_at) }));
    keyed.sort((a, b) => a.t - b.t || a.arrival - b.arrival);
    $('md-events').replaceChildren(...keyed.map(({ e, arrival }, i) => el('li', {
      'data-event-type': e.event_type, 'data-time': e.event_time || e.received_at },
    el('strong', { text: e.event_type }), ' ', e.status ? stateTag(e.status) : '',
    ' at ', el('time', { datetime: e.event_time || '', text: when(e.event_time) }),
    el('span', { class: 'muted', text: ' · arrived ' + when(e.received_at) + ' via ' + e.received_via +
      (arrival !== i ? ' (out of order)' : '') }),
    el('details', {}, el('summary', { text: 'Raw event' }), el('pre', {},
      el('code', { text: typeof e.body === 'string' ? e.body : JSON.stringify(e.body, null, 2) }))))));
  },
};

// ---------------------------------------------------------------- failures

async function failures() {
  let f;
  try { f = await api('/v1/failures'); } catch (err) { return failed(err); }
  fill($('fl-callbacks').tBodies[0], f.rejected_callbacks.map((r) => el('tr', {},
    el('td', { text: when(r.time) }), el('td', { text: r.provider }), el('td', {}, el('code', { text: r.route })),
    el('td', { text: r.reason }), el('td', { text: r.peer }))), 'None.', 5);
  fill($('fl-uploads').tBodies[0], (f.failed_uploads || []).map((u) => el('tr', { 'data-upload-id': u.id },
    el('td', { text: when(u.finished_at || u.created_at) }), el('td', {}, el('code', { text: u.id })),
    el('td', { text: u.provider }), el('td', { text: u.name || '—' }),
    el('td', { text: u.error ? (u.error.code || '') + ' ' + (u.error.message || '') : '' }))), 'None.', 5);
  webhooks.render(f.webhooks || { failed_messages: [], disabled_subscriptions: [] });
}

// ---------------------------------------------------------------- webhooks

const webhooks = {
  key: '',
  // A subscription as the failures show it: its description, its URL's
  // host (never the path, which may hold the receiver's token), its id.
  who(s) {
    return el('td', {}, s.description ? el('strong', { text: s.description }) : null, s.description ? ' ' : null,
      el('span', { text: s.host || '—' }), el('br'), el('code', { class: 'muted', text: s.id }));
  },
  // The record a message is about: "media:<provider>:<file_id>" links to
  // the media's page, "upload:<id>" names the job.
  about(subject) {
    const m = /^media:([a-z]+):(.+)$/.exec(subject);
    if (m && PROVIDERS.includes(m[1]) && segment(m[2]) !== null) {
      return el('td', {}, m[1] + ' ', el('a', { href: '#media/' + m[1] + '/' + encodeURIComponent(m[2]), text: m[2] }));
    }
    const u = /^upload:(.+)$/.exec(subject);
    return u ? el('td', {}, 'upload ', el('code', { text: u[1] })) : el('td', { text: subject });
  },
  async resend(m, button) {
    button.disabled = true;
    try {
      await api('/v1/webhooks/' + encodeURIComponent(m.subscription.id) + '/messages/' + encodeURIComponent(m.id) +
        '/resend', { method: 'POST' });
      button.textContent = 'Resent';
      status('resent ' + m.id + ', with a fresh schedule', 'live');
    } catch (err) {
      button.disabled = false;
      failed(err);
    }
  },
  // Rebuilt only when the lists changed, so that the periodic refresh does
  // not take the focus from a resend button.
  render(w) {
    const key = JSON.stringify(w);
    if (key === this.key) return;
    this.key = key;
    fill($('fl-webhooks').tBodies[0], w.failed_messages.map((m) => el('tr', { 'data-message-id': m.id,
      'data-webhook-id': m.subscription.id },
    el('td', { text: when(m.failed_at || m.created_at) }), this.who(m.subscription),
    el('td', {}, el('code', { text: m.id }), el('br'), el('span', { class: 'muted', text: m.type })),
    this.about(m.subject), el('td', { class: 'num', 'data-attempts': '', text: String(m.attempts) }),
    el('td', { text: m.last_error || (m.last_status ? 'HTTP status ' + m.last_status : '—') }),
    el('td', {}, el('button', { type: 'button', class: 'resend', 'aria-label': 'Resend ' + m.id,
      onclick: (e) => this.resend(m, e.currentTarget) }, 'Resend')))), 'None.', 7);
    fill($('fl-disabled').tBodies[0], w.disabled_subscriptions.map((s) => el('tr', { 'data-webhook-id': s.id },
      el('td', { text: when(s.disabled_at) }), this.who(s), el('td', { text: s.disabled_reason || '—' }),
      el('td', { text: when(s.failing_since) }))), 'None.', 4);
  },
};

// ---------------------------------------------------------------- views

function currentView() {
  const h = location.hash.slice(1);
  if (h.startsWith('media/')) return 'detail';
  return ['overview', 'uploads', 'media', 'failures'].includes(h) ? h : 'overview';
}

function show() {
  if (!token) return;
  const v = currentView();
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== 'view-' + v;
  for (const a of document.querySelectorAll('#nav a')) {
    const on = a.id === 'nav-' + (v === 'detail' ? 'media' : v);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  media.open = null;
  if (v === 'overview') overview();
  else if (v === 'uploads') uploads.render();
  else if (v === 'media') media.list();
  else if (v === 'failures') failures();
  else {
    const [, provider, id] = location.hash.slice(1).split('/');
    media.detail(provider, decodeURIComponent(id || ''));
  }
}

function start() {
  $('login').hidden = true;
  $('nav').hidden = false;
  $('signout').hidden = false;
  stream.start();
  show();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const given = $('token').value.trim();
    if (!given) return;
    token = given;
    try {
      await api('/v1/summary');
    } catch (err) {
      return signOut(err instanceof Unauthorized ? 'The token was refused: check api_token.'
        : 'Could not reach vodhook: ' + err.message);
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    $('login-error').textContent = '';
    start();
  });
  $('signout').addEventListener('click', () => signOut(''));
  $('media-filter').addEventListener('submit', (e) => { e.preventDefault(); media.cursors = [null]; media.list(); });
  $('media-search').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('ms-id').value.trim();
    if (id) media.search(id); else { media.cursors = [null]; media.list(); }
  });
  $('media-next').addEventListener('click', () => { if (media.next) { media.cursors.push(media.next); media.list(); } });
  $('media-prev').addEventListener('click', () => { if (media.cursors.length > 1) { media.cursors.pop(); media.list(); } });
  window.addEventListener('hashchange', show);
  setInterval(refresh, 5000);
  if (token) start(); else signOut('');
});
