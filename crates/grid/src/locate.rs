//! Which leaf division a point lies in.
//!
//! A report arrives as a coordinate; everything downstream (who holds the power there) works on
//! division codes. Testing every outline of a city against each point would cost thousands of
//! polygon tests, so the plane is cut into cells, each knowing the few outlines that reach into it,
//! and only those get the exact test. A cell inside one outline answers without any test.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord, MultiPolygon};

use crate::unit_grid::par_map;

/// Finds the leaf division (e.g. the community) that contains a point.
///
/// Built once from the leaf outlines; a lookup finds the point's cell and tests only the outlines
/// that reach into that cell, or none when the cell lies wholly inside one outline.
pub struct Locator {
    cells: CellIndex,
    /// The outlines, sorted by code, so that a lower index is a lower code.
    items: Vec<(String, MultiPolygon<f64>)>,
    /// Each outline's bounding rectangle (min x, min y, max x, max y), a cheap test before the exact one.
    rects: Vec<[f64; 4]>,
    /// Every ring's points (shells and holes alike), end to end in outline order, for the point-in-polygon
    /// test: one allocation, so the outlines near a point are near each other in memory.
    coords: Vec<Coord<f64>>,
    /// Where each ring ends in `coords`.
    ring_ends: Vec<usize>,
    /// Each outline's rings, as a range of `ring_ends`.
    item_rings: Vec<std::ops::Range<usize>>,
}

impl Locator {
    /// A locator over `(division code, outline)` pairs. Outlines without any area to bound (empty
    /// multipolygons) can never contain a point and are left out.
    pub fn new(mut items: Vec<(String, MultiPolygon<f64>)>) -> Locator {
        items.retain(|(_, shape)| shape.bounding_rect().is_some());
        // Sorted by code so that ties on shared borders resolve the same way whatever the input order.
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let rects: Vec<[f64; 4]> = items
            .iter()
            .filter_map(|(_, shape)| shape.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .collect();
        let (mut coords, mut ring_ends, mut item_rings) = (Vec::new(), Vec::new(), Vec::with_capacity(items.len()));
        for (_, shape) in &items {
            let first = ring_ends.len();
            for ring in shape.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())) {
                coords.extend_from_slice(&ring.0);
                ring_ends.push(coords.len());
            }
            item_rings.push(first..ring_ends.len());
        }
        let mut locator = Locator { cells: CellIndex::default(), items, rects, coords, ring_ends, item_rings };
        locator.cells = CellIndex::new(&locator);
        locator
    }

    /// The code of the division containing the point (longitude, latitude in degrees), or `None`
    /// outside every outline or inside a hole. A point on a border shared by several outlines
    /// belongs to the one with the lowest code, so the answer never depends on input order.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<&str> {
        self.cells.search(self, lon, lat).map(|i| self.items[i].0.as_str())
    }

    /// The same answer as [`Locator::locate`] by testing every outline in turn, without the cells: the
    /// brute-force reference the index is checked against.
    pub fn locate_by_scan(&self, lon: f64, lat: f64) -> Option<&str> {
        (0..self.items.len()).find(|&i| self.holds(i, lon, lat)).map(|i| self.items[i].0.as_str())
    }

    /// The codes of every outline containing the point (on its border included), lowest first.
    pub fn locate_all(&self, lon: f64, lat: f64) -> Vec<&str> {
        (0..self.items.len()).filter(|&i| self.covers(i, lon, lat)).map(|i| self.items[i].0.as_str()).collect()
    }

    /// Whether outline `i` holds the point: its bounding rectangle first, then the exact test.
    fn holds(&self, i: usize, x: f64, y: f64) -> bool {
        let [x0, y0, x1, y1] = self.rects[i];
        x0 <= x && x <= x1 && y0 <= y && y <= y1 && self.covers(i, x, y)
    }

    /// Whether outline `i` holds the point, inside or on its border.
    fn covers(&self, i: usize, x: f64, y: f64) -> bool {
        let mut inside = false;
        for ring in self.rings(i) {
            match ring_covers(ring, x, y) {
                RingSide::Border => return true,
                RingSide::Odd => inside = !inside,
                RingSide::Even => {}
            }
        }
        inside
    }

    /// The rings of outline `i`, shells and holes alike.
    fn rings(&self, i: usize) -> impl Iterator<Item = &[Coord<f64>]> {
        let rings = self.item_rings[i].clone();
        let first = if rings.start == 0 { 0 } else { self.ring_ends[rings.start - 1] };
        self.ring_ends[rings].iter().scan(first, |start, &end| {
            let ring = &self.coords[*start..end];
            *start = end;
            Some(ring)
        })
    }

    /// Where a closed rectangle lies against outline `i`: exactly, with the robust orientation test.
    fn relation(&self, i: usize, r: [f64; 4]) -> Relation {
        let [x0, y0, x1, y1] = self.rects[i];
        if x1 < r[0] || x0 > r[2] || y1 < r[1] || y0 > r[3] {
            return Relation::Outside;
        }
        if self.rings(i).any(|ring| ring.windows(2).any(|e| segment_meets_rect(e[0], e[1], r))) {
            return Relation::Crosses;
        }
        // No border reaches the rectangle, so it lies wholly on one side of it: its centre tells which.
        if self.covers(i, (r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0) { Relation::Inside } else { Relation::Outside }
    }

    /// How many outlines the locator holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Where a rectangle lies against an outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// Wholly inside (border included): every point of the rectangle is in the outline.
    Inside,
    /// Wholly outside: no point of the rectangle is in the outline.
    Outside,
    /// The outline's border passes through or touches the rectangle.
    Crosses,
}

