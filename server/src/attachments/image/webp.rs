//! WebP: walk the RIFF chunks up to the size the header declares and keep only the chunks that
//! make the picture (`VP8 `, `VP8L`, `VP8X`, `ALPH`, `ANIM`, `ANMF`) and its ICC profile, plus
//! the orientation; the `VP8X` flags are rewritten to say what is left.

use super::{ImageError, Trailing, exif};

const KEPT: [&[u8; 4]; 7] = [
    b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP",
];

/// The stripped copy of the WebP `b` (which starts with `RIFF....WEBP`).
pub fn strip(b: &[u8], trailing: Trailing) -> Result<Vec<u8>, ImageError> {
    let declared = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    let total = declared.checked_add(8).ok_or(ImageError::Malformed)?;
    if total > b.len() || declared < 4 {
        return Err(ImageError::Malformed);
    }
    if trailing == Trailing::Refuse && total < b.len() {
        return Err(ImageError::TrailingData);
    }
    let mut body = Vec::with_capacity(total);
    body.extend_from_slice(b"WEBP");
    let mut i = 12;
    let mut vp8x_at = None;
    let (mut saw_image, mut icc) = (false, false);
    let mut orientation = None;
    while i < total {
        let head = b.get(i..i + 8).ok_or(ImageError::Malformed)?;
        let kind: [u8; 4] = [head[0], head[1], head[2], head[3]];
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let padded = len.checked_add(len & 1).ok_or(ImageError::Malformed)?;
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
        if &kind == b"EXIF" {
            let data = &b[i + 8..(i + 8 + len).min(total)];
            let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
            orientation = orientation.or_else(|| exif::orientation(tiff));
        } else if KEPT.contains(&&kind) {
            if &kind == b"VP8X" {
                if vp8x_at.is_some() || len < 10 {
                    return Err(ImageError::Malformed);
                }
                vp8x_at = Some(body.len() + 8);
            }
            saw_image |= matches!(&kind, b"VP8 " | b"VP8L" | b"ANMF");
            icc |= &kind == b"ICCP";
            body.extend_from_slice(&b[i..end]);
            if end - i - 8 < padded {
                body.push(0);
            }
        }
        i = end;
    }
    if !saw_image {
        return Err(ImageError::Malformed);
    }
    match vp8x_at {
        Some(at) => {
            let mut flags = body[at] & 0b0001_0010;
            if icc {
                flags |= 0b0010_0000;
            }
            if let Some(o) = orientation {
                flags |= 0b0000_1000;
                let block = exif::orientation_block(o);
                body.extend_from_slice(b"EXIF");
                body.extend_from_slice(&(block.len() as u32).to_le_bytes());
                body.extend_from_slice(&block);
            }
            body[at] = flags;
        }
        // The simple format has no flags, so no place for a colour profile or an orientation.
        None if icc => return Err(ImageError::Malformed),
        None => {}
    }
    let size = u32::try_from(body.len()).map_err(|_| ImageError::Malformed)?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}
