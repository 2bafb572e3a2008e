//! `gridward bench intake`: durable public intake over HTTP. Serves the API on a loopback port in this
//! process and posts Open311 reports from keep-alive connections for a fixed time, first with one
//! transaction per report (the baseline), then with group commit (one writer batching concurrent reports
//! into one transaction). On SQLite every commit is `synchronous=FULL`: an acknowledged report has reached
//! the disk. Prints throughput and latency for each, and their ratio.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gridward_app::App;
use gridward_grid::SplitMix64;
use gridward_store::Actor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where the benchmark's reports are made. Points are drawn in a box and kept only if they lie in a
/// division of the city.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Area {
    /// The extent of the city's eight districts: reports spread as a city's do, and few repeat another.
    City,
    /// 崇川区's urban core, 160 km²: most reports lie within 50 m of an earlier one of the same service.
    Core,
}

impl Area {
    /// `(west, south, east, north)`, WGS-84.
    fn bounds(self) -> (f64, f64, f64, f64) {
        match self {
            Area::City => (120.20, 31.62, 121.98, 32.71),
            Area::Core => (120.82, 31.96, 120.95, 32.06),
        }
    }
}

/// What one run measured.
struct Run {
    label: &'static str,
    ok: usize,
    errors: usize,
    seconds: f64,
    /// Latencies of acknowledged reports, microseconds, sorted.
    latencies: Vec<u32>,
    /// Reports a second in each tenth of the run.
    rates: Vec<String>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies[i]) / 1000.0
    }
    fn print(&self) {
        println!(
            "{:<28} {:>8} reports in {:>5.1} s = {:>7.0}/s   p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>7.1} ms   errors {}",
            self.label,
            self.ok,
            self.seconds,
            self.rate(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.latencies.last().map_or(f64::NAN, |m| f64::from(*m) / 1000.0),
            self.errors
        );
        println!("{:<28} by tenths of the run: {} reports/s", "", self.rates.join(" "));
    }
}

pub async fn run(app: &App, seconds: u64, connections: usize, area: Area) -> Result<()> {
    if app.store.count_reports(&Default::default()).await? > 0 {
        bail!("the benchmark needs a new --data-dir (or an empty database)");
    }
    let started = Instant::now();
    app.load_demo_city(&crate::grid_bench::random_password()?)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo city: {e}"))?;
    let key = app.issue_open311_key_as("bench", "", &Actor::new("bench", "system")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let points = city_points(app, area, 1_000_000, 0x1ae7).await?;
    println!(
        "demo city loaded in {:.1} s; {} points in the city ({area:?}); {connections} connections, {seconds} s a run; backend {:?}",
        started.elapsed().as_secs_f64(),
        points.len(),
        app.backend()
    );
    let points = Arc::new(points);
    writer_ceiling(app).await?;
    let baseline =
        measure(app.clone().with_group_commit(false), "one transaction per report", &key, &points, seconds, connections, 0)
            .await?;
    baseline.print();
    let grouped = measure(app.clone().with_group_commit(true), "group commit", &key, &points, seconds, connections, 1).await?;
    grouped.print();
    println!("group commit / baseline: {:.2}× the throughput", grouped.rate() / baseline.rate());
    let stored = app.store.count_reports(&Default::default()).await?;
    let duplicates =
        gridward_store::ReportQuery { states: vec![gridward_domain::report::ReportState::Duplicate], ..Default::default() };
    let duplicates = app.store.count_reports(&duplicates).await?;
    println!("reports stored: {stored}, {duplicates} of them duplicates (acknowledged: {})", baseline.ok + grouped.ok);
    Ok(())
}

/// Random points inside the city's divisions, so that every post is placed.
async fn city_points(app: &App, area: Area, n: usize, seed: u64) -> Result<Vec<(f64, f64)>> {
    let places = app.places().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = SplitMix64::from_seed(seed);
    let (x0, y0, x1, y1) = area.bounds();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (lon, lat) = (x0 + rng.unit() * (x1 - x0), y0 + rng.unit() * (y1 - y0));
        // The index is in GCJ-02; posts give WGS-84.
        let (gx, gy) = gridward_grid::Datum::Wgs84.convert(places.datum, lon, lat);
        if places.place_at(gx, gy).is_some() {
            out.push((lon, lat));
        }
    }
    Ok(out)
}