/// Whether the segment from `a` to `b` meets the closed rectangle `r`: their boxes overlap and the
/// rectangle's corners do not all lie strictly on one side of the segment's line (the separating-axis
/// test for a segment and an axis-aligned box, exact with the robust predicate).
fn segment_meets_rect(a: Coord<f64>, b: Coord<f64>, r: [f64; 4]) -> bool {
    if a.x.max(b.x) < r[0] || a.x.min(b.x) > r[2] || a.y.max(b.y) < r[1] || a.y.min(b.y) > r[3] {
        return false;
    }
    let side = |x: f64, y: f64| RobustKernel::orient2d(a, b, Coord { x, y });
    let first = side(r[0], r[1]);
    first == Orientation::Collinear || [side(r[2], r[1]), side(r[2], r[3]), side(r[0], r[3])].iter().any(|&s| s != first)
}

/// A slot of the cell table: what a cell holds. The two high bits tag it.
const TAG: u32 = 0b11 << 30;
/// A list of outlines to test, at this offset of `lists` (its length first).
const LIST: u32 = 0;
/// A cell wholly inside one outline, the lowest-coded one reaching into it: the answer itself.
const FULL: u32 = 0b01 << 30;
/// A cell cut into k × k smaller cells, at this offset of `splits` (k first, then the k² slots).
const SPLIT: u32 = 0b10 << 30;
/// A cell no outline reaches into.
const EMPTY: u32 = u32::MAX;

/// Cells per outline at the top level.
const CELLS_PER_OUTLINE: f64 = 2.0;
/// A cell with more outlines crossing it than this is cut into smaller cells…
const LIST_MAX: usize = 3;
/// …at most this many times over, so that a point where many borders meet stays a short list.
const SPLIT_DEPTH_MAX: u32 = 3;
/// How far, in degrees, a cell reaches beyond its edges when it is built (about a millimetre): a point
/// that rounding places in a neighbouring cell still lies within the cell it is looked up in.
const CELL_MARGIN: f64 = 1e-8;

/// A uniform table of cells over the outlines' extent, each cell crowded by borders cut again into
/// smaller cells. A lookup reads one slot per level and tests at most a few outlines; a point in no
/// outline's reach, or in a cell inside one outline, is answered by the slots alone.
#[derive(Default)]
struct CellIndex {
    extent: [f64; 4],
    columns: usize,
    rows: usize,
    cell_width: f64,
    cell_height: f64,
    /// One slot per top-level cell, row by row.
    cells: Vec<u32>,
    splits: Vec<u32>,
    lists: Vec<u32>,
}

/// What a cell holds, while the table is built.
enum CellPlan {
    Empty,
    Full(u32),
    List(Vec<u32>),
    Split(u32, Vec<CellPlan>),
}

