//! Photo bytes: recognise JPEG, PNG and WebP by their bytes (never by the declared type), check
//! that they parse as an image to the end, and make the public copy that keeps only what an
//! allow-list names: the image data, its colour profile and its orientation. Everything else
//! (EXIF with its GPS position, XMP, comments, IPTC, text chunks, unknown segments and chunks,
//! anything after the end of the image such as appended previews or motion-photo trailers) is
//! left out, wherever it sits, including between the scans of a progressive JPEG.
//!
//! The container parsing is written here rather than taken from a crate: `img-parts` 0.4 (the
//! one candidate that parses all three containers without decoding pixels) keeps every byte
//! after the first JPEG start-of-scan as opaque entropy data, which is exactly the hole this
//! module closes (segments between progressive scans and data after the end-of-image).

mod exif;
mod jpeg;
mod png;
pub mod samples;
mod webp;

/// An image format we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (JFIF/EXIF).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (RIFF container).
    Webp,
}

impl ImageFormat {
    /// The media type served for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
        }
    }
}

/// Why bytes are not an acceptable image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The bytes start like none of the accepted formats.
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    /// The container structure is broken (truncated, bad lengths, no image data).
    #[error("the image file is damaged")]
    Malformed,
    /// The image ends before the bytes do: something is appended after its end.
    #[error("data follows the end of the image")]
    TrailingData,
}

/// What to do with bytes after the image's end (JPEG end-of-image, PNG `IEND`, the RIFF size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailing {
    /// Refuse them with [`ImageError::TrailingData`]: an anonymous upload must be an image and
    /// nothing else.
    Refuse,
    /// Cut them off: a staff photo kept as evidence (a phone's motion photo, say) still gets a
    /// public copy.
    Cut,
}

/// Recognise the format from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() >= 3 && bytes[..3] == [0xFF, 0xD8, 0xFF] {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 8 && bytes[..8] == png::SIGNATURE {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// The public copy of an upload: sniff, parse to the end (refusing anything after the image),
/// keep only the allow-listed parts.
///
/// Guarantees: the output holds the image data, an ICC colour profile if there was one, and an
/// orientation (as a one-tag EXIF block) if there was one other than "upright"; nothing else.
pub fn sanitize(bytes: &[u8]) -> Result<(ImageFormat, Vec<u8>), ImageError> {
    public_copy(bytes, Trailing::Refuse)
}

/// The public copy of any photo, with the caller's choice for bytes after the image's end;
/// the same allow-list as [`sanitize`]. Every path that makes a copy a resident or the public
/// can see goes through here.
pub fn public_copy(bytes: &[u8], trailing: Trailing) -> Result<(ImageFormat, Vec<u8>), ImageError> {
    let format = sniff(bytes).ok_or(ImageError::UnsupportedFormat)?;
    let out = match format {
        ImageFormat::Jpeg => jpeg::strip(bytes, trailing)?,
        ImageFormat::Png => png::strip(bytes, trailing)?,
        ImageFormat::Webp => webp::strip(bytes, trailing)?,
    };
    Ok((format, out))
}

#[cfg(test)]
mod tests {
    use super::exif::orientation;
    use super::samples::{self, SECRET};
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn clean(input: &[u8], trailing: Trailing) -> Vec<u8> {
        let (_, out) = public_copy(input, trailing).expect("a valid sample");
        assert!(contains(input, SECRET), "the sample hides the secret");
        assert!(!contains(&out, SECRET), "the copy must not keep it");
        out
    }

    #[test]
    fn jpeg_keeps_only_image_and_orientation() {
        let input = samples::jpeg_with_exif();
        let out = clean(&input, Trailing::Refuse);
        assert!(!contains(&out, b"secret comment"));
        assert!(!contains(&out, b"Photoshop"));
        assert!(!contains(&out, b"http://ns.adobe.com"));
        assert!(contains(&out, b"JFIF"));
        let tiff = &out[out.windows(6).position(|w| w == b"Exif\0\0").expect("exif") + 6..];
        assert_eq!(orientation(tiff), Some(6));
        // Entropy data with its stuffed byte and restart marker, then the end-of-image.
        assert!(out.ends_with(&[0x2A, 0x9F, 0xFF, 0x00, 0x11, 0xFF, 0xD0, 0x22, 0xFF, 0xD9]));
        // Stripping again changes nothing.
        assert_eq!(sanitize(&out).expect("still valid").1, out);
    }

