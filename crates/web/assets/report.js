// The public report form: pin the place on a map of the city's outlines (GCJ-02, no internet tiles), or
// take the phone's position (WGS-84), and show or hide the contact fields.
(function () {
  'use strict';
  var el = document.getElementById('pin-map');
  var lon = document.getElementById('lon'), lat = document.getElementById('lat'), datum = document.getElementById('datum');
  var status = document.getElementById('pin-status');
  var device = document.getElementById('device_id');
  try {
    var id = localStorage.getItem('gw-device') || (Date.now().toString(36) + Math.random().toString(36).slice(2));
    localStorage.setItem('gw-device', id);
    device.value = id;
  } catch (e) { /* private mode: no device id */ }
  var anonymous = document.getElementById('anonymous'), contact = document.getElementById('contact');
  anonymous.addEventListener('change', function () { contact.hidden = anonymous.checked; });

  // The public WGS-84 → GCJ-02 transform, so a GPS position shows where the outlines are drawn.
  function outOfChina(x, y) { return x < 72.004 || x > 137.8347 || y < 0.8293 || y > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  }
  function toGcj(x, y) {
    if (outOfChina(x, y)) return [x, y];
    var a = 6378245.0, ee = 0.00669342162296594323;
    var dLat = tLat(x - 105, y - 35), dLon = tLon(x - 105, y - 35);
    var radLat = y / 180 * Math.PI, magic = Math.sin(radLat);
    magic = 1 - ee * magic * magic;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180) / (a / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [x + dLon, y + dLat];
  }

  if (!el || !window.L) return;
  var map = L.map(el, { attributionControl: false }).setView([32.0, 120.88], 12);
  window.gridwardPinMap = map;
  var marker = null;
  function place(shownLat, shownLon, givenLon, givenLat, givenDatum) {
    if (marker) marker.setLatLng([shownLat, shownLon]); else marker = L.marker([shownLat, shownLon]).addTo(map);
    lon.value = givenLon.toFixed(7); lat.value = givenLat.toFixed(7); datum.value = givenDatum;
    status.textContent = givenLat.toFixed(5) + ', ' + givenLon.toFixed(5) + ' (' + givenDatum + ')';
  }
  fetch('/report/outlines').then(function (r) { return r.json(); }).then(function (fc) {
    var layer = L.geoJSON(fc, { style: { color: '#0b3d91', weight: 1, fillOpacity: 0.05 } }).addTo(map);
    if (layer.getBounds().isValid() && !marker) map.fitBounds(layer.getBounds(), { animate: false });
    document.body.dataset.pinReady = '1';
  }).catch(function () { /* the pin still works without outlines */ });
  map.on('click', function (e) { place(e.latlng.lat, e.latlng.lng, e.latlng.lng, e.latlng.lat, 'gcj02'); });
  document.getElementById('locate').addEventListener('click', function () {
    if (!navigator.geolocation) { status.textContent = '—'; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      var g = toGcj(p.coords.longitude, p.coords.latitude);
      place(g[1], g[0], p.coords.longitude, p.coords.latitude, 'wgs84');
      map.setView([g[1], g[0]], 17);
    }, function (err) { status.textContent = err.message; }, { enableHighAccuracy: true, timeout: 15000 });
  });
})();
