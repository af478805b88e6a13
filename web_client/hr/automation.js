/* Candor HR, automation (Candor.hr.automation): a job's rules and message
 * templates on its board page, and what the rules did for one application on
 * its page (each action, its messages' delivery attempts, retry and cancel).
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;
  var http = Candor.http;

  var state = { jobId: null, etag: null, data: null };

  // ---- pure helpers (node-tested) ----
  // One rule as a line HR read: "筛选完成 · 如果 band == "advance" · 邀约（wecom|email）".
  function describeRule(rule, tr) {
    var parts = [tr('aev_' + String(rule.on).replace('.', '_'))];
    if (rule.after) parts.push(tr('rule_after', { after: rule.after }));
    if (rule['if']) parts.push(tr('rule_if', { cond: rule['if'] }));
    var actions = (Array.isArray(rule['do']) ? rule['do'] : [rule['do']]).map(function (a) {
      return typeof a === 'string' ? a : JSON.stringify(a);
    });
    parts.push(actions.join(', '));
    return parts.join(' · ');
  }

  function deliverySummary(d, tr) {
    if (!d) return '';
    var last = d.attempts_list && d.attempts_list.length ? d.attempts_list[d.attempts_list.length - 1] : null;
    var said = last ? (last.status !== null && last.status !== undefined ? String(last.status) : (last.error || '')) : '';
    return tr('delivery_line', { sink: channelLabel(d.sink, tr), state: tr('dstate_' + d.state), n: d.total_attempts, last: said || '—' });
  }

  // The channel an automation note names, in HR's words.
  function channelLabel(channel, tr) {
    var c = String(channel || '');
    if (c.indexOf('wecom-robot-') === 0) return tr('ch_wecom_robot', { group: c.slice('wecom-robot-'.length) });
    var key = 'ch_' + c.replace(/-/g, '_');
    var label = tr(key);
    return label === key ? c : label;
  }

  // What a timeline entry written by a rule adds to its line: the channel, the rule, a failure.
  function noteLine(entry, tr) {
    var d = (entry && entry.details) || {};
    var parts = [];
    if (d.channel) parts.push(channelLabel(d.channel, tr));
    if (d.rule) parts.push(tr('by_rule', { rule: d.rule }));
    if (d.outcome === 'failed') parts.push(tr('note_failed'));
    return parts.join(' · ');
  }

  // ---- the job's rules (board page) ----
  async function openJob(jobId) {
    state.jobId = jobId;
    var panel = $('automation-panel');
    if (!panel) return;
    $('automation-error').textContent = '';
    $('automation-saved').textContent = '';
    try {
      state.data = await hr.api('GET', '/v1/jobs/' + encodeURIComponent(jobId) + '/automation');
      var res = await fetch('/v1/jobs/' + encodeURIComponent(jobId) + '/automation', {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/yaml' }
      });
      if (!res.ok) throw new http.HttpError(res.status, await http.readDetail(res));
      state.etag = res.headers.get('ETag');
      $('automation-yaml').value = await res.text();
      render();
    } catch (err) {
      hr.handleError(err);
    }
  }

  function render() {
    var data = state.data;
    if (!data) return;
    $('automation-status').textContent = data.enabled ? t('auto_on', { n: data.rules.length }) : t('auto_off', { n: data.rules.length });
    $('automation-status').className = 'pill ' + (data.enabled ? 'pill-on' : 'pill-off');
    $('automation-toggle').textContent = t(data.enabled ? 'auto_turn_off' : 'auto_turn_on');
    $('automation-toggle').className = data.enabled ? '' : 'primary';
    var list = $('automation-rules');
    Candor.dom.clear(list);
    data.rules.forEach(function (r) {
      var li = el('li', null);
      li.setAttribute('data-rule', r.id);
      li.appendChild(el('code', null, r.id));
      li.appendChild(document.createTextNode(' ' + describeRule(r, t)));
      list.appendChild(li);
    });
    var select = $('preview-template');
    var chosen = select.value;
    Candor.dom.clear(select);
    (data.template_names || []).forEach(function (name) {
      var o = el('option', null, name);
      o.value = name;
      select.appendChild(o);
    });
    if (chosen) select.value = chosen;
  }

  // Switch the saved rules on or off as they are (the YAML box's unsaved edits stay in the box).
  async function toggle() {
    var data = state.data;
    if (!data) return;
    var body = { enabled: !data.enabled, rules: data.rules, templates: data.templates || {} };
    await save(JSON.stringify(body), 'application/json');
    if (state.data && state.data.enabled === body.enabled) await openJob(state.jobId);
  }

  async function save(text, contentType) {
    $('automation-error').textContent = '';
    $('automation-saved').textContent = '';
    var headers = { 'Content-Type': contentType || 'application/yaml', Accept: 'application/json' };
    if (state.etag) headers['If-Match'] = state.etag;
    try {
      var res = await fetch('/v1/jobs/' + encodeURIComponent(state.jobId) + '/automation', {
        method: 'PUT', credentials: 'same-origin', cache: 'no-store', headers: headers,
        body: text === undefined ? $('automation-yaml').value : text
      });
      if (res.status === 401 || res.status === 403) throw new http.AuthError(res.status);
      if (!res.ok) {
        $('automation-error').textContent = t('auto_refused', { detail: await http.readDetail(res) });
        return;
      }
      state.data = await res.json();
      state.etag = res.headers.get('ETag');
      $('automation-saved').textContent = t('auto_saved', { v: state.data.version });
      render();
    } catch (err) {
      hr.handleError(err);
    }
  }

  async function preview() {
    $('preview-error').textContent = '';
    try {
      var out = await hr.api('POST', '/v1/jobs/' + encodeURIComponent(state.jobId) + '/templates/preview', {
        template: $('preview-template').value, language: $('preview-lang').value
      });
      $('preview-subject').textContent = out.subject;
      // The HTML as a mail client shows it, in a sandbox with no scripts.
      $('preview-frame').setAttribute('srcdoc', out.html);
      $('preview-box').hidden = false;
    } catch (err) {
      if (err && err.name === 'HttpError') { $('preview-error').textContent = err.detail; return; }
      hr.handleError(err);
    }
  }

  // ---- one application's actions (application page) ----
  async function showActions(applicationId) {
    var list = $('app-actions');
    if (!list) return;
    Candor.dom.clear(list);
    var data;
    try {
      data = await hr.api('GET', '/v1/applications/' + encodeURIComponent(applicationId) + '/actions');
    } catch (err) {
      hr.handleError(err);
      return;
    }
    var actions = (data && data.actions) || [];
    $('app-actions-empty').hidden = actions.length > 0;
    actions.forEach(function (a) {
      var li = el('li', 'action-' + a.state);
      li.setAttribute('data-action-id', a.id);
      li.setAttribute('data-state', a.state);
      var head = el('div', null);
      head.appendChild(el('strong', null, hr.labelOf('aact_', a.action)));
      head.appendChild(el('span', 'pill', t('astate_' + a.state)));
      head.appendChild(el('span', 'muted small', t('action_rule', { rule: a.rule, due: hr.fmtDateTime(a.due_at) })));
      li.appendChild(head);
      if (a.result && a.result.reason) li.appendChild(el('div', 'small', a.result.reason));
      (a.deliveries || []).forEach(function (d) {
        var line = el('div', 'small delivery delivery-' + d.state, deliverySummary(d, t));
        line.setAttribute('data-delivery', d.id);
        if (d.state === 'failed' || d.state === 'dead') {
          // A dead letter: send it again, same id (after fixing what refused it).
          var again = el('button', 'small link-button', t('delivery_replay'));
          again.type = 'button';
          again.addEventListener('click', function () {
            hr.api('POST', '/v1/deliveries/' + encodeURIComponent(d.id) + '/replay').then(function () {
              return showActions(applicationId);
            }).catch(hr.handleError);
          });
          line.appendChild(again);
        }
        li.appendChild(line);
      });
      if (a.state === 'failed' || a.state === 'skipped') li.appendChild(button('action_retry', 'retry', a, applicationId));
      if (a.state === 'scheduled') li.appendChild(button('action_cancel', 'cancel', a, applicationId));
      list.appendChild(li);
    });
  }

  function button(label, verb, action, applicationId) {
    var b = el('button', 'small', t(label));
    b.type = 'button';
    b.addEventListener('click', function () {
      hr.api('POST', '/v1/automation/actions/' + encodeURIComponent(action.id) + '/' + verb).then(function () {
        return showActions(applicationId);
      }).catch(hr.handleError);
    });
    return b;
  }

  function init() {
    if (!$('automation-panel')) return;
    $('automation-save').addEventListener('click', function () { save(); });
    $('automation-toggle').addEventListener('click', function () { toggle(); });
    $('preview-run').addEventListener('click', function () { preview(); });
  }

  hr.automation = { init: init, openJob: openJob, showActions: showActions, describeRule: describeRule, deliverySummary: deliverySummary,
    channelLabel: channelLabel, noteLine: noteLine };
  void ui;
})(window.Candor = window.Candor || {});
