//! An outside witness cosigns heads that extend the one it cosigned last, and refuses a truncated record.
//! Runs the real binary: a server, and a witness with its own data directory.

mod common;

use common::{gridward, kill, request, serve, sign_in};

fn witness(dir: &std::path::Path, addr: &str) -> std::process::Output {
    gridward(dir).args(["witness", "--name", "procuratorate", "--server", &format!("http://{addr}")]).output().unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Removes the newest ledger entries behind the server's back, as someone with database access could.
async fn truncate(db: &std::path::Path, keep: i64) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    for sql in [
        "DROP TRIGGER ledger_entries_no_delete".to_string(),
        "DROP TRIGGER ledger_nodes_no_delete".to_string(),
        "DROP TRIGGER ledger_state_only_grows".to_string(),
        "DROP TRIGGER users_recorded_update".to_string(),
        "DROP TRIGGER users_no_delete".to_string(),
        format!("DELETE FROM users WHERE ledger_seq >= {keep}"),
        format!("DELETE FROM ledger_entries WHERE seq >= {keep}"),
        format!("DELETE FROM ledger_nodes WHERE idx * (1 << level) + (1 << level) > {keep}"),
        // The frontier of the shorter tree, as a careful forger would leave it.
        format!(
            "UPDATE ledger_state SET size = {keep}, frontier = (SELECT group_concat(hash, ',') FROM (SELECT hash FROM ledger_nodes
             WHERE (level, idx) IN ({}) ORDER BY level DESC))",
            gridward_ledger::root_plan(keep as u64).iter().map(|id| format!("({}, {})", id.level, id.index)).collect::<Vec<_>>().join(", ")
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_growth_and_refuses_truncation() {
    let server_dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    let shown = gridward(witness_dir.path()).args(["witness", "--name", "procuratorate", "--show-key"]).output().unwrap();
    let witness_key = String::from_utf8(shown.stdout).unwrap().trim().to_string();
    assert!(witness_key.starts_with("procuratorate=04"), "{witness_key}");

    let (server, addr) = serve(server_dir.path(), &["--witness", &witness_key]);
    let first = witness(witness_dir.path(), &addr);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("cosigned"));

    // The record grows; the witness checks the consistency proof and cosigns again.
    let admin = sign_in(&addr, "admin");
    let body = r#"{"username":"grown.user","display_name":"x","password":"a-long-password","roles":["dispatcher"],"scope":"320600000000"}"#;
    assert_eq!(request(&addr, "POST", "/api/v1/users", Some(&admin), body).unwrap().0, 201);
    assert_eq!(request(&addr, "POST", "/api/v1/ledger/checkpoint", Some(&admin), "{}").unwrap().0, 200);
    let second = witness(witness_dir.path(), &addr);
    assert!(second.status.success(), "{}", text(&second));
    let (_, page) = request(&addr, "GET", "/transparency", None, "").unwrap();
    assert!(page.contains("procuratorate:"), "the cosignature is published");
    kill(server);

    // Someone removes the newest entries; the restarted server signs the shorter head; the witness refuses.
    truncate(&server_dir.path().join("gridward.db"), 100).await;
    let (server, addr) = serve(server_dir.path(), &["--witness", &witness_key]);
    let third = witness(witness_dir.path(), &addr);
    kill(server);
    assert!(!third.status.success(), "{}", text(&third));
    assert!(text(&third).contains("REFUSED") && text(&third).contains("truncated"), "{}", text(&third));

    // The installation's own audit sees it too, against the heads it and the witness signed.
    let audit = gridward(server_dir.path()).args(["audit", "verify", "--witness", &witness_key]).output().unwrap();
    assert!(!audit.status.success());
    assert!(text(&audit).contains("checkpoint_ahead"), "{}", text(&audit));
}
