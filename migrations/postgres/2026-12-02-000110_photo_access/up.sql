-- Photo access by scope (docs/sync.md, "Photos"): which live records reference which photo,
-- and everyone who uploaded a photo's bytes. Filled from the existing records and uploads.
CREATE TABLE sync_photo_refs (
    sha256 TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (sha256, record_id)
);
CREATE INDEX sync_photo_refs_record ON sync_photo_refs (record_id);

CREATE TABLE attachment_uploaders (
    sha256 TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, user_id)
);

INSERT INTO attachment_uploaders (sha256, user_id, created_at)
SELECT sha256, uploaded_by, created_at FROM attachments
ON CONFLICT DO NOTHING;

-- The photo fields of the record schemas (shared/src/records.rs): photos, rectification_photos.
INSERT INTO sync_photo_refs (sha256, record_id)
SELECT DISTINCT j.value, r.id
FROM sync_records r,
     LATERAL (VALUES ('photos'), ('rectification_photos')) AS f(name),
     LATERAL jsonb_array_elements_text(
         CASE WHEN jsonb_typeof(r.state::jsonb -> f.name -> 'value') = 'array'
              THEN r.state::jsonb -> f.name -> 'value' ELSE '[]'::jsonb END) AS j(value)
WHERE NOT r.deleted
ON CONFLICT DO NOTHING;
