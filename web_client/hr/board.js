/* Candor HR, a job's pipeline board (Candor.hr.board, /hr/jobs/<id>): a
 * column per state (screened split by the screening's outcome) with its
 * count, a card per application (name, match score, interview score,
 * source), search and sort, bulk select and bulk actions (invite, confirm
 * the pool, withdraw; each id answered on its own), and resumes uploaded by
 * drag and drop or a file picker, one POST per file with one progress bar
 * for the set and a line per file.
 * Classic script, plain ES2017; loads after hr.js and hr/pipeline.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var P = hr.pipeline;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;

  var PAGE = 200;
  var MAX_PAGES = 5;

  var state = {
    job: null,
    apps: [],
    counts: {},
    more: false, // more than MAX_PAGES pages
    selected: {}, // id -> true
    q: '',
    sort: '-score',
    loadSeq: 0,
    uploads: null, // {total, done, sent, results: [{name, result}]}
    bulk: null // the last bulk action's answer: {ok, failed: [{name, detail}]}
  };

  async function open(jobId) {
    ui.jobId = jobId;
    state.selected = {};
    state.bulk = null;
    state.uploads = null;
    state.job = null;
    hr.setView('board');
    $('board-title').textContent = jobId;
    $('board-job-id').textContent = jobId;
    render();
    if (hr.automation) hr.automation.openJob(jobId);
    try {
      var job = await hr.api('GET', '/v1/jobs/' + encodeURIComponent(jobId));
      state.job = job;
      renderTitle();
    } catch (err) {
      hr.handleError(err);
      return;
    }
    await load().catch(hr.handleError);
  }

  function renderTitle() {
    var title = state.job ? hr.locText(state.job.title || (state.job.job && state.job.job.title)) : '';
    $('board-title').textContent = title || ui.jobId || '';
    $('board-job-id').textContent = ui.jobId || '';
  }

  // Every application of the job (up to MAX_PAGES pages), with the counts.
  async function load() {
    var seq = ++state.loadSeq;
    var base = '/v1/applications?job_id=' + encodeURIComponent(ui.jobId) + '&sort=' + encodeURIComponent(state.sort) +
      '&limit=' + PAGE + (state.q ? '&q=' + encodeURIComponent(state.q) : '');
    var apps = [];
    var counts = {};
    var cursor = null;
    var pages = 0;
    do {
      var page = await hr.api('GET', base + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      if (seq !== state.loadSeq) return; // a newer load is on its way
      apps = apps.concat((page && page.applications) || []);
      counts = (page && page.counts) || counts;
      cursor = page && page.next_cursor;
      pages++;
    } while (cursor && pages < MAX_PAGES);
    state.apps = apps;
    state.counts = counts;
    state.more = !!cursor;
    var known = {};
    apps.forEach(function (a) { known[a.id] = true; });
    Object.keys(state.selected).forEach(function (id) { if (!known[id]) delete state.selected[id]; });
    render();
  }

  function outcomeLabel(outcome) { return outcome ? hr.labelOf('out_', outcome) : ''; }

  function render() {
    if (ui.view !== 'board') return;
    renderTitle();
    renderBoard();
    renderBulk();
    renderUploads();
  }

  function renderBoard() {
    var board = $('board');
    Candor.dom.clear(board);
    var groups = P.groupColumns(state.apps);
    var counts = P.columnCounts(state.counts);
    P.COLUMNS.forEach(function (c) {
      var items = groups[c.key];
      if (c.optional && !items.length && !counts[c.key]) return;
      var col = el('section', 'col col-' + c.key.replace('/', '-'));
      col.setAttribute('data-col', c.key);
      var head = el('header', 'col-head');
      head.appendChild(el('span', 'col-title', t(c.label)));
      var count = el('span', 'col-count', String(counts[c.key] || items.length));
      count.setAttribute('data-count', String(counts[c.key] || items.length));
      head.appendChild(count);
      col.appendChild(head);
      if (state.q && counts[c.key] !== items.length) {
        col.appendChild(el('p', 'col-note muted small', t('col_shown', { shown: items.length, total: counts[c.key] || 0 })));
      }
      if (c.key === 'screened/pool' && items.length) {
        var chosen = items.filter(function (a) { return state.selected[a.id]; });
        var btn = el('button', 'pool-confirm small-button',
          chosen.length ? t('pool_confirm_selected', { n: chosen.length }) : t('pool_confirm_all', { n: items.length }));
        btn.type = 'button';
        btn.id = 'pool-confirm';
        btn.addEventListener('click', function () {
          var ids = (chosen.length ? chosen : items).map(function (a) { return a.id; });
          runBulk('confirm_pool', ids);
        });
        col.appendChild(btn);
      }
      var list = el('div', 'col-cards');
      items.forEach(function (a) { list.appendChild(card(a)); });
      if (!items.length) list.appendChild(el('p', 'col-empty muted small', t('col_empty')));
      col.appendChild(list);
      board.appendChild(col);
    });
    if (state.more) board.appendChild(el('p', 'muted small', t('col_more', { n: '…' })));
  }

  function card(a) {
    var node = el('article', 'app-card' + (state.selected[a.id] ? ' selected' : ''));
    node.setAttribute('data-id', a.id);
    var top = el('div', 'app-card-top');
    var box = document.createElement('input');
    box.type = 'checkbox';
    box.className = 'app-select';
    box.checked = !!state.selected[a.id];
    box.setAttribute('aria-label', t('select_card', { name: a.name || a.id }));
    box.addEventListener('change', function () {
      if (box.checked) state.selected[a.id] = true;
      else delete state.selected[a.id];
      node.classList.toggle('selected', box.checked);
      renderBulk();
      if (a.state === 'screened' && a.outcome === 'pool') renderBoardKeepScroll();
    });
    top.appendChild(box);
    var name = el('a', 'app-name', a.name || a.id);
    name.href = '/hr/applications/' + encodeURIComponent(a.id);
    top.appendChild(name);
    node.appendChild(top);
    var meta = el('div', 'app-card-meta');
    var match = el('span', 'score-badge score-' + (a.outcome || 'none'));
    match.setAttribute('data-score', a.score === null || a.score === undefined ? '' : String(a.score));
    match.textContent = t('card_match') + ' ' + P.fmtScore(a.score);
    meta.appendChild(match);
    if (typeof a.interview_score === 'number') {
      meta.appendChild(el('span', 'score-badge score-interview', t('card_interview') + ' ' + P.fmtScore(a.interview_score)));
    }
    if (a.state === 'decided' && a.outcome) meta.appendChild(el('span', 'pill small', outcomeLabel(a.outcome)));
    node.appendChild(meta);
    var foot = el('div', 'app-card-foot muted small');
    foot.appendChild(el('span', 'app-source', a.source ? hr.labelOf('src_', a.source) : '—'));
    if (a.duplicates) foot.appendChild(el('span', 'app-dups', t('card_dups', { n: a.duplicates })));
    node.appendChild(foot);
    return node;
  }

  function renderBoardKeepScroll() {
    var board = $('board');
    var x = board.scrollLeft;
    renderBoard();
    board.scrollLeft = x;
  }

  // ---- bulk ----
  function selectedIds() { return Object.keys(state.selected); }

  function renderBulk() {
    var ids = selectedIds();
    $('bulk-bar').hidden = !ids.length && !state.bulk;
    $('bulk-count').textContent = ids.length ? t('bulk_selected', { n: ids.length }) : '';
    ['bulk-invite', 'bulk-pool', 'bulk-withdraw', 'bulk-clear'].forEach(function (id) { $(id).disabled = !ids.length; });
    var b = state.bulk;
    $('bulk-result').textContent = b ? [t('bulk_done', { ok: b.ok, fail: b.failed.length })].concat(b.failed.map(function (f) {
      return t('bulk_fail_one', f);
    })).join(' · ') : '';
  }

  function nameOf(id) {
    for (var i = 0; i < state.apps.length; i++) if (state.apps[i].id === id) return state.apps[i].name || id;
    return id;
  }

  async function runBulk(action, ids) {
    if (!ids.length) return;
    var body = { action: action, ids: ids };
    if (action === 'confirm_pool') body.reason = 'pool confirmed by HR on the board';
    var buttons = document.querySelectorAll('#bulk-bar button, #pool-confirm');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    try {
      var res = await hr.api('POST', '/v1/applications/bulk', body);
      var results = (res && res.results) || [];
      var ok = results.filter(function (r) { return r.ok; });
      var failed = results.filter(function (r) { return !r.ok; });
      state.bulk = { ok: ok.length, failed: failed.map(function (r) {
        return { name: nameOf(r.id), detail: (r.error && (r.error.detail || r.error.title)) || String(r.status) };
      }) };
      ok.forEach(function (r) { delete state.selected[r.id]; });
      await load();
    } catch (err) {
      hr.handleError(err);
    } finally {
      renderBulk();
    }
  }

  // ---- uploads ----
  // One file: POST /v1/applications as multipart with upload progress.
  function uploadOne(file, source, onSent) {
    return new Promise(function (resolve) {
      var form = new FormData();
      form.append('job_id', ui.jobId);
      form.append('source', source);
      form.append('resume', file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/v1/applications');
      xhr.withCredentials = true;
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable && ev.total) onSent(ev.loaded / ev.total);
      };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = function () { resolve({ status: 0, body: null }); };
      xhr.send(form);
    });
  }

  // A ZIP of resumes: one POST to the batch endpoint, then its files' results as they are read.
  function uploadZip(file, source, onSent) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var q = '?job_id=' + encodeURIComponent(ui.jobId) + '&source=' + encodeURIComponent(source);
      xhr.open('POST', '/v1/applications/batch' + q);
      xhr.withCredentials = true;
      xhr.setRequestHeader('Content-Type', 'application/zip');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable && ev.total) onSent(ev.loaded / ev.total);
      };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = function () { resolve({ status: 0, body: null }); };
      xhr.send(file);
    });
  }

  function isZip(file) {
    return /\.zip$/i.test(file.name || '') || file.type === 'application/zip' || file.type === 'application/x-zip-compressed';
  }

  async function followBatch(up, batch, name) {
    up.total += Math.max(0, batch.total - 1);  // the archive counts as its files
    var seen = 0;
    while (true) {
      var shown = P.batchResults(batch, name);
      up.results = up.results.concat(shown.slice(seen));
      up.done += shown.length - seen;
      seen = shown.length;
      renderUploads();
      if (batch.state !== 'running') break;
      await new Promise(function (r) { setTimeout(r, 500); });
      batch = await hr.api('GET', '/v1/applications/batch/' + encodeURIComponent(batch.id));
    }
  }

  async function uploadFiles(fileList) {
    var files = Array.prototype.slice.call(fileList || []);
    if (!files.length || !ui.jobId) return;
    var source = $('upload-source').value || 'upload';
    var up = state.uploads = { total: files.length, done: 0, sent: 0, results: [], running: true };
    renderUploads();
    for (var i = 0; i < files.length; i++) {
      up.sent = 0;
      var zip = isZip(files[i]);
      var answer = await (zip ? uploadZip : uploadOne)(files[i], source, function (share) {
        up.sent = share;
        renderUploads();
      });
      if (answer.status === 401 || answer.status === 403) { hr.signin.show(); return; }
      if (zip && answer.status === 202 && answer.body) {
        up.sent = 0;
        try {
          await followBatch(up, answer.body, files[i].name);
        } catch (e) {
          up.results.push({ name: files[i].name, result: { kind: 'error', code: null, detail: String(e && e.message || e), status: 0 } });
          up.done++;
        }
        continue;
      }
      up.results.push({ name: files[i].name, result: P.uploadResult(answer.status, answer.body) });
      up.done++;
      up.sent = 0;
      renderUploads();
    }
    up.running = false;
    renderUploads();
    await load().catch(hr.handleError);
  }

  function renderUploads() {
    var up = state.uploads;
    $('upload-status').hidden = !up;
    if (!up) return;
    var ok = 0, dup = 0, err = 0;
    up.results.forEach(function (r) {
      if (r.result.kind === 'ok') ok++;
      else if (r.result.kind === 'duplicate') dup++;
      else err++;
    });
    $('upload-label').textContent = up.running
      ? t('upload_progress', { done: Math.min(up.done + 1, up.total), total: up.total })
      : t('upload_done', { total: up.total, ok: ok, dup: dup, err: err });
    var share = P.uploadShare(up.done, up.total, up.sent);
    var fill = $('upload-bar-fill');
    fill.style.width = Math.round(share * 100) + '%';
    fill.parentNode.setAttribute('data-share', String(share));
    var list = $('upload-results');
    Candor.dom.clear(list);
    up.results.forEach(function (r) {
      var li = el('li', 'upload-' + r.result.kind);
      li.setAttribute('data-kind', r.result.kind);
      li.appendChild(el('span', 'upload-name', r.name));
      var text;
      if (r.result.kind === 'ok' && r.result.score === null) {
        text = t('upload_ok_plain');  // from a ZIP: its score is on its card and page
      } else if (r.result.kind === 'ok') {
        text = t('upload_ok', { score: P.fmtScore(r.result.score), outcome: outcomeLabel(r.result.outcome) });
      } else if (r.result.kind === 'duplicate') {
        text = t('upload_dup');
      } else if (r.result.code && hr.labelOf('code_', r.result.code) !== r.result.code) {
        text = t('upload_err_code', { what: hr.labelOf('code_', r.result.code) });
      } else {
        text = t('upload_err', { detail: r.result.detail });
      }
      var what = r.result.id && r.result.kind !== 'error' ? el('a', 'upload-what', text) : el('span', 'upload-what', text);
      if (r.result.id && r.result.kind !== 'error') what.href = '/hr/applications/' + encodeURIComponent(r.result.id);
      if (r.result.kind === 'error') what.title = r.result.detail;
      li.appendChild(what);
      list.appendChild(li);
    });
  }

  // ---- snapshot for tests ----
  function snapshot() {
    var groups = P.groupColumns(state.apps);
    var out = {};
    Object.keys(groups).forEach(function (k) {
      out[k] = groups[k].map(function (a) { return { id: a.id, name: a.name, score: a.score }; });
    });
    return { job: ui.jobId, columns: out, selected: selectedIds(), uploading: !!(state.uploads && state.uploads.running) };
  }

  function init() {
    var zone = $('drop-zone');
    var input = $('upload-input');
    var depth = 0;
    zone.addEventListener('dragenter', function (ev) { ev.preventDefault(); depth++; zone.classList.add('dragging'); });
    zone.addEventListener('dragover', function (ev) {
      ev.preventDefault();
      if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
    });
    zone.addEventListener('dragleave', function () { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove('dragging'); });
    zone.addEventListener('drop', function (ev) {
      ev.preventDefault();
      depth = 0;
      zone.classList.remove('dragging');
      if (ev.dataTransfer && ev.dataTransfer.files) uploadFiles(ev.dataTransfer.files);
    });
    // A file dropped beside the zone must not open in the tab.
    window.addEventListener('dragover', function (ev) { if (ui.view === 'board') ev.preventDefault(); });
    window.addEventListener('drop', function (ev) { if (ui.view === 'board') ev.preventDefault(); });
    $('upload-pick').addEventListener('click', function () { input.click(); });
    zone.addEventListener('keydown', function (ev) {
      if ((ev.key === 'Enter' || ev.key === ' ') && ev.target === zone) { ev.preventDefault(); input.click(); }
    });
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files || []);
      input.value = '';
      uploadFiles(files);
    });
    var timer = null;
    $('board-search').addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        state.q = $('board-search').value.trim();
        load().catch(hr.handleError);
      }, 300);
    });
    $('board-sort').addEventListener('change', function () {
      state.sort = $('board-sort').value;
      load().catch(hr.handleError);
    });
    $('board-refresh').addEventListener('click', function () { load().catch(hr.handleError); });
    $('bulk-invite').addEventListener('click', function () { runBulk('invite', selectedIds()); });
    $('bulk-pool').addEventListener('click', function () { runBulk('confirm_pool', selectedIds()); });
    $('bulk-withdraw').addEventListener('click', function () { runBulk('withdraw', selectedIds()); });
    $('bulk-clear').addEventListener('click', function () {
      state.selected = {};
      state.bulk = null;
      render();
    });
  }

  hr.board = {
    init: init,
    open: open,
    load: load,
    render: render,
    snapshot: snapshot
  };
})(window.Candor);
