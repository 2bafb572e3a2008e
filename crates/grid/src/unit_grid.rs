//! Unit grids (单元网格): the smallest pieces of territory, about 10,000 m² each in a city (万米单元网格),
//! each owned by one squad and one officer.
//!
//! A grid's code is its community's 12-digit division code followed by a sequence number whose length
//! a province sets. Grid files come as GeoJSON or as a zipped Shapefile; either is read whole, every
//! problem is reported with the feature's index, and only a file without problems yields grids.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use geo::orient::{Direction, Orient};
use geo::{
    Area, BooleanOps, BoundingRect, ChamberlainDuquetteArea, Contains, Coord, Haversine, InteriorPoint, Intersects, Length,
    LineString, MapCoords, MultiPolygon, Polygon, Validation,
};
use rstar::{AABB, RTree, RTreeObject};

use crate::datum::Datum;
use crate::parse::{crs_name, parse_json, read_collection};
use crate::partition::{SplitMix64, clip_to_half_plane};
use crate::{BoundaryFeature, GeoProblem};

/// The digits of a community's division code, the first part of every grid code.
pub const COMMUNITY_DIGITS: usize = 12;

/// How long grid codes are: 12 digits of community, then `sequence_digits` of sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridCodeRule {
    pub sequence_digits: usize,
}

impl Default for GridCodeRule {
    /// Four digits: a suburban community of 15 km² holds some 1,500 grids of 10,000 m².
    fn default() -> Self {
        GridCodeRule { sequence_digits: 4 }
    }
}

impl GridCodeRule {
    /// Sequence lengths provinces use lie between 2 and 6 digits.
    pub fn new(sequence_digits: usize) -> Result<GridCodeRule, String> {
        if (2..=6).contains(&sequence_digits) {
            Ok(GridCodeRule { sequence_digits })
        } else {
            Err(format!("a grid sequence has 2 to 6 digits, not {sequence_digits}"))
        }
    }

    pub fn code_len(self) -> usize {
        COMMUNITY_DIGITS + self.sequence_digits
    }

    /// Why `code` is not a grid code under this rule, if it is not.
    pub fn check(self, code: &str) -> Result<(), String> {
        if code.len() != self.code_len() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "grid code {code:?} must be {} digits: the 12-digit community code and a {}-digit sequence",
                self.code_len(),
                self.sequence_digits
            ));
        }
        if code[COMMUNITY_DIGITS..].bytes().all(|b| b == b'0') {
            return Err(format!("grid code {code:?} has sequence 0; sequences start at 1"));
        }
        if code[9..COMMUNITY_DIGITS] == *"000" {
            return Err(format!("grid code {code:?} does not start with a community code (its digits 10–12 are 000)"));
        }
        Ok(())
    }

    /// The code of grid number `sequence` in `community`.
    pub fn code(self, community: &str, sequence: usize) -> String {
        format!("{community}{sequence:0width$}", width = self.sequence_digits)
    }
}

/// The community a grid code belongs to.
pub fn community_of(grid_code: &str) -> &str {
    &grid_code[..COMMUNITY_DIGITS.min(grid_code.len())]
}

/// One unit grid read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitGrid {
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
}

/// A grid file that passed every check: its grids and the datum their coordinates are in.
#[derive(Debug, Clone, PartialEq)]
pub struct GridFile {
    pub datum: Datum,
    pub grids: Vec<UnitGrid>,
}

/// Overlap between two grids is an error when it is larger than this many square metres…
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;
/// …and wider on average than this many metres. Neighbours digitised to 6 decimals (about 0.1 m) share a
/// border only to within that, which along a 100 m edge is a strip of several square metres but never
/// more than a few centimetres wide; a real overlap is as wide as the grids are.
pub const OVERLAP_WIDTH_TOLERANCE_M: f64 = 0.2;

