-- Thumbnails of stored photos (docs/registers.md, "Photos"), made on first request and kept
-- next to the photo: a re-encoded copy at most 320 px on its longer side, without metadata.
CREATE TABLE attachment_thumbnails (
    sha256 TEXT PRIMARY KEY NOT NULL REFERENCES attachments (sha256) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