    #[test]
    fn jpeg_appended_after_end_of_image_is_cut_or_refused() {
        let input = samples::jpeg_with_appended_preview();
        assert_eq!(sanitize(&input), Err(ImageError::TrailingData));
        let out = clean(&input, Trailing::Cut);
        assert_eq!(out, clean(&samples::jpeg_with_exif(), Trailing::Refuse));
        assert_eq!(out.windows(2).filter(|w| w == &[0xFF, 0xD8]).count(), 1);
        let mut junk = samples::jpeg_with_exif();
        junk.extend_from_slice(b"PK\x03\x04 a zip file");
        assert_eq!(sanitize(&junk), Err(ImageError::TrailingData));
    }

    #[test]
    fn progressive_jpeg_loses_segments_between_scans() {
        let input = samples::progressive_jpeg_with_comment_between_scans();
        let out = clean(&input, Trailing::Refuse);
        assert!(!contains(&out, b"between scans"));
        assert_eq!(out.windows(2).filter(|w| w == &[0xFF, 0xDA]).count(), 2);
        assert_eq!(out.windows(2).filter(|w| w == &[0xFF, 0xC4]).count(), 2);
        assert!(out.ends_with(&[0x55, 0x66, 0xFF, 0xD9]));
    }

    #[test]
    fn png_keeps_allow_listed_chunks_only() {
        let input = samples::png_with_text();
        let out = clean(&input, Trailing::Refuse);
        assert!(!contains(&out, b"prVt"));
        assert!(!contains(&out, b"tEXt"));
        assert!(!contains(&out, b"tIME"));
        assert!(contains(&out, b"IDAT"));
        let at = out
            .windows(4)
            .position(|w| w == b"eXIf")
            .expect("orientation kept");
        assert!(at < out.windows(4).position(|w| w == b"IDAT").expect("data"));
        assert_eq!(orientation(&out[at + 4..]), Some(6));
        assert!(out.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
        assert_eq!(sanitize(&out).expect("still valid").1, out);
        let mut after = input.clone();
        after.extend_from_slice(b"\0\0\0\x04prVtGPS!\0\0\0\0");
        assert_eq!(sanitize(&after), Err(ImageError::TrailingData));
        assert_eq!(clean(&after, Trailing::Cut), out);
        // A flipped byte breaks a CRC.
        let mut bad = input;
        bad[40] ^= 1;
        assert_eq!(sanitize(&bad), Err(ImageError::Malformed));
    }

    #[test]
    fn webp_loses_exif_xmp_and_unknown_chunks() {
        let input = samples::webp_with_exif();
        let out = clean(&input, Trailing::Refuse);
        assert!(!contains(&out, b"XMP "));
        assert!(!contains(&out, b"ZZZZ"));
        // VP8X flags: EXIF (orientation) kept, XMP gone.
        assert_eq!(out[20] & 0b1100, 0b1000);
        let at = out
            .windows(4)
            .position(|w| w == b"EXIF")
            .expect("orientation");
        assert_eq!(orientation(&out[at + 8..]), Some(6));
        let size = u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize;
        assert_eq!(size + 8, out.len());
        let mut after = input.clone();
        after.extend_from_slice(b"EXIFGPS");
        assert_eq!(sanitize(&after), Err(ImageError::TrailingData));
        assert_eq!(clean(&after, Trailing::Cut), out);
    }

    #[test]
    fn not_images_and_damage() {
        assert_eq!(sanitize(b"hello world"), Err(ImageError::UnsupportedFormat));
        assert_eq!(
            sanitize(b"GIF89a........"),
            Err(ImageError::UnsupportedFormat)
        );
        assert_eq!(sanitize(b"%PDF-1.4"), Err(ImageError::UnsupportedFormat));
        let jpeg = samples::jpeg_with_exif();
        assert_eq!(sanitize(&jpeg[..10]), Err(ImageError::Malformed));
        assert_eq!(
            sanitize(&jpeg[..jpeg.len() - 2]),
            Err(ImageError::Malformed)
        );
        let png = samples::png_with_text();
        assert_eq!(sanitize(&png[..20]), Err(ImageError::Malformed));
        let webp = samples::webp_with_exif();
        assert_eq!(sanitize(&webp[..20]), Err(ImageError::Malformed));
        // Every prefix of each sample is handled without panicking, in both modes.
        for s in [
            jpeg,
            png,
            webp,
            samples::progressive_jpeg_with_comment_between_scans(),
        ] {
            for n in 0..s.len() {
                let _ = public_copy(&s[..n], Trailing::Refuse);
                let _ = public_copy(&s[..n], Trailing::Cut);
            }
        }
    }
}
