//! The one EXIF fact a public copy keeps: the orientation (tag 0x0112 of IFD0), so a photo
//! taken sideways is still shown upright. Read from a TIFF block, written back as a TIFF block
//! holding that single tag and nothing else.

/// The orientation in a TIFF/EXIF block (`II*\0` or `MM\0*` header), when it is 2 to 8
/// (1 is "upright" and needs no tag); `None` for anything unreadable.
pub fn orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(..4)? {
        [b'M', b'M', 0, 42] => true,
        [b'I', b'I', 42, 0] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let v = if big {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        };
        usize::try_from(v).ok()
    };
    let ifd = u32_at(4)?;
    let count = usize::from(u16_at(ifd)?);
    for n in 0..count.min(512) {
        let entry = ifd.checked_add(2)?.checked_add(n.checked_mul(12)?)?;
        if u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3 {
            let value = u16_at(entry + 8)?;
            return (2..=8).contains(&value).then_some(value);
        }
    }
    None
}

/// A big-endian TIFF block whose IFD0 holds only the orientation tag.
pub fn orientation_block(value: u16) -> Vec<u8> {
    let mut v = b"MM\0\x2a".to_vec();
    v.extend_from_slice(&8u32.to_be_bytes());
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&0x0112u16.to_be_bytes());
    v.extend_from_slice(&3u16.to_be_bytes());
    v.extend_from_slice(&1u32.to_be_bytes());
    v.extend_from_slice(&value.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&0u32.to_be_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_both_byte_orders() {
        assert_eq!(orientation(&orientation_block(6)), Some(6));
        let mut le = b"II\x2a\0".to_vec();
        le.extend_from_slice(&8u32.to_le_bytes());
        le.extend_from_slice(&2u16.to_le_bytes());
        // A GPS IFD pointer first, then the orientation.
        le.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 0x40, 0, 0, 0]);
        le.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0]);
        assert_eq!(orientation(&le), Some(8));
        assert_eq!(orientation(&orientation_block(1)), None);
        assert_eq!(orientation(b"MM\0\x2a\xff\xff\xff\xff"), None);
        assert_eq!(orientation(b"junk"), None);
    }
}
