//! `gridward bench grids`: unit grids at city scale. Loads the demo city, synthesizes about GRIDS grids over
//! all its communities, imports them through the same path as a user's GeoJSON file (timed), then times
//! point lookups on one core, and the same grids and points in PostGIS (`ST_Contains` over a GiST index),
//! both as one query per point (how MapIt answers FixMyStreet) and as one spatial join.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use geo::BoundingRect;
use gridward_app::App;
use gridward_domain::division::Level;
use gridward_grid::{Datum, GridCodeRule, Lattice};
use gridward_store::Actor;
use sqlx::Row;

/// Points PostGIS answers one query at a time (a sample: at about 10,000 queries a second, more adds little).
const POSTGIS_SINGLE_QUERIES: usize = 20_000;
/// Points in the spatial join, and in Gridward's timing of the same points.
const JOIN_POINTS: usize = 100_000;

pub async fn run(app: &App, target: usize, points: usize, postgis: Option<&str>) -> Result<()> {
    if !app.store.grids().await?.is_empty() && !app.demo_loaded().await? {
        bail!("the benchmark needs a new --data-dir (or an empty database)");
    }
    let started = Instant::now();
    // The city without its demo grids: the import below is of a new city's grids, not a replacement.
    app.load_demo_city(&random_password()?).await.map_err(|e| anyhow::anyhow!("loading the demo city: {e}"))?;
    println!("demo city (without grids) loaded in {:.1} s", started.elapsed().as_secs_f64());

    let (file, rule, count) = synthesize(app, target).await?;
    println!(
        "grid file: {count} grids, {:.1} MB of GeoJSON, sequence of {} digits",
        file.len() as f64 / 1e6,
        rule.sequence_digits
    );
    let app = app.clone().with_grid_rule(rule);

    let started = Instant::now();
    let report = app
        .import_grid_file(&Actor::new("bench", "system"), &file, Some(Datum::Gcj02), "bench")
        .await
        .map_err(|e| anyhow::anyhow!("import: {e}"))?;
    let import_time = started.elapsed();
    println!(
        "import (parse, validate every ring and overlap, write {} grids with their record entries, rebuild the index, report uncovered parts): {:.2} s",
        report.outcome.added + report.outcome.revised,
        import_time.as_secs_f64()
    );

    let started = Instant::now();
    let index = app.refresh_places().await.map_err(|e| anyhow::anyhow!("index: {e}"))?;
    println!("index rebuilt from the store: {:.2} s ({} grids)", started.elapsed().as_secs_f64(), index.grid_count());

    let stored = app.store.grids().await?;
    let bounds = bounds_of(&stored)?;
    let queries = random_points(bounds, points.max(JOIN_POINTS));
    let (elapsed, found) = time_lookups(&index, &queries[..points]);
    let rate = points as f64 / elapsed.as_secs_f64();
    println!(
        "gridward lookups, one core: {points} points in {:.3} s = {:.2} M/s ({:.0} ns each), {found} inside a grid",
        elapsed.as_secs_f64(),
        rate / 1e6,
        elapsed.as_nanos() as f64 / points as f64
    );
    let (join_elapsed, _) = time_lookups(&index, &queries[..JOIN_POINTS]);
    println!("gridward over the join's {JOIN_POINTS} points: {:.3} s", join_elapsed.as_secs_f64());

    let Some(url) = postgis else {
        println!("postgis: skipped (give --postgis URL)");
        return Ok(());
    };
    let pg = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.context("connecting to PostGIS")?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis")
        .execute(&pg)
        .await
        .context("PostGIS is not available in that database")?;
    let version: String = sqlx::query_scalar("SELECT postgis_full_version()").fetch_one(&pg).await?;
    println!("postgis: {}", version.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    load_postgis(&pg, &stored, &queries[..JOIN_POINTS]).await?;

    let sample = &queries[..POSTGIS_SINGLE_QUERIES.min(points)];
    let started = Instant::now();
    let mut disagreements = 0;
    for (lon, lat) in sample {
        let code: Option<String> = sqlx::query_scalar(
            "SELECT code FROM bench_grids WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1",
        )
        .bind(lon)
        .bind(lat)
        .fetch_optional(&pg)
        .await?;
        if code.as_deref() != index.grid_at(*lon, *lat) {
            disagreements += 1;
        }
    }
    let single = started.elapsed();
    let single_rate = sample.len() as f64 / single.as_secs_f64();
    println!(
        "postgis, one indexed query per point: {} points in {:.2} s = {:.0}/s; answers differing from gridward's: {disagreements}",
        sample.len(),
        single.as_secs_f64(),
        single_rate
    );
    let started = Instant::now();
    let joined: i64 = sqlx::query_scalar("SELECT count(*) FROM bench_points p JOIN bench_grids g ON ST_Contains(g.geom, p.geom)")
        .fetch_one(&pg)
        .await?;
    let join = started.elapsed();
    println!("postgis, one spatial join over {JOIN_POINTS} points: {:.3} s ({joined} pairs)", join.as_secs_f64());
    println!("ratio, gridward lookups/s over postgis queries/s: {:.0}×", rate / single_rate);
    println!(
        "ratio, postgis join time over gridward's time for the same points: {:.1}×",
        join.as_secs_f64() / join_elapsed.as_secs_f64()
    );
    Ok(())
}

/// About `target` grids over every community with an outline: the lattice spacing comes from their area.
async fn synthesize(app: &App, target: usize) -> Result<(Vec<u8>, GridCodeRule, usize)> {
    let mut communities = Vec::new();
    for d in app.store.all_divisions().await? {
        if d.level != Level::Community || !d.is_valid_on(gridward_app::today()) {
            continue;
        }
        if let Some(b) = app.store.boundary(&d.code).await? {
            let shape = gridward_grid::parse_geometry(&b.geometry.to_string()).map_err(|p| anyhow::anyhow!("{p:?}"))?;
            communities.push((d.code.to_string(), shape));
        }
    }
    tokio::task::spawn_blocking(move || {
        let area: f64 = communities.iter().map(|(_, s)| gridward_grid::unit_grid::area_m2(s)).sum();
        // Clipping at community edges adds about 12 % more pieces than the area alone predicts.
        let spacing = (area / target as f64).sqrt() * 1.06;
        let lattice = Lattice::new(spacing, 32.0, 7);
        let cells: Vec<(String, Vec<geo::MultiPolygon<f64>>)> = communities
            .iter()
            .map(|(code, shape)| (code.clone(), gridward_grid::synthesize_unit_grids(shape, lattice)))
            .collect();
        let most = cells.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
        let rule = GridCodeRule::new(most.to_string().len().max(3)).map_err(anyhow::Error::msg)?;
        let mut features = Vec::new();
        for (code, shapes) in &cells {
            for (n, shape) in shapes.iter().enumerate() {
                features.push(serde_json::json!({
                    "type": "Feature",
                    "properties": {"code": rule.code(code, n + 1)},
                    "geometry": gridward_grid::grid_to_geojson(shape),
                }));
            }
        }
        let count = features.len();
        let file = serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features}))?;
        Ok::<_, anyhow::Error>((file, rule, count))
    })
    .await?
}

