//! The full-process record from the outside: recomputing and checking everything the ledger stores.

use std::collections::BTreeMap;

use gridward_grid::unit_grid::par_map;
use gridward_ledger::{
    BUNDLE_FORMAT, Checkpoint, CheckpointKey, ConsistencyProof, EntryProofBundle, Hash, InclusionProof, MerkleTree, NodeId,
    NodeStore, SM2_DISTINGUISHING_ID, TreeHead, consistency_plan, inclusion_plan, root_plan, verify_checkpoint,
};
use gridward_store::StoredCheckpoint;
use gridward_store::ledger::entries_in_page;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, AppResult};

/// Entries are read and checked this many at a time, so memory stays flat however long the ledger is.
const VERIFY_PAGE: u32 = 10_000;

/// One thing found wrong with the stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The first entry the problem concerns, when it concerns one.
    pub seq: Option<u64>,
    /// A stable code: `payload_mismatch`, `leaf_mismatch`, `seq_gap`, `node_mismatch`, `node_missing`,
    /// `size_mismatch`, `root_mismatch`, `checkpoint_signature`, `checkpoint_ahead`, `checkpoint_mismatch`.
    pub code: &'static str,
    pub message: String,
}

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The head as stored (from the stored size and frontier nodes).
    pub stored_head: TreeHead,
    /// The head recomputed from the entries alone.
    pub recomputed_head: TreeHead,
    pub entries_checked: u64,
    /// Signed checkpoints whose signature and root were checked.
    pub checkpoints_checked: u64,
    /// Problems in the order found; the first names the first bad entry.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Remembers the nodes the recomputed tree writes, so they can be compared with the stored ones.
#[derive(Default)]
struct Recomputed {
    frontier: BTreeMap<NodeId, Hash>,
    written: Vec<(NodeId, Hash)>,
}

impl NodeStore for Recomputed {
    fn get(&self, id: NodeId) -> Option<Hash> {
        self.frontier.get(&id).copied()
    }

    fn put(&mut self, id: NodeId, hash: Hash) {
        self.written.push((id, hash));
    }
}

/// The checkpoint signing key and the name it signs as.
pub struct Signer {
    pub key: CheckpointKey,
    pub origin: String,
}

/// The public half of the signing key, as published.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedKey {
    pub origin: String,
    pub algorithm: &'static str,
    pub distinguishing_id: &'static str,
    /// SEC1 uncompressed point, hex.
    pub public_key: String,
    pub key_id: String,
}

/// A cap on how many findings are listed, so a wholly rewritten ledger still gives a readable report.
const MAX_FINDINGS: usize = 100;

impl App {
    /// The current signed-or-not tree head of the record.
    pub async fn ledger_head(&self) -> AppResult<TreeHead> {
        self.store.ledger_head().await?.ok_or_else(|| AppError::Internal("the ledger was never created".into()))
    }

    fn signer(&self) -> AppResult<&Signer> {
        // An installation without a key signs nothing; to callers that is simply absent.
        self.signer.as_deref().ok_or(AppError::NotFound("checkpoint signing key"))
    }

    /// The public key checkpoints are signed with.
    pub fn published_key(&self) -> AppResult<PublishedKey> {
        let signer = self.signer()?;
        Ok(PublishedKey {
            origin: signer.origin.clone(),
            algorithm: "sm2",
            distinguishing_id: SM2_DISTINGUISHING_ID,
            public_key: signer.key.public_key_hex(),
            key_id: signer.key.key_id(),
        })
    }

    /// Signs the current head, unless the newest checkpoint already states it.
    pub async fn sign_checkpoint(&self) -> AppResult<StoredCheckpoint> {
        let signer = self.signer()?;
        let head = self.ledger_head().await?;
        if let Some(latest) = self.store.checkpoints_by(&signer.origin, 1).await?.pop()
            && latest.checkpoint.head == head
        {
            return Ok(latest);
        }
        let checkpoint = Checkpoint { head, signed_at: crate::now() };
        let signature = signer.key.sign(&signer.origin, &checkpoint, &signer.origin);
        let stored = StoredCheckpoint { origin: signer.origin.clone(), checkpoint, signature };
        self.store.add_checkpoint(&stored).await?;
        Ok(stored)
    }

    /// The newest checkpoint this server signed, if any.
    pub async fn latest_checkpoint(&self) -> AppResult<Option<StoredCheckpoint>> {
        let signer = self.signer()?;
        Ok(self.store.checkpoints_by(&signer.origin, 1).await?.pop())
    }

