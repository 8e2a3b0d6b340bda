// Words of the field app: its page strings (through i18n.js), English names of the record fields
// (the Chinese ones come with the schemas) and the names of choice values in both languages.
import { extend, lang } from './i18n.js';

extend({
  zh: {
    'fld.title': '安居外业', 'fld.offline': '离线', 'fld.sync': '同步', 'fld.syncing': '正在同步…',
    'fld.first': '首次同步：正在下载本人范围内的记录…', 'fld.first.n': '首次同步：已下载 {n} 条记录…',
    'fld.photos.n': '正在上传照片 {done}/{total}…', 'fld.push.n': '正在发送修改 {done}/{total}…', 'fld.reset': '服务器要求重新下载，未发送的修改会保留…',
    'fld.login.title': '登录外业应用', 'fld.login.hint': '登录一次即可离线使用数周；恢复网络后自动同步。',
    'fld.login.bad': '用户名或密码不正确。', 'fld.login.offline': '登录需要网络。恢复信号后再试。',
    'fld.types': '记录类型', 'fld.search': '搜索', 'fld.search.ph': '搜索地址、名称、描述…', 'fld.new': '新建', 'fld.back': '← 返回', 'fld.cancel': '← 取消',
    'fld.edit': '修改', 'fld.logout': '退出登录', 'fld.count': '共 {n} 条', 'fld.none': '没有记录。',
    'fld.st.pending': '待发送 {n}', 'fld.st.last': '上次同步 {t}', 'fld.st.never': '尚未同步', 'fld.st.conflicts': '冲突 {n}', 'fld.st.rejected': '被拒 {n}',
    'fld.st.records': '本机 {n} 条',
    'fld.rec.pending': '{n} 项修改待发送', 'fld.rec.local': '本机新建，尚未发送', 'fld.rec.synced': '已同步（版本 {v}）',
    'fld.conflict': '冲突：{field}', 'fld.conflict.yours': '本机的值', 'fld.conflict.server': '服务器的值', 'fld.conflict.kept': '当前采用',
    'fld.conflict.kept.server': '服务器的值', 'fld.conflict.kept.device': '本机的值', 'fld.conflict.hint': '两个值都已保存，由有权限的人员在台账中裁定。',
    'fld.rejected': '被拒绝：{why}', 'fld.rejected.sent': '发送的内容',
    'fld.save': '保存（离线也可以）', 'fld.saved': '已保存在本机，有网络时自动发送。', 'fld.saved.sent': '已保存，正在发送…',
    'fld.nochange': '没有修改任何内容。', 'fld.required': '必填', 'fld.err.required': '请填写“{field}”。',
    'fld.err.long': '“{field}”最多 {n} 个字。', 'fld.err.range': '“{field}”应在 {min} 到 {max} 之间。', 'fld.err.form': '请先改正标出的内容，已填写的内容都保留着。',
    'fld.pick': '请选择', 'fld.none.opt': '（无）', 'fld.gps': '获取当前位置', 'fld.gps.wait': '正在定位…', 'fld.gps.ok': '已获取位置（精度约 {m} 米）。',
    'fld.gps.fail': '定位失败，可以稍后再试或不填。', 'fld.gps.none': '此浏览器不能定位。',
    'fld.photo.add': '拍照 / 选择照片', 'fld.photo.bad': '“{name}”不是可识别的图片，已跳过。', 'fld.photo.remove': '删除照片 {n}', 'fld.photo.n': '照片 {n}',
    'fld.checklist': '检查表（{name}）', 'fld.checklist.problem': '有问题', 'fld.checklist.none': '检查表尚未下载，可先填写检查意见。',
    'fld.new.hazard': '由此检查新建隐患',
    'fld.full': '手机存储已满，无法保存。请删除一些照片或其他网站数据后重试；表单内容仍在。',
    'fld.stop.expired': '登录已过期，请重新登录。未发送的 {n} 条修改都保留在本机。',
    'fld.stop.revoked': '本设备已被管理员停用，不能再同步。未发送的 {n} 条修改保留在本机，请联系督办或管理员。',
    'fld.stop.outdated': '服务器已不再接受本应用的同步协议版本，请刷新页面以更新应用。未发送的 {n} 条修改已保留。',
    'fld.stop.other': '本机还有用户 {user} 未发送的修改，不能换人登录。请先让 {user} 登录并同步。',
    'fld.stop.gap': '同步序号不连续，服务器拒收。未发送的修改已保留，请联系技术支持。',
    'fld.stop.garbage': '服务器的回答无法识别，未作任何更改。稍后重试。',
    'fld.stop.transient': '网络或服务器暂时不可用，稍后自动重试。未发送的修改已保留。',
    'fld.done': '同步完成：发送 {pushed} 条，下载 {pulled} 条。', 'fld.done.issues': '同步完成，但有 {c} 处冲突、{r} 条被拒绝，请查看相关记录。',
    'fld.t.project': '改造项目', 'fld.t.building': '房屋', 'fld.t.inspection': '排查/检查', 'fld.t.hazard': '隐患/整改',
  },
  en: {
    'fld.title': 'Anju field', 'fld.offline': 'Offline', 'fld.sync': 'Sync', 'fld.syncing': 'Syncing…',
    'fld.first': 'First sync: downloading the records of your scope…', 'fld.first.n': 'First sync: {n} records downloaded…',
    'fld.photos.n': 'Uploading photos {done}/{total}…', 'fld.push.n': 'Sending changes {done}/{total}…', 'fld.reset': 'The server asked for a fresh download; unsent changes are kept…',
    'fld.login.title': 'Sign in to the field app', 'fld.login.hint': 'Sign in once and work offline for weeks; it syncs by itself when back online.',
    'fld.login.bad': 'Wrong username or password.', 'fld.login.offline': 'Signing in needs a connection. Try again when there is signal.',
    'fld.types': 'Record types', 'fld.search': 'Search', 'fld.search.ph': 'Search address, name, description…', 'fld.new': 'New', 'fld.back': '← Back', 'fld.cancel': '← Cancel',
    'fld.edit': 'Edit', 'fld.logout': 'Sign out', 'fld.count': '{n} records', 'fld.none': 'No records.',
    'fld.st.pending': '{n} to send', 'fld.st.last': 'last sync {t}', 'fld.st.never': 'never synced', 'fld.st.conflicts': '{n} conflicts', 'fld.st.rejected': '{n} refused',
    'fld.st.records': '{n} on this phone',
    'fld.rec.pending': '{n} changes waiting to be sent', 'fld.rec.local': 'Created on this phone, not sent yet', 'fld.rec.synced': 'Synced, version {v}',
    'fld.conflict': 'Conflict: {field}', 'fld.conflict.yours': 'This phone’s value', 'fld.conflict.server': 'The server’s value', 'fld.conflict.kept': 'Now in use',
    'fld.conflict.kept.server': 'the server’s value', 'fld.conflict.kept.device': 'this phone’s value', 'fld.conflict.hint': 'Both values are kept; someone allowed to decide settles it in the registers.',
    'fld.rejected': 'Refused: {why}', 'fld.rejected.sent': 'What was sent',
    'fld.save': 'Save (works offline)', 'fld.saved': 'Saved on this phone; it is sent when there is a connection.', 'fld.saved.sent': 'Saved; sending…',
    'fld.nochange': 'Nothing was changed.', 'fld.required': 'required', 'fld.err.required': 'Fill in “{field}”.',
    'fld.err.long': '“{field}” takes at most {n} characters.', 'fld.err.range': '“{field}” must be between {min} and {max}.', 'fld.err.form': 'Please correct the marked fields; everything you typed is kept.',
    'fld.pick': 'Choose…', 'fld.none.opt': '(none)', 'fld.gps': 'Use my position', 'fld.gps.wait': 'Locating…', 'fld.gps.ok': 'Position found (about {m} m).',
    'fld.gps.fail': 'Could not locate; try later or leave it empty.', 'fld.gps.none': 'This browser cannot locate.',
    'fld.photo.add': 'Take / choose a photo', 'fld.photo.bad': '“{name}” is not an image we can read; skipped.', 'fld.photo.remove': 'Remove photo {n}', 'fld.photo.n': 'Photo {n}',
    'fld.checklist': 'Checklist: {name}', 'fld.checklist.problem': 'problem', 'fld.checklist.none': 'The checklist is not downloaded yet; write the findings for now.',
    'fld.new.hazard': 'New hazard from this inspection',
    'fld.full': 'The phone’s storage is full; nothing was saved. Free some space and try again; the form is still here.',
    'fld.stop.expired': 'Your session has ended; please sign in again. The {n} unsent changes stay on this phone.',
    'fld.stop.revoked': 'This device was revoked by an administrator and can no longer sync. The {n} unsent changes stay on this phone; ask your supervisor.',
    'fld.stop.outdated': 'The server no longer accepts this app’s sync protocol; reload the page to update the app. The {n} unsent changes are kept.',
    'fld.stop.other': 'This phone holds unsent changes of {user}: another person cannot sign in. Let {user} sign in and sync first.',
    'fld.stop.gap': 'The server refused the changes (sequence gap). They are kept on this phone; contact support.',
    'fld.stop.garbage': 'The server’s answer made no sense; nothing was changed. Try again later.',
    'fld.stop.transient': 'The network or the server is unavailable; it will be tried again. Unsent changes are kept.',
    'fld.done': 'Synced: {pushed} sent, {pulled} received.', 'fld.done.issues': 'Synced, with {c} conflicts and {r} refused changes; see the records.',
    'fld.t.project': 'Projects', 'fld.t.building': 'Buildings', 'fld.t.inspection': 'Inspections', 'fld.t.hazard': 'Hazards',
  },
});