/// Reads a grid file: a zipped Shapefile (by its bytes) or GeoJSON.
///
/// The datum comes from the file (GeoJSON's `crs` member, the Shapefile's `.prj`) or, where the file
/// names none, from `declared`; GeoJSON that names none and is declared nothing is WGS-84 (RFC 7946). A
/// file that names a datum other than the declared one, or one that cannot be converted, is refused.
/// Every feature is checked: code format and duplicates, geometry (Polygon or MultiPolygon, finite
/// coordinates in range, closed rings of at least 4 positions, no self-intersection), and no two grids
/// overlapping by more than [`OVERLAP_TOLERANCE_M2`].
pub fn read_grid_file(bytes: &[u8], declared: Option<Datum>, rule: GridCodeRule) -> Result<GridFile, Vec<GeoProblem>> {
    let (datum, features, mut problems) =
        if bytes.starts_with(b"PK\x03\x04") { read_shapefile_zip(bytes, declared)? } else { read_geojson(bytes, declared)? };
    let mut grids = Vec::with_capacity(features.len());
    let mut indices = Vec::with_capacity(features.len());
    let checked = par_map(&features, |(_, feature)| geometry_problems(&feature.geometry));
    for ((index, feature), geometry_reasons) in features.into_iter().zip(checked) {
        let mut reasons = Vec::new();
        if let Err(reason) = rule.check(&feature.code) {
            reasons.push(reason);
        }
        reasons.extend(geometry_reasons);
        if reasons.is_empty() {
            indices.push(index);
            grids.push(UnitGrid { code: feature.code, name: feature.name, geometry: feature.geometry });
        } else {
            problems.extend(reasons.into_iter().map(|reason| GeoProblem { feature: Some(index), reason }));
        }
    }
    problems.extend(overlaps(&grids, OVERLAP_TOLERANCE_M2).into_iter().map(|overlap| GeoProblem {
        feature: Some(indices[overlap.second]),
        reason: format!(
            "grid {} overlaps grid {} (feature {}) by {:.1} m² (about {:.2} m wide)",
            grids[overlap.second].code, grids[overlap.first].code, indices[overlap.first], overlap.area_m2, overlap.width_m
        ),
    }));
    if problems.is_empty() {
        Ok(GridFile { datum, grids })
    } else {
        problems.sort_by_key(|p| p.feature);
        Err(problems)
    }
}

type Features = (Datum, Vec<(usize, BoundaryFeature)>, Vec<GeoProblem>);

fn read_geojson(bytes: &[u8], declared: Option<Datum>) -> Result<Features, Vec<GeoProblem>> {
    let text = std::str::from_utf8(bytes).map_err(|_| whole("neither a zipped Shapefile nor UTF-8 GeoJSON"))?;
    let root = parse_json(text)?;
    let named = match crs_name(&root) {
        None => None,
        Some(Ok(name)) => Some(Datum::parse(name).map_err(whole)?),
        Some(Err(reason)) => return Err(whole(reason)),
    };
    let datum = settle_datum(named, declared, Datum::Wgs84)?;
    let (features, problems) = read_collection(&root)?;
    Ok((datum, features, problems))
}

/// The file's own datum wins when it agrees with the declared one (WGS-84 and CGCS2000 agree).
fn settle_datum(named: Option<Datum>, declared: Option<Datum>, default: Datum) -> Result<Datum, Vec<GeoProblem>> {
    match (named, declared) {
        (Some(named), Some(declared)) if named != declared && (named == Datum::Gcj02 || declared == Datum::Gcj02) => {
            Err(whole(format!("the file's coordinates are {named}, but the import was declared {declared}")))
        }
        (Some(named), _) => Ok(named),
        (None, Some(declared)) => Ok(declared),
        (None, None) => Ok(default),
    }
}

fn whole(reason: impl Into<String>) -> Vec<GeoProblem> {
    vec![GeoProblem { feature: None, reason: reason.into() }]
}

