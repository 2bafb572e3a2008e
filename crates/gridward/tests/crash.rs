//! Kill -9 during a stream of writes: after a restart the record verifies and every acknowledged write is
//! there. Runs the real binary on an embedded database in a temporary directory.

mod common;

use std::time::Duration;

use common::{gridward, request, request_as, serve, sign_in};

#[test]
fn acknowledged_writes_survive_kill_9_and_the_record_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = serve(dir.path(), &[]);
    let token = sign_in(&addr, "admin");

    // A writer creates accounts as fast as it can; the server is killed while it runs.
    let writer_addr = addr.clone();
    let writer = std::thread::spawn(move || {
        let mut acknowledged = Vec::new();
        for i in 0..10_000 {
            let name = format!("crash.user{i}");
            let body = format!(
                r#"{{"username":"{name}","display_name":"x","password":"a-long-password","roles":["dispatcher"],"scope":"320600000000"}}"#
            );
            match request(&writer_addr, "POST", "/api/v1/users", Some(&token), &body) {
                Some((201, _)) => acknowledged.push(name),
                _ => break,
            }
        }
        acknowledged
    });
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush.
    server.wait().unwrap();
    let acknowledged = writer.join().unwrap();
    assert!(acknowledged.len() >= 3, "the writer should have been acknowledged a few times before the kill");

    let verify = gridward(dir.path()).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    let users = gridward(dir.path()).args(["users", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&users.stdout);
    for name in &acknowledged {
        assert!(listed.lines().any(|l| l.starts_with(&format!("{name}\t"))), "{name} was acknowledged but is gone");
    }
}

/// Kill -9 while Open311 clients post reports through group commit: after a restart every report that was
/// given a `service_request_id` is there, and the record verifies.
#[test]
fn acknowledged_reports_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = serve(dir.path(), &["--rate-per-key", "0"]);
    let admin = sign_in(&addr, "admin");
    let (status, body) = request(&addr, "POST", "/api/v1/open311-keys", Some(&admin), r#"{"name":"crash-client"}"#).unwrap();
    assert_eq!(status, 200, "{body}");
    let key = body.split("\"api_key\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    // Points around the middle of 钟秀街道's first community, 70 m apart, so that no two are duplicates.
    let (status, outline) = request(&addr, "GET", "/api/v1/divisions/320613007001/boundary", Some(&admin), "").unwrap();
    assert_eq!(status, 200, "{outline}");
    let outline: serde_json::Value = serde_json::from_str(&outline).unwrap();
    let ring = outline["geometry"]["coordinates"][0][0].as_array().unwrap().clone();
    let (x, y) = ring.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap(), y + p[1].as_f64().unwrap()));
    let (lon, lat) =
        gridward_grid::Datum::Gcj02.convert(gridward_grid::Datum::Wgs84, x / ring.len() as f64, y / ring.len() as f64);

    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (addr, key) = (addr.clone(), key.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0..2_000 {
                    let n = i * 8 + w;
                    let (dx, dy) = ((n % 40) as f64 - 20.0, (n / 40 % 40) as f64 - 20.0);
                    let body = format!("api_key={key}&service_code=0101&lat={}&long={}", lat + dy * 0.0007, lon + dx * 0.0007);
                    let reply =
                        request_as(&addr, "POST", "/open311/v2/requests.json", None, "application/x-www-form-urlencoded", &body);
                    match reply {
                        Some((200, body)) => {
                            let id =
                                body.split("\"service_request_id\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
                            acknowledged.push(id);
                        }
                        // A point outside the city is refused; that is not a failure of the server.
                        Some((400, _)) => {}
                        _ => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2000));
    common::kill(server); // SIGKILL: no shutdown, no flush.
    let acknowledged: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(acknowledged.len() >= 20, "reports should have been acknowledged before the kill: {}", acknowledged.len());

    let verify = gridward(dir.path()).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    let (server, addr) = serve(dir.path(), &[]);
    for chunk in acknowledged.chunks(200) {
        let path = format!("/open311/v2/requests.json?service_request_id={}", chunk.join(","));
        let (status, body) = request(&addr, "GET", &path, None, "").unwrap();
        assert_eq!(status, 200, "{body}");
        let found: serde_json::Value = serde_json::from_str(&body).unwrap();
        let found: Vec<&str> = found.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
        for id in chunk {
            assert!(found.contains(&id.as_str()), "report {id} was acknowledged but is gone");
        }
    }
    common::kill(server);
}
