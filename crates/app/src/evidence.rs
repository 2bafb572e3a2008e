//! Evidence (证据): files attached to enforcement objects, stored content-addressed by their SM3 digest,
//! typed from their content, with capture time and place read from EXIF, and read only by those who may
//! read the object they belong to.

use std::io::Write;
use std::path::PathBuf;

use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_domain::evidence::{ATTACHABLE_OBJECTS, EvidenceKind, MAX_EVIDENCE_BYTES, kind_of};
use gridward_ledger::HashAlgorithm;
use gridward_store::EvidenceRecord;

use crate::error::{AppError, AppResult};
use crate::{App, actor_of, change, now};

/// Roles that may attach evidence: everyone who works in the field or runs the organisation.
const ATTACHERS: &[Role] = &[Role::Admin, Role::Leader, Role::Dispatcher, Role::Officer, Role::Auxiliary, Role::Supervisor];

/// Whether the caller's role may attach evidence at all (territory is checked per object), so a page can
/// offer the upload form only to those whose upload would not be refused.
pub fn may_attach(who: &Principal) -> bool {
    who.has_any(ATTACHERS)
}

/// Where evidence files live. Small on purpose, so that object storage can replace the file system.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `digest` (hex). Storing the same digest twice is harmless.
    fn put(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// The bytes stored under `digest`, if any.
    fn get(&self, digest: &str) -> std::io::Result<Option<Vec<u8>>>;
}

/// Evidence files in a directory tree: `<root>/<first two hex digits>/<digest>`.
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore { root: root.into() }
    }

    fn path(&self, digest: &str) -> std::io::Result<PathBuf> {
        // Digests are 64 lowercase hex digits; anything else must never become a path.
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an SM3 digest"));
        }
        Ok(self.root.join(&digest[..2]).join(digest))
    }
}