/// Reads the `.shp`, `.dbf` and `.prj` of the one Shapefile in a zip archive. The code is the `code`
/// (or `CODE`) attribute and the name the `name` attribute.
fn read_shapefile_zip(bytes: &[u8], declared: Option<Datum>) -> Result<Features, Vec<GeoProblem>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| whole(format!("not a readable zip archive: {e}")))?;
    let mut parts: HashMap<&'static str, Vec<u8>> = HashMap::new();
    for position in 0..archive.len() {
        let mut entry = archive.by_index(position).map_err(|e| whole(format!("entry {position} of the archive: {e}")))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        let Some(ext) = ["shp", "dbf", "prj"].into_iter().find(|ext| lower.ends_with(&format!(".{ext}"))) else { continue };
        if lower.contains("__macosx/") {
            continue;
        }
        if parts.contains_key(ext) {
            return Err(whole(format!("the archive holds more than one .{ext} file; zip one Shapefile at a time")));
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(|e| whole(format!("{name}: {e}")))?;
        parts.insert(ext, content);
    }
    let (Some(shp), Some(dbf)) = (parts.remove("shp"), parts.remove("dbf")) else {
        return Err(whole("the archive must hold a Shapefile's .shp and .dbf files"));
    };
    let named = match parts.remove("prj") {
        Some(prj) => Some(Datum::from_prj(&String::from_utf8_lossy(&prj)).map_err(whole)?),
        None => None,
    };
    let datum = match (named, declared) {
        (None, None) => return Err(whole("the Shapefile has no .prj file: declare its datum (wgs84, cgcs2000 or gcj02)")),
        _ => settle_datum(named, declared, Datum::Wgs84)?,
    };
    let shapes = shapefile::ShapeReader::new(Cursor::new(shp)).map_err(|e| whole(format!("the .shp file: {e}")))?;
    let records = shapefile::dbase::Reader::new(Cursor::new(dbf)).map_err(|e| whole(format!("the .dbf file: {e}")))?;
    let mut reader = shapefile::Reader::new(shapes, records);
    let mut features = Vec::new();
    let mut problems = Vec::new();
    let mut first_use: HashMap<String, usize> = HashMap::new();
    for (index, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = match item {
            Ok(pair) => pair,
            Err(e) => {
                problems.push(GeoProblem { feature: Some(index), reason: format!("unreadable record: {e}") });
                break;
            }
        };
        let mut reasons = Vec::new();
        let code = text_field(&record, "code");
        let name = text_field(&record, "name");
        let geometry = match shape {
            shapefile::Shape::Polygon(polygon) => match MultiPolygon::<f64>::try_from(polygon) {
                Ok(geometry) => Some(geometry),
                Err(e) => {
                    reasons.push(format!("bad polygon: {e}"));
                    None
                }
            },
            other => {
                reasons.push(format!("geometry must be a polygon, not {}", other.shapetype()));
                None
            }
        };
        match &code {
            None => reasons.push("missing code attribute".into()),
            Some(code) => {
                if let Some(first) = first_use.get(code) {
                    reasons.push(format!("duplicate code {code:?} (first used by feature {first})"));
                } else {
                    first_use.insert(code.clone(), index);
                }
            }
        }
        match (code, geometry) {
            (Some(code), Some(geometry)) if reasons.is_empty() => {
                let name = name.unwrap_or_else(|| code.clone());
                features.push((index, BoundaryFeature { code, name, level: "grid".into(), geometry }));
            }
            _ => problems.extend(reasons.into_iter().map(|reason| GeoProblem { feature: Some(index), reason })),
        }
    }
    Ok((datum, features, problems))
}

/// A text or number attribute, by name in any case, trimmed; blank is absent.
fn text_field(record: &shapefile::dbase::Record, name: &str) -> Option<String> {
    use shapefile::dbase::FieldValue;
    let value = record.clone().into_iter().find(|(field, _)| field.eq_ignore_ascii_case(name))?.1;
    let text = match value {
        FieldValue::Character(Some(text)) | FieldValue::Memo(text) => text,
        FieldValue::Numeric(Some(number)) => format!("{number:.0}"),
        FieldValue::Integer(number) => number.to_string(),
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Ring validity beyond what reading checked: self-intersections, holes outside their shell, parts
/// of one grid overlapping each other.
fn geometry_problems(geometry: &MultiPolygon<f64>) -> Vec<String> {
    if geometry.0.is_empty() {
        return vec!["the geometry has no polygon".into()];
    }
    geometry.validation_errors().into_iter().map(|e| format!("invalid geometry: {e}")).collect()
}

/// Two grids that overlap: their positions in the list, the shared area and its mean width.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    pub first: usize,
    pub second: usize,
    pub area_m2: f64,
    pub width_m: f64,
}

/// Every pair of grids sharing more than `tolerance_m2` of area in a strip wider than
/// [`OVERLAP_WIDTH_TOLERANCE_M`]. The mean width of the shared part is twice its area over its perimeter.
///
/// Neighbours found through an R-tree of bounding boxes are first tested cheaply (an edge of one
/// properly crossing an edge of the other, or a point of one strictly inside the other); only pairs
/// that fail it (a few, in a good file) have their shared area computed exactly.
pub fn overlaps(grids: &[UnitGrid], tolerance_m2: f64) -> Vec<Overlap> {
    let tree = RTree::bulk_load(envelopes(grids));
    let pairs: Vec<(usize, usize)> = tree
        .intersection_candidates_with_other_tree(&tree)
        // Each unordered pair comes twice; keep one, and boxes that only touch share no area.
        .filter(|(a, b)| a.index < b.index && boxes_share_area(&a.rect, &b.rect))
        .map(|(a, b)| (a.index, b.index))
        .collect();
    let shapes = Shapes::of(grids);
    let mut found = measure_pairs(&pairs, &shapes, &shapes, tolerance_m2);
    found.sort_by_key(|o| (o.second, o.first));
    found
}

/// Every overlap between one of `new` and one of `kept` (`first` indexes `new`, `second` indexes `kept`).
pub fn overlaps_between(new: &[UnitGrid], kept: &[UnitGrid], tolerance_m2: f64) -> Vec<Overlap> {
    if new.is_empty() || kept.is_empty() {
        return Vec::new();
    }
    let tree = RTree::bulk_load(envelopes(kept));
    let pairs: Vec<(usize, usize)> = envelopes(new)
        .iter()
        .flat_map(|a| {
            tree.locate_in_envelope_intersecting(&a.rect)
                .filter(|b| boxes_share_area(&a.rect, &b.rect))
                .map(|b| (a.index, b.index))
        })
        .collect();
    let mut found = measure_pairs(&pairs, &Shapes::of(new), &Shapes::of(kept), tolerance_m2);
    found.sort_by_key(|o| (o.first, o.second));
    found
}

/// A grid's bounding rectangle in the neighbour-finding R-tree, pointing back at the grid by its position.
struct Envelope {
    rect: AABB<[f64; 2]>,
    index: usize,
}

impl RTreeObject for Envelope {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.rect
    }
}

