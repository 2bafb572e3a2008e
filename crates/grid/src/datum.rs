//! Geodetic datums of longitude/latitude input, and conversion between them.
//!
//! Phones and Open311 clients report WGS-84. Chinese web maps (and the demo's outlines) use GCJ-02,
//! the obfuscated datum every licensed map in China must show, about 300–500 m off WGS-84 around
//! Nantong. CGCS2000, the national geodetic datum, differs from WGS-84 by centimetres, far below
//! the accuracy of any input here, so its coordinates are used as WGS-84 ones.
//!
//! The GCJ-02 transformation is the widely published public one (Krasovsky ellipsoid parameters and
//! the sine-series offsets). It has no closed inverse; the inverse iterates the forward transform,
//! which converges to well under a millimetre in a few steps.

use geo::{Coord, MapCoords, MultiPolygon};

/// A datum of longitude/latitude coordinates that Gridward reads and converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    Wgs84,
    Cgcs2000,
    Gcj02,
}

impl Datum {
    /// The stable code stored beside every geometry.
    pub fn code(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Cgcs2000 => "cgcs2000",
            Datum::Gcj02 => "gcj02",
        }
    }

    /// Reads a datum from its code or from the names and EPSG forms files use: `wgs84`, `WGS-84`,
    /// `EPSG:4326`, `CRS84` and their URNs; `cgcs2000`, `EPSG:4490`; `gcj02`, `GCJ-02`. Projected systems
    /// (metres, such as `EPSG:4547` or `EPSG:3857`) are not longitude/latitude and are refused.
    pub fn parse(text: &str) -> Result<Datum, String> {
        let normal: String = text.trim().to_ascii_lowercase().chars().filter(|c| !matches!(c, '-' | '_' | ' ')).collect();
        let epsg = normal
            .strip_prefix("epsg:")
            .or_else(|| normal.strip_prefix("urn:ogc:def:crs:epsg::"))
            .or_else(|| normal.strip_prefix("urn:ogc:def:crs:epsg:"))
            .or_else(|| normal.strip_prefix("http://www.opengis.net/def/crs/epsg/0/"));
        match (normal.as_str(), epsg) {
            (_, Some("4326")) | ("wgs84" | "crs84" | "urn:ogc:def:crs:ogc:1.3:crs84" | "urn:ogc:def:crs:ogc::crs84", _) => {
                Ok(Datum::Wgs84)
            }
            (_, Some("4490")) | ("cgcs2000", _) => Ok(Datum::Cgcs2000),
            ("gcj02", _) => Ok(Datum::Gcj02),
            _ => Err(format!(
                "unsupported coordinate reference system {text:?}: give longitude/latitude in WGS-84 (EPSG:4326), CGCS2000 (EPSG:4490) or GCJ-02"
            )),
        }
    }

    /// Reads the datum of a Shapefile's `.prj` (ESRI WKT). Only geographic systems on WGS-84 or CGCS2000
    /// are accepted; a projected system is refused, naming it.
    pub fn from_prj(wkt: &str) -> Result<Datum, String> {
        let text = wkt.trim();
        let name = text.split('"').nth(1).unwrap_or("");
        if text.starts_with("PROJCS") || text.starts_with("PROJCRS") {
            return Err(format!(
                "unsupported coordinate reference system: projected {name:?}; export longitude/latitude in WGS-84 or CGCS2000"
            ));
        }
        let upper = text.to_ascii_uppercase();
        if upper.contains("CGCS")
            || upper.contains("CHINA_GEODETIC_COORDINATE_SYSTEM_2000")
            || upper.contains("CHINA GEODETIC COORDINATE SYSTEM 2000")
        {
            Ok(Datum::Cgcs2000)
        } else if upper.contains("WGS_1984") || upper.contains("WGS 84") || upper.contains("WGS84") {
            Ok(Datum::Wgs84)
        } else if upper.contains("GCJ") {
            Ok(Datum::Gcj02)
        } else {
            Err(format!("unsupported coordinate reference system {name:?} in the .prj file"))
        }
    }

    /// Converts one longitude/latitude from this datum into `target`.
    pub fn convert(self, target: Datum, lon: f64, lat: f64) -> (f64, f64) {
        match (self.is_gcj(), target.is_gcj()) {
            (false, true) => wgs84_to_gcj02(lon, lat),
            (true, false) => gcj02_to_wgs84(lon, lat),
            _ => (lon, lat),
        }
    }

    /// Converts a whole outline from this datum into `target`.
    pub fn convert_shape(self, target: Datum, shape: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        if self.is_gcj() == target.is_gcj() {
            return shape.clone();
        }
        shape.map_coords(|c| {
            let (x, y) = self.convert(target, c.x, c.y);
            Coord { x, y }
        })
    }

    fn is_gcj(self) -> bool {
        self == Datum::Gcj02
    }
}

