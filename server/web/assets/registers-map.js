// The map on /registers (its own file: the registers page script stays as it is). Clicking a
// community (or a district) sets the district → street → community filter and runs the list.
import { $ } from './dom.js';
import { api } from './auth.js';
import { mountMap } from './map.js';

function setFilter(area) {
  const set = (sel, v) => { const el = $(sel); el.value = v || ''; el.dispatchEvent(new Event('change')); };
  if (!area) set('#f-district', '');
  else if (area.kind === 'district') set('#f-district', area.area_id);
  else {
    set('#f-district', area.district_id);
    set('#f-street', area.parent_id);
    $('#f-community').value = area.area_id;
  }
  $('#filters').requestSubmit();
}

const box = $('#map-box');
if (box) {
  const map = mountMap(box, { fetch: api, onSelect: setFilter });
  // After the page's own language switch has run.
  $('#lang').addEventListener('click', () => setTimeout(() => map.relabel()));
  map.reload();
}
