// Gridward map page: district and (synthetic) street boundaries and unit grids, drawn without tiles, and
// the "who is responsible here" panel: a click anywhere asks /api/v1/route about that point.
// Needs Leaflet loaded first and <div id="map" data-root=… data-label-…> on the page.
(() => {
  'use strict';

  const STYLE = {
    district: { color: '#0b3d91', weight: 2, fillColor: '#9ec5fe', fillOpacity: 0.25 },
    street: { color: '#475569', weight: 1, dashArray: '4 3', fillOpacity: 0 },
    grid: { color: '#16a34a', weight: 1, fillColor: '#bbf7d0', fillOpacity: 0.08 },
    unowned: { color: '#dc2626', weight: 1, fillColor: '#fecaca', fillOpacity: 0.3 },
    hover: { weight: 3, fillColor: '#f59e0b', fillOpacity: 0.2 },
  };
  // Grids are drawn from this zoom on; a street holds thousands of them.
  const GRID_ZOOM = 14;
  // The outlines are GCJ-02, so clicks on them are too.
  const DATUM = 'gcj02';

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
      grids: d.labelGrids || '单元网格',
      zoom: d.labelZoom || '',
    };

    // SVG paths (not canvas) so each boundary is a DOM element that tests can count.
    const map = L.map(el, { preferCanvas: false, zoomSnap: 0.25 });
    // Browser tests drive the map through this handle.
    window.gridwardMap = map;
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
        path.on('mouseover', () => path.setStyle(STYLE.hover));
        path.on('mouseout', () => path.setStyle(style));
      },
    }).addTo(map);
    const districts = layer(STYLE.district);
    const streets = layer(STYLE.street);
    const grids = L.geoJSON(null, {
      style: (f) => (f.properties.squad ? STYLE.grid : STYLE.unowned),
      onEachFeature(feature, path) {
        const tip = document.createElement('span');
        tip.textContent = feature.properties.code + ' ' + feature.properties.name;
        path.bindTooltip(tip, { sticky: true });
      },
    }).addTo(map);

    L.control.layers(null, {
      [esc(label.districts)]: districts,
      [esc(label.streets)]: streets,
      [esc(label.grids)]: grids,
    }, { collapsed: false }).addTo(map);
    // Re-adding districts would cover the streets; keep streets and grids on top.
    map.on('overlayadd', () => { streets.bringToFront(); grids.bringToFront(); });

    // Grids of the streets in view, fetched once per street when zoomed in far enough.
    const loadedStreets = new Set();
    const loadGrids = async () => {
      if (map.getZoom() < GRID_ZOOM) {
        show(loadedStreets.size ? '' : label.zoom);
        return;
      }
      const view = map.getBounds();
      const wanted = streets.getLayers()
        .filter((l) => !loadedStreets.has(l.feature.properties.code) && view.intersects(l.getBounds()))
        .map((l) => l.feature.properties.code);
      wanted.forEach((code) => loadedStreets.add(code));
      await Promise.all(wanted.map((code) =>
        getJSON('/api/v1/grids?territory=' + encodeURIComponent(code)).then(
          (fc) => grids.addData(fc),
          // A street outside the user's territory answers 404: nothing of it is shown.
          () => {})));
      grids.bringToFront();
      document.body.dataset.gridsShown = String(grids.getLayers().length);
    };
    map.on('moveend', () => { loadGrids(); });
    startWho(map);

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

  // The panel: a power to ask about, and the answer for the last point clicked.
  function startWho(map) {
    const panel = document.getElementById('who');
    if (!panel) return;
    const t = panel.dataset;
    const select = document.getElementById('who-power');
    const out = document.getElementById('who-result');
    getJSON('/api/v1/powers').then((list) => {
      for (const item of list.items || []) {
        const p = item.power || item;
        const option = document.createElement('option');
        option.value = p.code;
        option.textContent = p.code + ' ' + p.name;
        select.appendChild(option);
      }
    }, () => {});
    let marker = null;
    let last = null;
    const el = (tag, text, cls) => {
      const node = document.createElement(tag);
      if (text !== undefined) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    };
    const link = (href, text) => { const a = el('a', text); a.href = href; return a; };
    const row = (dl, term, ...values) => {
      dl.appendChild(el('dt', term));
      const dd = el('dd');
      values.forEach((v) => dd.appendChild(typeof v === 'string' ? document.createTextNode(v) : v));
      dl.appendChild(dd);
    };
    const render = (r) => {
      out.replaceChildren();
      const chain = el('p', undefined, 'who-chain');
      r.divisions.slice().reverse().forEach((d, i) => {
        if (i) chain.appendChild(document.createTextNode(' › '));
        chain.appendChild(link('/divisions/' + encodeURIComponent(d.code), d.name));
      });
      out.appendChild(chain);
      const dl = el('dl', undefined, 'who-facts');
      if (r.grid) row(dl, t.labelGrid, link('/grids/' + encodeURIComponent(r.grid.code), r.grid.code), ' ' + r.grid.name + (r.grid.synthetic ? ' · ' + t.labelSynthetic : ''));
      if (r.owner) {
        row(dl, t.labelOwner, link('/bodies/' + encodeURIComponent(r.owner.squad.code), r.owner.squad.name));
        if (r.owner.primary_officer) row(dl, t.labelOfficer, r.owner.primary_officer.name + ' (' + r.owner.primary_officer.staff_no + ')');
      }
      if (r.holder) {
        row(dl, t.labelHolder, link('/bodies/' + encodeURIComponent(r.holder.body_code), r.holder.body_name), ' · ' + r.holder.territory_name + ' · ' + r.holder.instrument);
      }
      if (r.power && r.power.legal_basis.length) {
        const ul = el('ul', undefined, 'who-basis');
        r.power.legal_basis.forEach((b) => ul.appendChild(el('li', b)));
        row(dl, t.labelBasis, ul);
      }
      if (r.handler) {
        row(dl, t.labelHandler, r.handler.squad.name + (r.handler.primary_officer ? ' · ' + r.handler.primary_officer.name : ''));
      }
      out.appendChild(dl);
      out.appendChild(el('h3', t.labelWhy));
      const why = el('ol', undefined, 'who-why');
      r.why.forEach((w) => why.appendChild(el('li', w)));
      out.appendChild(why);
    };
    const ask = async (latlng) => {
      last = latlng;
      if (marker) marker.setLatLng(latlng); else marker = L.circleMarker(latlng, { radius: 6, color: '#b91c1c' }).addTo(map);
      const params = new URLSearchParams({ lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7), datum: DATUM });
      if (select.value) params.set('power', select.value);
      const r = await fetch('/api/v1/route?' + params, { credentials: 'same-origin' });
      const body = await r.json().catch(() => ({}));
      if (r.ok) render(body);
      else {
        out.replaceChildren(el('p', body.error === 'outside_jurisdiction' ? t.labelOutside : (body.message || r.status), 'error'));
      }
      document.body.dataset.routeReady = body.grid ? body.grid.code : (body.error || 'none');
    };
    map.on('click', (e) => { ask(e.latlng); });
    select.addEventListener('change', () => { if (last) ask(last); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
