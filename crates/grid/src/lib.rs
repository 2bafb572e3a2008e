//! Boundary geometry for Gridward: reading and checking GeoJSON boundaries, writing them back
//! out for the API, finding the division a point lies in, and carving a parent boundary into
//! deterministic synthetic child regions.
//!
//! Everything here is pure computation on in-memory values so that callers decide where text
//! comes from and where results go. Coordinates are longitude/latitude degrees throughout.

pub mod datum;
mod encode;
mod locate;
mod parse;
mod partition;
pub mod unit_grid;

pub use datum::Datum;
pub use encode::{geometry_to_geojson, grid_to_geojson};
pub use locate::Locator;
pub use parse::{parse_boundaries, parse_geometry, read_boundaries};
pub use partition::{SplitMix64, synthesize_partition};
pub use unit_grid::{GridCodeRule, GridFile, Lattice, UnitGrid, read_grid_file, synthesize_unit_grids};

/// A boundary read from GeoJSON: one feature.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    /// The unique identifier of the boundary, taken from the `code` property.
    pub code: String,
    /// The display name from the `name` property; it falls back to the code when absent.
    pub name: String,
    /// The administrative level from the `level` property; it is empty when absent.
    pub level: String,
    /// The boundary outline; a GeoJSON Polygon becomes a MultiPolygon with one member.
    pub geometry: geo::MultiPolygon<f64>,
}

/// One problem with an input file, tied to where it is.
///
/// `feature` is the zero-based index into the collection's `features` array, or `None` when the
/// problem concerns the document as a whole (or a lone geometry read by [`parse_geometry`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{reason}", location(.feature))]
pub struct GeoProblem {
    /// The zero-based index of the offending feature, if the problem belongs to one.
    pub feature: Option<usize>,
    /// A human-readable description of what is wrong.
    pub reason: String,
}

/// Renders the prefix of a problem message, so that whole-document problems read naturally.
fn location(feature: &Option<usize>) -> String {
    feature.map_or_else(String::new, |index| format!("feature {index}: "))
}
