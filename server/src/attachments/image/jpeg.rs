//! JPEG: walk every marker from the start-of-image to the end-of-image, scans included, and
//! keep only the segments that make the picture (frame, tables, scans with their entropy-coded
//! data, restart markers), the ICC profile, Adobe's colour-transform flag, a JFIF header without
//! its thumbnail, and the orientation.

use super::{ImageError, Trailing, exif};

/// The stripped copy of the JPEG `b` (which starts with `FF D8 FF`).
pub fn strip(b: &[u8], trailing: Trailing) -> Result<Vec<u8>, ImageError> {
    let mut body = Vec::with_capacity(b.len());
    let mut jfif: Option<[u8; 14]> = None;
    let mut orientation = None;
    let (mut saw_frame, mut saw_scan) = (false, false);
    let mut i = 2;
    let end = loop {
        if b.get(i) != Some(&0xFF) {
            return Err(ImageError::Malformed);
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *b.get(i).ok_or(ImageError::Malformed)?;
        i += 1;
        match marker {
            0xD9 => {
                if !(saw_frame && saw_scan) {
                    return Err(ImageError::Malformed);
                }
                break i;
            }
            0x00 | 0xD8 => return Err(ImageError::Malformed),
            0x01 | 0xD0..=0xD7 => {
                body.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let len_bytes = b.get(i..i + 2).ok_or(ImageError::Malformed)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 || i + len > b.len() {
            return Err(ImageError::Malformed);
        }
        let payload = &b[i + 2..i + len];
        let keep = match marker {
            0xE0 => {
                if jfif.is_none() && payload.len() >= 14 && payload.starts_with(b"JFIF\0") {
                    let mut head = [0u8; 14];
                    head[..12].copy_from_slice(&payload[..12]);
                    // Thumbnail width and height 0: the embedded preview is not copied.
                    jfif = Some(head);
                }
                false
            }
            0xE1 => {
                if orientation.is_none()
                    && let Some(tiff) = payload.strip_prefix(b"Exif\0\0")
                {
                    orientation = exif::orientation(tiff);
                }
                false
            }
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
            0xEE => payload.starts_with(b"Adobe"),
            // Frames (SOF0-SOF15 without DHT, JPG and DAC, which share the range).
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                saw_frame = true;
                true
            }
            // Huffman and arithmetic tables, quantisation tables, restart interval, lines.
            0xC4 | 0xCC | 0xDB | 0xDD | 0xDC => true,
            0xDA => {
                if !saw_frame {
                    return Err(ImageError::Malformed);
                }
                true
            }
            // APP3-APP13 (IPTC…), APP15, COM, JPG extensions, anything unknown.
            _ => false,
        };
        if keep {
            body.extend_from_slice(&[0xFF, marker]);
            body.extend_from_slice(&b[i..i + len]);
        }
        i += len;
        if marker == 0xDA {
            saw_scan = true;
            let data_end = entropy_end(b, i)?;
            body.extend_from_slice(&b[i..data_end]);
            i = data_end;
        }
    };
    if trailing == Trailing::Refuse && end < b.len() {
        return Err(ImageError::TrailingData);
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    out.extend_from_slice(&[0xFF, 0xD8]);
    if let Some(head) = jfif {
        out.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        out.extend_from_slice(&head);
    }
    if let Some(o) = orientation {
        let block = exif::orientation_block(o);
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((block.len() + 8) as u16).to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&body);
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// Where the entropy-coded data that starts at `from` ends: at the first marker that is not a
/// stuffed `FF 00` or a restart marker `FF D0`-`FF D7`.
fn entropy_end(b: &[u8], from: usize) -> Result<usize, ImageError> {
    let mut k = from;
    loop {
        let at = b[k..]
            .iter()
            .position(|&x| x == 0xFF)
            .ok_or(ImageError::Malformed)?;
        k += at;
        match b.get(k + 1) {
            None => return Err(ImageError::Malformed),
            Some(0x00 | 0xD0..=0xD7) => k += 2,
            Some(_) => return Ok(k),
        }
    }
}
