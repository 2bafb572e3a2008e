//! Reading and checking GeoJSON boundaries.
//!
//! The input is walked as plain JSON rather than deserialized into typed GeoJSON, because a typed
//! parse stops at the first error while people fixing a file want to see every problem at once.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use crate::{BoundaryFeature, GeoProblem};

/// Parse a GeoJSON FeatureCollection of Polygon/MultiPolygon features with properties code, name, level.
///
/// The whole file is rejected with every problem found: not JSON or not a FeatureCollection
/// (reported with `feature: None`), a feature without geometry or with another geometry type,
/// a missing, non-string or blank `code`, a non-string `name` or `level`, non-finite
/// coordinates, longitude outside [-180, 180] or latitude outside [-90, 90], a ring with fewer
/// than 4 positions or not closed, and duplicate codes. `name` defaults to the code and `level`
/// to the empty string when they are absent or null.
pub fn parse_boundaries(text: &str) -> Result<Vec<BoundaryFeature>, Vec<GeoProblem>> {
    let (features, problems) = read_boundaries(text)?;
    if problems.is_empty() { Ok(features.into_iter().map(|(_, f)| f).collect()) } else { Err(problems) }
}

/// The same checks, keeping the good features (with their index in `features`) beside the problems of
/// the bad ones, so a caller can add its own checks on the good ones and report everything in one pass.
/// Only a file that is not a FeatureCollection at all is an `Err`.
#[allow(clippy::type_complexity)]
pub fn read_boundaries(text: &str) -> Result<(Vec<(usize, BoundaryFeature)>, Vec<GeoProblem>), Vec<GeoProblem>> {
    read_collection(&parse_json(text)?)
}

/// [`read_boundaries`] on an already parsed document.
#[allow(clippy::type_complexity)]
pub(crate) fn read_collection(root: &Value) -> Result<(Vec<(usize, BoundaryFeature)>, Vec<GeoProblem>), Vec<GeoProblem>> {
    let features = feature_array(root).map_err(|reason| vec![GeoProblem { feature: None, reason }])?;

    let mut problems = Vec::new();
    let mut boundaries = Vec::with_capacity(features.len());
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    for (index, feature) in features.iter().enumerate() {
        let mut reasons = Vec::new();
        let boundary = read_feature(feature, &mut reasons);
        // A broken feature still claims its code, so a later duplicate is reported as well.
        if let Some(code) = feature_code(feature) {
            match first_use.entry(code) {
                Entry::Occupied(first) => {
                    reasons.push(format!("duplicate code {code:?} (first used by feature {})", first.get()));
                }
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
        match boundary {
            Some(boundary) if reasons.is_empty() => boundaries.push((index, boundary)),
            _ => problems.extend(reasons.into_iter().map(|reason| GeoProblem { feature: Some(index), reason })),
        }
    }
    Ok((boundaries, problems))
}

/// Same checks for a single GeoJSON geometry object (Polygon or MultiPolygon), e.g. one stored in a database.
///
/// Problems are reported with `feature: None` because there is no collection to index into.
pub fn parse_geometry(text: &str) -> Result<MultiPolygon<f64>, Vec<GeoProblem>> {
    let root = parse_json(text)?;
    let mut reasons = Vec::new();
    match read_geometry(&root, &mut reasons) {
        Some(geometry) if reasons.is_empty() => Ok(geometry),
        _ => Err(reasons.into_iter().map(|reason| GeoProblem { feature: None, reason }).collect()),
    }
}

/// Parses raw JSON, turning a syntax error into the single problem it is.
pub(crate) fn parse_json(text: &str) -> Result<Value, Vec<GeoProblem>> {
    serde_json::from_str(text).map_err(|error| vec![GeoProblem { feature: None, reason: format!("not valid JSON: {error}") }])
}

/// The name in a document's legacy `crs` member (`{"type": "name", "properties": {"name": …}}`), if it has
/// one; GeoJSON without it is WGS-84 by RFC 7946.
pub(crate) fn crs_name(root: &Value) -> Option<Result<&str, String>> {
    let crs = root.get("crs")?;
    if crs.is_null() {
        return None;
    }
    Some(crs.pointer("/properties/name").and_then(Value::as_str).ok_or_else(|| format!("unreadable crs member {}", snippet(crs))))
}

/// Finds the `features` array of a FeatureCollection, explaining what the document is otherwise.
fn feature_array(root: &Value) -> Result<&Vec<Value>, String> {
    let Some(object) = root.as_object() else {
        return Err(format!("not a GeoJSON FeatureCollection: the document is {}", describe(root)));
    };
    match object.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(format!("not a GeoJSON FeatureCollection: type is {other:?}"));
        }
        None => return Err("not a GeoJSON FeatureCollection: missing \"type\"".to_owned()),
    }
    object.get("features").and_then(Value::as_array).ok_or_else(|| "FeatureCollection has no \"features\" array".to_owned())
}

