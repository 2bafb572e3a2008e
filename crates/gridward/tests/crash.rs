//! Kill -9 during a stream of writes: after a restart the record verifies and every acknowledged write is
//! there. Runs the real binary on an embedded database in a temporary directory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gridward");
const PASSWORD: &str = "crash-test-password";

fn gridward(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).env("GRIDWARD_DEMO_PASSWORD", PASSWORD).env_remove("GRIDWARD_DB");
    c
}

/// Starts `serve` on a free port and returns it with its address once it is ready.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = gridward(dir)
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.strip_prefix("Gridward is ready at http://") {
            let addr = rest.split('/').next().unwrap_or_default().to_string();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (child, addr);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

/// One HTTP/1.1 request; the status code and body.
fn request(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

#[test]
fn acknowledged_writes_survive_kill_9_and_the_record_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = serve(dir.path());
    let (status, body) =
        request(&addr, "POST", "/api/v1/session", None, &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#)).unwrap();
    assert_eq!(status, 200, "{body}");
    let token = body.split("\"token\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();

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
