-- Inspection checklists (检查表) per renovation programme, served to the field app; the
-- defaults below are version 1 by 'system'. Administrators replace them (PUT /api/v1/checklists/…);
-- every change keeps the old and new items with who and when.
CREATE TABLE checklists (
    programme TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    items TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_by_name TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE checklist_changes (
    id TEXT PRIMARY KEY NOT NULL,
    programme TEXT NOT NULL,
    version BIGINT NOT NULL,
    old_items TEXT NOT NULL,
    new_items TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_by_name TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX checklist_changes_programme ON checklist_changes (programme, changed_at);

INSERT INTO checklists (programme, name_zh, name_en, items, version, updated_by, updated_by_name, updated_at) VALUES ('dangerous_housing', '危房排查检查表', 'Dangerous-building inspection', '[{"id": "foundation", "label_zh": "地基基础不均匀沉降", "label_en": "Uneven settlement of the foundation"}, {"id": "bearing_walls", "label_zh": "承重墙体裂缝、酥碱", "label_en": "Cracks or erosion in load-bearing walls"}, {"id": "beams_columns", "label_zh": "梁、柱变形或露筋", "label_en": "Deformed beams or columns, exposed rebar"}, {"id": "floors", "label_zh": "楼板开裂、下挠", "label_en": "Cracked or sagging floor slabs"}, {"id": "roof", "label_zh": "屋面渗漏、屋架腐朽", "label_en": "Leaking roof, decayed roof trusses"}, {"id": "stairs_balconies", "label_zh": "楼梯、阳台、栏杆松动", "label_en": "Loose stairs, balconies or railings"}, {"id": "facade", "label_zh": "外墙饰面空鼓、脱落", "label_en": "Hollow or falling facade tiles"}, {"id": "electrical", "label_zh": "电气线路老化、私拉乱接", "label_en": "Aged or improvised electrical wiring"}, {"id": "gas", "label_zh": "燃气管道锈蚀、泄漏", "label_en": "Corroded or leaking gas pipes"}, {"id": "fire_exit", "label_zh": "消防通道堵塞", "label_en": "Blocked fire exits"}]', 1, 'system', '系统默认', 0);
INSERT INTO checklists (programme, name_zh, name_en, items, version, updated_by, updated_by_name, updated_at) VALUES ('old_community', '老旧小区改造检查表', 'Old-community renovation inspection', '[{"id": "roof", "label_zh": "屋面防水", "label_en": "Roof waterproofing"}, {"id": "facade", "label_zh": "外墙保温与饰面", "label_en": "Facade insulation and finish"}, {"id": "pipes", "label_zh": "给排水管网", "label_en": "Water and drainage pipes"}, {"id": "electrical", "label_zh": "供电线路", "label_en": "Power lines"}, {"id": "gas", "label_zh": "燃气管道", "label_en": "Gas pipes"}, {"id": "lifts", "label_zh": "加装电梯", "label_en": "Added lifts"}, {"id": "fire_safety", "label_zh": "消防设施", "label_en": "Fire safety equipment"}, {"id": "site_safety", "label_zh": "施工围挡与安全防护", "label_en": "Site fencing and safety"}]', 1, 'system', '系统默认', 0);
INSERT INTO checklists (programme, name_zh, name_en, items, version, updated_by, updated_by_name, updated_at) VALUES ('shantytown', '棚户区改造检查表', 'Shantytown renovation inspection', '[{"id": "site_safety", "label_zh": "施工围挡与安全防护", "label_en": "Site fencing and safety"}, {"id": "demolition", "label_zh": "拆除作业安全", "label_en": "Safe demolition"}, {"id": "dust", "label_zh": "扬尘控制", "label_en": "Dust control"}, {"id": "resettlement", "label_zh": "安置房质量", "label_en": "Quality of resettlement housing"}, {"id": "fire_safety", "label_zh": "消防设施", "label_en": "Fire safety equipment"}]', 1, 'system', '系统默认', 0);