impl CellIndex {
    fn new(locator: &Locator) -> CellIndex {
        let rects = &locator.rects;
        if rects.is_empty() {
            return CellIndex::default();
        }
        let extent = rects.iter().fold([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], |e, r| {
            [e[0].min(r[0]), e[1].min(r[1]), e[2].max(r[2]), e[3].max(r[3])]
        });
        let (width, height) = ((extent[2] - extent[0]).max(1e-9), (extent[3] - extent[1]).max(1e-9));
        let wanted = (rects.len() as f64 * CELLS_PER_OUTLINE).max(1.0);
        let columns = ((wanted * width / height).sqrt().ceil() as usize).clamp(1, 1 << 14);
        let rows = ((wanted / columns as f64).ceil() as usize).clamp(1, 1 << 14);
        let (cell_width, cell_height) = (width / columns as f64, height / rows as f64);
        // Each outline into every cell its rectangle reaches, in code order, so each cell's list is sorted.
        let mut reach: Vec<Vec<u32>> = vec![Vec::new(); columns * rows];
        let column_of = |x: f64| (((x - extent[0]) / cell_width).max(0.0) as usize).min(columns - 1);
        let row_of = |y: f64| (((y - extent[1]) / cell_height).max(0.0) as usize).min(rows - 1);
        for (i, r) in rects.iter().enumerate() {
            for row in row_of(r[1] - CELL_MARGIN)..=row_of(r[3] + CELL_MARGIN) {
                for column in column_of(r[0] - CELL_MARGIN)..=column_of(r[2] + CELL_MARGIN) {
                    reach[row * columns + column].push(i as u32);
                }
            }
        }
        let cells: Vec<(usize, Vec<u32>)> = reach.into_iter().enumerate().collect();
        let plans = par_map(&cells, |(cell, candidates)| {
            let (column, row) = (cell % columns, cell / columns);
            let origin = [extent[0] + column as f64 * cell_width, extent[1] + row as f64 * cell_height];
            plan(locator, origin, [cell_width, cell_height], candidates, 0)
        });
        let mut index = CellIndex { extent, columns, rows, cell_width, cell_height, ..CellIndex::default() };
        index.cells = plans.into_iter().map(|p| index.store(p)).collect();
        index
    }

    /// Writes a planned cell into the tables and returns its slot.
    fn store(&mut self, plan: CellPlan) -> u32 {
        match plan {
            CellPlan::Empty => EMPTY,
            CellPlan::Full(i) => FULL | i,
            CellPlan::List(items) => {
                let at = self.lists.len() as u32;
                self.lists.push(items.len() as u32);
                self.lists.extend(items);
                LIST | at
            }
            CellPlan::Split(k, parts) => {
                let at = self.splits.len();
                self.splits.push(k);
                self.splits.resize(at + 1 + parts.len(), EMPTY);
                for (n, part) in parts.into_iter().enumerate() {
                    self.splits[at + 1 + n] = self.store(part);
                }
                SPLIT | at as u32
            }
        }
    }

    /// The lowest-coded outline holding the point, if any.
    fn search(&self, locator: &Locator, x: f64, y: f64) -> Option<usize> {
        let [x0, y0, x1, y1] = self.extent;
        if self.cells.is_empty() || !(x >= x0 && x <= x1 && y >= y0 && y <= y1) {
            return None;
        }
        let column = (((x - x0) / self.cell_width) as usize).min(self.columns - 1);
        let row = (((y - y0) / self.cell_height) as usize).min(self.rows - 1);
        let mut slot = self.cells[row * self.columns + column];
        let mut origin = [x0 + column as f64 * self.cell_width, y0 + row as f64 * self.cell_height];
        let mut size = [self.cell_width, self.cell_height];
        loop {
            let at = (slot & !TAG) as usize;
            match slot & TAG {
                FULL => return Some(at),
                SPLIT => {
                    let k = self.splits[at] as usize;
                    size = [size[0] / k as f64, size[1] / k as f64];
                    let column = (((x - origin[0]) / size[0]) as usize).min(k - 1);
                    let row = (((y - origin[1]) / size[1]) as usize).min(k - 1);
                    origin = [origin[0] + column as f64 * size[0], origin[1] + row as f64 * size[1]];
                    slot = self.splits[at + 1 + row * k + column];
                }
                LIST => {
                    let length = self.lists[at] as usize;
                    return self.lists[at + 1..at + 1 + length].iter().map(|&i| i as usize).find(|&i| locator.holds(i, x, y));
                }
                _ => return None,
            }
        }
    }
}

