//! Deterministic synthetic partitions of a boundary into child regions.
//!
//! Demo cities need plausible sub-districts that look the same on every run and every machine.
//! A Voronoi partition around hashed seed points gives compact, gap-free regions. Everything here
//! uses only IEEE basic arithmetic and integer hashing, and the overlay engine behind geo's
//! boolean operations works on snapped integers, so for a given geo version the results are
//! bit-identical on every machine.

use geo::{Area, BooleanOps, BoundingRect, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Polygon, Rect};

/// Random tries inside the bounding box before seeding falls back to scanlines; enough for any
/// shape that fills at least a few percent of its box.
const REJECTION_ATTEMPTS: usize = 1_000;

/// Random horizontal lines tried before seeding falls back to the parent's interior point.
const SCANLINE_ATTEMPTS: usize = 64;

/// Half the side of the fallback square given to a child whose Voronoi cell came out empty,
/// relative to the parent's larger bounding-box side: big enough to survive 6-decimal rounding
/// on output for any realistic district, small enough to barely disturb its neighbours.
const FALLBACK_HALF_SIDE: f64 = 1e-3;

/// Deterministic synthetic partition: split `parent` into one region per child code.
///
/// The regions form a Voronoi partition around seed points placed inside the parent, each cell
/// clipped to the parent outline. A child's seed depends only on `(salt, code)`, so adding or
/// removing a sibling reshapes only the neighbouring cells. Cells come back in the order of
/// `children`; the caller must deduplicate the codes.
///
/// Zero children yield no cells and one child gets the whole parent. If a cell came out empty
/// (only possible through numerical degeneracy such as coinciding seeds), the child gets a small
/// square around its seed clipped to the parent instead, which may overlap a neighbour. An empty
/// parent yields empty cells, since there is nothing to divide.
///
/// Neighbouring cells share their edges exactly. Where cells meet the parent's outline, the
/// overlay engine rounds crossings to a grid of about 1e-9 of the parent's extent, so the total
/// area of the cells can differ from the parent's by roughly perimeter × extent × 1e-9.
///
/// Cost is O(n²) for the Voronoi cells plus one polygon intersection per child against the
/// whole parent, which suits parents with tens of children.
pub fn synthesize_partition(parent: &MultiPolygon<f64>, children: &[String], salt: u64) -> Vec<MultiPolygon<f64>> {
    match children.len() {
        0 => return Vec::new(),
        1 => return vec![parent.clone()],
        _ => {}
    }
    let Some(bounds) = parent.bounding_rect() else {
        return vec![MultiPolygon::new(Vec::new()); children.len()];
    };
    let seeds: Vec<Coord<f64>> = children.iter().map(|code| seed_point(parent, bounds, salt, code)).collect();
    (0..seeds.len())
        .map(|index| {
            let cell = voronoi_cell(index, &seeds, bounds);
            let clipped = if cell.len() >= 3 {
                parent.intersection(&Polygon::new(LineString::new(cell), Vec::new()))
            } else {
                MultiPolygon::new(Vec::new())
            };
            if clipped.unsigned_area() > 0.0 { clipped } else { fallback_cell(parent, bounds, seeds[index]) }
        })
        .collect()
}

/// The seed points of a partition, exposed to the tests so they can check each seed's cell.
#[cfg(test)]
pub(crate) fn seed_points(parent: &MultiPolygon<f64>, children: &[String], salt: u64) -> Vec<Coord<f64>> {
    let Some(bounds) = parent.bounding_rect() else {
        return Vec::new();
    };
    children.iter().map(|code| seed_point(parent, bounds, salt, code)).collect()
}

