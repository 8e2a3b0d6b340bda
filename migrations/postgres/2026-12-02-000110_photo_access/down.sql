DROP TABLE attachment_uploaders;
DROP TABLE sync_photo_refs;
