//! Writing geometries back out as GeoJSON values.

use geo::MultiPolygon;
use geojson::GeometryValue;

/// The number of decimal places kept on output: 1e-6 degrees is about 11 cm, far below the
/// precision of any boundary we serve, and it keeps API payloads small.
const SCALE: f64 = 1e6;

/// GeoJSON geometry value (a MultiPolygon) for the API; coordinates rounded to 6 decimals.
pub fn geometry_to_geojson(geometry: &MultiPolygon<f64>) -> serde_json::Value {
    let polygons = geometry.iter().map(|polygon| {
        std::iter::once(polygon.exterior())
            .chain(polygon.interiors())
            .map(|ring| ring.coords().map(|c| [round(c.x), round(c.y)]).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    });
    serde_json::Value::from(&GeometryValue::new_multi_polygon(polygons))
}

/// Rounds to the output precision; adding zero turns a rounded `-0.0` into `0.0` so that output
/// never shows a confusing negative zero.
fn round(value: f64) -> f64 {
    (value * SCALE).round() / SCALE + 0.0
}
