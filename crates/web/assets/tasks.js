// The officer's open tasks on a map of their squad's outlines; each marker opens the task.
(function () {
  'use strict';
  var el = document.getElementById('tasks-map');
  if (!el || !window.L) return;
  var points = JSON.parse(el.dataset.points || '[]');
  var map = L.map(el, { attributionControl: false }).setView([32.0, 120.88], 13);
  // The grids of the caller's territory under the tasks: the officer sees which grid each task is in.
  fetch('/api/v1/grids?territory=' + encodeURIComponent(el.dataset.territory)).then(function (r) { return r.json(); }).then(function (fc) {
    L.geoJSON(fc, { style: { color: '#64748b', weight: 0.5, fillOpacity: 0.02 }, interactive: false }).addTo(map).bringToBack();
    document.body.dataset.gridsShown = String(fc.features.length);
  }).catch(function () {});
  var bounds = [];
  points.forEach(function (p) {
    var m = L.circleMarker([p.lat, p.lon], { radius: 10, color: p.overdue ? '#b91c1c' : '#0b3d91', fillOpacity: 0.7 }).addTo(map);
    var a = document.createElement('a');
    a.href = '/work/' + p.id;
    a.textContent = p.id + ' · ' + p.name + ' — ' + el.dataset.labelOpen;
    m.bindPopup(a);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) map.setView(bounds[0], 16);
  else if (bounds.length > 1) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 });
})();
