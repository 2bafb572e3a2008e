//! Kill -9 during a stream of writes: after a restart the record verifies and every acknowledged write is
//! there. Runs the real binary on an embedded database in a temporary directory.

mod common;

use std::time::Duration;

use common::{gridward, request, serve, sign_in};

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
