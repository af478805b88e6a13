/* Candor HR, the sign-in view (Candor.hr.signin): the HR token form, which
 * sets the HttpOnly cookie, and sign-out. Any view shows it on a 401 / 403.
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var http = Candor.http;
  var $ = Candor.dom.$;

  // Stop watching, show the form.
  function showSignin() {
    hr.live.closeEvents();
    hr.live.setWsState(ui.sessionId ? 'signed-out' : null);
    hr.setView('signin');
    $('signin-error').textContent = '';
    setTimeout(function () { $('hr-token').focus(); }, 0);
  }

  async function onSignin(ev) {
    ev.preventDefault();
    var token = $('hr-token').value.trim();
    if (!token) return;
    $('signin-submit').disabled = true;
    $('signin-error').textContent = '';
    try {
      var res = await fetch('/v1/hr/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ token: token })
      });
      if (res.status === 401 || res.status === 403) {
        $('signin-error').textContent = t('signin_bad');
        return;
      }
      if (!res.ok) {
        $('signin-error').textContent = t('signin_failed', { detail: await http.readDetail(res) });
        return;
      }
      $('hr-token').value = '';
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
  }

  hr.signin = {
    init: init,
    show: showSignin
  };
})(window.Candor);
