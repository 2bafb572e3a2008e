//! Which leaf division a point lies in.
//!
//! A report arrives as a coordinate; everything downstream (who holds the power there) works on
//! division codes. Testing every outline of a city against each point would cost thousands of
//! polygon tests, so the outlines' bounding rectangles go into an R-tree and only the few whose
//! rectangle holds the point get the exact test.

use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rstar::{AABB, RTree, RTreeObject};

/// One outline's bounding rectangle in an R-tree, pointing back at the outline by its position.
pub(crate) struct Envelope {
    pub(crate) rect: AABB<[f64; 2]>,
    pub(crate) index: usize,
}

impl RTreeObject for Envelope {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.rect
    }
}

/// Finds the leaf division (e.g. the community) that contains a point.
///
/// Built once from the leaf outlines; a lookup is an R-tree query over bounding rectangles
/// followed by an exact point-in-polygon test on the candidates only.
pub struct Locator {
    tree: RTree<Envelope>,
    /// The outlines, sorted by code, so that a lower index is a lower code.
    items: Vec<(String, MultiPolygon<f64>)>,
    /// Each outline's bounding rectangle (min x, min y, max x, max y), for the scan without the tree.
    rects: Vec<[f64; 4]>,
}

impl Locator {
    /// A locator over `(division code, outline)` pairs. Outlines without any area to bound (empty
    /// multipolygons) can never contain a point and are left out.
    pub fn new(mut items: Vec<(String, MultiPolygon<f64>)>) -> Locator {
        items.retain(|(_, shape)| shape.bounding_rect().is_some());
        // Sorted by code so that ties on shared borders resolve the same way whatever the input order.
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let envelopes = items
            .iter()
            .enumerate()
            .filter_map(|(index, (_, shape))| {
                let rect = shape.bounding_rect()?;
                let rect = AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
                Some(Envelope { rect, index })
            })
            .collect();
        let rects = items
            .iter()
            .filter_map(|(_, shape)| shape.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .collect();
        // Bulk loading packs the tree better than inserting one by one, and is faster.
        Locator { tree: RTree::bulk_load(envelopes), items, rects }
    }

    /// The code of the division containing the point (longitude, latitude in degrees), or `None`
    /// outside every outline or inside a hole. A point on a border shared by several outlines
    /// belongs to the one with the lowest code, so the answer never depends on input order.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<&str> {
        let point = Point::new(lon, lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .map(|e| e.index)
            .filter(|&i| self.items[i].1.intersects(&point))
            .min()
            .map(|i| self.items[i].0.as_str())
    }

    /// The same answer as [`Locator::locate`] by testing every outline in turn, without the tree: the
    /// brute-force reference the tree is checked against.
    pub fn locate_by_scan(&self, lon: f64, lat: f64) -> Option<&str> {
        let point = Point::new(lon, lat);
        self.rects
            .iter()
            .zip(&self.items)
            .find(|([x0, y0, x1, y1], (_, shape))| {
                *x0 <= lon && lon <= *x1 && *y0 <= lat && lat <= *y1 && shape.intersects(&point)
            })
            .map(|(_, (code, _))| code.as_str())
    }

    /// The codes of every outline containing the point (on its border included), lowest first.
    pub fn locate_all(&self, lon: f64, lat: f64) -> Vec<&str> {
        let point = Point::new(lon, lat);
        self.items.iter().filter(|(_, shape)| shape.intersects(&point)).map(|(code, _)| code.as_str()).collect()
    }

    /// How many outlines the locator holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
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
    fn empty_outlines_are_left_out() {
        let locator = Locator::new(vec![("320613007001".into(), MultiPolygon::new(Vec::new()))]);
        assert!(locator.is_empty());
        assert_eq!(locator.locate(0.0, 0.0), None);
    }
}