/// What the cell at `origin` of `size` holds, given the outlines (in code order) whose rectangles reach it.
fn plan(locator: &Locator, origin: [f64; 2], size: [f64; 2], candidates: &[u32], depth: u32) -> CellPlan {
    let reach =
        [origin[0] - CELL_MARGIN, origin[1] - CELL_MARGIN, origin[0] + size[0] + CELL_MARGIN, origin[1] + size[1] + CELL_MARGIN];
    let mut crossing = Vec::new();
    for &i in candidates {
        match locator.relation(i as usize, reach) {
            Relation::Outside => {}
            Relation::Crosses => crossing.push(i),
            // An outline holding the whole cell wins every point not already won by a lower code.
            Relation::Inside if crossing.is_empty() => return CellPlan::Full(i),
            Relation::Inside => {
                crossing.push(i);
                break;
            }
        }
    }
    if crossing.is_empty() {
        return CellPlan::Empty;
    }
    if crossing.len() <= LIST_MAX || depth >= SPLIT_DEPTH_MAX {
        return CellPlan::List(crossing);
    }
    let k = ((crossing.len() as f64 * 2.0).sqrt().ceil() as u32).clamp(2, 8);
    let part = [size[0] / f64::from(k), size[1] / f64::from(k)];
    let parts = (0..k * k)
        .map(|n| {
            let (column, row) = (n % k, n / k);
            let at = [origin[0] + f64::from(column) * part[0], origin[1] + f64::from(row) * part[1]];
            plan(locator, at, part, &crossing, depth + 1)
        })
        .collect();
    CellPlan::Split(k, parts)
}

/// What one ring says of a point: on its border, or crossed an odd or even number of times by a ray.
enum RingSide {
    Border,
    Odd,
    Even,
}

/// A crossing count over plain coordinates (even-odd over shells and holes), several times faster than
/// the generic test on the small rings grids have. The border test uses the robust orientation
/// predicate, and only for edges whose box holds the point, so borders are decided exactly.
fn ring_covers(ring: &[Coord<f64>], x: f64, y: f64) -> RingSide {
    let mut odd = false;
    for edge in ring.windows(2) {
        let (a, b) = (edge[0], edge[1]);
        if (a.y > y) != (b.y > y) {
            let crossing = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y);
            if x < crossing {
                odd = !odd;
            }
        }
        if x >= a.x.min(b.x)
            && x <= a.x.max(b.x)
            && y >= a.y.min(b.y)
            && y <= a.y.max(b.y)
            && RobustKernel::orient2d(a, b, Coord { x, y }) == Orientation::Collinear
        {
            return RingSide::Border;
        }
    }
    if odd { RingSide::Odd } else { RingSide::Even }
}

#[cfg(test)]
mod tests {
    use geo::{LineString, Polygon, polygon};

    use super::*;

    fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![(x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side)]])
    }

    #[test]
    fn a_point_inside_is_found_and_one_outside_is_not() {
        let locator = Locator::new(vec![("320613007001".into(), square(120.0, 32.0, 0.01))]);
        assert_eq!(locator.len(), 1);
        assert_eq!(locator.locate(120.005, 32.005), Some("320613007001"));
        assert_eq!(locator.locate(120.02, 32.005), None);
        assert_eq!(locator.locate(119.0, 31.0), None);
    }

    #[test]
    fn a_point_in_a_hole_is_not_in_the_outline() {
        let outer = LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]);
        let hole = LineString::from(vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)]);
        let ring = MultiPolygon::new(vec![Polygon::new(outer, vec![hole])]);
        // The enclave that fills the hole, as a city's map would have it.
        let enclave = square(4.0, 4.0, 2.0);
        let only_ring = Locator::new(vec![("320613007001".into(), ring.clone())]);
        assert_eq!(only_ring.locate(5.0, 5.0), None);
        assert_eq!(only_ring.locate(2.0, 2.0), Some("320613007001"));
        let both = Locator::new(vec![("320613007001".into(), ring), ("320613007002".into(), enclave)]);
        assert_eq!(both.locate(5.0, 5.0), Some("320613007002"));
        assert_eq!(both.locate(8.0, 8.0), Some("320613007001"));
    }

    #[test]
    fn adjacent_squares_split_at_their_border_by_lowest_code() {
        // Given in reverse order: the tie must not depend on it.
        let locator =
            Locator::new(vec![("320613007002".into(), square(1.0, 0.0, 1.0)), ("320613007001".into(), square(0.0, 0.0, 1.0))]);
        assert_eq!(locator.locate(0.5, 0.5), Some("320613007001"));
        assert_eq!(locator.locate(1.5, 0.5), Some("320613007002"));
        assert_eq!(locator.locate(1.0, 0.5), Some("320613007001"), "the shared border goes to the lower code");
        assert_eq!(locator.locate(2.0, 0.5), Some("320613007002"), "an outer border still belongs to its square");
        assert_eq!(locator.locate(1.0, 1.5), None);
        for (x, y) in [(0.5, 0.5), (1.0, 0.5), (1.5, 0.5), (2.0, 0.5), (1.0, 1.5)] {
            assert_eq!(locator.locate_by_scan(x, y), locator.locate(x, y));
        }
        assert_eq!(locator.locate_all(1.0, 0.5), ["320613007001", "320613007002"]);
    }

    #[test]
    fn the_cells_find_what_a_scan_finds() {
        // 3,000 squares of random sizes, many overlapping, so ties and multi-level trees are exercised.
        let mut rng = crate::SplitMix64::from_seed(11);
        let items: Vec<(String, MultiPolygon<f64>)> = (0..3_000)
            .map(|n| (format!("{n:05}"), square(rng.unit() * 10.0, rng.unit() * 10.0, 0.05 + rng.unit() * 0.3)))
            .collect();
        let locator = Locator::new(items);
        let mut hits = 0;
        for _ in 0..20_000 {
            let (x, y) = (rng.unit() * 10.5 - 0.25, rng.unit() * 10.5 - 0.25);
            assert_eq!(locator.locate(x, y), locator.locate_by_scan(x, y), "({x}, {y})");
            hits += usize::from(locator.locate(x, y).is_some());
        }
        assert!(hits > 5_000, "{hits}");
    }

    #[test]
    fn points_on_borders_and_corners_resolve_as_the_scan_does() {
        // A lattice of triangles and squares sharing edges and corners; points on the vertices, the
        // midpoints of edges and just off them, where the cells' rounding matters most.
        let mut items = Vec::new();
        for column in 0..40 {
            for row in 0..40 {
                let (x, y) = (120.0 + f64::from(column) * 0.001, 32.0 + f64::from(row) * 0.001);
                let code = format!("{column:02}{row:02}");
                if (column + row) % 3 == 0 {
                    items.push((
                        format!("{code}a"),
                        MultiPolygon::new(vec![polygon![(x: x, y: y), (x: x + 0.001, y: y), (x: x, y: y + 0.001)]]),
                    ));
                    items.push((
                        format!("{code}b"),
                        MultiPolygon::new(vec![
                            polygon![(x: x + 0.001, y: y), (x: x + 0.001, y: y + 0.001), (x: x, y: y + 0.001)],
                        ]),
                    ));
                } else if (column + row) % 3 == 1 {
                    items.push((code, square(x, y, 0.001)));
                }
            }
        }
        let locator = Locator::new(items);
        let mut rng = crate::SplitMix64::from_seed(5);
        let mut on_border = 0;
        for _ in 0..20_000 {
            let (column, row) = ((rng.unit() * 41.0).floor(), (rng.unit() * 41.0).floor());
            let (dx, dy) = match (rng.unit() * 4.0) as u32 {
                0 => (0.0, 0.0),
                1 => (0.0005, 0.0),
                2 => (0.0005, 0.0005),
                _ => (rng.unit() * 1e-12, rng.unit() * 1e-12),
            };
            let (x, y) = (120.0 + column * 0.001 + dx, 32.0 + row * 0.001 + dy);
            assert_eq!(locator.locate(x, y), locator.locate_by_scan(x, y), "({x}, {y})");
            on_border += usize::from(locator.locate_all(x, y).len() > 1);
        }
        assert!(on_border > 1_000, "{on_border}");
    }

    #[test]
    fn empty_outlines_are_left_out() {
        let locator = Locator::new(vec![("320613007001".into(), MultiPolygon::new(Vec::new()))]);
        assert!(locator.is_empty());
        assert_eq!(locator.locate(0.0, 0.0), None);
    }
}
