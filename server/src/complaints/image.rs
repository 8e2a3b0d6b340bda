//! Photo uploads: recognise JPEG, PNG and WebP by their bytes (never by the declared type) and
//! remove metadata (EXIF with its GPS position, XMP, comments, text chunks) before anything is
//! stored or served. Hand-written parsers over the container formats; pixel data is untouched.

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
    /// The container structure is broken (truncated, bad lengths).
    #[error("the image file is damaged")]
    Malformed,
}

/// Recognise the format from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() >= 3 && bytes[..3] == [0xFF, 0xD8, 0xFF] {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 8 && bytes[..8] == PNG_SIG {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Sniff and strip: the format and the bytes without metadata.
///
/// Guarantees: the output has no EXIF (APP1), XMP, comment, IPTC (APP13) or PNG text/eXIf/tIME
/// chunks and no WebP EXIF/XMP chunks; everything else is byte-for-byte what was given.
pub fn sanitize(bytes: &[u8]) -> Result<(ImageFormat, Vec<u8>), ImageError> {
    let format = sniff(bytes).ok_or(ImageError::UnsupportedFormat)?;
    let out = match format {
        ImageFormat::Jpeg => strip_jpeg(bytes)?,
        ImageFormat::Png => strip_png(bytes)?,
        ImageFormat::Webp => strip_webp(bytes)?,
    };
    Ok((format, out))
}

const PNG_SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        if i >= b.len() || b[i] != 0xFF {
            return Err(ImageError::Malformed);
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let marker = *b.get(i).ok_or(ImageError::Malformed)?;
        i += 1;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            // Stand-alone markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let len_bytes = b.get(i..i + 2).ok_or(ImageError::Malformed)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 || i + len > b.len() {
            return Err(ImageError::Malformed);
        }
        let segment = &b[i..i + len];
        let drop = match marker {
            // APP1 (EXIF, XMP), APP3-APP13 (incl. IPTC in APP13), APP15, COM.
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => true,
            // APP2 is kept only for an ICC profile (colours), not for FlashPix/MPF extras.
            0xE2 => !segment[2..].starts_with(b"ICC_PROFILE\0"),
            _ => false,
        };
        if !drop {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
        i += len;
        if marker == 0xDA {
            // Start of scan: the entropy-coded data and any later scans follow; metadata
            // segments only appear before the first scan, so copy the rest as it is.
            out.extend_from_slice(&b[i..]);
            return Ok(out);
        }
    }
}