fn envelopes(grids: &[UnitGrid]) -> Vec<Envelope> {
    grids
        .iter()
        .enumerate()
        .filter_map(|(index, g)| {
            let r = g.geometry.bounding_rect()?;
            Some(Envelope { rect: AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), index })
        })
        .collect()
}

/// What the overlap test reads of each grid, worked out once.
struct Shapes<'a> {
    shapes: Vec<&'a MultiPolygon<f64>>,
    edges: Vec<Vec<geo::Line<f64>>>,
    inner: Vec<Option<geo::Point<f64>>>,
}

impl<'a> Shapes<'a> {
    fn of(grids: &'a [UnitGrid]) -> Shapes<'a> {
        Shapes {
            shapes: grids.iter().map(|g| &g.geometry).collect(),
            edges: par_map(grids, |g| g.geometry.iter().flat_map(polygon_edges).collect()),
            inner: par_map(grids, |g| g.geometry.interior_point()),
        }
    }
}

/// Measures each candidate pair, on every core.
fn measure_pairs(pairs: &[(usize, usize)], a: &Shapes<'_>, b: &Shapes<'_>, tolerance_m2: f64) -> Vec<Overlap> {
    par_map(pairs, |&(i, j)| {
        if !interiors_meet(a.shapes[i], b.shapes[j], &a.edges[i], &b.edges[j], a.inner[i], b.inner[j]) {
            return None;
        }
        let shared = a.shapes[i].intersection(b.shapes[j]);
        let area_m2 = shared.chamberlain_duquette_unsigned_area();
        if area_m2 <= tolerance_m2 {
            return None;
        }
        let perimeter_m: f64 =
            shared.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).map(|r| Haversine.length(r)).sum();
        let width_m = if perimeter_m > 0.0 { 2.0 * area_m2 / perimeter_m } else { 0.0 };
        (width_m > OVERLAP_WIDTH_TOLERANCE_M).then_some(Overlap { first: i, second: j, area_m2, width_m })
    })
    .into_iter()
    .flatten()
    .collect()
}

/// `f` over every item, the items split among the machine's cores, results in order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.len() < 1_000 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = items.chunks(chunk).map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>())).collect();
        parts.into_iter().flat_map(|p| p.join().expect("a worker panicked")).collect()
    })
}

fn boxes_share_area(a: &AABB<[f64; 2]>, b: &AABB<[f64; 2]>) -> bool {
    let (a_min, a_max, b_min, b_max) = (a.lower(), a.upper(), b.lower(), b.upper());
    a_min[0].max(b_min[0]) < a_max[0].min(b_max[0]) && a_min[1].max(b_min[1]) < a_max[1].min(b_max[1])
}

fn polygon_edges(polygon: &Polygon<f64>) -> impl Iterator<Item = geo::Line<f64>> + '_ {
    std::iter::once(polygon.exterior()).chain(polygon.interiors()).flat_map(LineString::lines)
}

