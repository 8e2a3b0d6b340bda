//! Tiny, valid test images with metadata attached where an attacker or a phone would put it,
//! for the unit tests here and the end-to-end tests.

use super::exif::orientation_block;
use super::png::{SIGNATURE, push_chunk};

/// The GPS-looking text every sample hides in its metadata.
pub const SECRET: &[u8] = b"GPSLatitude 39.9042N";

fn seg(v: &mut Vec<u8>, marker: u8, data: &[u8]) {
    v.extend_from_slice(&[0xFF, marker]);
    v.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(data);
}

fn jpeg_tables(v: &mut Vec<u8>, sof: u8) {
    seg(v, 0xDB, &[[0u8].as_slice(), &[1u8; 64]].concat());
    seg(v, sof, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    let mut dht = vec![0u8, 1];
    dht.extend_from_slice(&[0u8; 15]);
    dht.push(0);
    seg(v, 0xC4, &dht);
}

fn exif_app1(v: &mut Vec<u8>) {
    let mut exif = b"Exif\0\0".to_vec();
    let mut tiff = orientation_block(6);
    tiff.extend_from_slice(SECRET);
    exif.extend_from_slice(&tiff);
    seg(v, 0xE1, &exif);
}

/// A 1×1 baseline JPEG with an EXIF segment (orientation 6 and a GPS marker string), an XMP
/// segment, an IPTC segment and a comment.
pub fn jpeg_with_exif() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    seg(&mut v, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    exif_app1(&mut v);
    seg(
        &mut v,
        0xE1,
        &[b"http://ns.adobe.com/xap/1.0/\0".as_slice(), SECRET].concat(),
    );
    seg(
        &mut v,
        0xED,
        &[b"Photoshop 3.0\0".as_slice(), SECRET].concat(),
    );
    seg(&mut v, 0xFE, b"secret comment");
    jpeg_tables(&mut v, 0xC0);
    seg(&mut v, 0xDA, &[1, 1, 0, 0, 0x3F, 0]);
    v.extend_from_slice(&[0x2A, 0x9F, 0xFF, 0x00, 0x11, 0xFF, 0xD0, 0x22, 0xFF, 0xD9]);
    v
}

/// [`jpeg_with_exif`] with a second JPEG (a preview with its own EXIF GPS) appended after the
/// end-of-image, as phones and motion photos do.
pub fn jpeg_with_appended_preview() -> Vec<u8> {
    let mut v = jpeg_with_exif();
    v.extend_from_slice(&jpeg_with_exif());
    v
}

/// A 1×1 progressive JPEG with two scans and a comment and an APP1 between them.
pub fn progressive_jpeg_with_comment_between_scans() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    jpeg_tables(&mut v, 0xC2);
    seg(&mut v, 0xDA, &[1, 1, 0, 0, 0, 0]);
    v.extend_from_slice(&[0x2A, 0x9F]);
    seg(
        &mut v,
        0xFE,
        &[b"between scans ".as_slice(), SECRET].concat(),
    );
    seg(&mut v, 0xE1, &[b"Exif\0\0".as_slice(), SECRET].concat());
    let mut dht = vec![0x10u8, 1];
    dht.extend_from_slice(&[0u8; 15]);
    dht.push(0);
    seg(&mut v, 0xC4, &dht);
    seg(&mut v, 0xDA, &[1, 1, 0x01, 1, 0x3F, 0]);
    v.extend_from_slice(&[0x55, 0x66, 0xFF, 0xD9]);
    v
}

fn png_ihdr(v: &mut Vec<u8>) {
    push_chunk(v, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
}

const IDAT: [u8; 10] = [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01];

/// A 1×1 PNG with `tEXt` (GPS), `eXIf` (orientation 6 and GPS), an unknown private chunk and a
/// `tIME` chunk.
pub fn png_with_text() -> Vec<u8> {
    let mut v = SIGNATURE.to_vec();
    png_ihdr(&mut v);
    push_chunk(&mut v, b"tEXt", &[b"Comment\0".as_slice(), SECRET].concat());
    let mut exif = orientation_block(6);
    exif.extend_from_slice(SECRET);
    push_chunk(&mut v, b"eXIf", &exif);
    push_chunk(&mut v, b"prVt", SECRET);
    push_chunk(&mut v, b"tIME", &[7, 234, 12, 2, 5, 0, 0]);
    push_chunk(&mut v, b"IDAT", &IDAT);
    push_chunk(&mut v, b"IEND", &[]);
    v
}

fn riff_chunk(v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    v.extend_from_slice(kind);
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    if data.len() % 2 == 1 {
        v.push(0);
    }
}

/// A WebP (VP8L 1×1) with VP8X flags, an EXIF chunk (orientation 6 and GPS), an XMP chunk and an
/// unknown chunk.
pub fn webp_with_exif() -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    riff_chunk(
        &mut body,
        b"VP8X",
        &[0b0000_1100, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    riff_chunk(
        &mut body,
        b"VP8L",
        &[
            0x2F, 0, 0, 0, 0x00, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0x00,
        ],
    );
    let mut exif = orientation_block(6);
    exif.extend_from_slice(SECRET);
    riff_chunk(&mut body, b"EXIF", &exif);
    riff_chunk(
        &mut body,
        b"XMP ",
        &[b"<x:xmpmeta>".as_slice(), SECRET].concat(),
    );
    riff_chunk(&mut body, b"ZZZZ", SECRET);
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(body.len() as u32).to_le_bytes());
    v.extend_from_slice(&body);
    v
}

/// A 1×1 baseline JPEG whose EXIF says it was taken at `taken` (EXIF `YYYY:MM:DD HH:MM:SS`,
/// local time of the city) at (`lat`, `lon`), as a phone camera writes it: `DateTimeOriginal`
/// in the Exif IFD, `GPSLatitude`/`GPSLongitude` (degrees, minutes, seconds) with their
/// references in the GPS IFD. Built with kamadak-exif's writer, so a test needs no file.
pub fn jpeg_with_proof_exif(taken: &str, lat: f64, lon: f64) -> Vec<u8> {
    use exif::experimental::Writer;
    use exif::{Field, In, Rational, Tag, Value};
    fn dms(x: f64) -> Value {
        let x = x.abs();
        let d = x.trunc();
        let m = ((x - d) * 60.0).trunc();
        let s = ((x - d) * 60.0 - m) * 60.0;
        Value::Rational(vec![
            Rational::from((d as u32, 1)),
            Rational::from((m as u32, 1)),
            Rational::from(((s * 10_000.0).round() as u32, 10_000)),
        ])
    }
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let fields = [
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: ascii(taken),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii(if lat < 0.0 { "S" } else { "N" }),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: dms(lat),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii(if lon < 0.0 { "W" } else { "E" }),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: dms(lon),
        },
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer
        .write(&mut tiff, false)
        .expect("EXIF of plain fields is writable");
    let mut v = vec![0xFF, 0xD8];
    seg(&mut v, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    seg(
        &mut v,
        0xE1,
        &[b"Exif\0\0".as_slice(), tiff.get_ref()].concat(),
    );
    jpeg_tables(&mut v, 0xC0);
    seg(&mut v, 0xDA, &[1, 1, 0, 0, 0x3F, 0]);
    v.extend_from_slice(&[0x2A, 0x9F, 0xFF, 0x00, 0x11, 0xFF, 0xD0, 0x22, 0xFF, 0xD9]);
    v
}