fn strip_png(b: &[u8]) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&PNG_SIG);
    let mut i = 8;
    let mut first = true;
    loop {
        let head = b.get(i..i + 8).ok_or(ImageError::Malformed)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .ok_or(ImageError::Malformed)?;
        if end > b.len() || (first && kind != b"IHDR") {
            return Err(ImageError::Malformed);
        }
        first = false;
        let drop = matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME");
        if !drop {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

fn strip_webp(b: &[u8]) -> Result<Vec<u8>, ImageError> {
    let declared = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    let total = declared.checked_add(8).ok_or(ImageError::Malformed)?;
    if total > b.len() || declared < 4 {
        return Err(ImageError::Malformed);
    }
    let mut body = Vec::with_capacity(total);
    body.extend_from_slice(b"WEBP");
    let mut i = 12;
    let mut vp8x_at = None;
    let mut saw_image = false;
    while i < total {
        let head = b.get(i..i + 8).ok_or(ImageError::Malformed)?;
        let kind = &head[..4];
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let padded = len + (len & 1);
        let end = i
            .checked_add(8)
            .and_then(|x| x.checked_add(padded))
            .ok_or(ImageError::Malformed)?;
        // The final pad byte may be missing in sloppy encoders; accept an exact end.
        let end = if end == total + 1 && len & 1 == 1 {
            total
        } else {
            end
        };
        if end > total {
            return Err(ImageError::Malformed);
        }
        match kind {
            b"EXIF" | b"XMP " => {}
            _ => {
                if kind == b"VP8X" {
                    vp8x_at = Some(body.len() + 8);
                }
                if matches!(kind, b"VP8 " | b"VP8L" | b"ANMF") {
                    saw_image = true;
                }
                body.extend_from_slice(&b[i..end]);
            }
        }
        i = end;
    }
    if !saw_image {
        return Err(ImageError::Malformed);
    }
    if let Some(at) = vp8x_at {
        // Clear the EXIF (bit 3) and XMP (bit 2) flags: those chunks are gone.
        if let Some(flags) = body.get_mut(at) {
            *flags &= !0b0000_1100;
        }
    }
    let size = u32::try_from(body.len()).map_err(|_| ImageError::Malformed)?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Tiny, valid test images with metadata attached, for tests here and end-to-end.
pub mod samples {
    /// A 1×1 JPEG with an EXIF segment holding a GPS marker string `GPSLatitude` and a comment.
    pub fn jpeg_with_exif() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        // APP0 JFIF
        v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        // APP1 Exif with a fake GPS payload
        let exif = b"Exif\0\0MM\0*GPSLatitude 39.9042N";
        v.extend_from_slice(&[0xFF, 0xE1]);
        v.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(exif);
        // COM
        let com = b"secret comment";
        v.extend_from_slice(&[0xFF, 0xFE]);
        v.extend_from_slice(&((com.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(com);
        // A baseline frame: DQT, SOF0 1x1 grey, DHT, SOS, entropy data, EOI.
        seg(&mut v, 0xDB, &[[0u8].as_slice(), &[1u8; 64]].concat());
        seg(&mut v, 0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        let mut dht = vec![0u8, 1];
        dht.extend_from_slice(&[0u8; 15]);
        dht.push(0);
        seg(&mut v, 0xC4, &dht);
        seg(&mut v, 0xDA, &[1, 1, 0, 0, 0x3F, 0]);
        v.extend_from_slice(&[0x2A, 0x9F, 0xFF, 0xD9]);
        v
    }

    fn seg(v: &mut Vec<u8>, marker: u8, data: &[u8]) {
        v.extend_from_slice(&[0xFF, marker]);
        v.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(data);
    }

    /// A 1×1 PNG with `tEXt` (GPS) and `eXIf` chunks.
    pub fn png_with_text() -> Vec<u8> {
        let mut v = super::PNG_SIG.to_vec();
        chunk(&mut v, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        chunk(&mut v, b"tEXt", b"Comment\0GPSLatitude 39.9042N");
        chunk(&mut v, b"eXIf", b"MM\0*GPSLatitude");
        chunk(
            &mut v,
            b"IDAT",
            &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        );
        chunk(&mut v, b"IEND", &[]);
        v
    }

    /// A WebP (VP8L 1×1) with VP8X flags and an EXIF chunk.
    pub fn webp_with_exif() -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        riff_chunk(
            &mut body,
            b"VP8X",
            &[0b0000_1000, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        riff_chunk(
            &mut body,
            b"VP8L",
            &[
                0x2F, 0, 0, 0, 0x00, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0x00,
            ],
        );
        riff_chunk(&mut body, b"EXIF", b"MM\0*GPSLatitude 39.9042N");
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(&body);
        v
    }

    fn chunk(v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(kind);
        v.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        v.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }

    fn riff_chunk(v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        v.extend_from_slice(kind);
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        if data.len() % 2 == 1 {
            v.push(0);
        }
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_loses_exif_and_comment() {
        let input = samples::jpeg_with_exif();
        let (f, out) = sanitize(&input).unwrap();
        assert_eq!(f, ImageFormat::Jpeg);
        assert!(contains(&input, b"GPSLatitude"));
        assert!(!contains(&out, b"GPSLatitude"));
        assert!(!contains(&out, b"secret comment"));
        assert!(contains(&out, b"JFIF"));
        assert_eq!(&out[out.len() - 8..], &input[input.len() - 8..]);
    }

    #[test]
    fn png_loses_text_and_exif() {
        let input = samples::png_with_text();
        let (f, out) = sanitize(&input).unwrap();
        assert_eq!(f, ImageFormat::Png);
        assert!(!contains(&out, b"GPSLatitude"));
        assert!(contains(&out, b"IDAT"));
        assert!(out.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn webp_loses_exif_and_flag() {
        let input = samples::webp_with_exif();
        let (f, out) = sanitize(&input).unwrap();
        assert_eq!(f, ImageFormat::Webp);
        assert!(!contains(&out, b"GPSLatitude"));
        assert_eq!(out[20] & 0b1000, 0);
        let size = u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize;
        assert_eq!(size + 8, out.len());
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
        let png = samples::png_with_text();
        assert_eq!(sanitize(&png[..20]), Err(ImageError::Malformed));
        let webp = samples::webp_with_exif();
        assert_eq!(sanitize(&webp[..20]), Err(ImageError::Malformed));
        // Every prefix of each sample is handled without panicking.
        for s in [jpeg, png, webp] {
            for n in 0..s.len() {
                let _ = sanitize(&s[..n]);
            }
        }
    }
}