/// Whether the insides of two valid shapes may share area. Yes when an edge of one crosses an edge of
/// the other inside both, when a point of one lies strictly inside the other, or when an interior point
/// of one does (identical shapes). Edges that meet only at shared vertices, or coincide, say nothing;
/// an edge touching another mid-way or lying partly along it could go either way, so it also answers
/// yes and the caller measures the shared area exactly.
fn interiors_meet(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
    a_edges: &[geo::Line<f64>],
    b_edges: &[geo::Line<f64>],
    a_inner: Option<geo::Point<f64>>,
    b_inner: Option<geo::Point<f64>>,
) -> bool {
    use geo::line_intersection::{LineIntersection, line_intersection};
    let is_end = |p: Coord<f64>, e: &geo::Line<f64>| p == e.start || p == e.end;
    let undecided = a_edges.iter().any(|ea| {
        b_edges.iter().any(|eb| match line_intersection(*ea, *eb) {
            None => false,
            Some(LineIntersection::SinglePoint { is_proper: true, .. }) => true,
            Some(LineIntersection::SinglePoint { intersection, .. }) => !(is_end(intersection, ea) && is_end(intersection, eb)),
            Some(LineIntersection::Collinear { .. }) => !(is_end(eb.start, ea) && is_end(eb.end, ea)),
        })
    });
    undecided
        || a_edges.iter().any(|e| b.contains(&e.start))
        || b_edges.iter().any(|e| a.contains(&e.start))
        || a_inner.is_some_and(|p| b.contains(&p))
        || b_inner.is_some_and(|p| a.contains(&p))
}

/// Area in square metres of a lon/lat shape (on the sphere).
pub fn area_m2(shape: &MultiPolygon<f64>) -> f64 {
    shape.chamberlain_duquette_unsigned_area()
}

/// The parts of a community that none of its grids covers, ignoring slivers under `min_area_m2`.
pub fn uncovered_parts(community: &MultiPolygon<f64>, grids: &[&MultiPolygon<f64>], min_area_m2: f64) -> MultiPolygon<f64> {
    // Pairwise rounds: neighbours in the list are neighbours on the map, so shapes stay small.
    let mut layer: Vec<MultiPolygon<f64>> = grids.iter().map(|g| (*g).clone()).collect();
    while layer.len() > 1 {
        layer = layer.chunks(2).map(|pair| if let [a, b] = pair { a.union(b) } else { pair[0].clone() }).collect();
    }
    let covered = layer.pop().unwrap_or_else(|| MultiPolygon::new(Vec::new()));
    let rest = community.difference(&covered);
    MultiPolygon::new(rest.0.into_iter().filter(|p| p.chamberlain_duquette_unsigned_area() >= min_area_m2).collect())
}

/// A lattice of nominally square cells of `spacing_m` metres, anchored at longitude/latitude 0 so that
/// cells line up across every community of a city.
#[derive(Debug, Clone, Copy)]
pub struct Lattice {
    pub dx: f64,
    pub dy: f64,
    pub salt: u64,
}

/// How far (in cells) a seed may move from its cell's centre; below 0.5 keeps every cell non-empty.
const JITTER: f64 = 0.3;

/// Pieces smaller than this share of a nominal cell are merged into a neighbouring piece.
const SLIVER_SHARE: f64 = 0.25;

impl Lattice {
    /// Cells of about `spacing_m` × `spacing_m` around latitude `reference_lat`.
    pub fn new(spacing_m: f64, reference_lat: f64, salt: u64) -> Lattice {
        let dy = spacing_m / 110_574.0;
        let dx = spacing_m / (111_320.0 * reference_lat.to_radians().cos());
        Lattice { dx, dy, salt }
    }

    /// The seed of cell (i, j), in lattice units (one unit = one cell).
    fn seed(&self, i: i64, j: i64) -> Coord<f64> {
        let mut rng = SplitMix64::for_child(self.salt, &format!("{i},{j}"));
        let jx = (rng.unit() * 2.0 - 1.0) * JITTER;
        let jy = (rng.unit() * 2.0 - 1.0) * JITTER;
        Coord { x: i as f64 + 0.5 + jx, y: j as f64 + 0.5 + jy }
    }

    /// The Voronoi cell of seed (i, j) among the jittered seeds, in lon/lat. With the jitter bounded,
    /// only the seeds within two cells can bound it.
    fn cell(&self, i: i64, j: i64) -> Polygon<f64> {
        let own = self.seed(i, j);
        let reach = 1.5;
        let mut cell = vec![
            Coord { x: own.x - reach, y: own.y - reach },
            Coord { x: own.x + reach, y: own.y - reach },
            Coord { x: own.x + reach, y: own.y + reach },
            Coord { x: own.x - reach, y: own.y + reach },
        ];
        for dj in -2..=2 {
            for di in -2..=2 {
                if (di, dj) != (0, 0) {
                    cell = clip_to_half_plane(&cell, own, self.seed(i + di, j + dj));
                }
            }
        }
        let ring: Vec<Coord<f64>> =
            cell.into_iter().map(|c| Coord { x: round7(c.x * self.dx), y: round7(c.y * self.dy) }).collect();
        Polygon::new(LineString::new(ring), Vec::new())
    }
}

