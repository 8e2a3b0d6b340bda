// Category icons as SVG paths (24x24, stroked), drawn with createElementNS.
import { s } from './dom.js';

const P = {
  noise: ['M4 10v4h4l5 4V6L8 10H4z', 'M16 9a4 4 0 0 1 0 6', 'M18.5 6.5a8 8 0 0 1 0 11'],
  dust: ['M3 8h11a3 3 0 1 0-3-3', 'M3 12h16a3 3 0 1 1-3 3', 'M3 16h8'],
  quality: ['M4 20h16', 'M6 20V9l6-5 6 5v11', 'M10 20v-6h4v6', 'M9 9l6 4'],
  hazard: ['M12 3 2 20h20L12 3z', 'M12 10v4', 'M12 17v.5'],
  water: ['M12 3s6 7 6 11a6 6 0 0 1-12 0c0-4 6-11 6-11z'],
  power: ['M13 2 4 14h7l-1 8 9-12h-7l1-8z'],
  gas: ['M12 3c1 3 5 5 5 10a5 5 0 0 1-10 0c0-3 2-4 2-6 1 1 2 2 2 3 1-2 1-5 1-7z'],
  heating: ['M6 4v16', 'M10 4v16', 'M14 4v16', 'M18 4v16', 'M4 8h16', 'M4 16h16'],
  facility: ['M4 20V10l8-6 8 6v10', 'M9 20v-5h6v5', 'M2 20h20'],
  relocation: ['M3 12h13', 'M12 7l5 5-5 5', 'M20 4v16'],
  property: ['M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6l-8-3z', 'M9 12l2 2 4-4'],
  delay: ['M12 7v5l3 2', 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z'],
  other: ['M5 12h.5', 'M12 12h.5', 'M19 12h.5'],
};

export function icon(name) {
  const paths = P[name] || P.other;
  return s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    paths.map((d) => s('path', { d })));
}