/// The feature's `code` when it is a usable string; used for duplicate detection.
fn feature_code(feature: &Value) -> Option<&str> {
    let code = feature.get("properties")?.get("code")?.as_str()?;
    (!code.trim().is_empty()).then_some(code)
}

/// Reads one feature, pushing every problem found; returns a boundary only if there were none.
fn read_feature(feature: &Value, reasons: &mut Vec<String>) -> Option<BoundaryFeature> {
    let Some(object) = feature.as_object() else {
        reasons.push(format!("feature is {}, not an object", describe(feature)));
        return None;
    };
    match object.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        Some(other) => reasons.push(format!("type is {other:?}, expected \"Feature\"")),
        None => reasons.push("missing \"type\": \"Feature\"".to_owned()),
    }
    let empty = Map::new();
    let properties = match object.get("properties") {
        Some(Value::Object(properties)) => properties,
        None | Some(Value::Null) => &empty,
        Some(other) => {
            reasons.push(format!("\"properties\" is {}, not an object", describe(other)));
            &empty
        }
    };
    let code = match properties.get("code") {
        Some(Value::String(code)) if !code.trim().is_empty() => Some(code.clone()),
        Some(Value::String(_)) => {
            reasons.push("property \"code\" is blank".to_owned());
            None
        }
        None | Some(Value::Null) => {
            reasons.push("missing property \"code\"".to_owned());
            None
        }
        Some(other) => {
            reasons.push(format!("property \"code\" is {}, not a string", describe(other)));
            None
        }
    };
    let name = optional_string(properties, "name", reasons);
    let level = optional_string(properties, "level", reasons);
    let geometry = match object.get("geometry") {
        None | Some(Value::Null) => {
            reasons.push("feature has no geometry".to_owned());
            None
        }
        Some(geometry) => read_geometry(geometry, reasons),
    };

    let code = code?;
    let geometry = geometry?;
    reasons.is_empty().then(|| BoundaryFeature {
        name: name.unwrap_or_else(|| code.clone()),
        level: level.unwrap_or_default(),
        code,
        geometry,
    })
}

/// Reads a property that may be absent or null but must be a string when given.
fn optional_string(properties: &Map<String, Value>, key: &str, reasons: &mut Vec<String>) -> Option<String> {
    match properties.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(value)) => Some(value.clone()),
        Some(other) => {
            reasons.push(format!("property {key:?} is {}, not a string", describe(other)));
            None
        }
    }
}

/// Reads a Polygon or MultiPolygon geometry object, pushing every problem found.
fn read_geometry(geometry: &Value, reasons: &mut Vec<String>) -> Option<MultiPolygon<f64>> {
    let Some(object) = geometry.as_object() else {
        reasons.push(format!("geometry is {}, not an object", describe(geometry)));
        return None;
    };
    let kind = object.get("type").and_then(Value::as_str);
    if !matches!(kind, Some("Polygon" | "MultiPolygon")) {
        reasons.push(match kind {
            Some(other) => {
                format!("unsupported geometry type {other:?} (expected Polygon or MultiPolygon)")
            }
            None => "geometry has no \"type\"".to_owned(),
        });
        return None;
    }
    let Some(coordinates) = object.get("coordinates").and_then(Value::as_array) else {
        reasons.push("geometry has no \"coordinates\" array".to_owned());
        return None;
    };
    let before = reasons.len();
    let polygons: Vec<Option<Polygon<f64>>> = if kind == Some("Polygon") {
        vec![read_polygon(coordinates, "", reasons)]
    } else {
        if coordinates.is_empty() {
            reasons.push("MultiPolygon has no polygons".to_owned());
        }
        coordinates
            .iter()
            .enumerate()
            .map(|(index, polygon)| {
                let label = format!("polygon {index}, ");
                match polygon.as_array() {
                    Some(rings) => read_polygon(rings, &label, reasons),
                    None => {
                        reasons.push(format!("{label}is {}, not an array of rings", describe(polygon)));
                        None
                    }
                }
            })
            .collect()
    };
    let polygons: Option<Vec<Polygon<f64>>> = polygons.into_iter().collect();
    polygons.filter(|_| reasons.len() == before).map(MultiPolygon::new)
}

