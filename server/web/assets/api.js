// fetch wrapper for the JSON API: Accept-Language, problem+json errors, Retry-After.
import { lang, t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;            // 0 = network failure (offline, DNS, reset)
    this.problem = problem || {};
    this.code = this.problem.code || (status === 0 ? 'network' : 'http_' + status);
    this.retryAfter = retryAfter;
  }
  /** Whether trying again later may succeed (network, 408, 429, 5xx). */
  get transient() { return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500; }
  /** A sentence for a person, in their language. */
  human() {
    if (this.status === 0 || this.code === 'offline') return t('err.network');
    if (this.status === 429) return t('err.429');
    if (this.status >= 500) return t('err.5xx');
    const p = this.problem;
    const extra = p.errors ? Object.entries(p.errors).map(([k, v]) => k + ': ' + (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? v : JSON.stringify(v))).join('; ') : '';
    return [p.title || t('err.generic'), p.detail, extra].filter(Boolean).join(' — ');
  }
}

/**
 * The phone's clock against the server's, from the `Date` header of the last API answer:
 * `skewMs` = device time − server time (positive = the device runs ahead), null before any answer.
 */
export const serverClock = { skewMs: null };

export async function request(path, opts = {}) {
  const headers = { 'Accept': 'application/json', 'Accept-Language': lang() === 'en' ? 'en' : 'zh-CN', ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.json); }
  if (opts.token) headers['Authorization'] = 'Bearer ' + opts.token;
  let res;
  try {
    res = await fetch(path, { method: opts.method || (body ? 'POST' : 'GET'), headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, null, null);
  }
  const date = Date.parse(res.headers.get('Date') || '');
  if (Number.isFinite(date)) serverClock.skewMs = Date.now() - date;
  const ctype = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    if (text && ctype.includes('json')) { try { data = JSON.parse(text); } catch { data = null; } }
  }
  if (!res.ok) {
    const ra = parseInt(res.headers.get('Retry-After') || '', 10);
    throw new ApiError(res.status, data, Number.isFinite(ra) ? ra : null);
  }
  return data;
}

/** The list of items whichever shape a list endpoint answers ([...] or {items: [...]}). */
export const items = (r) => Array.isArray(r) ? r : (r && (r.items || r.tickets || r.data)) || [];