const FIELDS_EN = {
  name: 'Name', programme: 'Programme', area_id: 'Area', unit_id: 'Responsible unit', contractor: 'Contractor', measure: 'Counted in',
  planned_units: 'Planned units', completed_units: 'Completed units', planned_start: 'Planned start', actual_start: 'Actual start',
  planned_completion: 'Planned completion', actual_completion: 'Actual completion', progress_percent: 'Progress (%)', status: 'Status',
  address: 'Address', structure: 'Structure', year_built: 'Year built', floors: 'Floors', households: 'Households', safety_grade: 'Safety grade',
  disposition: 'Disposition', project_id: 'Project', building_id: 'Building', inspector: 'Inspector', inspected_at: 'Inspected at',
  gps_lat: 'Latitude', gps_lng: 'Longitude', checklist: 'Checklist', checklist_findings: 'Checklist findings', findings: 'Findings', grade: 'Grade',
  photos: 'Photos', description: 'Description', location: 'Location', inspection_id: 'From inspection', severity: 'Severity', order_no: 'Order no.',
  order_issued_on: 'Order issued on', requirements: 'Requirements', deadline: 'Deadline', rectification_note: 'Rectification', rectification_photos: 'Rectification photos',
};

const VALUES = {
  shantytown: ['棚户区改造', 'Shantytown'], dangerous_housing: ['危旧房改造', 'Dangerous housing'], old_community: ['老旧小区改造', 'Old community'],
  flat: ['套', 'flats'], household: ['户', 'households'], planned: ['计划', 'Planned'], in_progress: ['在建', 'In progress'], completed: ['完工', 'Completed'],
  brick_concrete: ['砖混', 'Brick-concrete'], brick_wood: ['砖木', 'Brick-wood'], reinforced_concrete: ['钢筋混凝土', 'Reinforced concrete'], masonry: ['砌体', 'Masonry'],
  wood: ['木', 'Wood'], steel: ['钢', 'Steel'], other: ['其他', 'Other'],
  repair_reinforce: ['维修加固', 'Repair and reinforce'], shantytown_plan: ['纳入棚改', 'Shantytown plan'], gradual_renovation: ['逐步改造', 'Gradual renovation'],
  low: ['低', 'Low'], medium: ['中', 'Medium'], high: ['高', 'High'], critical: ['紧急', 'Critical'],
  open: ['待整改', 'Open'], rectified: ['已整改', 'Rectified'], verified: ['已复核', 'Verified'],
  A: ['A 级', 'Grade A'], B: ['B 级', 'Grade B'], C: ['C 级', 'Grade C'], D: ['D 级', 'Grade D'],
};

/** The label of a schema field in the current language. */
export const fieldLabel = (f) => (lang() === 'en' ? FIELDS_EN[f.name] || f.name : f.label_zh);
/** The name of a choice value in the current language. */
export const valueLabel = (v) => (VALUES[v] ? VALUES[v][lang() === 'en' ? 1 : 0] : String(v));
