//! PNG: check every chunk (length, CRC) from `IHDR` to `IEND` and keep only the chunks that make
//! the picture (header, palette, image data, transparency, animation frames) and its colour
//! (gamma, chromaticities, sRGB, ICC profile, significant bits, cICP), plus the orientation.

use super::{ImageError, Trailing, exif};

/// The eight bytes every PNG starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

const KEPT: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"cICP", b"acTL", b"fcTL", b"fdAT",
];

/// The stripped copy of the PNG `b` (which starts with the signature).
pub fn strip(b: &[u8], trailing: Trailing) -> Result<Vec<u8>, ImageError> {
    let mut chunks: Vec<&[u8]> = Vec::new();
    let mut orientation = None;
    let mut saw_data = false;
    let mut i = SIGNATURE.len();
    let end = loop {
        let head = b.get(i..i + 8).ok_or(ImageError::Malformed)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .ok_or(ImageError::Malformed)?;
        if end > b.len() || (chunks.is_empty() && &kind != b"IHDR") {
            return Err(ImageError::Malformed);
        }
        let crc = u32::from_be_bytes([b[end - 4], b[end - 3], b[end - 2], b[end - 1]]);
        if crc32(&b[i + 4..end - 4]) != crc {
            return Err(ImageError::Malformed);
        }
        let data = &b[i + 8..end - 4];
        if &kind == b"eXIf" {
            orientation = orientation.or_else(|| exif::orientation(data));
        } else if KEPT.contains(&&kind) {
            saw_data |= &kind == b"IDAT";
            chunks.push(&b[i..end]);
        }
        i = end;
        if &kind == b"IEND" {
            break end;
        }
    };
    if !saw_data {
        return Err(ImageError::Malformed);
    }
    if trailing == Trailing::Refuse && end < b.len() {
        return Err(ImageError::TrailingData);
    }
    let mut out = Vec::with_capacity(end);
    out.extend_from_slice(&SIGNATURE);
    let mut pending = orientation.map(exif::orientation_block);
    for c in chunks {
        if &c[4..8] == b"IDAT"
            && let Some(block) = pending.take()
        {
            // eXIf must come before the first IDAT.
            push_chunk(&mut out, b"eXIf", &block);
        }
        out.extend_from_slice(c);
    }
    Ok(out)
}

/// Appends a chunk with its length and CRC.
pub fn push_chunk(v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = v.len();
    v.extend_from_slice(kind);
    v.extend_from_slice(data);
    let crc = crc32(&v[start..]);
    v.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO 3309), as PNG chunks carry it.
pub fn crc32(data: &[u8]) -> u32 {
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
