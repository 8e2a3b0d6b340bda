// Resize a photo in the browser: decode, draw on a canvas no larger than 1600 px, re-encode as JPEG.
// Re-encoding through the canvas writes pixels only, so EXIF (GPS position, camera serial) is gone.
export const MAX_SIDE = 1600;

async function decode(file) {
  if ('createImageBitmap' in window) {
    try { return await createImageBitmap(file, { imageOrientation: 'from-image' }); } catch { /* fall through */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();
    return img;
  } finally { URL.revokeObjectURL(url); }
}

/** Resolves to a JPEG Blob; rejects with Error('not_image') when the file cannot be decoded. */
export async function shrink(file, maxSide = MAX_SIDE, quality = 0.82) {
  let bmp;
  try { bmp = await decode(file); } catch { throw new Error('not_image'); }
  const w = bmp.width || bmp.naturalWidth, hgt = bmp.height || bmp.naturalHeight;
  if (!w || !hgt) throw new Error('not_image');
  const k = Math.min(1, maxSide / Math.max(w, hgt));
  const cw = Math.max(1, Math.round(w * k)), ch = Math.max(1, Math.round(hgt * k));
  const canvas = document.createElement('canvas');
  canvas.width = cw; canvas.height = ch;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, cw, ch);
  ctx.drawImage(bmp, 0, 0, cw, ch);
  if (bmp.close) bmp.close();
  const blob = await new Promise((res) => canvas.toBlob(res, 'image/jpeg', quality));
  if (!blob) throw new Error('not_image');
  return blob;
}