fn bounds_of(grids: &[gridward_store::GridRecord]) -> Result<geo::Rect<f64>> {
    let mut rect: Option<geo::Rect<f64>> = None;
    for g in grids {
        let shape = gridward_grid::parse_geometry(&g.geometry).map_err(|p| anyhow::anyhow!("{p:?}"))?;
        if let Some(r) = shape.bounding_rect() {
            rect = Some(match rect {
                None => r,
                Some(a) => geo::Rect::new(
                    geo::coord! { x: a.min().x.min(r.min().x), y: a.min().y.min(r.min().y) },
                    geo::coord! { x: a.max().x.max(r.max().x), y: a.max().y.max(r.max().y) },
                ),
            });
        }
    }
    rect.ok_or_else(|| anyhow::anyhow!("no grids"))
}

/// Uniform points over the grids' bounding box, from a fixed seed, so every run asks the same questions.
fn random_points(bounds: geo::Rect<f64>, n: usize) -> Vec<(f64, f64)> {
    let mut rng = gridward_grid::SplitMix64::from_seed(0x2545_f491_4f6c_dd1d);
    (0..n).map(|_| (bounds.min().x + rng.unit() * bounds.width(), bounds.min().y + rng.unit() * bounds.height())).collect()
}

fn time_lookups(index: &gridward_app::places::PlaceIndex, points: &[(f64, f64)]) -> (Duration, usize) {
    let started = Instant::now();
    let found = points.iter().filter(|(lon, lat)| std::hint::black_box(index.grid_at(*lon, *lat)).is_some()).count();
    (started.elapsed(), found)
}

async fn load_postgis(pg: &sqlx::PgPool, grids: &[gridward_store::GridRecord], points: &[(f64, f64)]) -> Result<()> {
    let started = Instant::now();
    for statement in [
        "DROP TABLE IF EXISTS bench_grids",
        "DROP TABLE IF EXISTS bench_points",
        "CREATE TABLE bench_grids (code TEXT PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)",
        "CREATE TABLE bench_points (id INTEGER PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)",
    ] {
        sqlx::query(statement).execute(pg).await?;
    }
    for chunk in grids.chunks(2_000) {
        let codes: Vec<String> = chunk.iter().map(|g| g.code.clone()).collect();
        let shapes: Vec<String> = chunk.iter().map(|g| g.geometry.clone()).collect();
        sqlx::query(
            "INSERT INTO bench_grids (code, geom)
             SELECT c, ST_SetSRID(ST_Multi(ST_GeomFromGeoJSON(g)), 4326) FROM UNNEST($1::text[], $2::text[]) AS t(c, g)",
        )
        .bind(codes)
        .bind(shapes)
        .execute(pg)
        .await?;
    }
    for (n, chunk) in points.chunks(10_000).enumerate() {
        let ids: Vec<i32> = (0..chunk.len()).map(|i| (n * 10_000 + i) as i32).collect();
        let xs: Vec<f64> = chunk.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = chunk.iter().map(|p| p.1).collect();
        sqlx::query(
            "INSERT INTO bench_points (id, geom)
             SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) FROM UNNEST($1::int[], $2::float8[], $3::float8[]) AS t(i, x, y)",
        )
        .bind(ids)
        .bind(xs)
        .bind(ys)
        .execute(pg)
        .await?;
    }
    sqlx::query("CREATE INDEX bench_grids_geom ON bench_grids USING GIST (geom)").execute(pg).await?;
    sqlx::query("ANALYZE bench_grids").execute(pg).await?;
    sqlx::query("ANALYZE bench_points").execute(pg).await?;
    let rows = sqlx::query("SELECT count(*) AS n FROM bench_grids").fetch_one(pg).await?;
    let n: i64 = rows.try_get("n")?;
    println!("postgis loaded: {n} grids, {} points, GiST index built, in {:.1} s", points.len(), started.elapsed().as_secs_f64());
    Ok(())
}

pub(crate) fn random_password() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