/// Picks a child's seed strictly inside the parent, driven only by `(salt, code)`.
///
/// Uniform rejection sampling in the bounding box gives an even spread; thin or sparse shapes
/// fall back to a random point on a random horizontal scanline through the shape, and only a
/// shape without interior falls back to a fixed point.
fn seed_point(parent: &MultiPolygon<f64>, bounds: Rect<f64>, salt: u64, code: &str) -> Coord<f64> {
    let mut rng = SplitMix64::for_child(salt, code);
    let (min, width, height) = (bounds.min(), bounds.width(), bounds.height());
    for _ in 0..REJECTION_ATTEMPTS {
        let candidate = Coord { x: min.x + rng.unit() * width, y: min.y + rng.unit() * height };
        if parent.contains(&candidate) {
            return candidate;
        }
    }
    scanline_point(parent, bounds, &mut rng)
        .or_else(|| parent.interior_point().map(|point| point.0))
        .unwrap_or_else(|| bounds.center())
}

/// Picks a random point on the inside part of a random horizontal line through the parent.
///
/// Crossings are found with the half-open rule (a vertex counts for the edge above it only), so
/// sorted crossings pair up into inside intervals under the even-odd rule.
fn scanline_point(parent: &MultiPolygon<f64>, bounds: Rect<f64>, rng: &mut SplitMix64) -> Option<Coord<f64>> {
    for _ in 0..SCANLINE_ATTEMPTS {
        let y = bounds.min().y + rng.unit() * bounds.height();
        let mut crossings: Vec<f64> = parent
            .iter()
            .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
            .flat_map(LineString::lines)
            .filter(|edge| (edge.start.y > y) != (edge.end.y > y))
            .map(|edge| edge.start.x + (y - edge.start.y) * (edge.end.x - edge.start.x) / (edge.end.y - edge.start.y))
            .collect();
        crossings.sort_by(f64::total_cmp);
        let intervals = crossings.chunks_exact(2);
        let total: f64 = intervals.clone().map(|pair| pair[1] - pair[0]).sum();
        let mut along = rng.unit() * total;
        for pair in intervals {
            let length = pair[1] - pair[0];
            if along < length {
                let candidate = Coord { x: pair[0] + along, y };
                if parent.contains(&candidate) {
                    return Some(candidate);
                }
                break;
            }
            along -= length;
        }
    }
    None
}

/// The Voronoi cell of seed `index` within `bounds`: the bounding rectangle cut down by the
/// perpendicular bisector against every other seed.
///
/// Starting from the parent's exact bounding rectangle (and clamping to it) keeps every clipped
/// cell inside that rectangle, so each later intersection with the parent snaps to the same
/// integer grid inside the overlay engine and neighbouring cells meet without gaps or overlaps.
/// Of two coinciding seeds the earlier child keeps the cell and the later one gets nothing.
fn voronoi_cell(index: usize, seeds: &[Coord<f64>], bounds: Rect<f64>) -> Vec<Coord<f64>> {
    let (min, max) = (bounds.min(), bounds.max());
    let mut cell = vec![min, Coord { x: max.x, y: min.y }, max, Coord { x: min.x, y: max.y }];
    let own = seeds[index];
    for (other_index, &other) in seeds.iter().enumerate() {
        if other_index == index || (other == own && other_index > index) {
            continue;
        }
        if other == own {
            return Vec::new();
        }
        cell = clip_to_half_plane(&cell, own, other);
        if cell.is_empty() {
            break;
        }
    }
    for corner in &mut cell {
        corner.x = corner.x.clamp(min.x, max.x);
        corner.y = corner.y.clamp(min.y, max.y);
    }
    cell
}

