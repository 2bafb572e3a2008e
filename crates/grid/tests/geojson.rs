//! Reading, checking and writing GeoJSON through the public API.

use gridward_grid::{GeoProblem, geometry_to_geojson, parse_boundaries, parse_geometry};
use serde_json::json;

/// Wraps features into a FeatureCollection document.
fn collection(features: serde_json::Value) -> String {
    json!({ "type": "FeatureCollection", "features": features }).to_string()
}

/// A closed unit-ish square ring at an offset, as GeoJSON coordinates.
fn square(x: f64, y: f64, side: f64) -> serde_json::Value {
    json!([[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]])
}

/// A valid feature with the given code and polygon.
fn feature(code: &str, x: f64) -> serde_json::Value {
    json!({
        "type": "Feature",
        "properties": { "code": code, "name": format!("District {code}"), "level": "district" },
        "geometry": { "type": "Polygon", "coordinates": [square(x, 50.0, 0.1)] }
    })
}

fn indices(problems: &[GeoProblem]) -> Vec<Option<usize>> {
    problems.iter().map(|p| p.feature).collect()
}

#[test]
fn parses_a_valid_collection() {
    let multi = json!({
        "type": "Feature",
        "properties": { "code": "B", "extra": 1 },
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [
                [square(10.0, 50.0, 1.0), square(10.25, 50.25, 0.5)],
                [square(12.0, 50.0, 0.5)]
            ]
        }
    });
    let boundaries = parse_boundaries(&collection(json!([feature("A", 4.0), multi]))).expect("valid");
    assert_eq!(boundaries.len(), 2);
    assert_eq!(boundaries[0].code, "A");
    assert_eq!(boundaries[0].name, "District A");
    assert_eq!(boundaries[0].level, "district");
    assert_eq!(boundaries[0].geometry.0.len(), 1);
    assert_eq!(boundaries[1].name, "B", "name falls back to the code");
    assert_eq!(boundaries[1].level, "");
    assert_eq!(boundaries[1].geometry.0.len(), 2);
    assert_eq!(boundaries[1].geometry.0[0].interiors().len(), 1);
}

#[test]
fn reports_every_bad_feature_at_once() {
    let point = json!({ "type": "Feature", "properties": { "code": "P" },
        "geometry": { "type": "Point", "coordinates": [4.0, 50.0] } });
    let no_code = json!({ "type": "Feature", "properties": { "name": "nameless" },
        "geometry": { "type": "Polygon", "coordinates": [square(5.0, 50.0, 0.1)] } });
    let open_ring = json!({ "type": "Feature", "properties": { "code": "O" },
        "geometry": { "type": "Polygon", "coordinates": [[[6.0, 50.0], [6.1, 50.0], [6.1, 50.1], [6.0, 50.1]]] } });
    let text = collection(json!([feature("A", 4.0), point, no_code, open_ring, feature("Z", 7.0)]));
    let problems = parse_boundaries(&text).expect_err("three broken features");
    assert_eq!(indices(&problems), vec![Some(1), Some(2), Some(3)], "{problems:#?}");
    assert!(problems[0].reason.contains("Point"));
    assert!(problems[1].reason.contains("code"));
    assert!(problems[2].reason.contains("not closed"));
}

#[test]
fn reports_each_kind_of_problem() {
    let mut swapped = feature("SWAP", 0.0);
    swapped["geometry"]["coordinates"] = json!([[[50.0, 100.0], [50.1, 100.0], [50.1, 100.1], [50.0, 100.0]]]);
    let mut short = feature("SHORT", 0.0);
    short["geometry"]["coordinates"] = json!([[[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]]);
    let mut no_geometry = feature("NOGEOM", 0.0);
    no_geometry["geometry"] = json!(null);
    let mut numeric_code = feature("X", 0.0);
    numeric_code["properties"]["code"] = json!(17);
    let mut malformed = feature("MAL", 0.0);
    malformed["geometry"]["coordinates"] = json!([[[1.0, 1.0], [2.0, "1"], [2.0], [1.0, 2.0], [1.0, 1.0]]]);
    let text = collection(json!([feature("A", 1.0), swapped, short, no_geometry, numeric_code, feature("A", 2.0), malformed]));
    let problems = parse_boundaries(&text).expect_err("broken");
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(indices(&problems), vec![Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)], "{text:#?}");
    assert!(text[0].starts_with("feature 1: ring 0: 4 position(s) outside longitude"), "{}", text[0]);
    assert!(text[1].contains("3 position(s)"), "{}", text[1]);
    assert!(text[2].contains("no geometry"), "{}", text[2]);
    assert!(text[3].contains("\"code\" is a number"), "{}", text[3]);
    assert!(text[4].contains("duplicate code \"A\" (first used by feature 0)"), "{}", text[4]);
    assert!(text[5].contains("2 position(s) not an array of at least two numbers, first at index 1"), "{}", text[5]);
}

#[test]
fn rejects_documents_that_are_not_feature_collections() {
    for text in ["{not json", "[1, 2]", r#"{"type": "Feature"}"#, r#"{"type": "FeatureCollection"}"#] {
        let problems = parse_boundaries(text).expect_err(text);
        assert_eq!(indices(&problems), vec![None], "{text}");
        assert!(!problems[0].to_string().starts_with("feature"), "{}", problems[0]);
    }
    let problems = parse_boundaries("{not json").expect_err("not json");
    assert!(problems[0].reason.starts_with("not valid JSON"), "{}", problems[0]);
}

#[test]
fn numbers_too_large_for_f64_are_rejected() {
    let text = r#"{"type": "Polygon", "coordinates": [[[1e999, 0], [1, 0], [1, 1], [1e999, 0]]]}"#;
    assert!(parse_geometry(text).is_err());
}

#[test]
fn parses_and_writes_a_single_geometry() {
    let text = json!({ "type": "Polygon", "coordinates": [square(4.123_456_789, 50.0, 0.5)] }).to_string();
    let geometry = parse_geometry(&text).expect("valid polygon");
    let value = geometry_to_geojson(&geometry);
    assert_eq!(value["type"], "MultiPolygon");
    assert_eq!(value["coordinates"][0][0][0], json!([4.123457, 50.0]));
    let again = parse_geometry(&value.to_string()).expect("output parses back");
    assert_eq!(again.0.len(), 1);

    let line = json!({ "type": "LineString", "coordinates": [[0, 0], [1, 1]] }).to_string();
    let problems = parse_geometry(&line).expect_err("not a polygon");
    assert_eq!(indices(&problems), vec![None]);
    assert!(problems[0].reason.contains("LineString"));
}

#[test]
fn multipolygon_problems_name_the_part() {
    let text = json!({ "type": "MultiPolygon", "coordinates": [[square(0.0, 0.0, 1.0)], [[[0, 0], [1, 0], [0, 0]]]] });
    let problems = parse_geometry(&text.to_string()).expect_err("second part broken");
    assert_eq!(problems.len(), 1);
    assert!(problems[0].reason.starts_with("polygon 1, ring 0"), "{}", problems[0]);
}
