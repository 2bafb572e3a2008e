// Gridward map page: district and (synthetic) street boundaries, drawn without tiles.
// Needs Leaflet loaded first and <div id="map" data-root=… data-label-…> on the page.
(() => {
  'use strict';

  const STYLE = {
    district: { color: '#0b3d91', weight: 2, fillColor: '#9ec5fe', fillOpacity: 0.25 },
    street: { color: '#475569', weight: 1, dashArray: '4 3', fillOpacity: 0 },
    hover: { weight: 3, fillColor: '#f59e0b', fillOpacity: 0.2 },
  };

  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const api = (parent) => '/api/v1/boundaries?parent=' + encodeURIComponent(parent);

  async function getJSON(url) {
    const r = await fetch(url, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    // An expired session redirects to the HTML login page; say so instead of a JSON parse error.
    const type = r.headers.get('content-type') || '';
    if (!type.includes('json')) throw new Error(`${url}: not JSON (${type || 'no content-type'})`);
    return r.json();
  }

  async function start() {
    const el = document.getElementById('map');
    if (!el || !window.L) return;
    const d = el.dataset;
    const label = {
      districts: d.labelDistricts || '区县',
      streets: d.labelStreets || '街道',
      synthetic: d.labelSynthetic || '合成边界',
      loading: d.labelLoading || '加载中…',
      error: d.labelError || '加载失败',
    };

    // SVG paths (not canvas) so each boundary is a DOM element that tests can count.
    const map = L.map(el, { preferCanvas: false, zoomSnap: 0.25 });
    map.setView([35, 105], 4); // a neutral view until the districts arrive

    // Pin an element in a map corner without letting clicks fall through to the map.
    const pin = (node, position) => {
      new (L.Control.extend({ onAdd: () => node }))({ position }).addTo(map);
      L.DomEvent.disableClickPropagation(node);
      L.DomEvent.disableScrollPropagation(node);
    };
    const note = document.querySelector('.map-note');
    if (note) pin(note, 'bottomleft');
    const msg = L.DomUtil.create('div', 'map-msg');
    msg.setAttribute('role', 'status');
    pin(msg, 'bottomleft');
    const show = (text, isError) => {
      msg.textContent = text;
      msg.classList.toggle('error', !!isError);
      msg.hidden = !text;
    };

    const layer = (style) => L.geoJSON(null, {
      style,
      onEachFeature(feature, path) {
        const p = feature.properties || {};
        // A text node, so names are never parsed as HTML.
        const tip = document.createElement('span');
        tip.textContent = p.name + (p.synthetic ? ' · ' + label.synthetic : '');
        path.bindTooltip(tip, { sticky: true });
        path.on('click', () => location.assign('/divisions/' + encodeURIComponent(p.code)));
        path.on('mouseover', () => path.setStyle(STYLE.hover));
        path.on('mouseout', () => path.setStyle(style));
      },
    }).addTo(map);
    const districts = layer(STYLE.district);
    const streets = layer(STYLE.street);

    L.control.layers(null, {
      [esc(label.districts)]: districts,
      [esc(label.streets)]: streets,
    }, { collapsed: false }).addTo(map);
    // Re-adding districts would cover the streets; keep streets on top so they stay clickable.
    map.on('overlayadd', () => streets.bringToFront());

    show(label.loading);
    const errors = [];
    try {
      const fc = await getJSON(api(d.root));
      districts.addData(fc);
      if (districts.getLayers().length) map.fitBounds(districts.getBounds(), { padding: [12, 12] });
      await Promise.all(fc.features.map((f) =>
        getJSON(api(f.properties.code)).then(
          (sub) => streets.addData(sub),
          (e) => errors.push(e.message))));
      streets.bringToFront();
    } catch (e) {
      errors.push(e.message);
    }

    if (errors.length) {
      errors.forEach((m) => console.error('map:', m));
      show(label.error + ': ' + errors.join('; '), true);
      document.body.dataset.mapError = errors.join('; ');
    } else {
      show('');
    }
    // Set even after errors, so tests fail fast on the counts instead of timing out.
    document.body.dataset.mapReady =
      `districts:${districts.getLayers().length},streets:${streets.getLayers().length}`;
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
