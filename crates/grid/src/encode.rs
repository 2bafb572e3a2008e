//! Writing geometries back out as GeoJSON values.

use geo::MultiPolygon;
use geojson::GeometryValue;

/// The number of decimal places kept on output: 1e-6 degrees is about 11 cm, far below the
/// precision of any boundary we serve, and it keeps API payloads small.
const SCALE: f64 = 1e6;

/// Unit grids are kept to 7 decimals (about 1 cm): at 6, neighbours' shared vertices can move apart by
/// 10 cm, enough for square metres of overlap along a 100 m edge.
const GRID_SCALE: f64 = 1e7;

/// GeoJSON geometry value (a MultiPolygon) for the API; coordinates rounded to 6 decimals.
pub fn geometry_to_geojson(geometry: &MultiPolygon<f64>) -> serde_json::Value {
    encode(geometry, SCALE)
}

/// The same at the precision unit grids are stored with (7 decimals).
pub fn grid_to_geojson(geometry: &MultiPolygon<f64>) -> serde_json::Value {
    encode(geometry, GRID_SCALE)
}

fn encode(geometry: &MultiPolygon<f64>, scale: f64) -> serde_json::Value {
    let round = |value: f64| (value * scale).round() / scale + 0.0;
    let polygons = geometry.iter().map(|polygon| {
        std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .map(|ring| ring.coords().map(|c| [round(c.x), round(c.y)]).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    });
    // Adding zero turns a rounded `-0.0` into `0.0`, so output never shows a confusing negative zero.
    serde_json::Value::from(&GeometryValue::new_multi_polygon(polygons))
}
