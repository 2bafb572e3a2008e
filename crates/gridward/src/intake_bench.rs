//! `gridward bench intake`: durable public intake over HTTP. Serves the API on a loopback port in this
//! process and posts Open311 reports from keep-alive connections for a fixed time, first with one
//! transaction per report (the baseline), then with group commit (one writer batching concurrent reports
//! into one transaction). On SQLite every commit is `synchronous=FULL`: an acknowledged report has reached
//! the disk. Prints throughput and latency for each, and their ratio.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gridward_app::App;
use gridward_grid::SplitMix64;
use gridward_store::Actor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Points drawn in 崇川区's urban core; each is kept only if it lies in a division of the city.
const AREA: (f64, f64, f64, f64) = (120.82, 31.96, 120.95, 32.06);

/// What one run measured.
struct Run {
    label: &'static str,
    ok: usize,
    errors: usize,
    seconds: f64,
    /// Latencies of acknowledged reports, microseconds, sorted.
    latencies: Vec<u32>,
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
    }
}

pub async fn run(app: &App, seconds: u64, connections: usize) -> Result<()> {
    if app.store.count_reports(&Default::default()).await? > 0 {
        bail!("the benchmark needs a new --data-dir (or an empty database)");
    }
    let started = Instant::now();
    app.load_demo_city(&crate::grid_bench::random_password()?)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo city: {e}"))?;
    let key = app.issue_open311_key_as("bench", "", &Actor::new("bench", "system")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let points = city_points(app, 200_000).await?;
    println!(
        "demo city loaded in {:.1} s; {} points in the city; {connections} connections, {seconds} s a run; backend {:?}",
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
    println!("reports stored: {stored} (acknowledged: {})", baseline.ok + grouped.ok);
    Ok(())
}

/// Random points inside the city's divisions, so that every post is placed.
async fn city_points(app: &App, n: usize) -> Result<Vec<(f64, f64)>> {
    let places = app.places().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = SplitMix64::from_seed(0x1ae7);
    let (x0, y0, x1, y1) = AREA;
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
    let mut clients = Vec::new();
    for c in 0..connections {
        let (key, points) = (key.to_string(), points.clone());
        clients.push(tokio::spawn(async move { client(addr, &key, &points, c, connections, half, deadline).await }));
    }
    let (mut ok, mut errors, mut latencies) = (0, 0, Vec::new());
    for c in clients {
        let (o, e, l) = c.await??;
        ok += o;
        errors += e;
        latencies.extend(l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    integrating.store(false, Ordering::Relaxed);
    integrator.await?;
    stop_server.notify_one();
    server.await??;
    latencies.sort_unstable();
    Ok(Run { label, ok, errors, seconds: elapsed, latencies })
}

/// One keep-alive connection posting reports until the deadline; its own slice of the points, so that no
/// two posts are duplicates of each other.
async fn client(
    addr: std::net::SocketAddr,
    key: &str,
    points: &[(f64, f64)],
    index: usize,
    connections: usize,
    half: usize,
    deadline: Instant,
) -> Result<(usize, usize, Vec<u32>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let services = ["0101", "0201", "0301", "0401", "0402", "1101", "1102", "0104"];
    let (mut ok, mut errors, mut latencies) = (0usize, 0usize, Vec::new());
    let mut buf = vec![0u8; 16 * 1024];
    let mut n = 0usize;
    while Instant::now() < deadline {
        // Points alternate between the two runs' halves of the list, so the second run meets no duplicates.
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
            let (lon, lat) = city_points(app, 1).await?[0];
            let first = gridward_app::reports::NewReport { lon: Some(lon), lat: Some(lat), ..nothing };
            let made = app
                .submit_report(&gridward_app::reports::Submitter::Client("bench".into()), first)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            app.store.report(made.id).await?.context("the first report")?
        }
    };
    let change = gridward_store::Change { actor: Actor::new("bench", "system"), at: gridward_app::now() };
    let batch: Vec<_> =
        (0..32).map(|i| gridward_store::ReportRecord { token: format!("{:032x}", i), ..template.clone() }).collect();
    let started = Instant::now();
    let rounds = 100;
    for round in 0..rounds {
        let batch: Vec<_> = batch
            .iter()
            .map(|r| gridward_store::ReportRecord { token: format!("{round:08x}{}", &r.token[8..]), ..r.clone() })
            .collect();
        app.store.submit_reports(&batch, &change).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "store alone: {} reports in batches of 32 in {seconds:.2} s = {:.0}/s ({:.0} µs a report)",
        rounds * 32,
        f64::from(rounds * 32) / seconds,
        seconds * 1e6 / f64::from(rounds * 32)
    );
    Ok(())
}