    /// A self-contained proof that entry `seq` is in the record, up to a freshly signed checkpoint.
    pub async fn prove_entry(&self, seq: u64) -> AppResult<EntryProofBundle> {
        let stored = self
            .store
            .ledger_entries(seq, 1)
            .await?
            .into_iter()
            .find(|e| e.entry.seq == seq)
            .ok_or(AppError::NotFound("entry"))?;
        let signed = self.sign_checkpoint().await?;
        let head = signed.checkpoint.head;
        let plan = inclusion_plan(seq, head.size).map_err(|e| AppError::Internal(e.to_string()))?;
        let ids: Vec<NodeId> = plan.node_ids().collect();
        let nodes = self.store.ledger_nodes(&ids).await?;
        let path = plan.assemble(head.algorithm, |id| nodes.get(&id).copied()).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(EntryProofBundle {
            format: BUNDLE_FORMAT.to_string(),
            origin: signed.origin,
            entry: stored.entry,
            payload: stored.payload,
            inclusion: InclusionProof { algorithm: head.algorithm, leaf_index: seq, tree_size: head.size, path },
            checkpoint: signed.checkpoint,
            signature: signed.signature,
            public_key: self.signer()?.key.public_key_hex(),
        })
    }

    /// The proof for entry `seq`, if it concerns the caller's territory (otherwise "not found").
    pub async fn prove_entry_as(&self, who: &gridward_domain::access::Principal, seq: u64) -> AppResult<EntryProofBundle> {
        let bundle = self.prove_entry(seq).await?;
        let inside = gridward_domain::division::DivisionCode::parse(&bundle.entry.jurisdiction).is_ok_and(|d| who.covers(&d));
        if inside { Ok(bundle) } else { Err(AppError::NotFound("entry")) }
    }

    /// Takes a witness's cosignature of one of this server's heads. The witness must be configured, its
    /// signature must hold, and the head must be the record's at that size; a repeat is accepted quietly.
    pub async fn accept_cosignature(&self, cosigned: StoredCheckpoint) -> AppResult<()> {
        let signer = self.signer()?;
        let witness = &cosigned.signature.signer;
        let Some(public_key) = self.witnesses.get(witness) else {
            return Err(AppError::bad_request("unknown_witness", format!("{witness:?} is not a witness of this installation")));
        };
        if cosigned.origin != signer.origin {
            return Err(AppError::bad_request("wrong_origin", format!("this installation signs as {:?}", signer.origin)));
        }
        verify_checkpoint(&cosigned.origin, &cosigned.checkpoint, &cosigned.signature, public_key)
            .map_err(|e| AppError::bad_request("bad_cosignature", e.to_string()))?;
        let head = self.ledger_head().await?;
        let size = cosigned.checkpoint.head.size;
        if size > head.size || self.root_at(&head, size).await?.root != cosigned.checkpoint.head.root {
            return Err(AppError::bad_request("unknown_head", format!("the record never had that root at {size} entries")));
        }
        let already = self.store.checkpoints_by(witness, 50).await?.into_iter().any(|c| c.checkpoint == cosigned.checkpoint);
        if !already {
            self.store.add_checkpoint(&cosigned).await?;
        }
        Ok(())
    }

    /// Cosignatures by witnesses (signers other than this server), oldest first.
    pub async fn witness_cosignatures(&self) -> AppResult<Vec<StoredCheckpoint>> {
        let own = self.signer.as_deref().map(|s| s.origin.as_str()).unwrap_or_default();
        Ok(self.store.all_checkpoints().await?.into_iter().filter(|c| c.signature.signer != own).collect())
    }

    /// The root of the record when it had `size` entries, from the stored tree.
    async fn root_at(&self, head: &TreeHead, size: u64) -> AppResult<TreeHead> {
        let plan = root_plan(size);
        let nodes = self.store.ledger_nodes(&plan).await?;
        let frontier = plan.iter().filter_map(|id| nodes.get(id).map(|h| (*id, *h))).collect();
        Ok(gridward_store::ledger::head(head.algorithm, size, frontier)?)
    }

    /// Proves that the record at `new_size` only appended to the record at `old_size`.
    pub async fn consistency_proof(&self, old_size: u64, new_size: u64) -> AppResult<ConsistencyProof> {
        let head = self.ledger_head().await?;
        if old_size > new_size || new_size > head.size {
            return Err(AppError::bad_request(
                "bad_tree_size",
                format!("sizes must satisfy old ≤ new ≤ {} (the current size)", head.size),
            ));
        }
        let plan = consistency_plan(old_size, new_size).map_err(|e| AppError::Internal(e.to_string()))?;
        let ids: Vec<NodeId> = plan.node_ids().collect();
        let nodes = self.store.ledger_nodes(&ids).await?;
        let path = plan.assemble(head.algorithm, |id| nodes.get(&id).copied()).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(ConsistencyProof { algorithm: head.algorithm, old_size, new_size, path })
    }

