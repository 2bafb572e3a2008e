//! Unit grids (网格化), who owns each (分片包干), and routing: from a point to its grid, the divisions
//! above it, the body holding a power there, the squad acting for it and the officer who owns the grid.
//!
//! The point index is built from the store off the request path and swapped in whole, so a reader
//! holds either the old index or the new one, never one half built.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use gridward_domain::access::{Principal, Role};
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, Staff};
use gridward_domain::{Problem, Problems};
use gridward_grid::unit_grid::{area_m2, community_of, overlaps_between, par_map, uncovered_parts};
use gridward_grid::{Datum, Locator, UnitGrid};
use gridward_store::{BoundaryRecord, GridImport, GridOwner, GridRecord};
use serde::Serialize;

use crate::delegation::Holding;
use crate::error::{AppError, AppResult};
use crate::{App, actor_of, change};

/// Parts of a community no grid covers are reported from this size up; smaller ones are rounding.
const UNCOVERED_MIN_M2: f64 = 10.0;

/// Where points are looked up: the unit grids and the leaf division outlines, all in one datum.
pub struct PlaceIndex {
    /// The datum every shape here is in (that of most stored outlines); points are converted into it.
    pub datum: Datum,
    grids: Locator,
    places: Locator,
}

impl PlaceIndex {
    /// Builds the index from stored outlines of leaf divisions and stored grids, converting each shape
    /// from its own datum into the index's.
    pub fn build(outlines: &[BoundaryRecord], grids: &[GridRecord]) -> AppResult<PlaceIndex> {
        let datum = most_common_datum(outlines.iter().map(|b| b.datum.as_str()));
        let places =
            par_map(outlines, |b| Ok((b.code.to_string(), in_datum(&b.geometry.to_string(), &b.datum, datum, b.code.as_str())?)))
                .into_iter()
                .collect::<AppResult<Vec<_>>>()?;
        let grids = par_map(grids, |g| Ok((g.code.clone(), in_datum(&g.geometry, &g.datum, datum, &g.code)?)))
            .into_iter()
            .collect::<AppResult<Vec<_>>>()?;
        Ok(PlaceIndex { datum, grids: Locator::new(grids), places: Locator::new(places) })
    }

    /// The grid containing a point given in the index's datum. On a border shared by grids, the lowest code wins.
    pub fn grid_at(&self, lon: f64, lat: f64) -> Option<&str> {
        self.grids.locate(lon, lat)
    }

    /// The leaf division (community) containing a point in the index's datum; same tie-break.
    pub fn place_at(&self, lon: f64, lat: f64) -> Option<&str> {
        self.places.locate(lon, lat)
    }

    /// The grid a point (in the index's datum) lies in, if any, and the division that holds it: the grid's
    /// community, or else the community whose outline contains the point; `None` outside the city.
    pub fn grid_and_place(&self, lon: f64, lat: f64) -> Option<(Option<&str>, &str)> {
        match self.grid_at(lon, lat) {
            Some(grid) => Some((Some(grid), community_of(grid))),
            None => self.place_at(lon, lat).map(|place| (None, place)),
        }
    }

    /// The grid found by testing every grid in turn, without the index: the reference for tests.
    pub fn grid_by_scan(&self, lon: f64, lat: f64) -> Option<&str> {
        self.grids.locate_by_scan(lon, lat)
    }

    /// Every grid containing the point (several on a shared border), lowest code first.
    pub fn grids_containing(&self, lon: f64, lat: f64) -> Vec<&str> {
        self.grids.locate_all(lon, lat)
    }

    pub fn grid_count(&self) -> usize {
        self.grids.len()
    }
}