/// Sutherland–Hodgman step: keeps the part of a convex polygon that is at least as close to
/// `own` as to `other`.
///
/// The side test for a pair of seeds is the exact negation of the test used for the swapped
/// pair, so two neighbouring cells agree on which side every point lies.
pub(crate) fn clip_to_half_plane(polygon: &[Coord<f64>], own: Coord<f64>, other: Coord<f64>) -> Vec<Coord<f64>> {
    let middle = Coord { x: (own.x + other.x) / 2.0, y: (own.y + other.y) / 2.0 };
    let normal = other - own;
    let side = |p: Coord<f64>| (p.x - middle.x) * normal.x + (p.y - middle.y) * normal.y;
    let mut clipped = Vec::with_capacity(polygon.len() + 1);
    for (position, &start) in polygon.iter().enumerate() {
        let end = polygon[(position + 1) % polygon.len()];
        let (start_side, end_side) = (side(start), side(end));
        if start_side <= 0.0 {
            clipped.push(start);
        }
        if (start_side <= 0.0) != (end_side <= 0.0) {
            // The sides have opposite signs here, so the denominator cannot be zero.
            let t = start_side / (start_side - end_side);
            clipped.push(start + (end - start) * t);
        }
    }
    clipped
}

/// A small square around the seed, clipped to the parent, so no child is ever left without a
/// region; if even that is empty (a parent without area) the bare square is returned.
fn fallback_cell(parent: &MultiPolygon<f64>, bounds: Rect<f64>, seed: Coord<f64>) -> MultiPolygon<f64> {
    let half = bounds.width().max(bounds.height()) * FALLBACK_HALF_SIDE;
    let half = if half > 0.0 { half } else { FALLBACK_HALF_SIDE };
    let offset = Coord { x: half, y: half };
    let square = Rect::new(seed - offset, seed + offset).to_polygon();
    let clipped = parent.intersection(&square);
    if clipped.unsigned_area() > 0.0 { clipped } else { MultiPolygon::new(vec![square]) }
}