/// Rounds to 1e-7 degree (about 1 cm), the precision grids are stored with, so that the stored
/// geometry and the computed one are the same numbers.
fn round7(value: f64) -> f64 {
    (value * 1e7).round() / 1e7
}

/// Deterministic synthetic unit grids for one community: the cells of a jittered lattice (a Voronoi
/// tiling, so grids look like irregular blocks rather than squares) clipped to the community, with
/// slivers at its edge merged into a touching neighbour. Grids come back in row order, south to north
/// and west to east, so that sequence numbers read across the map.
pub fn synthesize_unit_grids(community: &MultiPolygon<f64>, lattice: Lattice) -> Vec<MultiPolygon<f64>> {
    let Some(bounds) = community.bounding_rect() else { return Vec::new() };
    let (i0, i1) = ((bounds.min().x / lattice.dx).floor() as i64 - 1, (bounds.max().x / lattice.dx).floor() as i64 + 1);
    let (j0, j1) = ((bounds.min().y / lattice.dy).floor() as i64 - 1, (bounds.max().y / lattice.dy).floor() as i64 + 1);
    let mut pieces: Vec<(Coord<f64>, MultiPolygon<f64>)> = Vec::new();
    for j in j0..=j1 {
        for i in i0..=i1 {
            let cell = lattice.cell(i, j);
            if !community.intersects(&cell) {
                continue;
            }
            let piece = if community.contains(&cell) { MultiPolygon::new(vec![cell]) } else { community.intersection(&cell) };
            let piece = MultiPolygon::new(piece.0.into_iter().filter(|p| p.unsigned_area() > 0.0).collect());
            if !piece.0.is_empty() {
                let seed = lattice.seed(i, j);
                pieces.push((Coord { x: seed.x * lattice.dx, y: seed.y * lattice.dy }, piece));
            }
        }
    }
    let nominal = lattice.dx * lattice.dy;
    let (slivers, mut grids): (Vec<_>, Vec<_>) =
        pieces.into_iter().partition(|(_, piece)| piece.unsigned_area() < nominal * SLIVER_SHARE);
    for (seed, sliver) in slivers {
        let nearest = grids
            .iter()
            .enumerate()
            .filter(|(_, (_, grid))| grid.intersects(&sliver))
            .min_by(|(_, (a, _)), (_, (b, _))| distance2(*a, seed).total_cmp(&distance2(*b, seed)))
            .map(|(index, _)| index);
        match nearest {
            Some(index) => grids[index].1 = grids[index].1.union(&sliver),
            None => grids.push((seed, sliver)),
        }
    }
    // Exteriors counter-clockwise, holes clockwise (the right-hand rule of RFC 7946), at stored precision.
    grids.into_iter().filter_map(|(_, grid)| stored_form(grid)).collect()
}

/// A grid as it will be stored, or `None` if no valid form of it survives rounding. The overlay engine
/// can return a ring that touches itself at a vertex, and rounding can fold a thin spike onto itself;
/// overlaying the shape with nothing once more splits such rings into valid polygons.
fn stored_form(grid: MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    let round = |g: &MultiPolygon<f64>| g.orient(Direction::Default).map_coords(|c| Coord { x: round7(c.x), y: round7(c.y) });
    let first = round(&grid);
    if first.is_valid() {
        return Some(first);
    }
    let cleaned = first.union(&MultiPolygon::new(Vec::new()));
    let cleaned = MultiPolygon::new(cleaned.0.into_iter().filter(|p| p.unsigned_area() > 0.0).collect());
    let second = round(&cleaned);
    (second.is_valid() && !second.0.is_empty()).then_some(second)
}

fn distance2(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).powi(2) + (a.y - b.y).powi(2)
}

#[cfg(test)]
mod tests {
    use geo::polygon;

    use super::*;

    /// Three-digit sequences, as some provinces use.
    const RULE: GridCodeRule = GridCodeRule { sequence_digits: 3 };

