// Every string key the pages use exists in both Chinese and English (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'web');
const files = (dir, ext) => fs.readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => path.join(dir, f));
const js = files(path.join(WEB, 'assets'), '.js').map((f) => fs.readFileSync(f, 'utf8')).join('\n');
const html = files(WEB, '.html').map((f) => fs.readFileSync(f, 'utf8')).join('\n');

/** Keys defined in a dictionary block: 'key': '…' entries after `name: {` / `const name = {`, up to the
 *  block's closing brace (one after a quote, space or comma, so that a placeholder such as `({y})` inside a
 *  text does not end the block). */
function defined(lang) {
  const keys = new Set();
  const re = new RegExp(`(?:const ${lang} = \\{|\\b${lang}: \\{)([\\s\\S]*?)(?<=['\\s,])\\}[,;)]`, 'g');
  for (const m of js.matchAll(re)) for (const k of m[1].matchAll(/'([a-z0-9_.]+)':/g)) keys.add(k[1]);
  return keys;
}

test('every key used by the pages has a Chinese and an English text', () => {
  const zh = defined('zh'), en = defined('en');
  assert.ok(zh.size > 100 && en.size > 100, `dictionaries found: zh ${zh.size}, en ${en.size}`);
  const used = new Set();
  for (const m of js.matchAll(/\bt\('([a-z0-9_.]+)'/g)) if (!m[1].endsWith('.')) used.add(m[1]);
  for (const m of html.matchAll(/data-i18n(?:-label|-placeholder)?="([a-z0-9_.]+)"/g)) used.add(m[1]);
  for (const s of ['dispatching', 'dispatched', 'accepted', 'resolved', 'closed', 'reopened', 'escalated']) used.add('status.' + s).add('statusw.' + s);
  for (const k of ['submitted', 'dispatched', 'accepted', 'replied', 'resolved', 'returned', 'reassigned', 'extension_granted', 'confirmed', 'disputed', 'reopened', 'escalated', 'closed', 'closed_unconfirmed', 'supported']) used.add('ev.' + k);
  for (const r of ['admin', 'supervisor', 'dispatcher', 'unit_admin', 'unit_staff', 'inspector']) used.add('role.' + r);
  for (const a of ['accept', 'reply', 'note', 'resolve', 'return', 'dispatch', 'reassign']) used.add('act.' + a);
  const missing = [...used].filter((k) => !zh.has(k) || !en.has(k)).map((k) => `${k}${zh.has(k) ? '' : ' (zh)'}${en.has(k) ? '' : ' (en)'}`);
  assert.deepEqual(missing, []);
});