fn most_common_datum<'a>(datums: impl Iterator<Item = &'a str>) -> Datum {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for d in datums {
        *counts.entry(d).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .and_then(|(d, _)| Datum::parse(d).ok())
        .unwrap_or(Datum::Gcj02)
}

fn in_datum(geometry: &str, stored: &str, target: Datum, code: &str) -> AppResult<geo::MultiPolygon<f64>> {
    let shape = gridward_grid::parse_geometry(geometry)
        .map_err(|p| AppError::Internal(format!("stored outline of {code} does not parse: {p:?}")))?;
    let from = Datum::parse(stored).map_err(|e| AppError::Internal(format!("stored outline of {code}: {e}")))?;
    Ok(from.convert_shape(target, &shape))
}

/// A grid as lists and routes show it.
#[derive(Debug, Clone, Serialize)]
pub struct GridSummary {
    pub code: String,
    pub name: String,
    pub community: DivisionCode,
    pub area_m2: f64,
    pub synthetic: bool,
    pub datum: String,
}

impl From<&GridRecord> for GridSummary {
    fn from(g: &GridRecord) -> GridSummary {
        GridSummary {
            code: g.code.clone(),
            name: g.name.clone(),
            community: g.community.clone(),
            area_m2: g.area_m2,
            synthetic: g.synthetic,
            datum: g.datum.clone(),
        }
    }
}

/// What a grid import did, and what it left uncovered.
#[derive(Debug, Clone, Serialize)]
pub struct GridImportReport {
    pub datum: Datum,
    pub grids: usize,
    pub communities: usize,
    #[serde(flatten)]
    pub outcome: GridImport,
    /// Communities of the file whose outline the grids leave partly uncovered.
    pub uncovered: Vec<UncoveredPart>,
    /// False for a file of more grids than a street holds: its coverage is checked street by street in the
    /// coverage report instead.
    pub uncovered_checked: bool,
}

/// Part of a community that no grid covers.
#[derive(Debug, Clone, Serialize)]
pub struct UncoveredPart {
    pub community: DivisionCode,
    pub name: String,
    pub area_m2: f64,
    /// The uncovered part, GeoJSON, in the community outline's datum.
    pub geometry: serde_json::Value,
}

/// A member of staff as routing and coverage show them.
#[derive(Debug, Clone, Serialize)]
pub struct OfficerRef {
    pub staff_no: String,
    pub name: String,
    pub body_code: String,
    pub auxiliary: bool,
}

impl From<&Staff> for OfficerRef {
    fn from(s: &Staff) -> OfficerRef {
        OfficerRef { staff_no: s.staff_no.clone(), name: s.name.clone(), body_code: s.body_code.clone(), auxiliary: s.auxiliary }
    }
}

/// A body by code and name.
#[derive(Debug, Clone, Serialize)]
pub struct BodyRef {
    pub code: String,
    pub name: String,
    pub kind: String,
}

impl From<&Body> for BodyRef {
    fn from(b: &Body) -> BodyRef {
        BodyRef { code: b.code.clone(), name: b.name.clone(), kind: b.kind.as_str().to_string() }
    }
}

/// A grid's owner with names.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerView {
    pub squad: BodyRef,
    pub primary_officer: Option<OfficerRef>,
    pub backups: Vec<OfficerRef>,
}

/// One grid with its owner, for the grid page.
#[derive(Debug, Clone, Serialize)]
pub struct GridDetail {
    #[serde(flatten)]
    pub grid: GridSummary,
    pub community_name: String,
    pub geometry: serde_json::Value,
    pub owner: Option<OwnerView>,
    /// The squads that may own it (their territory covers the grid) and their staff, for the owner form.
    pub candidates: Vec<(BodyRef, Vec<OfficerRef>)>,
}

/// An officer's share of the territory.
#[derive(Debug, Clone, Serialize)]
pub struct OfficerLoad {
    #[serde(flatten)]
    pub officer: OfficerRef,
    pub body_name: String,
    /// Grids they own as primary officer.
    pub grids: usize,
    pub area_m2: f64,
    /// Grids they cover as a backup.
    pub backup_grids: usize,
    /// Open events and cases in their grids. Reports and cases are not kept yet, so this is 0.
    pub open_work: u64,
}

/// Coverage of a territory: grids without an owner, officers without grids, each officer's load.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub territory: DivisionCode,
    pub territory_name: String,
    pub grids: usize,
    pub owned: usize,
    pub area_m2: f64,
    pub unowned: Vec<GridSummary>,
    pub loads: Vec<OfficerLoad>,
    /// Credentialed officers of squads in the territory who own no grid.
    pub idle_officers: Vec<OfficerRef>,
    pub uncovered: Vec<UncoveredPart>,
    /// True for a street or a community; a district's or the city's report is checked street by street.
    pub uncovered_checked: bool,
    /// For a district or the city: each street with grids, its grids and how many have an owner.
    pub streets: Vec<StreetCoverage>,
    /// Communities in the territory without a single grid.
    pub communities_without_grids: Vec<(DivisionCode, String)>,
}

/// One street's share of a coverage report.
#[derive(Debug, Clone, Serialize)]
pub struct StreetCoverage {
    pub code: DivisionCode,
    pub name: String,
    pub grids: usize,
    pub owned: usize,
}

/// Imports check uncovered parts (a union of every grid) only up to this many grids, a large street's
/// worth (a few seconds); a bigger file's coverage is read street by street in the coverage report.
const UNCOVERED_CHECK_MAX_GRIDS: usize = 10_000;

/// A point to route, in the datum it was given in.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GivenPoint {
    pub lon: f64,
    pub lat: f64,
    pub datum: Datum,
}

/// A division on the way up from the place.
#[derive(Debug, Clone, Serialize)]
pub struct DivisionRef {
    pub code: DivisionCode,
    pub name: String,
    pub level: &'static str,
}

/// The power asked about, with its legal basis.
#[derive(Debug, Clone, Serialize)]
pub struct PowerRef {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub legal_basis: Vec<String>,
}