impl BlobStore for FsBlobStore {
    fn put(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(digest)?;
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent directory"))?;
        std::fs::create_dir_all(dir)?;
        // Write aside, flush to disk, then rename: a crash leaves either the whole file or none.
        let tmp = dir.join(format!(".{digest}.{}.tmp", std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    }

    fn get(&self, digest: &str) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(digest)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What the content says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub media_type: String,
    pub kind: EvidenceKind,
    pub captured_at: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Decides the type from the bytes (magic numbers, never the name) and reads EXIF time and place.
pub fn inspect(bytes: &[u8]) -> AppResult<Inspected> {
    let media_type = infer::get(bytes).map(|t| t.mime_type().to_string()).unwrap_or_default();
    let kind = kind_of(&media_type).ok_or_else(|| {
        AppError::bad_request(
            "unsupported_evidence_type",
            if media_type.is_empty() {
                "the file's type is not recognised".to_string()
            } else {
                format!("{media_type} is not taken as evidence")
            },
        )
    })?;
    if bytes.len() > kind.max_bytes() {
        return Err(AppError::bad_request(
            "payload_too_large",
            format!("a {} may have at most {} bytes", kind.as_str(), kind.max_bytes()),
        ));
    }
    let (captured_at, latitude, longitude) = if kind == EvidenceKind::Photo { read_exif(bytes) } else { (None, None, None) };
    Ok(Inspected { media_type, kind, captured_at, latitude, longitude })
}

/// Capture time and position from EXIF, when present and well-formed; absent otherwise.
fn read_exif(bytes: &[u8]) -> (Option<String>, Option<f64>, Option<f64>) {
    use exif::{In, Tag, Value};
    let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else { return (None, None, None) };
    let captured = exif
        .get_field(Tag::DateTimeOriginal, In::PRIMARY)
        .or_else(|| exif.get_field(Tag::DateTime, In::PRIMARY))
        .and_then(|f| match &f.value {
            Value::Ascii(v) => v.first().and_then(|s| exif::DateTime::from_ascii(s).ok()).map(|d| d.to_string()),
            _ => None,
        });
    let coordinate = |value: Tag, reference: Tag, negative: u8| -> Option<f64> {
        let field = exif.get_field(value, In::PRIMARY)?;
        let Value::Rational(parts) = &field.value else { return None };
        let [d, m, s] = parts.as_slice() else { return None };
        let degrees = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = match exif.get_field(reference, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(v)) if v.first().and_then(|r| r.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        degrees.is_finite().then_some(sign * degrees)
    };
    let latitude = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S').filter(|v| (-90.0..=90.0).contains(v));
    let longitude = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W').filter(|v| (-180.0..=180.0).contains(v));
    (captured, latitude, longitude)
}

/// A new upload: which object it belongs to, its bytes and the name it came with.
pub struct Upload<'a> {
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub bytes: &'a [u8],
    pub original_name: Option<&'a str>,
}

impl App {
    fn blobs(&self) -> AppResult<&dyn BlobStore> {
        self.blobs.as_deref().ok_or(AppError::NotFound("evidence store"))
    }

    /// The territory of an object evidence can be attached to, if the caller may see that object.
    async fn object_jurisdiction(&self, who: &Principal, object_type: &str, object_id: &str) -> AppResult<DivisionCode> {
        match object_type {
            "division" => {
                let code = DivisionCode::parse(object_id).map_err(|_| AppError::NotFound("object"))?;
                self.division_detail(who, &code).await.map(|d| d.division.code)
            }
            "body" => self.body(who, object_id).await.map(|b| b.division_code),
            "staff" => {
                let staff = self.store.staff_member(object_id).await?.ok_or(AppError::NotFound("object"))?;
                self.body(who, &staff.body_code).await.map(|b| b.division_code)
            }
            "report" => {
                let id: i64 = object_id.parse().map_err(|_| AppError::NotFound("object"))?;
                let report = self.store.report(id).await?.ok_or(AppError::NotFound("object"))?;
                DivisionCode::parse(&report.jurisdiction).map_err(|e| AppError::Internal(e.to_string()))
            }
            "case" => {
                let id: i64 = object_id.parse().map_err(|_| AppError::NotFound("object"))?;
                let case = self.store.case(id).await?.ok_or(AppError::NotFound("object"))?;
                DivisionCode::parse(&case.jurisdiction).map_err(|e| AppError::Internal(e.to_string()))
            }
            other => Err(AppError::bad_request(
                "bad_object_type",
                format!("evidence attaches to {} (not {other:?})", ATTACHABLE_OBJECTS.join(", ")),
            )),
        }
        .map_err(|e| if matches!(e, AppError::NotFound(_)) { AppError::NotFound("object") } else { e })
    }

    /// Attaches a file to an object in the caller's territory: the file is stored by digest first, then
    /// the record and its ledger entry are written in one transaction.
    pub async fn attach_evidence(&self, who: &Principal, upload: Upload<'_>) -> AppResult<EvidenceRecord> {
        if !may_attach(who) {
            return Err(AppError::Forbidden);
        }
        if upload.bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(AppError::bad_request(
                "payload_too_large",
                format!("evidence files have at most {MAX_EVIDENCE_BYTES} bytes"),
            ));
        }
        let jurisdiction = self.object_jurisdiction(who, upload.object_type, upload.object_id).await?;
        if !who.covers(&jurisdiction) {
            return Err(AppError::NotFound("object"));
        }
        self.store_evidence(&jurisdiction, &upload, &who.username, &change(&actor_of(who))).await
    }

    /// Stores a checked upload's file by digest, then its record and ledger entry in one transaction.
    pub(crate) async fn store_evidence(
        &self,
        jurisdiction: &DivisionCode,
        upload: &Upload<'_>,
        uploaded_by: &str,
        change: &gridward_store::Change,
    ) -> AppResult<EvidenceRecord> {
        let inspected = inspect(upload.bytes)?;
        let digest = HashAlgorithm::Sm3.digest(upload.bytes).to_hex();
        self.blobs()?.put(&digest, upload.bytes).map_err(|e| AppError::Internal(format!("storing evidence: {e}")))?;
        let original_name = upload.original_name.map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect::<String>());
        let record = EvidenceRecord {
            id: format!("ev-{}", crate::random_hex::<16>()?),
            object_type: upload.object_type.to_string(),
            object_id: upload.object_id.to_string(),
            jurisdiction: jurisdiction.to_string(),
            digest,
            media_type: inspected.media_type,
            kind: inspected.kind.as_str().to_string(),
            size: upload.bytes.len() as i64,
            original_name,
            captured_at: inspected.captured_at,
            latitude: inspected.latitude,
            longitude: inspected.longitude,
            uploaded_by: uploaded_by.to_string(),
            uploaded_at: now(),
            ledger_seq: 0,
        };
        Ok(self.store.add_evidence(&record, change).await?)
    }

    /// One evidence record, if the caller may read its object.
    pub async fn evidence(&self, who: &Principal, id: &str) -> AppResult<EvidenceRecord> {
        match self.store.evidence(id).await? {
            Some(ev) if DivisionCode::parse(&ev.jurisdiction).is_ok_and(|d| who.covers(&d)) => Ok(ev),
            _ => Err(AppError::NotFound("evidence")),
        }
    }

    /// The evidence record and its file; the file is checked against its digest before it is handed out.
    pub async fn evidence_content(&self, who: &Principal, id: &str) -> AppResult<(EvidenceRecord, Vec<u8>)> {
        let ev = self.evidence(who, id).await?;
        self.evidence_file(ev)
    }

    /// A report photo the public may see; the caller has checked that the report publishes it.
    pub async fn public_evidence_content(&self, id: &str) -> AppResult<(EvidenceRecord, Vec<u8>)> {
        let ev = self
            .store
            .evidence(id)
            .await?
            .filter(|e| e.object_type == "report" && e.kind == "photo")
            .ok_or(AppError::NotFound("evidence"))?;
        self.evidence_file(ev)
    }

    fn evidence_file(&self, ev: EvidenceRecord) -> AppResult<(EvidenceRecord, Vec<u8>)> {
        let bytes = self
            .blobs()?
            .get(&ev.digest)
            .map_err(|e| AppError::Internal(format!("reading evidence: {e}")))?
            .ok_or_else(|| AppError::Internal(format!("evidence file {} is missing", ev.digest)))?;
        if HashAlgorithm::Sm3.digest(&bytes).to_hex() != ev.digest {
            return Err(AppError::Internal(format!("evidence file {} does not match its digest", ev.digest)));
        }
        Ok((ev, bytes))
    }

    /// Evidence attached to an object the caller may see.
    pub async fn evidence_of(&self, who: &Principal, object_type: &str, object_id: &str) -> AppResult<Vec<EvidenceRecord>> {
        self.object_jurisdiction(who, object_type, object_id).await?;
        Ok(self
            .store
            .evidence_of(object_type, object_id)
            .await?
            .into_iter()
            .filter(|ev| DivisionCode::parse(&ev.jurisdiction).is_ok_and(|d| who.covers(&d)))
            .collect())
    }

    /// Every evidence file checked against its recorded digest: `(ledger seq, problem)` for each bad one.
    pub(crate) async fn check_evidence_files(&self) -> AppResult<Vec<(u64, &'static str, String)>> {
        let Some(blobs) = self.blobs.as_deref() else { return Ok(Vec::new()) };
        let mut problems = Vec::new();
        for ev in self.store.all_evidence().await? {
            let seq = ev.ledger_seq as u64;
            match blobs.get(&ev.digest) {
                Ok(Some(bytes)) if HashAlgorithm::Sm3.digest(&bytes).to_hex() == ev.digest => {}
                Ok(Some(_)) => {
                    problems.push((seq, "evidence_mismatch", format!("evidence {} no longer matches its digest", ev.id)))
                }
                Ok(None) => problems.push((seq, "evidence_missing", format!("the file of evidence {} is gone", ev.id))),
                Err(e) => problems.push((seq, "evidence_missing", format!("evidence {} cannot be read: {e}", ev.id))),
            }
        }
        Ok(problems)
    }
}
