//! Running the real binary in tests: a server on a free port in a temporary data directory, and plain
//! HTTP requests to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gridward");
pub const PASSWORD: &str = "crash-test-password";

pub fn gridward(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).env("GRIDWARD_DEMO_PASSWORD", PASSWORD).env_remove("GRIDWARD_DB");
    c
}

/// Starts `serve` on a free port and returns it with its address once it is ready.
pub fn serve(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = gridward(dir)
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .args(extra)
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

/// One HTTP/1.1 request with a JSON body; the status code and body.
pub fn request(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> Option<(u16, String)> {
    request_as(addr, method, path, token, "application/json", body)
}

/// One HTTP/1.1 request with a body of the given type; the status code and body.
pub fn request_as(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// Signs in and returns the bearer token.
pub fn sign_in(addr: &str, username: &str) -> String {
    let (status, body) =
        request(addr, "POST", "/api/v1/session", None, &format!(r#"{{"username":"{username}","password":"{PASSWORD}"}}"#))
            .unwrap();
    assert_eq!(status, 200, "{body}");
    body.split("\"token\":\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

/// Stops a server the hard way.
pub fn kill(mut server: Child) {
    let _ = server.kill();
    let _ = server.wait();
}