/// Who is responsible at a point, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub point: GivenPoint,
    /// The point in the index's datum, as it was looked up.
    pub located: GivenPoint,
    pub grid: Option<GridSummary>,
    /// From the place (community) up to the city.
    pub divisions: Vec<DivisionRef>,
    /// The grid's owner; officers are left out for callers whose territory does not cover the place.
    pub owner: Option<OwnerView>,
    pub power: Option<PowerRef>,
    /// The assignment that gives the power here: body, territory, period and legal instrument.
    pub holder: Option<Holding>,
    /// The squad acting on the holder's behalf at this place, and its officer here.
    pub handler: Option<OwnerView>,
    /// The reasoning, one sentence a step.
    pub why: Vec<String>,
}

/// A route was asked for a point outside every outline of the city.
pub const OUTSIDE_JURISDICTION: &str = "outside_jurisdiction";

impl App {
    /// The point index, built on first use.
    pub async fn places(&self) -> AppResult<Arc<PlaceIndex>> {
        if let Some(built) = self.places.read().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(built);
        }
        self.refresh_places().await
    }

    /// Rebuilds the point index from the store and swaps it in. Rebuilds run one at a time, each reading
    /// the store after the previous one finished, so the last to finish holds the newest state.
    pub async fn refresh_places(&self) -> AppResult<Arc<PlaceIndex>> {
        // Grids decide where reports go; intake reads them again.
        self.forget_intake_cache();
        let _one_at_a_time = self.places_rebuild.lock().await;
        let outlines = self.leaf_outlines().await?;
        let grids = self.store.grids().await?;
        let built = tokio::task::spawn_blocking(move || PlaceIndex::build(&outlines, &grids))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        let built = Arc::new(built);
        *self.places.write().unwrap_or_else(|p| p.into_inner()) = Some(built.clone());
        Ok(built)
    }

    /// Outlines of the divisions without children in force today: communities where streets are
    /// partitioned, else the street or district itself.
    async fn leaf_outlines(&self) -> AppResult<Vec<BoundaryRecord>> {
        let today = crate::today();
        let divisions: Vec<Division> = self.store.all_divisions().await?.into_iter().filter(|d| d.is_valid_on(today)).collect();
        let parents: HashSet<&DivisionCode> = divisions.iter().filter_map(|d| d.parent_code.as_ref()).collect();
        let mut outlines = Vec::new();
        for parent in divisions.iter().filter(|d| parents.contains(&d.code)) {
            outlines.extend(self.store.child_boundaries(&parent.code).await?.into_iter().filter(|b| !parents.contains(&b.code)));
        }
        Ok(outlines)
    }

    /// The deepest division whose outline contains the point (longitude, latitude in `datum`), or `None`
    /// outside every outline.
    pub async fn locate(&self, lon: f64, lat: f64, datum: Datum) -> AppResult<Option<DivisionCode>> {
        check_point(lon, lat)?;
        let places = self.places().await?;
        let (x, y) = datum.convert(places.datum, lon, lat);
        places.place_at(x, y).map(|c| DivisionCode::parse(c).map_err(|e| AppError::Internal(e.to_string()))).transpose()
    }

    /// Imports a grid file (GeoJSON or zipped Shapefile), all or nothing. Each grid's community must be a
    /// stored community; the grids must not overlap each other or the stored grids of other communities.
    /// Stored grids of the file's communities that the file no longer has are retired. Administrators only.
    pub async fn import_grids(
        &self,
        who: &Principal,
        bytes: &[u8],
        declared: Option<Datum>,
        source: &str,
    ) -> AppResult<GridImportReport> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        self.import_grids_as(&actor_of(who), bytes, declared, source, false).await
    }

    /// The same import by an operator at the shell (`gridward import grids`).
    pub async fn import_grid_file(
        &self,
        actor: &gridward_store::Actor,
        bytes: &[u8],
        declared: Option<Datum>,
        source: &str,
    ) -> AppResult<GridImportReport> {
        self.import_grids_as(actor, bytes, declared, source, false).await
    }

    pub(crate) async fn import_grids_as(
        &self,
        actor: &gridward_store::Actor,
        bytes: &[u8],
        declared: Option<Datum>,
        source: &str,
        synthetic: bool,
    ) -> AppResult<GridImportReport> {
        let rule = self.grid_rule;
        let bytes = bytes.to_vec();
        let started = std::time::Instant::now();
        let file = tokio::task::spawn_blocking(move || gridward_grid::read_grid_file(&bytes, declared, rule))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|problems| AppError::Invalid(geo_problems(problems, "bad_grid")))?;
        let levels = self.store.division_levels().await?;
        let mut problems = Problems::default();
        let mut communities: HashSet<DivisionCode> = HashSet::new();
        for (index, g) in file.grids.iter().enumerate() {
            match DivisionCode::parse(community_of(&g.code)) {
                Ok(code) if levels.get(&code) == Some(&Level::Community) => {
                    communities.insert(code);
                }
                _ => problems.push(feature_problem(
                    index,
                    "unknown_community",
                    format!("grid {}: {} is not a stored community", g.code, community_of(&g.code)),
                )),
            }
        }
        problems.into_result(())?;
        tracing::info!(grids = file.grids.len(), ms = started.elapsed().as_millis() as u64, "grid file read and checked");
        // Grids kept from other communities must not be overlapped either.
        let stored = self.store.grids().await?;
        let kept: Vec<UnitGrid> = stored
            .iter()
            .filter(|g| !communities.contains(&g.community))
            .map(|g| {
                Ok(UnitGrid {
                    code: g.code.clone(),
                    name: g.name.clone(),
                    geometry: in_datum(&g.geometry, &g.datum, file.datum, &g.code)?,
                })
            })
            .collect::<AppResult<_>>()?;
        let retire: Vec<String> = {
            let incoming: HashSet<&str> = file.grids.iter().map(|g| g.code.as_str()).collect();
            stored
                .iter()
                .filter(|g| communities.contains(&g.community) && !incoming.contains(g.code.as_str()))
                .map(|g| g.code.clone())
                .collect()
        };
        let (records, clashes) = tokio::task::spawn_blocking({
            let grids = file.grids.clone();
            let datum = file.datum;
            let source = source.to_string();
            move || {
                let clashes: Vec<Problem> = overlaps_between(&grids, &kept, gridward_grid::unit_grid::OVERLAP_TOLERANCE_M2)
                    .into_iter()
                    .map(|o| {
                        feature_problem(
                            o.first,
                            "grid_overlap",
                            format!(
                                "grid {} overlaps stored grid {} by {:.1} m²",
                                grids[o.first].code, kept[o.second].code, o.area_m2
                            ),
                        )
                    })
                    .collect();
                let records: Vec<GridRecord> = par_map(&grids, |g| GridRecord {
                    code: g.code.clone(),
                    community: DivisionCode::parse(community_of(&g.code)).expect("checked above"),
                    name: g.name.clone(),
                    datum: datum.code().to_string(),
                    geometry: gridward_grid::grid_to_geojson(&g.geometry).to_string(),
                    area_m2: (area_m2(&g.geometry) * 100.0).round() / 100.0,
                    synthetic,
                    source: source.clone(),
                });
                (records, clashes)
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        if !clashes.is_empty() {
            return Err(AppError::Invalid(Problems(clashes)));
        }
        tracing::info!(stored = stored.len(), ms = started.elapsed().as_millis() as u64, "grids checked against the stored ones");
        let outcome = self.store.import_grids(&records, &retire, &change(actor)).await?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, "grids written");
        self.refresh_places().await?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, "point index rebuilt");
        let mut touched: Vec<DivisionCode> = communities.into_iter().collect();
        touched.sort();
        let uncovered_checked = records.len() <= UNCOVERED_CHECK_MAX_GRIDS;
        let uncovered = if uncovered_checked { self.uncovered_in(&touched).await? } else { Vec::new() };
        tracing::info!(ms = started.elapsed().as_millis() as u64, "uncovered parts found");
        Ok(GridImportReport {
            datum: file.datum,
            grids: records.len(),
            communities: touched.len(),
            outcome,
            uncovered,
            uncovered_checked,
        })
    }

    /// The parts of these communities that no grid in service covers (communities without an outline are skipped).
    async fn uncovered_in(&self, communities: &[DivisionCode]) -> AppResult<Vec<UncoveredPart>> {
        let mut work = Vec::new();
        for code in communities {
            let (Some(outline), Some(division)) = (self.store.boundary(code).await?, self.store.division(code).await?) else {
                continue;
            };
            let grids = self.store.grids_within(code.territory_prefix()).await?;
            if grids.is_empty() {
                continue;
            }
            work.push((division.name, outline, grids));
        }
        tokio::task::spawn_blocking(move || {
            let mut parts = Vec::new();
            for (name, outline, grids) in work {
                let datum = Datum::parse(&outline.datum).unwrap_or(Datum::Gcj02);
                let community = in_datum(&outline.geometry.to_string(), &outline.datum, datum, outline.code.as_str())?;
                let shapes: Vec<geo::MultiPolygon<f64>> =
                    grids.iter().map(|g| in_datum(&g.geometry, &g.datum, datum, &g.code)).collect::<AppResult<_>>()?;
                let refs: Vec<&geo::MultiPolygon<f64>> = shapes.iter().collect();
                let rest = uncovered_parts(&community, &refs, UNCOVERED_MIN_M2);
                if !rest.0.is_empty() {
                    parts.push(UncoveredPart {
                        community: outline.code.clone(),
                        name,
                        area_m2: area_m2(&rest).round(),
                        geometry: gridward_grid::geometry_to_geojson(&rest),
                    });
                }
            }
            Ok(parts)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// One grid with its owner and the squads that may own it. Inside the caller's territory only.
    pub async fn grid_detail(&self, who: &Principal, code: &str) -> AppResult<GridDetail> {
        let grid = self.store.grid(code).await?.ok_or(AppError::NotFound("grid"))?;
        if !who.covers(&grid.community) {
            return Err(AppError::NotFound("grid"));
        }
        let community_name = self.store.division(&grid.community).await?.map(|d| d.name).unwrap_or_default();
        let owners = self.store.grid_owners_within(&grid.code).await?;
        let bodies: HashMap<String, Body> = self.store.all_bodies().await?.into_iter().map(|b| (b.code.clone(), b)).collect();
        let staff = self.staff_by_no().await?;
        let owner = owners.first().map(|o| owner_view(o, &bodies, &staff));
        let mut candidates = Vec::new();
        for body in bodies
            .values()
            .filter(|b| b.division_code.covers(&grid.community) && b.division_code.implied_level() >= Level::Street)
        {
            let members: Vec<OfficerRef> =
                staff.values().filter(|s| s.body_code == body.code && s.active).map(OfficerRef::from).collect();
            candidates.push((BodyRef::from(body), members));
        }
        candidates.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        for (_, members) in &mut candidates {
            members.sort_by(|a, b| a.staff_no.cmp(&b.staff_no));
        }
        let geometry = serde_json::from_str(&grid.geometry).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(GridDetail { grid: GridSummary::from(&grid), community_name, geometry, owner, candidates })
    }

    async fn staff_by_no(&self) -> AppResult<HashMap<String, Staff>> {
        let city = self.store.all_divisions().await?.into_iter().find(|d| d.level == Level::City);
        let Some(city) = city else { return Ok(HashMap::new()) };
        Ok(self.store.staff_within(&city.code).await?.into_iter().map(|s| (s.staff_no.clone(), s)).collect())
    }

    /// Sets who owns grids (one owner per grid in `owners`), all or nothing. The squad's territory must
    /// cover each grid; the primary officer must be an active, credentialed, non-auxiliary member of the
    /// squad; backups active members of it. Administrators anywhere, leaders and dispatchers inside their
    /// territory.
    pub async fn assign_grids(&self, who: &Principal, owners: &[GridOwner]) -> AppResult<usize> {
        if !who.has_any(&[Role::Admin, Role::Leader, Role::Dispatcher]) {
            return Err(AppError::Forbidden);
        }
        let grids: HashMap<String, GridRecord> = self.store.grids().await?.into_iter().map(|g| (g.code.clone(), g)).collect();
        let bodies: HashMap<String, Body> = self.store.all_bodies().await?.into_iter().map(|b| (b.code.clone(), b)).collect();
        let staff = self.staff_by_no().await?;
        let today = crate::today();
        let mut problems = Problems::default();
        for (i, o) in owners.iter().enumerate() {
            let line = i + 1;
            let Some(grid) = grids.get(&o.grid) else {
                problems.push(Problem::at(line, "grid", "unknown_grid", format!("grid {} is not in service", o.grid)));
                continue;
            };
            if !who.covers(&grid.community) {
                // Outside the caller's territory the grid does not exist for them.
                problems.push(Problem::at(line, "grid", "unknown_grid", format!("grid {} is not in service", o.grid)));
                continue;
            }
            match bodies.get(&o.squad) {
                None => problems.push(Problem::at(line, "squad", "unknown_body", format!("body {} does not exist", o.squad))),
                Some(body) if !body.division_code.covers(&grid.community) => problems.push(Problem::at(
                    line,
                    "squad",
                    "outside_territory",
                    format!("{} ({}) does not cover grid {}", body.name, body.division_code, grid.code),
                )),
                Some(_) => {}
            }
            if let Some(primary) = &o.primary_officer {
                match staff.get(primary) {
                    Some(s)
                        if s.body_code == o.squad
                            && s.active
                            && !s.auxiliary
                            && s.credential.as_ref().is_some_and(|c| c.valid_to >= today) => {}
                    Some(s) if s.body_code != o.squad => problems.push(Problem::at(
                        line,
                        "primary_officer",
                        "not_in_squad",
                        format!("{} ({}) is not a member of {}", s.name, s.staff_no, o.squad),
                    )),
                    Some(s) => problems.push(Problem::at(
                        line,
                        "primary_officer",
                        "not_an_officer",
                        format!(
                            "{} ({}) is inactive, auxiliary or without a valid credential; only officers own grids",
                            s.name, s.staff_no
                        ),
                    )),
                    None => {
                        problems.push(Problem::at(line, "primary_officer", "unknown_staff", format!("no staff member {primary}")))
                    }
                }
            }
            let mut seen = HashSet::new();
            for backup in &o.backups {
                if Some(backup) == o.primary_officer.as_ref() || !seen.insert(backup) {
                    problems.push(Problem::at(line, "backups", "duplicate_backup", format!("{backup} is listed twice")));
                    continue;
                }
                match staff.get(backup) {
                    Some(s) if s.body_code == o.squad && s.active => {}
                    Some(s) => problems.push(Problem::at(
                        line,
                        "backups",
                        "not_in_squad",
                        format!("{} ({}) is not an active member of {}", s.name, s.staff_no, o.squad),
                    )),
                    None => problems.push(Problem::at(line, "backups", "unknown_staff", format!("no staff member {backup}"))),
                }
            }
        }
        problems.into_result(())?;
        let changed = self.store.set_grid_owners(owners, &change(&actor_of(who))).await?;
        self.forget_intake_cache();
        Ok(changed)
    }

    /// Coverage of `territory` (default: the caller's): grids without an owner, officers without grids,
    /// each officer's load, uncovered parts of communities. Leaders, dispatchers and administrators.
    pub async fn coverage(&self, who: &Principal, territory: Option<&DivisionCode>) -> AppResult<Coverage> {
        if !who.has_any(&[Role::Admin, Role::Leader, Role::Dispatcher, Role::Supervisor]) {
            return Err(AppError::Forbidden);
        }
        let territory = territory.cloned().unwrap_or_else(|| who.scope.clone());
        if !who.covers(&territory) {
            return Err(AppError::NotFound("division"));
        }
        let territory_name = self.store.division(&territory).await?.ok_or(AppError::NotFound("division"))?.name;
        let grids = self.store.grids_within(territory.territory_prefix()).await?;
        let owners: HashMap<String, GridOwner> =
            self.store.grid_owners_within(territory.territory_prefix()).await?.into_iter().map(|o| (o.grid.clone(), o)).collect();
        let bodies: HashMap<String, Body> = self.store.all_bodies().await?.into_iter().map(|b| (b.code.clone(), b)).collect();
        let staff = self.staff_by_no().await?;
        let mut loads: HashMap<String, OfficerLoad> = HashMap::new();
        let load_of = |no: &str, loads: &mut HashMap<String, OfficerLoad>| -> Option<()> {
            let s = staff.get(no)?;
            loads.entry(no.to_string()).or_insert_with(|| OfficerLoad {
                officer: OfficerRef::from(s),
                body_name: bodies.get(&s.body_code).map(|b| b.name.clone()).unwrap_or_default(),
                grids: 0,
                area_m2: 0.0,
                backup_grids: 0,
                open_work: 0,
            });
            Some(())
        };
        let mut unowned = Vec::new();
        for g in &grids {
            let Some(owner) = owners.get(&g.code) else {
                unowned.push(GridSummary::from(g));
                continue;
            };
            match &owner.primary_officer {
                Some(primary) if load_of(primary, &mut loads).is_some() => {
                    let load = loads.get_mut(primary).expect("just inserted");
                    load.grids += 1;
                    load.area_m2 += g.area_m2;
                }
                _ => unowned.push(GridSummary::from(g)),
            }
            for backup in &owner.backups {
                if load_of(backup, &mut loads).is_some() {
                    loads.get_mut(backup).expect("just inserted").backup_grids += 1;
                }
            }
        }
        let squads_here: HashSet<&str> = bodies
            .values()
            .filter(|b| territory.covers(&b.division_code) && b.division_code.implied_level() >= Level::Street)
            .map(|b| b.code.as_str())
            .collect();
        let mut idle_officers: Vec<OfficerRef> = staff
            .values()
            .filter(|s| squads_here.contains(s.body_code.as_str()) && s.active && !s.auxiliary && s.credential.is_some())
            .filter(|s| loads.get(&s.staff_no).is_none_or(|l| l.grids == 0))
            .map(OfficerRef::from)
            .collect();
        idle_officers.sort_by(|a, b| a.staff_no.cmp(&b.staff_no));
        let mut loads: Vec<OfficerLoad> = loads.into_values().collect();
        loads.sort_by(|a, b| b.grids.cmp(&a.grids).then_with(|| a.officer.staff_no.cmp(&b.officer.staff_no)));
        for l in &mut loads {
            l.area_m2 = l.area_m2.round();
        }
        let communities: Vec<Division> = self
            .store
            .all_divisions()
            .await?
            .into_iter()
            .filter(|d| d.level == Level::Community && territory.covers(&d.code) && d.is_valid_on(crate::today()))
            .collect();
        let with_grids: HashSet<&DivisionCode> = grids.iter().map(|g| &g.community).collect();
        let communities_without_grids =
            communities.iter().filter(|c| !with_grids.contains(&c.code)).map(|c| (c.code.clone(), c.name.clone())).collect();
        let mut gridded: Vec<DivisionCode> = with_grids.into_iter().cloned().collect();
        gridded.sort();
        // A street's parts are checked whatever its size (a few seconds for thousands of grids); a district's
        // or the city's report links to its streets instead.
        let uncovered_checked = territory.implied_level() >= Level::Street;
        let uncovered = if uncovered_checked { self.uncovered_in(&gridded).await? } else { Vec::new() };
        let mut streets: Vec<StreetCoverage> = Vec::new();
        if territory.implied_level() < Level::Street {
            let names: HashMap<DivisionCode, String> = self
                .store
                .all_divisions()
                .await?
                .into_iter()
                .filter(|d| d.level == Level::Street)
                .map(|d| (d.code, d.name))
                .collect();
            for g in &grids {
                let Some(street) = g.community.ancestor_at(Level::Street) else { continue };
                let owned = usize::from(owners.get(&g.code).is_some_and(|o| o.primary_officer.is_some()));
                match streets.last_mut() {
                    Some(last) if last.code == street => {
                        last.grids += 1;
                        last.owned += owned;
                    }
                    _ => streets.push(StreetCoverage {
                        name: names.get(&street).cloned().unwrap_or_default(),
                        code: street,
                        grids: 1,
                        owned,
                    }),
                }
            }
        }
        Ok(Coverage {
            territory,
            territory_name,
            owned: grids.len() - unowned.len(),
            grids: grids.len(),
            area_m2: grids.iter().map(|g| g.area_m2).sum::<f64>().round(),
            unowned,
            loads,
            idle_officers,
            uncovered,
            uncovered_checked,
            streets,
            communities_without_grids,
        })
    }

    /// Grids in service within `territory`, as GeoJSON features for the map, in the datum of the outlines
    /// (`datum` says which). Inside the caller's territory.
    pub async fn grid_features(&self, who: &Principal, territory: &DivisionCode) -> AppResult<serde_json::Value> {
        if !who.covers(territory) {
            return Err(AppError::NotFound("division"));
        }
        let grids = self.store.grids_within(territory.territory_prefix()).await?;
        let owners: HashMap<String, GridOwner> =
            self.store.grid_owners_within(territory.territory_prefix()).await?.into_iter().map(|o| (o.grid.clone(), o)).collect();
        // Shown over the outlines, so in their datum.
        let datum = self.places().await?.datum;
        let features: Vec<serde_json::Value> = grids
            .iter()
            .map(|g| {
                let geometry: serde_json::Value = if g.datum == datum.code() {
                    serde_json::from_str(&g.geometry).map_err(|e| AppError::Internal(e.to_string()))?
                } else {
                    gridward_grid::geometry_to_geojson(&in_datum(&g.geometry, &g.datum, datum, &g.code)?)
                };
                let owner = owners.get(&g.code);
                Ok(serde_json::json!({
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {
                        "code": g.code, "name": g.name, "community": g.community.as_str(), "stored_datum": g.datum,
                        "area_m2": g.area_m2, "synthetic": g.synthetic,
                        "squad": owner.map(|o| o.squad.as_str()),
                        "primary_officer": owner.and_then(|o| o.primary_officer.as_deref()),
                    }
                }))
            })
            .collect::<AppResult<_>>()?;
        Ok(serde_json::json!({"type": "FeatureCollection", "datum": datum.code(), "features": features}))
    }

    /// Who is responsible at a point: grid → community → street → district → city; with a power, the body
    /// holding it there (with the legal basis), the squad acting for that body, and the grid's officer.
    pub async fn route(&self, who: &Principal, point: GivenPoint, power: Option<&str>) -> AppResult<Route> {
        check_point(point.lon, point.lat)?;
        let places = self.places().await?;
        let (x, y) = point.datum.convert(places.datum, point.lon, point.lat);
        let located = GivenPoint { lon: x, lat: y, datum: places.datum };
        let found = places.grid_and_place(x, y);
        let grid_code = found.and_then(|(grid, _)| grid.map(str::to_owned));
        let place = found.and_then(|(_, place)| DivisionCode::parse(place).ok());
        let Some(place) = place else {
            return Err(AppError::bad_request(
                OUTSIDE_JURISDICTION,
                format!("({}, {}) in {} lies outside every division of this city", point.lon, point.lat, point.datum),
            ));
        };
        let mut why = Vec::new();
        let grid = match &grid_code {
            Some(code) => self.store.grid(code).await?,
            None => None,
        };
        match &grid {
            Some(g) => why.push(format!("The point lies in unit grid {} ({}).", g.code, g.name)),
            None => why.push("No unit grid covers the point; it is placed by its community's outline.".to_string()),
        }
        let divisions: HashMap<DivisionCode, Division> =
            self.store.all_divisions().await?.into_iter().map(|d| (d.code.clone(), d)).collect();
        let mut chain = Vec::new();
        let mut at = Some(place.clone());
        while let Some(code) = at {
            let Some(d) = divisions.get(&code) else { break };
            chain.push(DivisionRef { code: d.code.clone(), name: d.name.clone(), level: d.level.as_str() });
            at = d.parent_code.clone();
        }
        why.push(format!("It belongs to {}.", chain.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(" · ")));
        let bodies: HashMap<String, Body> = self.store.all_bodies().await?.into_iter().map(|b| (b.code.clone(), b)).collect();
        let staff = self.staff_by_no().await?;
        let sees_people = who.covers(&place);
        let stored_owner = match &grid {
            Some(g) => self.store.grid_owners_within(&g.code).await?.into_iter().next(),
            None => None,
        };
        let owner = stored_owner.as_ref().map(|o| {
            let mut view = owner_view(o, &bodies, &staff);
            if !sees_people {
                view.primary_officer = None;
                view.backups.clear();
            }
            view
        });
        match (&grid, &owner) {
            (Some(_), Some(o)) => why.push(format!(
                "The grid is owned by {}{}.",
                o.squad.name,
                o.primary_officer.as_ref().map(|p| format!(", primary officer {}", p.name)).unwrap_or_default()
            )),
            (Some(_), None) => why.push("The grid has no owner yet.".to_string()),
            _ => {}
        }
        let (power_ref, holder, handler) = match power {
            None => (None, None, None),
            Some(code) => {
                let day = crate::today();
                let resolution = self.resolve_power(code, &place, day).await?;
                let version = self.store.powers_in_force(day).await?.into_iter().find(|p| p.power.code == code);
                let power_ref = version.map(|v| PowerRef {
                    code: v.power.code.clone(),
                    name: v.power.name.clone(),
                    kind: v.power.kind.as_str().to_string(),
                    legal_basis: v.power.violation_basis.iter().chain(&v.power.penalty_basis).map(|c| c.to_string()).collect(),
                });
                let handler = match &resolution.holder {
                    None => {
                        why.push(format!("Nobody holds power {code} here: a gap in the delegation."));
                        None
                    }
                    Some(h) => {
                        why.push(format!(
                            "{} holds power {code} for {} from {} under {}.",
                            h.body_name, h.territory_name, h.assignment.valid_from, h.assignment.instrument
                        ));
                        let acting = owner.as_ref().filter(|o| {
                            o.squad.code == h.assignment.body_code
                                || bodies.get(&o.squad.code).and_then(|s| s.parent_code.as_deref())
                                    == Some(h.assignment.body_code.as_str())
                        });
                        match acting {
                            Some(o) => {
                                why.push(if o.squad.code == h.assignment.body_code {
                                    format!("{} acts in its own name in this grid.", o.squad.name)
                                } else {
                                    format!("{} acts for {} in this grid (派驻).", o.squad.name, h.body_name)
                                });
                                Some(o.clone())
                            }
                            None => {
                                why.push(format!("{} handles it directly; the grid's squad does not act for it.", h.body_name));
                                None
                            }
                        }
                    }
                };
                (power_ref, resolution.holder, handler)
            }
        };
        Ok(Route {
            point,
            located,
            grid: grid.as_ref().map(GridSummary::from),
            divisions: chain,
            owner,
            power: power_ref,
            holder,
            handler,
            why,
        })
    }
}

fn owner_view(o: &GridOwner, bodies: &HashMap<String, Body>, staff: &HashMap<String, Staff>) -> OwnerView {
    let squad = bodies.get(&o.squad).map(BodyRef::from).unwrap_or_else(|| BodyRef {
        code: o.squad.clone(),
        name: o.squad.clone(),
        kind: String::new(),
    });
    OwnerView {
        squad,
        primary_officer: o.primary_officer.as_ref().and_then(|no| staff.get(no)).map(OfficerRef::from),
        backups: o.backups.iter().filter_map(|no| staff.get(no)).map(OfficerRef::from).collect(),
    }
}

pub(crate) fn check_point(lon: f64, lat: f64) -> AppResult<()> {
    if lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        Ok(())
    } else {
        Err(AppError::bad_request("bad_point", "longitude is -180..180 and latitude -90..90"))
    }
}

fn feature_problem(index: usize, code: &'static str, message: String) -> Problem {
    Problem { line: None, column: Some(format!("features[{index}]")), code, message }
}

fn geo_problems(problems: Vec<gridward_grid::GeoProblem>, code: &'static str) -> Problems {
    Problems(
        problems
            .into_iter()
            .map(|p| Problem {
                line: None,
                column: p.feature.map(|i| format!("features[{i}]")),
                code: if p.reason.contains("coordinate reference system") || p.reason.contains(".prj") {
                    "unsupported_crs"
                } else {
                    code
                },
                message: p.reason,
            })
            .collect(),
    )
}
