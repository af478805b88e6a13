/* Candor HR, the users view (Candor.hr.users), for admins: every user with
 * their role, jobs, second factor and state; change a role, disable or
 * enable, reset a password; add a user (the one-time password is shown once).
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var t = hr.t;
  var $ = Candor.dom.$;

  Object.assign(hr.STRINGS.zh, {
    users_title: '用户与角色',
    user_col_login: '账号',
    user_col_name: '姓名',
    user_col_role: '角色',
    user_col_jobs: '负责岗位',
    user_col_2fa: '两步验证',
    user_col_state: '状态',
    user_wecom: '企业微信 UserID',
    user_jobs_hint: '岗位 ID，用逗号分隔（招聘专员、面试评审）',
    user_jobs_all: '全部',
    user_add_title: '添加用户',
    user_add: '添加',
    user_active: '启用',
    user_disabled: '已停用',
    user_disable: '停用',
    user_enable: '启用',
    user_reset: '重置密码',
    user_2fa_on: '已开启',
    user_2fa_off: '未开启',
    user_otp: '{login} 的一次性密码：{password}（只显示这一次，请当面交给本人）',
    users_empty: '还没有用户。'
  });
  Object.assign(hr.STRINGS.en, {
    users_title: 'Users and roles',
    user_col_login: 'Login',
    user_col_name: 'Name',
    user_col_role: 'Role',
    user_col_jobs: 'Jobs',
    user_col_2fa: 'Two-step',
    user_col_state: 'State',
    user_wecom: 'WeCom UserID',
    user_jobs_hint: 'job ids, comma-separated (recruiters, reviewers)',
    user_jobs_all: 'all',
    user_add_title: 'Add a user',
    user_add: 'Add',
    user_active: 'active',
    user_disabled: 'disabled',
    user_disable: 'Disable',
    user_enable: 'Enable',
    user_reset: 'Reset password',
    user_2fa_on: 'on',
    user_2fa_off: 'off',
    user_otp: 'One-time password for {login}: {password} (shown only now: hand it over in person)',
    users_empty: 'No users yet.'
  });

  var ROLES = ['admin', 'recruiter', 'reviewer', 'auditor'];
  var state = { users: [] };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function render() {
    var body = $('users-body');
    body.textContent = '';
    if (!state.users.length) {
      var empty = el('tr');
      var cell = el('td', t('users_empty'), 'muted');
      cell.colSpan = 7;
      empty.appendChild(cell);
      body.appendChild(empty);
      return;
    }
    state.users.forEach(function (user) {
      var row = el('tr');
      row.setAttribute('data-user', user.id);
      row.appendChild(el('td', user.login));
      row.appendChild(el('td', user.display_name));
      var roleCell = el('td');
      var select = el('select');
      select.setAttribute('aria-label', t('user_col_role'));
      ROLES.forEach(function (role) {
        var option = el('option', t('role_' + role));
        option.value = role;
        option.selected = role === user.role;
        select.appendChild(option);
      });
      select.addEventListener('change', function () { update(user.id, { role: select.value }); });
      roleCell.appendChild(select);
      row.appendChild(roleCell);
      var scoped = user.role === 'recruiter' || user.role === 'reviewer';
      row.appendChild(el('td', scoped ? (user.job_ids.join(', ') || '—') : t('user_jobs_all')));
      row.appendChild(el('td', t(user.totp_enabled ? 'user_2fa_on' : 'user_2fa_off')));
      var stateCell = el('td');
      stateCell.appendChild(el('span', t(user.disabled ? 'user_disabled' : 'user_active'), user.disabled ? 'pill bad' : 'pill ok'));
      row.appendChild(stateCell);
      var actions = el('td', null, 'actions');
      var toggle = el('button', t(user.disabled ? 'user_enable' : 'user_disable'));
      toggle.type = 'button';
      toggle.addEventListener('click', function () { update(user.id, { disabled: !user.disabled }); });
      var reset = el('button', t('user_reset'));
      reset.type = 'button';
      reset.addEventListener('click', function () { resetPassword(user); });
      actions.appendChild(toggle);
      actions.appendChild(reset);
      row.appendChild(actions);
      body.appendChild(row);
    });
  }

  async function load() {
    var data = await hr.api('GET', '/v1/users');
    state.users = data.users;
    render();
  }

  async function update(id, changes) {
    try {
      await hr.api('PATCH', '/v1/users/' + encodeURIComponent(id), changes);
      await load();
    } catch (err) {
      hr.handleError(err);
    }
  }

  function showPassword(login, password) {
    var box = $('user-password');
    box.textContent = t('user_otp', { login: login, password: password });
    box.hidden = false;
  }

  async function resetPassword(user) {
    try {
      var data = await hr.api('POST', '/v1/users/' + encodeURIComponent(user.id) + '/password');
      showPassword(user.login, data.one_time_password);
    } catch (err) {
      hr.handleError(err);
    }
  }

  async function onAdd(ev) {
    ev.preventDefault();
    $('user-error').textContent = '';
    $('user-password').hidden = true;
    var jobs = $('user-jobs').value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    var body = {
      login: $('user-login').value.trim(),
      display_name: $('user-name').value.trim(),
      role: $('user-role').value,
      job_ids: jobs
    };
    var wecom = $('user-wecom').value.trim();
    if (wecom) body.wecom_userid = wecom;
    $('user-submit').disabled = true;
    try {
      var made = await hr.api('POST', '/v1/users', body);
      showPassword(made.user.login, made.one_time_password);
      $('user-form').reset();
      await load();
    } catch (err) {
      if (err && err.name === 'HttpError') $('user-error').textContent = err.detail;
      else hr.handleError(err);
    } finally {
      $('user-submit').disabled = false;
    }
  }

  function open() {
    hr.setView('users');
    load().catch(hr.handleError);
  }

  function init() {
    $('user-form').addEventListener('submit', onAdd);
    $('users-refresh').addEventListener('click', function () { load().catch(hr.handleError); });
  }

  hr.users = {
    init: init,
    open: open,
    render: render,
    snapshot: function () { return state.users.map(function (u) { return { login: u.login, role: u.role, disabled: u.disabled }; }); }
  };
})(window.Candor);