    /// Checks the server's checkpoints and the known witnesses' cosignatures against the recomputed
    /// record: each signature under its key, and each signed root against the record at that size. A checkpoint larger than the
    /// record means entries were removed after it was signed.
    async fn check_checkpoints(&self, recomputed: &TreeHead, findings: &mut Vec<Finding>) -> AppResult<u64> {
        let Some(signer) = self.signer.as_deref() else { return Ok(0) };
        let own = signer.key.public_key_hex();
        let mut checked = 0;
        for stored in self.store.all_checkpoints().await? {
            // The server's own signatures, and the cosignatures of witnesses this installation knows.
            let public =
                if stored.signature.signer == signer.origin { Some(&own) } else { self.witnesses.get(&stored.signature.signer) };
            let Some(public) = public else { continue };
            checked += 1;
            let cp = &stored.checkpoint;
            let size = cp.head.size;
            if verify_checkpoint(&stored.origin, cp, &stored.signature, public).is_err() {
                findings.push(Finding {
                    seq: size.checked_sub(1),
                    code: "checkpoint_signature",
                    message: format!("the checkpoint at size {size} does not carry a valid signature"),
                });
            } else if size > recomputed.size {
                findings.push(Finding {
                    seq: Some(recomputed.size),
                    code: "checkpoint_ahead",
                    message: format!("a signed checkpoint covers {size} entries but only {} remain", recomputed.size),
                });
            } else if self.root_at(recomputed, size).await?.root != cp.head.root {
                findings.push(Finding {
                    seq: size.checked_sub(1),
                    code: "checkpoint_mismatch",
                    message: format!("the record at size {size} no longer has the root its checkpoint signed"),
                });
            }
        }
        Ok(checked)
    }

    /// Recomputes every payload digest, every leaf, every stored tree node and the root from the entries
    /// alone, and compares them with what is stored. Reading runs ahead of hashing: one task reads pages of
    /// entries with the stored nodes over them while a blocking thread checks the page before.
    pub async fn verify_ledger(&self) -> AppResult<VerifyReport> {
        let stored_head = self.ledger_head().await?;
        let algorithm = stored_head.algorithm;
        let (pages, mut received) = tokio::sync::mpsc::channel::<AppResult<StoredPage>>(2);
        let store = self.store.clone();
        let size = stored_head.size;
        let reader = tokio::spawn(async move {
            // Entries written after the head was taken are left for the next verification.
            let mut from = 0u64;
            while from < size {
                let limit = VERIFY_PAGE.min(u32::try_from(size - from).unwrap_or(u32::MAX));
                let page = read_page(&store, from, limit).await;
                let more = match &page {
                    Ok(p) => p.entries.count == limit as usize,
                    Err(_) => false,
                };
                if let Ok(p) = &page
                    && let Some(last) = p.entries.last_seq
                {
                    from = last + 1;
                }
                if pages.send(page).await.is_err() || !more {
                    return;
                }
            }
        });
        let checker = tokio::task::spawn_blocking(move || -> AppResult<(MerkleTree<Recomputed>, Vec<Finding>, u64)> {
            let mut tree = MerkleTree::new(algorithm, Recomputed::default());
            let mut findings = Vec::new();
            let mut next_seq = 0u64;
            while let Some(page) = received.blocking_recv() {
                let page = page?;
                check_page(&mut tree, &page, &mut findings, &mut next_seq)?;
            }
            Ok((tree, findings, next_seq))
        });
        let (tree, mut findings, next_seq) = checker.await.map_err(|e| AppError::Internal(e.to_string()))??;
        reader.await.map_err(|e| AppError::Internal(e.to_string()))?;
        let recomputed_head = tree.head();
        if recomputed_head.size != stored_head.size {
            findings.push(Finding {
                seq: Some(recomputed_head.size.min(stored_head.size)),
                code: "size_mismatch",
                message: format!("{} entries are stored but the ledger says {}", recomputed_head.size, stored_head.size),
            });
        } else if recomputed_head.root != stored_head.root {
            findings.push(Finding {
                seq: None,
                code: "root_mismatch",
                message: "the stored tree does not match the entries".into(),
            });
        }
        // By entry; at the same entry, what is wrong with the entry itself comes before the tree nodes over it.
        let checkpoints_checked = self.check_checkpoints(&recomputed_head, &mut findings).await?;
        for (seq, code, message) in self.check_evidence_files().await? {
            findings.push(Finding { seq: Some(seq), code, message });
        }
        findings.sort_by_key(|f| (f.seq.unwrap_or(u64::MAX), f.code.starts_with("node_")));
        Ok(VerifyReport { stored_head, recomputed_head, entries_checked: next_seq, checkpoints_checked, findings })
    }
}

