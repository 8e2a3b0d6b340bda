// zh-CN first, English by a visible switch; the choice is remembered on the device.
const KEY = 'anju.lang';
let cur = (() => { try { return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh'; } catch { return 'zh'; } })();

const zh = {
  'common.loading': '正在加载…', 'common.retry': '重试', 'nav.public': '信息公开', 'nav.new': '我要反映', 'nav.registers': '改造台账', 'nav.progress': '计划进度', 'nav.upkeep': '后续管理', 'nav.bulletins': '工作通报',
  'err.network': '网络连接失败，请检查信号后重试。您填写的内容已保留。',
  'err.429': '提交太频繁，请稍后再试。您填写的内容已保留。',
  'err.5xx': '服务器暂时出错，稍后会自动重试。您填写的内容已保留。',
  'err.generic': '出错了，请重试。',
  'res.title': '反映施工问题', 'res.intro': '无需注册。提交后您会得到一个查询码，凭它查看办理进度。',
  'res.mine': '本机提交的诉求', 'res.category': '问题类别', 'res.desc': '问题描述',
  'res.desc.hint': '请写清楚时间、地点和发生了什么（5–2000 字）。', 'res.where': '在哪里',
  'res.locate': '使用我的位置', 'res.district': '区', 'res.street': '街道', 'res.community': '社区',
  'res.address': '详细地址（选填）', 'res.pick': '请选择',
  'res.similar': '附近已有的相同问题', 'res.similar.hint': '如果是同一件事，点“我也遇到”即可跟进，无需重复提交。',
  'res.metoo': '我也遇到', 'res.supporters': '{n} 人反映',
  'res.photos': '照片（选填，最多 6 张）', 'res.photos.add': '添加照片',
  'res.photos.hint': '照片会在手机上压缩，并去掉拍摄位置等信息。', 'res.photos.max': '最多 6 张照片。',
  'res.photos.bad': '“{name}”不是可识别的图片，已跳过。', 'res.photo.n': '照片 {n}', 'res.photo.remove': '删除',
  'res.photo.remove.n': '删除照片 {n}',
  'res.contact': '联系方式（选填）', 'res.contact.hint': '留下手机号，办理单位可以回访您；不留也可以匿名提交。',
  'res.name': '称呼', 'res.phone': '手机号', 'res.phone.bad': '手机号格式不对：应为 11 位、以 1 开头的大陆手机号。',
  'res.submit': '提交', 'res.sending': '正在提交…',
  'res.done': '已提交', 'res.done.support': '已加入跟进', 'res.done.code': '您的查询码（请保存）：',
  'res.done.unit': '已转给：{unit}。', 'res.done.due': '办结时限：{due}。',
  'res.copy': '复制查询码', 'res.copied': '已复制。', 'res.track': '查看办理进度', 'res.again': '再反映一个问题',
  'res.have': '已有查询码？', 'res.go': '查询',
  'res.cats.fail': '类别加载失败。', 'res.areas.fail': '社区列表加载失败，可以使用“我的位置”或填写地址。',
  'res.loc.none': '此浏览器不能定位。', 'res.loc.wait': '正在定位…', 'res.loc.ok': '已获取位置。',
  'res.loc.server': '提交后由系统确定所属社区。', 'res.loc.denied': '没有定位权限，请在下方选择社区。', 'res.loc.fail': '定位失败，请在下方选择社区。',
  'res.err.cat': '请选择问题类别。', 'res.err.desc': '问题描述需要 5–2000 字。', 'res.err.where': '请选择社区或使用我的位置。',
  'res.queued': '暂时没有网络：诉求已保存在本机，恢复信号后会自动发送。',
  'res.queued.429': '提交太频繁，服务器暂时不接收。诉求已保存在本机，稍后会自动重试。',
  'res.queued.5xx': '服务器暂时出错。诉求已保存在本机，稍后会自动重试。',
  'res.store.fail': '无法在本机保存，请不要关闭页面并重试。',
  'res.waiting': '等待发送', 'res.waiting.hint': '已保存在本机，有信号时自动发送。', 'res.attempts': '已尝试 {n} 次。',
  'res.retry.now': '立即重试', 'res.sent': '已送达', 'res.code': '查询码：', 'res.failed': '未能提交',
  'res.edit': '修改后重新提交', 'res.discard': '删除',
  'res.offline': '当前没有网络。您仍可填写并提交，恢复信号后会自动发送。',
  'status.dispatching': '等待派单', 'status.dispatched': '已派单', 'status.accepted': '办理中', 'status.resolved': '已办结，待您确认',
  'status.closed': '已关闭', 'status.reopened': '重新办理', 'status.escalated': '已督办',
  'statusw.dispatching': '派单中心正在确定由哪个单位办理。', 'statusw.dispatched': '已转给责任单位，等待签收。',
  'statusw.accepted': '责任单位已签收，正在办理。', 'statusw.resolved': '责任单位已办结，请确认问题是否解决。',
  'statusw.closed': '诉求已关闭。', 'statusw.reopened': '您不满意，已退回责任单位重新办理。', 'statusw.escalated': '已上报督办。',
  'trk.title': '办理进度', 'trk.enter': '请输入查询码', 'trk.notfound': '查询码不存在。请检查是否输入正确。',
  'trk.category': '类别', 'trk.where': '地点', 'trk.unit': '办理单位', 'trk.created': '提交时间', 'trk.respdue': '响应时限',
  'trk.resdue': '办结时限', 'trk.supporters': '同样反映', 'trk.report': '您反映的问题', 'trk.no': '编号',
  'trk.nounit': '尚未派单', 'trk.rate': '问题解决了吗？', 'trk.stars': '满意度（1–5 星）', 'trk.star': '{n} 星',
  'trk.comment': '说明（不满意时必填）', 'trk.confirm': '已解决，确认', 'trk.dispute': '没解决，要求重办',
  'trk.timeline': '办理过程', 'trk.newdue': '新的办结时限：{due}', 'trk.reason': '原因：', 'trk.yourrating': '您的评价：',
  'trk.err.stars': '请选择 1–5 星。', 'trk.err.comment': '要求重办时请说明哪里没有解决。',
  'trk.thanks': '感谢您的评价。', 'trk.disputed': '已要求重新办理。',
  'ev.submitted': '已提交', 'ev.dispatched': '已派单', 'ev.accepted': '已签收', 'ev.replied': '单位答复', 'ev.resolved': '已办结',
  'ev.returned': '单位退单（重新派单）', 'ev.reassigned': '已转派', 'ev.extension_granted': '办结时限已延期', 'ev.confirmed': '居民确认已解决',
  'ev.disputed': '居民不满意', 'ev.reopened': '重新办理', 'ev.escalated': '已督办', 'ev.closed': '已关闭',
  'ev.closed_unconfirmed': '到期未评价，已关闭', 'ev.supported': '又有居民反映', 'ev.note': '内部备注',
  'ev.extension_requested': '申请延期', 'ev.extension_refused': '延期未获批准', 'ev.reminded': '催办',
};

const en = {
  'common.loading': 'Loading…', 'common.retry': 'Try again', 'nav.public': 'Public figures', 'nav.new': 'Report a problem', 'nav.registers': 'Registers', 'nav.progress': 'Progress against plan', 'nav.upkeep': 'Upkeep', 'nav.bulletins': 'Bulletins',
  'err.network': 'No connection. Check your signal and try again. What you typed is kept.',
  'err.429': 'Too many submissions. Please try again in a moment. What you typed is kept.',
  'err.5xx': 'The server had a problem; it will be tried again. What you typed is kept.',
  'err.generic': 'Something went wrong. Please try again.',
  'res.title': 'Report a renovation problem', 'res.intro': 'No account needed. You get a tracking code to follow your complaint.',
  'res.mine': 'Complaints sent from this phone', 'res.category': 'What kind of problem', 'res.desc': 'Description',
  'res.desc.hint': 'When, where, and what happened (5–2000 characters).', 'res.where': 'Where',
  'res.locate': 'Use my location', 'res.district': 'District', 'res.street': 'Street', 'res.community': 'Community',
  'res.address': 'Address details (optional)', 'res.pick': 'Choose…',
  'res.similar': 'The same problem, already reported nearby', 'res.similar.hint': 'If it is the same thing, tap “Me too” to follow it instead of filing it again.',
  'res.metoo': 'Me too', 'res.supporters': '{n} reported',
  'res.photos': 'Photos (optional, up to 6)', 'res.photos.add': 'Add photos',
  'res.photos.hint': 'Photos are shrunk on your phone and their location data removed.', 'res.photos.max': 'At most 6 photos.',
  'res.photos.bad': '“{name}” is not an image we can read; skipped.', 'res.photo.n': 'Photo {n}', 'res.photo.remove': 'Remove',
  'res.photo.remove.n': 'Remove photo {n}',
  'res.contact': 'Contact (optional)', 'res.contact.hint': 'Leave a mobile number if the unit may call you back; or stay anonymous.',
  'res.name': 'Name', 'res.phone': 'Mobile number', 'res.phone.bad': 'That is not a mainland mobile number (11 digits starting with 1).',
  'res.submit': 'Send', 'res.sending': 'Sending…',
  'res.done': 'Sent', 'res.done.support': 'You now follow this complaint', 'res.done.code': 'Your tracking code (keep it):',
  'res.done.unit': 'Sent to: {unit}.', 'res.done.due': 'To be resolved by {due}.',
  'res.copy': 'Copy code', 'res.copied': 'Copied.', 'res.track': 'Follow progress', 'res.again': 'Report another problem',
  'res.have': 'Have a tracking code?', 'res.go': 'Look up',
  'res.cats.fail': 'Could not load the categories.', 'res.areas.fail': 'Could not load the communities; use your location or type the address.',
  'res.loc.none': 'This browser cannot locate you.', 'res.loc.wait': 'Locating…', 'res.loc.ok': 'Location found.',
  'res.loc.server': 'The community will be found when it is sent.', 'res.loc.denied': 'Location not allowed; please choose the community below.', 'res.loc.fail': 'Could not locate you; please choose the community below.',
  'res.err.cat': 'Choose a kind of problem.', 'res.err.desc': 'The description needs 5–2000 characters.', 'res.err.where': 'Choose a community or use your location.',
  'res.queued': 'No connection: your complaint is saved on this phone and will be sent by itself when the signal returns.',
  'res.queued.429': 'Too many submissions right now. Your complaint is saved on this phone and will be retried by itself.',
  'res.queued.5xx': 'The server had a problem. Your complaint is saved on this phone and will be retried by itself.',
  'res.store.fail': 'Could not save on this phone; keep this page open and try again.',
  'res.waiting': 'Waiting to send', 'res.waiting.hint': 'Saved on this phone; sent automatically when there is signal.', 'res.attempts': '{n} attempts so far.',
  'res.retry.now': 'Try now', 'res.sent': 'Sent', 'res.code': 'Tracking code:', 'res.failed': 'Not accepted',
  'res.edit': 'Edit and send again', 'res.discard': 'Delete',
  'res.offline': 'You are offline. You can still fill in and send; it goes out when the signal returns.',
  'status.dispatching': 'Being assigned', 'status.dispatched': 'Assigned', 'status.accepted': 'In progress', 'status.resolved': 'Resolved, awaiting your answer',
  'status.closed': 'Closed', 'status.reopened': 'Reopened', 'status.escalated': 'Escalated',
  'statusw.dispatching': 'The dispatch centre is choosing the unit responsible.', 'statusw.dispatched': 'Sent to the responsible unit, waiting for it to accept.',
  'statusw.accepted': 'The responsible unit accepted it and is working on it.', 'statusw.resolved': 'The unit says it is resolved. Please tell us whether it is.',
  'statusw.closed': 'This complaint is closed.', 'statusw.reopened': 'You were not satisfied; it went back to the unit.', 'statusw.escalated': 'Escalated to the supervisors.',
  'trk.title': 'Complaint progress', 'trk.enter': 'Enter your tracking code', 'trk.notfound': 'This tracking code does not exist. Please check it.',
  'trk.category': 'Category', 'trk.where': 'Where', 'trk.unit': 'Responsible unit', 'trk.created': 'Filed', 'trk.respdue': 'Response due',
  'trk.resdue': 'Resolution due', 'trk.supporters': 'Also reported by', 'trk.report': 'Your report', 'trk.no': 'No.',
  'trk.nounit': 'Not yet assigned', 'trk.rate': 'Is the problem solved?', 'trk.stars': 'Satisfaction (1–5 stars)', 'trk.star': '{n} stars',
  'trk.comment': 'Comment (required if not solved)', 'trk.confirm': 'Solved — confirm', 'trk.dispute': 'Not solved — reopen',
  'trk.timeline': 'What happened', 'trk.newdue': 'New resolution deadline: {due}', 'trk.reason': 'Reason: ', 'trk.yourrating': 'Your rating:',
  'trk.err.stars': 'Choose 1 to 5 stars.', 'trk.err.comment': 'Please say what is not solved.',
  'trk.thanks': 'Thank you for your answer.', 'trk.disputed': 'It has been sent back to be done again.',
  'ev.submitted': 'Filed', 'ev.dispatched': 'Assigned', 'ev.accepted': 'Accepted', 'ev.replied': 'Reply from the unit', 'ev.resolved': 'Resolved',
  'ev.returned': 'Returned by the unit (to be reassigned)', 'ev.reassigned': 'Reassigned', 'ev.extension_granted': 'Deadline extended', 'ev.confirmed': 'Confirmed solved',
  'ev.disputed': 'Disputed by the resident', 'ev.reopened': 'Reopened', 'ev.escalated': 'Escalated', 'ev.closed': 'Closed',
  'ev.closed_unconfirmed': 'Closed without an answer', 'ev.supported': 'Another resident reported it', 'ev.note': 'Internal note',
  'ev.extension_requested': 'Extension requested', 'ev.extension_refused': 'Extension refused', 'ev.reminded': 'Reminder',
};

const dicts = { zh, en };
/** Pages add their own strings: extend({zh: {...}, en: {...}}). */
export function extend(more) { Object.assign(zh, more.zh); Object.assign(en, more.en); }

export const lang = () => cur;
export function t(key, vars) {
  let s = dicts[cur][key] ?? zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
  return s;
}
/** The name of an area, unit or category in the current language. */
export const name = (o) => (o ? (cur === 'en' ? o.name_en || o.name_zh : o.name_zh || o.name_en) || o.name || '' : '');
/** Times are shown in the city's time zone, whatever the device is set to (deadlines are the city's). */
export const CITY_TZ = 'Asia/Shanghai';
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(cur === 'en' ? 'en-GB' : 'zh-CN', { timeZone: CITY_TZ, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function apply() {
  document.documentElement.lang = cur === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

/** Translates the page, wires the switch button, and calls onChange after each switch. */
export function initLang(button, onChange) {
  const label = () => { button.textContent = cur === 'en' ? '中文' : 'English'; button.lang = cur === 'en' ? 'zh-CN' : 'en'; };
  if (cur !== 'zh') apply();
  label();
  button.addEventListener('click', () => {
    cur = cur === 'en' ? 'zh' : 'en';
    try { localStorage.setItem(KEY, cur); } catch { /* private mode: this page only */ }
    apply(); label();
    if (onChange) onChange();
  });
}
