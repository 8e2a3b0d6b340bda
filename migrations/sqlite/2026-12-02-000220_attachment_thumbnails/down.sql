DROP TABLE attachment_thumbnails;
