/* Candor HR, the sign-in view (Candor.hr.signin): login + password (+ the
 * 6-digit code once the user enrolled TOTP), an API token as the fallback
 * (CANDOR_HR_TOKEN, the bootstrap admin), "sign in with WeCom" when WeCom is
 * configured; sign-out. Any view shows it on a 401. After signing in, GET
 * /v1/me says the role and permissions: the nav hides what the role cannot do.
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var http = Candor.http;
  var $ = Candor.dom.$;

  Object.assign(hr.STRINGS.zh, {
    login_label: '账号',
    password_label: '密码',
    totp_label: '动态验证码（6 位）',
    token_label: 'API 令牌',
    token_fallback: '或使用 API 令牌（脚本、引导管理员）：',
    signin_wecom: '企业微信一键登录',
    signin_bad: '账号、密码或令牌不正确。',
    signin_need: '请输入账号和密码，或 API 令牌。',
    signin_totp: '请输入身份验证器上的 6 位动态验证码。',
    signin_totp_bad: '动态验证码不正确。',
    signin_limited: '尝试次数过多，请 {s} 秒后再试。',
    nav_users: '用户',
    role_admin: '管理员',
    role_recruiter: '招聘专员',
    role_reviewer: '面试评审',
    role_auditor: '审计员'
  });
  Object.assign(hr.STRINGS.en, {
    login_label: 'Login',
    password_label: 'Password',
    totp_label: 'Authenticator code (6 digits)',
    token_label: 'API token',
    token_fallback: 'Or an API token (scripts, the bootstrap admin):',
    signin_wecom: 'Sign in with WeCom',
    signin_bad: 'The login, password or token is not correct.',
    signin_need: 'Enter a login and password, or an API token.',
    signin_totp: 'Enter the 6-digit code from your authenticator app.',
    signin_totp_bad: 'The code is not correct.',
    signin_limited: 'Too many attempts; try again in {s} s.',
    nav_users: 'Users',
    role_admin: 'Admin',
    role_recruiter: 'Recruiter',
    role_reviewer: 'Reviewer',
    role_auditor: 'Auditor'
  });

  // Which nav link needs which permission (a list: any one of them); in this
  // order a role without the jobs lands on its first (an auditor: the audit view).
  var NAV = [
    ['nav-jobs', 'applications.read'],
    ['nav-sessions', 'sessions.read'],
    ['nav-audit', ['audit.read', 'bias.read']],
    ['nav-dashboard', 'analytics.read'],
    ['nav-users', 'users.admin']
  ];

  // Which permission each view needs.
  var VIEW_PERM = {
    jobs: 'applications.read', board: 'applications.read', application: 'applications.read',
    list: 'sessions.read', live: 'sessions.read', dashboard: 'analytics.read', users: 'users.admin',
    audit: ['audit.read', 'bias.read']
  };

  hr.me = null;

  function can(perm) {
    if (Array.isArray(perm)) return perm.some(can);
    return !hr.me || hr.me.permissions.indexOf(perm) >= 0;
  }

  // Hide what the role cannot do; on /hr, a role without the jobs goes to its first view.
  function applyMe() {
    for (var i = 0; i < NAV.length; i++) {
      var link = $(NAV[i][0]);
      if (link) link.hidden = !can(NAV[i][1]) || (NAV[i][0] === 'nav-users' && !hr.me);
    }
    // Any control marked data-perm="..." shows only to roles with that permission.
    var marked = document.querySelectorAll('[data-perm]');
    for (var j = 0; j < marked.length; j++) marked[j].hidden = !can(marked[j].getAttribute('data-perm'));
    var badge = $('me-badge');
    if (badge) {
      badge.hidden = !hr.me;
      badge.textContent = hr.me ? (hr.me.display_name || hr.me.login) + ' · ' + t('role_' + hr.me.role) : '';
    }
    // What the signed-in user may do decides parts drawn before /v1/me answered (the recommendation form).
    if (hr.recommend) hr.recommend.render();
  }

  async function loadMe() {
    try {
      var res = await fetch('/v1/me', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
      hr.me = res.ok ? await res.json() : null;
    } catch (e) {
      hr.me = null;
    }
    applyMe();
    return hr.me;
  }

  function firstAllowedPath() {
    for (var i = 0; i < NAV.length; i++) {
      if (can(NAV[i][1])) return $(NAV[i][0]).getAttribute('href');
    }
    return '/hr';
  }

  async function loadMethods() {
    try {
      var res = await fetch('/v1/hr/methods', { cache: 'no-store', headers: { Accept: 'application/json' } });
      var methods = res.ok ? await res.json() : {};
      $('signin-wecom').hidden = !methods.wecom;
    } catch (e) { /* no WeCom link */ }
  }

  // Stop watching, show the form.
  function showSignin() {
    hr.live.closeEvents();
    hr.live.setWsState(ui.sessionId ? 'signed-out' : null);
    hr.me = null;
    applyMe();
    hr.setView('signin');
    $('signin-error').textContent = '';
    loadMethods();
    setTimeout(function () { $($('signin-totp-row').hidden ? 'signin-login' : 'signin-totp').focus(); }, 0);
  }

  function credentials() {
    var token = $('hr-token').value.trim();
    if (token) return { token: token };
    var login = $('signin-login').value.trim();
    var password = $('signin-password').value;
    if (!login || !password) return null;
    var body = { login: login, password: password };
    var code = $('signin-totp').value.trim();
    if (!$('signin-totp-row').hidden && code) body.totp = code;
    return body;
  }

  async function onSignin(ev) {
    ev.preventDefault();
    var body = credentials();
    if (!body) {
      $('signin-error').textContent = t('signin_need');
      return;
    }
    $('signin-submit').disabled = true;
    $('signin-error').textContent = '';
    try {
      var res = await fetch('/v1/hr/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body)
      });
      if (res.status === 401 || res.status === 403 || res.status === 429) {
        var problem = {};
        try { problem = await res.json(); } catch (e) { /* not JSON */ }
        var type = problem.type || '';
        if (/totp-required$/.test(type)) {
          $('signin-totp-row').hidden = false;
          $('signin-error').textContent = t('signin_totp');
          $('signin-totp').focus();
        } else if (/totp-invalid$/.test(type)) {
          $('signin-error').textContent = t('signin_totp_bad');
          $('signin-totp').select();
        } else if (res.status === 429) {
          $('signin-error').textContent = t('signin_limited', { s: res.headers.get('Retry-After') || '?' });
        } else {
          $('signin-error').textContent = t('signin_bad');
        }
        return;
      }
      if (!res.ok) {
        $('signin-error').textContent = t('signin_failed', { detail: await http.readDetail(res) });
        return;
      }
      $('hr-token').value = '';
      $('signin-password').value = '';
      $('signin-totp').value = '';
      $('signin-totp-row').hidden = true;
      await loadMe();
      if (hr.me && !can(VIEW_PERM[hr.routeOf(location.pathname).view] || 'self')) {
        history.replaceState(null, '', firstAllowedPath());  // this view is not the role's: its first one
      }
      hr.route();
    } catch (err) {
      $('signin-error').textContent = t('signin_failed', { detail: (err && err.message) || String(err) });
    } finally {
      $('signin-submit').disabled = false;
    }
  }

  async function onLogout() {
    try {
      await fetch('/v1/hr/logout', { method: 'POST', credentials: 'same-origin' });
    } catch (e) { /* the cookie expires anyway */ }
    showSignin();
  }

  function init() {
    $('signin-form').addEventListener('submit', onSignin);
    $('logout').addEventListener('click', onLogout);
    loadMe();
  }

  hr.signin = {
    init: init,
    show: showSignin,
    can: can,
    applyMe: applyMe,
    loadMe: loadMe
  };
})(window.Candor);
