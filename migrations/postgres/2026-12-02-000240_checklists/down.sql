DROP TABLE checklist_changes;
DROP TABLE checklists;
