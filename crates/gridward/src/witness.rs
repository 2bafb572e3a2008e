//! `gridward witness`: an outside body (the procuratorate, the upper-level government) watches an
//! installation's record. Each run fetches the newest signed head, checks it only extends the head this
//! witness cosigned last, cosigns it and hands the cosignature back. Any inconsistency is refused loudly
//! and nothing is cosigned.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use gridward_ledger::{CheckpointKey, ConsistencyProof, WitnessState, judge};
use gridward_store::StoredCheckpoint;
use serde::de::DeserializeOwned;

const KEY_FILE: &str = "witness-key.sm2";
const STATE_FILE: &str = "witness-state.json";

/// A plain-HTTP endpoint (`http://host:port`). TLS is left to a terminator next to the witness.
struct Server {
    authority: String,
}

impl Server {
    fn parse(url: &str) -> Result<Server> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            anyhow!("only http:// server URLs are supported; reach an https:// server through a local TLS terminator")
        })?;
        let authority = rest.trim_end_matches('/').to_string();
        if authority.is_empty() || authority.contains('/') {
            bail!("give the server as http://host:port");
        }
        Ok(Server { authority })
    }

    /// One HTTP/1.0 exchange (so the reply is never chunked); the status and body.
    fn exchange(&self, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String)> {
        let mut stream = TcpStream::connect(&self.authority).with_context(|| format!("connecting to {}", self.authority))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.authority,
            body.len()
        );
        stream.write_all(request.as_bytes())?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        let reply = String::from_utf8(reply).context("the server's reply is not UTF-8")?;
        let (head, body) = reply.split_once("\r\n\r\n").ok_or_else(|| anyhow!("malformed HTTP reply"))?;
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| anyhow!("malformed HTTP status line"))?;
        Ok((status, body.to_string()))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let (status, body) = self.exchange("GET", path, None)?;
        if status != 200 {
            bail!("GET {path} answered {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("GET {path} returned something unexpected"))
    }
}

fn load_or_create_key(dir: &Path) -> Result<CheckpointKey> {
    let file = dir.join(KEY_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => CheckpointKey::from_secret_hex(&text).with_context(|| format!("reading {}", file.display())),
        Err(_) => {
            std::fs::create_dir_all(dir)?;
            let key = CheckpointKey::generate()?;
            crate::write_private(&file, &key.secret_hex())?;
            Ok(key)
        }
    }
}

/// Prints the witness's public key, for the installation's `--witness NAME=KEY`.
pub fn show_key(dir: &Path, name: &str) -> Result<()> {
    let key = load_or_create_key(dir)?;
    println!("{name}={}", key.public_key_hex());
    Ok(())
}

#[derive(serde::Deserialize)]
struct PublishedKey {
    origin: String,
    public_key: String,
}

/// One witnessing round: fetch, judge, cosign, hand back, remember.
pub fn witness_once(dir: &Path, name: &str, url: &str, pinned_key: Option<&str>) -> Result<()> {
    let server = Server::parse(url)?;
    let key = load_or_create_key(dir)?;
    let state_file: PathBuf = dir.join(STATE_FILE);
    let published: PublishedKey = server.get("/.well-known/gridward-ledger-key")?;
    let mut state = match std::fs::read_to_string(&state_file) {
        Ok(text) => serde_json::from_str::<WitnessState>(&text).with_context(|| format!("reading {}", state_file.display()))?,
        Err(_) => {
            if let Some(expected) = pinned_key
                && expected != published.public_key
            {
                bail!("REFUSED: the server publishes a different key than the one given with --server-key");
            }
            WitnessState { origin: published.origin.clone(), server_public_key: published.public_key.clone(), last: None }
        }
    };
    if published.public_key != state.server_public_key || published.origin != state.origin {
        bail!("REFUSED: the server now publishes another key or origin than the one this witness pinned");
    }
    let latest: StoredCheckpoint = server.get("/api/v1/ledger/checkpoint")?;
    let proof: Option<ConsistencyProof> = match &state.last {
        Some(last) if latest.checkpoint.head.size > last.head.size => {
            Some(server.get(&format!("/api/v1/ledger/consistency?from={}&to={}", last.head.size, latest.checkpoint.head.size))?)
        }
        _ => None,
    };
    judge(&state, &latest.checkpoint, &latest.signature, proof.as_ref()).map_err(|refusal| anyhow!("REFUSED: {refusal}"))?;
    let cosignature = key.sign(&state.origin, &latest.checkpoint, name);
    let cosigned = StoredCheckpoint { origin: state.origin.clone(), checkpoint: latest.checkpoint, signature: cosignature };
    let (status, body) = server.exchange("POST", "/api/v1/ledger/cosignatures", Some(&serde_json::to_string(&cosigned)?))?;
    if status != 204 {
        bail!("the server did not take the cosignature ({status}): {body}");
    }
    state.last = Some(latest.checkpoint);
    let tmp = state_file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&state)?)?;
    std::fs::rename(&tmp, &state_file)?;
    let head = latest.checkpoint.head;
    println!("cosigned {} at {} entries, root {}", state.origin, head.size, head.root);
    Ok(())
}