async fn measure(
    app: App,
    label: &'static str,
    key: &str,
    points: &Arc<Vec<(f64, f64)>>,
    seconds: u64,
    connections: usize,
    half: usize,
) -> Result<Run> {
    // Every limit off: the benchmark is one client posting a city's worth of reports.
    let limits = gridward_web::limits::RateLimits { per_key: 0, per_address: 0, per_device: 0 };
    let state = gridward_web::AppState::new(app.clone(), false, false).with_rate_limits(limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop_server = Arc::new(tokio::sync::Notify::new());
    let stopped = stop_server.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, gridward_web::router(state)).with_graceful_shutdown(async move { stopped.notified().await }).await
    });
    // The record's tree is extended while reports arrive, as the server does.
    let integrating = Arc::new(AtomicBool::new(true));
    let integrator = {
        let (app, on) = (app.clone(), integrating.clone());
        tokio::spawn(async move {
            while on.load(Ordering::Relaxed) {
                let _ = app.ledger_head().await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let load = Arc::new(Load {
        addr,
        key: key.to_string(),
        points: points.clone(),
        connections,
        half,
        deadline,
        acknowledged: AtomicUsize::new(0),
    });
    let clients: Vec<_> = (0..connections)
        .map(|index| {
            let load = load.clone();
            tokio::spawn(async move { client(&load, index).await })
        })
        .collect();
    // A long run shows its rate over each tenth, so a slowdown as the database grows can be seen.
    let progress = {
        let (load, tenth) = (load.clone(), Duration::from_secs(seconds).max(Duration::from_secs(10)) / 10);
        tokio::spawn(async move {
            let mut rates = Vec::new();
            let mut before = 0;
            while Instant::now() + tenth <= deadline + Duration::from_millis(100) {
                tokio::time::sleep(tenth).await;
                let now = load.acknowledged.load(Ordering::Relaxed);
                rates.push(format!("{:.0}", (now - before) as f64 / tenth.as_secs_f64()));
                before = now;
            }
            rates
        })
    };
    let (mut ok, mut errors, mut latencies) = (0, 0, Vec::new());
    for c in clients {
        let (o, e, l) = c.await??;
        ok += o;
        errors += e;
        latencies.extend(l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rates = progress.await?;
    integrating.store(false, Ordering::Relaxed);
    integrator.await?;
    stop_server.notify_one();
    server.await??;
    latencies.sort_unstable();
    Ok(Run { label, ok, errors, seconds: elapsed, latencies, rates })
}

/// What every connection of a run shares.
struct Load {
    addr: std::net::SocketAddr,
    key: String,
    points: Arc<Vec<(f64, f64)>>,
    connections: usize,
    /// Which half of the points this run posts.
    half: usize,
    deadline: Instant,
    /// Reports acknowledged so far, by all connections.
    acknowledged: AtomicUsize,
}

/// One keep-alive connection posting reports until the deadline, each at the next point of its own slice
/// of the points.
async fn client(load: &Load, index: usize) -> Result<(usize, usize, Vec<u32>)> {
    let Load { addr, ref key, ref points, connections, half, deadline, ref acknowledged } = *load;
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let services = ["0101", "0201", "0301", "0401", "0402", "1101", "1102", "0104"];
    let (mut ok, mut errors, mut latencies) = (0usize, 0usize, Vec::new());
    let mut buf = vec![0u8; 16 * 1024];
    let mut n = 0usize;
    while Instant::now() < deadline {
        // Points alternate between the two runs' halves of the list, so the second run does not meet the
        // first one's reports. A run that posts more than its half comes round again and meets its own:
        // those reports are duplicates, as the end of the benchmark counts.
        let slot = (n * connections + index) * 2 + half;
        let (lon, lat) = points[slot % points.len()];
        let service = services[slot % services.len()];
        let body = format!("api_key={key}&service_code={service}&lat={lat:.7}&long={lon:.7}&description=bench+{slot}");
        let request = format!(
            "POST /open311/v2/requests.json HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        stream.write_all(request.as_bytes()).await?;
        let (status, reply) = read_response(&mut stream, &mut buf).await.context("reading a reply")?;
        let took = sent.elapsed();
        if status == 200 && reply.contains("service_request_id") {
            ok += 1;
            acknowledged.fetch_add(1, Ordering::Relaxed);
            latencies.push(took.as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            errors += 1;
            if errors <= 3 {
                eprintln!("status {status}: {reply}");
            }
        }
        n += 1;
    }
    Ok((ok, errors, latencies))
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status and body.
async fn read_response(stream: &mut TcpStream, buf: &mut [u8]) -> Result<(u16, String)> {
    let mut have = 0usize;
    loop {
        if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end])?;
            let status: u16 = head.split(' ').nth(1).context("status line")?.parse()?;
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .context("content-length")?
                .parse()?;
            let total = end + 4 + length;
            if total > buf.len() {
                bail!("reply larger than the buffer");
            }
            while have < total {
                let n = stream.read(&mut buf[have..]).await?;
                if n == 0 {
                    bail!("connection closed mid-reply");
                }
                have += n;
            }
            return Ok((status, String::from_utf8_lossy(&buf[end + 4..total]).into_owned()));
        }
        let n = stream.read(&mut buf[have..]).await?;
        if n == 0 {
            bail!("connection closed");
        }
        have += n;
    }
}

/// The store alone, with nothing else running: batches of 32 reports written back to back through the same
/// `submit_reports` the group-commit writer calls. The ceiling intake over HTTP approaches.
async fn writer_ceiling(app: &App) -> Result<()> {
    let nothing = gridward_app::reports::NewReport { service_code: "0101".into(), ..Default::default() };
    let template = app.store.reports(&gridward_store::ReportQuery { limit: 1, ..Default::default() }).await?.into_iter().next();
    let template = match template {
        Some(t) => t,
        None => {
            // One report through the front door gives a realistic record to copy.
            let (lon, lat) = city_points(app, Area::City, 1, 0x1ae7).await?[0];
            let first = gridward_app::reports::NewReport { lon: Some(lon), lat: Some(lat), ..nothing };
            let made = app
                .submit_report(&gridward_app::reports::Submitter::Client("bench".into()), first)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            app.store.report(made.id).await?.context("the first report")?
        }
    };
    let change = gridward_store::Change { actor: Actor::new("bench", "system"), at: gridward_app::now() };
    let rounds = 100;
    // Points of their own, as the runs' reports have, so that the duplicate search finds what it would.
    let points = city_points(app, Area::City, 32 * rounds, 0xce11).await?;
    let batches: Vec<Vec<_>> = points
        .chunks(32)
        .enumerate()
        .map(|(round, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, &(lon, lat))| gridward_store::ReportRecord {
                    token: format!("{round:08x}{i:024x}"),
                    lon: Some(lon),
                    lat: Some(lat),
                    ..template.clone()
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    for batch in &batches {
        app.store.submit_reports(batch, Some(app.duplicate_rule()), &change).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "store alone: {} reports in batches of 32 in {seconds:.2} s = {:.0}/s ({:.0} µs a report)",
        rounds * 32,
        (rounds * 32) as f64 / seconds,
        seconds * 1e6 / (rounds * 32) as f64
    );
    Ok(())
}
