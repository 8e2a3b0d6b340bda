// Staff sign-in for the console and the board: tokens in sessionStorage, refresh on 401, and
// when the refresh fails too, the login dialog over the page (the page and its forms stay as
// they are) and the request is retried after signing in again.
import { $, say } from './dom.js';
import { t, extend } from './i18n.js';
import { request, ApiError } from './api.js';

extend({
  zh: { 'auth.title': '工作人员登录', 'auth.user': '用户名', 'auth.pass': '密码', 'auth.login': '登录', 'auth.logout': '退出',
    'auth.expired': '登录已过期，请重新登录。您填写的内容已保留。', 'auth.bad': '用户名或密码不正确。',
    'role.admin': '管理员', 'role.supervisor': '督办', 'role.dispatcher': '派单员', 'role.unit_admin': '单位管理员', 'role.unit_staff': '单位经办人', 'role.inspector': '排查员' },
  en: { 'auth.title': 'Staff sign-in', 'auth.user': 'Username', 'auth.pass': 'Password', 'auth.login': 'Sign in', 'auth.logout': 'Sign out',
    'auth.expired': 'Your session expired; please sign in again. What you typed is kept.', 'auth.bad': 'Wrong username or password.',
    'role.admin': 'Administrator', 'role.supervisor': 'Supervisor', 'role.dispatcher': 'Dispatcher', 'role.unit_admin': 'Unit administrator', 'role.unit_staff': 'Unit staff', 'role.inspector': 'Inspector' },
});

const KEY = 'anju.session';
const read = () => { try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; } };
let sess = read();
let waiting = null;      // the sign-in in progress: every request that met a 401 waits for it
let refreshing = null;

function store(s) {
  sess = s;
  try { if (s) sessionStorage.setItem(KEY, JSON.stringify(s)); else sessionStorage.removeItem(KEY); } catch { /* private mode */ }
}
export const user = () => (sess && sess.user) || null;

function dialog() { return $('#login-dialog'); }

/** Shows the sign-in dialog; resolves once signed in. */
export function signIn(expired) {
  if (waiting) return waiting;
  const dlg = dialog(), form = $('#login-form'), msg = $('#login-msg');
  if (expired) say(msg, 'warn', t('auth.expired')); else say(msg, 'info');
  if (expired && sess && sess.user) $('#login-user').value = sess.user.username;
  waiting = new Promise((resolve) => {
    const onSubmit = async (e) => {
      e.preventDefault();
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        const r = await request('/api/v1/auth/login', { json: { username: $('#login-user').value.trim(), password: $('#login-pass').value } });
        const prev = sess && sess.user && sess.user.id;
        store(r);
        $('#login-pass').value = '';
        form.removeEventListener('submit', onSubmit);
        dlg.close();
        waiting = null;
        resolve({ user: r.user, changed: prev !== undefined && prev !== r.user.id });
      } catch (err) {
        say(msg, 'err', err instanceof ApiError && (err.status === 401 || err.status === 400 || err.status === 422) ? t('auth.bad') : (err.human ? err.human() : t('err.generic')));
      } finally { btn.disabled = false; }
    };
    form.addEventListener('submit', onSubmit);
  });
  if (!dlg.open) dlg.showModal();
  $('#login-user').value ? $('#login-pass').focus() : $('#login-user').focus();
  return waiting;
}

async function refresh() {
  if (!sess || !sess.refresh_token) return false;
  if (!refreshing) {
    refreshing = request('/api/v1/auth/refresh', { json: { refresh_token: sess.refresh_token } })
      .then((r) => { store(r); return true; }, () => false)
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** An API call as the signed-in user: 401 → refresh → sign in again → retried once more. */
export async function api(path, opts = {}) {
  sess = read() || sess; // another page of this tab may have signed in again meanwhile
  if (!sess) await signIn(false);
  for (let round = 0; ; round++) {
    try {
      return await request(path, { ...opts, token: sess && sess.access_token });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401 || round >= 2) throw e;
      if (!(await refresh())) await signIn(true);
    }
  }
}

/** Ends the session on the server too (its refresh token stops working), then forgets it. */
export async function signOut() {
  const s = read() || sess;
  if (s && s.refresh_token) {
    // offline or refused: the local copy is dropped all the same, and the token expires
    try { await request('/api/v1/auth/logout', { json: { refresh_token: s.refresh_token } }); } catch { /* see above */ }
  }
  store(null);
  location.reload();
}

export function wireDialog() {
  // the dialog can't be dismissed without signing in: Escape would leave a page with no data
  dialog().addEventListener('cancel', (e) => e.preventDefault());
}
