// The officer's open tasks on a map of their squad's outlines; each marker opens the task.
(function () {
  'use strict';
  var el = document.getElementById('tasks-map');
  if (!el || !window.L) return;
  var points = JSON.parse(el.dataset.points || '[]');
  var map = L.map(el, { attributionControl: false }).setView([32.0, 120.88], 13);
  fetch('/report/outlines').then(function (r) { return r.json(); }).then(function (fc) {
    L.geoJSON(fc, { style: { color: '#0b3d91', weight: 1, fillOpacity: 0.03 } }).addTo(map);
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
  if (bounds.length) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 });
})();