    fn square_feature(code: &str, x: f64, y: f64, side: f64) -> serde_json::Value {
        serde_json::json!({"type": "Feature", "properties": {"code": code},
            "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]}})
    }

    fn collection(features: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features})).unwrap()
    }

    #[test]
    fn codes_follow_the_rule() {
        assert_eq!(GridCodeRule::default().code_len(), 16);
        let rule = RULE;
        assert!(rule.check("320613007001001").is_ok());
        assert!(rule.check("32061300700101").unwrap_err().contains("15 digits"));
        assert!(rule.check("320613007001000").unwrap_err().contains("sequence 0"));
        assert!(rule.check("320613007000001").unwrap_err().contains("community"));
        assert_eq!(rule.code("320613007001", 7), "320613007001007");
        assert!(GridCodeRule::new(1).is_err());
        assert_eq!(GridCodeRule::new(4).unwrap().code_len(), 16);
        assert_eq!(community_of("320613007001007"), "320613007001");
    }

    #[test]
    fn a_good_file_is_read_with_its_datum() {
        let mut doc: serde_json::Value = serde_json::from_slice(&collection(vec![
            square_feature("320613007001001", 120.0, 32.0, 0.001),
            square_feature("320613007001002", 120.001, 32.0, 0.001),
        ]))
        .unwrap();
        let read = read_grid_file(&serde_json::to_vec(&doc).unwrap(), None, RULE).unwrap();
        assert_eq!(read.datum, Datum::Wgs84);
        assert_eq!(read.grids.len(), 2);
        doc["crs"] = serde_json::json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}});
        let read = read_grid_file(&serde_json::to_vec(&doc).unwrap(), None, RULE).unwrap();
        assert_eq!(read.datum, Datum::Cgcs2000);
        let conflict = read_grid_file(&serde_json::to_vec(&doc).unwrap(), Some(Datum::Gcj02), RULE).unwrap_err();
        assert!(conflict[0].reason.contains("declared gcj02"));
        doc["crs"] = serde_json::json!({"type": "name", "properties": {"name": "EPSG:3857"}});
        let unknown = read_grid_file(&serde_json::to_vec(&doc).unwrap(), None, RULE).unwrap_err();
        assert_eq!(unknown[0].feature, None);
        assert!(unknown[0].reason.contains("unsupported coordinate reference system"));
    }

    #[test]
    fn bad_features_are_named_by_index_with_the_reason() {
        let bowtie = serde_json::json!({"type": "Feature", "properties": {"code": "320613007001003"},
            "geometry": {"type": "Polygon", "coordinates": [[[120.0, 32.1], [120.01, 32.11], [120.01, 32.1], [120.0, 32.11], [120.0, 32.1]]]}});
        let unclosed = serde_json::json!({"type": "Feature", "properties": {"code": "320613007001004"},
            "geometry": {"type": "Polygon", "coordinates": [[[121.0, 32.0], [121.01, 32.0], [121.01, 32.01], [121.0, 32.01]]]}});
        let file = collection(vec![
            square_feature("320613007001001", 120.0, 32.0, 0.001),
            square_feature("320613007001002", 120.0005, 32.0, 0.001),
            bowtie,
            unclosed,
            square_feature("3206130070010", 122.0, 32.0, 0.001),
        ]);
        let problems = read_grid_file(&file, None, RULE).unwrap_err();
        let by_feature =
            |i: usize| problems.iter().filter(|p| p.feature == Some(i)).map(|p| p.reason.clone()).collect::<Vec<_>>().join("; ");
        assert!(by_feature(1).contains("overlaps grid 320613007001001 (feature 0)"), "{problems:?}");
        assert!(by_feature(2).contains("self-intersection"), "{problems:?}");
        assert!(by_feature(3).contains("not closed"), "{problems:?}");
        assert!(by_feature(4).contains("15 digits"), "{problems:?}");
        assert!(by_feature(0).is_empty());
    }

    #[test]
    fn grids_that_only_touch_do_not_overlap_but_identical_ones_do() {
        let grid = |code: &str, x: f64| UnitGrid {
            code: code.into(),
            name: code.into(),
            geometry: MultiPolygon::new(vec![
                polygon![(x: x, y: 32.0), (x: x + 0.001, y: 32.0), (x: x + 0.001, y: 32.001), (x: x, y: 32.001)],
            ]),
        };
        assert!(overlaps(&[grid("a", 120.0), grid("b", 120.001)], 1.0).is_empty());
        // Five centimetres of digitising noise along a shared edge is not an overlap.
        assert!(overlaps(&[grid("a", 120.0), grid("b", 120.000_999_5)], 1.0).is_empty());
        assert_eq!(overlaps(&[grid("a", 120.0), grid("b", 120.000_9)], 1.0).len(), 1, "a 9 m strip is");
        let same = overlaps(&[grid("a", 120.0), grid("b", 120.0)], 1.0);
        assert_eq!(same.len(), 1);
        assert!((same[0].area_m2 - 10_400.0).abs() < 300.0, "{same:?}");
    }

    #[test]
    fn synthetic_grids_tile_a_community_at_about_ten_thousand_square_metres() {
        let community = MultiPolygon::new(vec![polygon![(x: 120.85, y: 32.0), (x: 120.87, y: 32.0), (x: 120.86, y: 32.015)]]);
        let lattice = Lattice::new(100.0, 32.0, 7);
        let grids = synthesize_unit_grids(&community, lattice);
        let again = synthesize_unit_grids(&community, lattice);
        assert_eq!(grids, again, "deterministic");
        let total: f64 = grids.iter().map(area_m2).sum();
        let whole = area_m2(&community);
        assert!((total - whole).abs() < whole * 1e-4, "grids {total} vs community {whole}");
        let mean = total / grids.len() as f64;
        assert!((7_000.0..13_000.0).contains(&mean), "mean grid {mean} m² over {} grids", grids.len());
        let as_grids: Vec<UnitGrid> = grids
            .iter()
            .enumerate()
            .map(|(n, g)| UnitGrid { code: n.to_string(), name: String::new(), geometry: g.clone() })
            .collect();
        assert!(overlaps(&as_grids, OVERLAP_TOLERANCE_M2).is_empty());
        let refs: Vec<&MultiPolygon<f64>> = grids.iter().collect();
        let rest = uncovered_parts(&community, &refs, 10.0);
        assert!(rest.0.is_empty(), "{} pieces, {} m2", rest.0.len(), area_m2(&rest));
        assert!(!uncovered_parts(&community, &refs[1..], 10.0).0.is_empty(), "dropping a grid leaves a hole");
    }

    /// A zipped Shapefile of two adjacent squares, with `prj` as its .prj file when given.
    fn zipped_shapefile(prj: Option<&str>) -> Vec<u8> {
        use shapefile::dbase::{FieldValue, Record, TableWriterBuilder};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grids.shp");
        let table = TableWriterBuilder::new()
            .add_character_field("CODE".try_into().unwrap(), 20)
            .add_character_field("NAME".try_into().unwrap(), 40);
        let mut writer = shapefile::Writer::from_path(&path, table).unwrap();
        for (n, x) in [(1, 120.0), (2, 120.001)] {
            // Outer rings run clockwise in a Shapefile.
            let ring = [(x, 32.0), (x, 32.001), (x + 0.001, 32.001), (x + 0.001, 32.0), (x, 32.0)]
                .map(|(x, y)| shapefile::Point::new(x, y))
                .to_vec();
            let polygon = shapefile::Polygon::new(shapefile::PolygonRing::Outer(ring));
            let mut record = Record::default();
            record.insert("CODE".into(), FieldValue::Character(Some(format!("32061300700100{n}"))));
            record.insert("NAME".into(), FieldValue::Character(Some(format!("grid {n}"))));
            writer.write_shape_and_record(&polygon, &record).unwrap();
        }
        drop(writer);
        let mut zipped = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for ext in ["shp", "shx", "dbf"] {
            zipped.start_file(format!("grids/grids.{ext}"), options).unwrap();
            zipped.write_all(&std::fs::read(path.with_extension(ext)).unwrap()).unwrap();
        }
        if let Some(prj) = prj {
            zipped.start_file("grids/grids.prj", options).unwrap();
            zipped.write_all(prj.as_bytes()).unwrap();
        }
        zipped.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zipped_shapefile_is_read_with_the_datum_of_its_prj() {
        let wgs84 = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]]"#;
        let read = read_grid_file(&zipped_shapefile(Some(wgs84)), None, RULE).unwrap();
        assert_eq!(read.datum, Datum::Wgs84);
        assert_eq!(read.grids.iter().map(|g| g.code.as_str()).collect::<Vec<_>>(), ["320613007001001", "320613007001002"]);
        assert_eq!(read.grids[1].name, "grid 2");
        assert!((area_m2(&read.grids[0].geometry) - 10_400.0).abs() < 300.0);

        let without_prj = read_grid_file(&zipped_shapefile(None), None, RULE).unwrap_err();
        assert!(without_prj[0].reason.contains("no .prj"), "{without_prj:?}");
        let declared = read_grid_file(&zipped_shapefile(None), Some(Datum::Gcj02), RULE).unwrap();
        assert_eq!(declared.datum, Datum::Gcj02);
        let projected = read_grid_file(&zipped_shapefile(Some(r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E"]"#)), None, RULE);
        assert!(projected.unwrap_err()[0].reason.contains("projected"));
        let broken = read_grid_file(b"PK\x03\x04 not really a zip", None, RULE).unwrap_err();
        assert!(broken[0].reason.contains("zip"));
    }
}