/// A tiny hand-written PRNG (splitmix64) so that seeds never depend on a library's algorithm
/// choices or version. Tests and benchmarks draw their random points from it too, so every run asks the
/// same questions.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn from_seed(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Seeds the generator from an FNV-1a hash of the salt's bytes followed by the child's code;
    /// the salt has a fixed width, so different `(salt, code)` pairs never share a byte stream.
    pub(crate) fn for_child(salt: u64, code: &str) -> Self {
        let hash = salt
            .to_le_bytes()
            .iter()
            .chain(code.as_bytes())
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
        SplitMix64(hash)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in [0, n), for n > 0 (modulo bias is negligible for the small n of test data).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A uniform value in [0, 1) built from the top 53 bits, which an f64 represents exactly.
    pub fn unit(&mut self) -> f64 {
        const INV_2_POW_53: f64 = 1.0 / 9_007_199_254_740_992.0;
        (self.next_u64() >> 11) as f64 * INV_2_POW_53
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn codes(count: usize) -> Vec<String> {
        (0..count).map(|index| format!("C{index:02}")).collect()
    }

    fn unit_square() -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![(x: 4.0, y: 50.0), (x: 5.0, y: 50.0), (x: 5.0, y: 51.0), (x: 4.0, y: 51.0)]])
    }

    /// An L-shaped district with a square hole in its lower-left arm.
    fn l_with_hole() -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon!(
            exterior: [
                (x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0),
                (x: 1.0, y: 1.0), (x: 1.0, y: 2.0), (x: 0.0, y: 2.0),
            ],
            interiors: [[(x: 0.25, y: 0.25), (x: 0.75, y: 0.25), (x: 0.75, y: 0.75), (x: 0.25, y: 0.75)]],
        )])
    }

    /// Checks that the cells tile the parent: every cell has area and contains its own seed,
    /// the areas add up to the parent's within `tolerance` (relative), no two cells overlap, and
    /// a rerun is bit-identical.
    fn assert_partition(parent: &MultiPolygon<f64>, count: usize, salt: u64, tolerance: f64) {
        let children = codes(count);
        let cells = synthesize_partition(parent, &children, salt);
        assert_eq!(cells.len(), count);
        let parent_area = parent.unsigned_area();
        for cell in &cells {
            assert!(!cell.0.is_empty() && cell.unsigned_area() > 0.0, "empty cell among {count}");
        }
        let total: f64 = cells.iter().map(Area::unsigned_area).sum();
        let relative = (total - parent_area).abs() / parent_area;
        assert!(relative < tolerance, "{count} cells cover {total}, parent {parent_area} (relative {relative:e})");
        for (i, a) in cells.iter().enumerate() {
            for b in &cells[i + 1..] {
                let overlap = a.intersection(b).unsigned_area();
                assert!(overlap < 1e-12 * parent_area, "{count} cells: overlap {overlap:e}");
            }
        }
        if count > 1 {
            for (seed, cell) in seed_points(parent, &children, salt).iter().zip(&cells) {
                assert!(cell.contains(seed), "seed {seed:?} outside its cell");
            }
        }
        assert_eq!(format!("{cells:?}"), format!("{:?}", synthesize_partition(parent, &children, salt)));
    }

    #[test]
    fn partitions_a_square() {
        for count in [1, 2, 7, 40] {
            assert_partition(&unit_square(), count, 42, 1e-9);
        }
        assert!(synthesize_partition(&unit_square(), &[], 42).is_empty());
        assert_eq!(synthesize_partition(&unit_square(), &codes(1), 42), vec![unit_square()]);
    }

    #[test]
    fn partitions_a_concave_polygon_with_a_hole() {
        for salt in 0..4 {
            assert_partition(&l_with_hole(), 12, salt, 1e-9);
        }
        let hole = l_with_hole().0[0].interiors()[0].clone();
        let hole = Polygon::new(hole, Vec::new());
        for cell in synthesize_partition(&l_with_hole(), &codes(12), 7) {
            assert!(cell.intersection(&hole).unsigned_area() < 1e-12, "a cell covers the hole");
        }
    }

    #[test]
    fn partitions_separate_islands() {
        let mut islands = unit_square();
        islands.0.push(polygon![(x: 6.0, y: 50.0), (x: 6.5, y: 50.0), (x: 6.5, y: 50.5)]);
        assert_partition(&islands, 5, 3, 1e-9);
    }

    #[test]
    fn seeds_depend_only_on_salt_and_code() {
        let parent = unit_square();
        let few = seed_points(&parent, &codes(3), 9);
        let many = seed_points(&parent, &codes(10), 9);
        assert_eq!(few, many[..3]);
        assert_ne!(few, seed_points(&parent, &codes(3), 10));
    }

    #[test]
    fn thin_diagonal_parent_still_gets_distinct_seeds() {
        // A sliver filling about 0.1% of its bounding box often exhausts rejection sampling.
        let sliver =
            MultiPolygon::new(vec![polygon![(x: 0.0, y: 0.0), (x: 0.001, y: 0.0), (x: 1.0, y: 0.999), (x: 1.0, y: 1.0)]]);
        let seeds = seed_points(&sliver, &codes(6), 1);
        for (i, seed) in seeds.iter().enumerate() {
            assert!(sliver.contains(seed));
            assert!(!seeds[..i].contains(seed), "seeds coincide");
        }
        // The overlay engine rounds crossings to a grid of about 1e-9 of the extent, which is
        // a large fraction of a sliver this thin; see `synthesize_partition`.
        assert_partition(&sliver, 6, 1, 1e-6);
    }

    #[test]
    fn coinciding_seeds_still_give_every_child_a_region() {
        let seeds = [Coord { x: 0.5, y: 0.5 }, Coord { x: 0.5, y: 0.5 }];
        let bounds = Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 1.0, y: 1.0 });
        assert_eq!(voronoi_cell(0, &seeds, bounds).len(), 4);
        assert!(voronoi_cell(1, &seeds, bounds).is_empty());
        let parent = MultiPolygon::new(vec![bounds.to_polygon()]);
        assert!(fallback_cell(&parent, bounds, seeds[1]).unsigned_area() > 0.0);
    }
}