impl std::fmt::Display for Datum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The datum a GeoJSON document names in its `crs` member, if it names one.
pub fn geojson_datum(text: &str) -> Result<Option<Datum>, String> {
    let root = crate::parse::parse_json(text).map_err(|p| p.into_iter().map(|p| p.reason).collect::<Vec<_>>().join("; "))?;
    match crate::parse::crs_name(&root) {
        None => Ok(None),
        Some(name) => Datum::parse(name?).map(Some),
    }
}

/// Semi-major axis and first eccentricity squared of the Krasovsky 1940 ellipsoid, as the transform uses.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// GCJ-02 applies only inside this rectangle round China; outside it the coordinates are WGS-84's.
fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

/// WGS-84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (d_lon, d_lat) = offset(lon, lat);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 → WGS-84, by fixed-point iteration on the forward transform.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut x, mut y) = (lon, lat);
    for _ in 0..8 {
        let (gx, gy) = wgs84_to_gcj02(x, y);
        let (ex, ey) = (gx - lon, gy - lat);
        x -= ex;
        y -= ey;
        if ex.abs() < 1e-10 && ey.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

/// The GCJ-02 offset (degrees) at a WGS-84 point.
fn offset(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let x = lon - 105.0;
    let y = lat - 35.0;
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (d_lon, d_lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_epsg_codes_are_read_and_projected_systems_refused() {
        assert_eq!(Datum::parse("EPSG:4326"), Ok(Datum::Wgs84));
        assert_eq!(Datum::parse("urn:ogc:def:crs:OGC:1.3:CRS84"), Ok(Datum::Wgs84));
        assert_eq!(Datum::parse("urn:ogc:def:crs:EPSG::4490"), Ok(Datum::Cgcs2000));
        assert_eq!(Datum::parse("GCJ-02"), Ok(Datum::Gcj02));
        assert_eq!(Datum::parse("wgs84"), Ok(Datum::Wgs84));
        assert!(Datum::parse("EPSG:3857").unwrap_err().contains("unsupported coordinate reference system"));
        assert!(Datum::parse("EPSG:4547").is_err());
        assert_eq!(
            Datum::from_prj(r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]]"#),
            Ok(Datum::Wgs84)
        );
        assert_eq!(
            Datum::from_prj(r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000"]]"#),
            Ok(Datum::Cgcs2000)
        );
        let projected =
            Datum::from_prj(r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000"]]"#);
        assert!(projected.unwrap_err().contains("projected \"CGCS2000_3_Degree_GK_CM_120E\""));
    }

    #[test]
    fn the_gcj02_offset_near_nantong_is_a_few_hundred_metres_and_inverts() {
        // 南通市政府 area, WGS-84.
        let (lon, lat) = (120.8940, 31.9810);
        let (glon, glat) = wgs84_to_gcj02(lon, lat);
        let metres_east = (glon - lon) * 111_320.0 * lat.to_radians().cos();
        let metres_north = (glat - lat) * 110_574.0;
        let shift = (metres_east * metres_east + metres_north * metres_north).sqrt();
        assert!((200.0..700.0).contains(&shift), "shift {shift} m");
        let (back_lon, back_lat) = gcj02_to_wgs84(glon, glat);
        assert!((back_lon - lon).abs() < 1e-9 && (back_lat - lat).abs() < 1e-9);
        assert_eq!(Datum::Gcj02.convert(Datum::Wgs84, glon, glat), (back_lon, back_lat));
        assert_eq!(Datum::Cgcs2000.convert(Datum::Wgs84, lon, lat), (lon, lat));
    }

    #[test]
    fn outside_china_nothing_moves() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(-74.0, 40.7), (-74.0, 40.7));
    }
}