/// Reads the rings of one polygon; `label` prefixes messages so multipolygon parts can be told apart.
fn read_polygon(rings: &[Value], label: &str, reasons: &mut Vec<String>) -> Option<Polygon<f64>> {
    if rings.is_empty() {
        reasons.push(format!("{label}polygon has no rings"));
        return None;
    }
    let rings: Option<Vec<LineString<f64>>> = rings
        .iter()
        .enumerate()
        .map(|(index, ring)| read_ring(ring, &format!("{label}ring {index}"), reasons))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let mut rings = rings?.into_iter();
    let exterior = rings.next()?;
    Some(Polygon::new(exterior, rings.collect()))
}

/// The ways a single position can be wrong; bad positions are summarised per ring and kind,
/// so a file with swapped axes yields one line per ring instead of one per vertex.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BadPosition {
    Malformed,
    NonFinite,
    OutOfRange,
}

impl BadPosition {
    const ALL: [BadPosition; 3] = [BadPosition::Malformed, BadPosition::NonFinite, BadPosition::OutOfRange];

    fn describe(self) -> &'static str {
        match self {
            BadPosition::Malformed => "not an array of at least two numbers",
            BadPosition::NonFinite => "non-finite",
            BadPosition::OutOfRange => "outside longitude [-180, 180] / latitude [-90, 90]",
        }
    }
}

/// Reads one linear ring, checking every position as well as the ring's length and closure.
fn read_ring(ring: &Value, label: &str, reasons: &mut Vec<String>) -> Option<LineString<f64>> {
    let Some(positions) = ring.as_array() else {
        reasons.push(format!("{label} is {}, not an array of positions", describe(ring)));
        return None;
    };
    let before = reasons.len();
    let read: Vec<Result<Coord<f64>, BadPosition>> = positions.iter().map(read_position).collect();
    for kind in BadPosition::ALL {
        let mut bad = read.iter().enumerate().filter(|(_, r)| r.as_ref().err() == Some(&kind));
        if let Some((first, _)) = bad.next() {
            let count = 1 + bad.count();
            reasons.push(format!(
                "{label}: {count} position(s) {}, first at index {first}: {}",
                kind.describe(),
                snippet(&positions[first])
            ));
        }
    }
    if positions.len() < 4 {
        reasons.push(format!("{label} has {} position(s); a closed ring needs at least 4", positions.len()));
    }
    if reasons.len() != before {
        return None;
    }
    let coords: Vec<Coord<f64>> = read.into_iter().flatten().collect();
    if coords.first() != coords.last() {
        reasons.push(format!("{label} is not closed: its first and last positions differ"));
        return None;
    }
    Some(LineString::new(coords))
}

/// Reads one `[longitude, latitude, ...]` position; extra dimensions such as altitude are ignored.
fn read_position(position: &Value) -> Result<Coord<f64>, BadPosition> {
    let numbers = position.as_array().filter(|n| n.len() >= 2).ok_or(BadPosition::Malformed)?;
    let x = numbers[0].as_f64().ok_or(BadPosition::Malformed)?;
    let y = numbers[1].as_f64().ok_or(BadPosition::Malformed)?;
    if !x.is_finite() || !y.is_finite() {
        return Err(BadPosition::NonFinite);
    }
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        return Err(BadPosition::OutOfRange);
    }
    Ok(Coord { x, y })
}

/// Shows a JSON value in a message, shortened so a malformed giant value cannot flood the report.
fn snippet(value: &Value) -> String {
    const LIMIT: usize = 60;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Names the JSON type of a value for messages, without echoing possibly huge content.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