/// A page of entries and the stored tree nodes completed by them.
struct StoredPage {
    entries: gridward_store::ledger::EntriesPage,
    /// Per level, the stored nodes whose last leaf is one of this page's entries.
    nodes: BTreeMap<u8, BTreeMap<u64, Hash>>,
}

/// Reads up to `limit` entries from `from` on, and the stored nodes that entries `from..from + limit`
/// complete. Both reads run at once, on two connections.
async fn read_page(store: &std::sync::Arc<dyn gridward_store::Store>, from: u64, limit: u32) -> AppResult<StoredPage> {
    let last = from + u64::from(limit.max(1)) - 1;
    let (entries, nodes) = tokio::join!(store.ledger_entries_page(from, limit), completed_nodes(store, from, last));
    Ok(StoredPage { entries: entries?, nodes: nodes? })
}

/// The stored nodes completed by leaves `first..=last`, per level.
async fn completed_nodes(
    store: &std::sync::Arc<dyn gridward_store::Store>,
    first: u64,
    last: u64,
) -> AppResult<BTreeMap<u8, BTreeMap<u64, Hash>>> {
    let mut nodes = BTreeMap::new();
    // Node (level, i) is completed by leaf (i + 1)·2^level − 1.
    for level in 0u8..64 {
        let width = 1u64 << level;
        if width > last + 1 {
            break;
        }
        let (lo, hi) = ((first + width) >> level, (last + 1) >> level);
        if lo <= hi && hi > 0 {
            let stored = store.ledger_node_range(level, lo - 1, hi - 1).await?;
            nodes.insert(level, stored.into_iter().collect());
        }
    }
    Ok(nodes)
}

/// Checks one page: numbering, payload digests, and every node the recomputed tree completes against the
/// stored one.
fn check_page(
    tree: &mut MerkleTree<Recomputed>,
    page: &StoredPage,
    findings: &mut Vec<Finding>,
    next_seq: &mut u64,
) -> AppResult<()> {
    let algorithm = tree.algorithm();
    let entries = entries_in_page(&page.entries.text)?;
    // The hashing of each entry stands alone, so it is spread over the cores; the tree is built in order.
    let hashed = par_map(&entries, |stored| {
        (algorithm.digest(stored.payload.as_bytes()) == stored.entry.payload_digest, stored.entry.leaf_hash(algorithm))
    });
    for (stored, (payload_matches, leaf)) in entries.iter().zip(hashed) {
        let seq = stored.entry.seq;
        if seq != *next_seq && findings.len() < MAX_FINDINGS {
            findings.push(Finding {
                seq: Some(*next_seq),
                code: "seq_gap",
                message: format!("entry {next_seq} is missing; next is {seq}"),
            });
        }
        *next_seq = seq + 1;
        if !payload_matches && findings.len() < MAX_FINDINGS {
            findings.push(Finding {
                seq: Some(seq),
                code: "payload_mismatch",
                message: format!("entry {seq}: the payload does not match its digest"),
            });
        }
        tree.append_leaf_hash(leaf).map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let empty = BTreeMap::new();
    for (id, hash) in std::mem::take(&mut tree.store_mut().written) {
        // A node is first wrong at its last leaf: that is the earliest entry a reader could blame.
        let seq = id.first_leaf() + id.width() - 1;
        let finding = match page.nodes.get(&id.level).unwrap_or(&empty).get(&id.index) {
            Some(s) if *s == hash => continue,
            Some(_) if id.level == 0 => Finding {
                seq: Some(seq),
                code: "leaf_mismatch",
                message: format!("entry {seq}: its fields do not match its recorded leaf hash"),
            },
            Some(_) => Finding {
                seq: Some(seq),
                code: "node_mismatch",
                message: format!("tree node {id} differs from its recomputed value"),
            },
            None => Finding { seq: Some(seq), code: "node_missing", message: format!("tree node {id} is missing") },
        };
        if findings.len() < MAX_FINDINGS {
            findings.push(finding);
        }
    }
    Ok(())
}
