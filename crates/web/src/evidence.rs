//! Evidence (证据) in the pages: the section an object's page shows (files with their metadata and the
//! ledger entry that recorded each), the upload form's handler, and how a file is served to a browser.
//! Who may read or attach is decided by the app; this module only asks it.

use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridward_app::AppError;
use gridward_app::evidence::Upload;
use gridward_domain::access::Principal;
use gridward_domain::evidence::{EvidenceKind, MAX_EVIDENCE_BYTES};
use gridward_store::EvidenceRecord;

use crate::AppState;
use crate::access::{SignedIn, same_secret, urlencode};
use crate::pages::{BodyNotice, Chrome, beijing_time, body_page_response, error_response};

/// Room for the form around the file: boundaries, part headers with the file's name, the CSRF token and
/// the empty part of the file input the user did not use.
pub const UPLOAD_FORM_OVERHEAD: usize = 16 * 1024;

/// The largest upload form body taken: one file of the largest size evidence may have, plus the form.
pub const MAX_UPLOAD_FORM_BYTES: usize = MAX_EVIDENCE_BYTES + UPLOAD_FORM_OVERHEAD;

/// What the file inputs offer; the server decides the type from the content regardless.
pub const ACCEPT: &str = "image/*,video/*,audio/*,application/pdf";

/// One file as the evidence list shows it.
pub struct EvidenceView {
    pub id: String,
    pub kind: &'static str,
    pub kind_label: String,
    pub name: String,
    pub size: String,
    pub media_type: String,
    pub captured_at: Option<String>,
    /// "lat, lon" as read from the photo (WGS-84).
    pub location: Option<String>,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub ledger_seq: i64,
    /// The entry's proof for those who may read proofs, otherwise how to verify the record.
    pub entry_href: String,
    pub content_href: String,
    /// Browsers can draw it, so it is shown as a thumbnail.
    pub thumbnail: bool,
    pub digest: String,
    /// The file just uploaded, to point it out.
    pub added: bool,
}

/// The evidence section of an object's page.
pub struct EvidenceSection {
    pub items: Vec<EvidenceView>,
    /// Where the upload form posts; `None` when the caller's role may not attach.
    pub upload_action: Option<String>,
    pub success: Option<String>,
    pub error: Option<String>,
    pub accept: &'static str,
    pub max_bytes: usize,
}

impl EvidenceSection {
    /// The section for one object: `None` when the caller may not read its evidence.
    pub(crate) async fn load(
        state: &AppState,
        chrome: &Chrome,
        who: &Principal,
        object_type: &str,
        object_id: &str,
        upload_action: String,
        notice: Option<&BodyNotice>,
    ) -> Result<Option<EvidenceSection>, AppError> {
        let records = match state.app.evidence_of(who, object_type, object_id).await {
            Ok(records) => records,
            Err(AppError::Forbidden) => return Ok(None),
            Err(e) => return Err(e),
        };
        let added_id = match notice {
            Some(BodyNotice::Added(id)) => Some(id.as_str()),
            _ => None,
        };
        let record_reader = who.has_any(crate::RECORD_READERS);
        // Newest first: the file just taken is the one people look for.
        let items: Vec<EvidenceView> = records.into_iter().rev().map(|r| view(chrome, r, record_reader, added_id)).collect();
        let success = items
            .iter()
            .find(|v| v.added)
            .map(|v| chrome.t("evidence.added").replace("{name}", &v.name).replace("{seq}", &v.ledger_seq.to_string()));
        let error = match notice {
            Some(BodyNotice::Failed(message)) => Some(message.clone()),
            _ => None,
        };
        Ok(Some(EvidenceSection {
            items,
            upload_action: gridward_app::evidence::may_attach(who).then_some(upload_action),
            success,
            error,
            accept: ACCEPT,
            max_bytes: MAX_EVIDENCE_BYTES,
        }))
    }
}

fn view(chrome: &Chrome, r: EvidenceRecord, record_reader: bool, added_id: Option<&str>) -> EvidenceView {
    let kind = EvidenceKind::parse(&r.kind).map_or("document", EvidenceKind::as_str);
    let location = match (r.latitude, r.longitude) {
        (Some(lat), Some(lon)) => Some(format!("{lat:.5}, {lon:.5}")),
        _ => None,
    };
    EvidenceView {
        kind,
        kind_label: chrome.t(&format!("evidence.kind.{kind}")),
        name: r.original_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| r.id.clone()),
        size: human_size(r.size),
        thumbnail: matches!(r.media_type.as_str(), "image/jpeg" | "image/png" | "image/webp"),
        media_type: r.media_type,
        captured_at: r.captured_at,
        location,
        uploaded_by: r.uploaded_by,
        uploaded_at: beijing_time(r.uploaded_at),
        entry_href: if record_reader {
            format!("/api/v1/ledger/entries/{}/proof", r.ledger_seq)
        } else {
            "/transparency".to_string()
        },
        ledger_seq: r.ledger_seq,
        content_href: format!("/api/v1/evidence/{}/content", urlencode(&r.id)),
        added: added_id == Some(r.id.as_str()),
        digest: r.digest,
        id: r.id,
    }
}

/// Bytes for people: 812 B, 8.2 KB, 12.5 MB (powers of 1024, as file managers on phones show them).
fn human_size(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KB", b / KIB)
    } else {
        format!("{:.1} MB", b / (KIB * KIB))
    }
}

/// A form that could not be read: too large for the route, or not a well-formed multipart body.
fn form_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::bad_request("payload_too_large", format!("an upload form has at most {MAX_UPLOAD_FORM_BYTES} bytes"))
    } else {
        AppError::bad_request("bad_form", e.body_text())
    }
}

/// The file in a submitted upload form, once its CSRF token has been checked.
pub(crate) struct Submitted {
    pub(crate) name: Option<String>,
    pub(crate) bytes: axum::body::Bytes,
}

/// Reads the form. The CSRF token comes before the file inputs in the form, so a forged upload is refused
/// before its file is read into memory.
pub(crate) async fn read_form(who_csrf: &str, form: Result<Multipart, MultipartRejection>) -> Result<Submitted, AppError> {
    let mut form = form.map_err(|e| AppError::bad_request("bad_form", e.body_text()))?;
    let csrf_refused = || AppError::bad_request("csrf", "the form's token is missing or stale");
    let mut csrf_ok = false;
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().map(str::to_string);
        match name.as_deref() {
            Some("csrf") => csrf_ok = same_secret(&field.text().await.map_err(form_error)?, who_csrf),
            Some("file") if !csrf_ok => return Err(csrf_refused()),
            Some("file") => {
                let name = field.file_name().map(str::to_string);
                let bytes = field.bytes().await.map_err(form_error)?;
                // An input left unused arrives as an empty part.
                if !bytes.is_empty() {
                    files.push(Submitted { name, bytes });
                }
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(csrf_refused());
    }
    // One file per submission, so a refused file never leaves its companions half-taken.
    match files.len() {
        0 => Err(AppError::bad_request("empty_file", "no file, or an empty one, was sent")),
        1 => Ok(files.remove(0)),
        _ => Err(AppError::bad_request("one_file", "one file per upload")),
    }
}

/// `POST /bodies/{code}/evidence`: attaches the uploaded file to the body, then back to the body page
/// (POST-redirect-GET) naming the entry; on refusal the page again, with the reason and the refusal's status.
pub async fn upload_to_body(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let attached = async {
        let file = read_form(&auth.csrf_token, form).await?;
        let upload = Upload { object_type: "body", object_id: &code, bytes: &file.bytes, original_name: file.name.as_deref() };
        state.app.attach_evidence(&auth.principal, upload).await
    }
    .await;
    match attached {
        Ok(record) => {
            Redirect::to(&format!("/bodies/{}?added={}#evidence", urlencode(&code), urlencode(&record.id))).into_response()
        }
        Err(e) => {
            let chrome = Chrome::new(&headers, Some(&auth));
            let message = crate::pages::error_message(&chrome, &e);
            let status = crate::error::status_of(&e);
            // A body the caller cannot see has no page to go back to: the plain error page, with the same 404.
            match body_page_response(&state, &headers, &auth, &code, Some(BodyNotice::Failed(message)), status).await {
                Ok(page) => page,
                Err(_) => error_response(chrome, e),
            }
        }
    }
}

/// The file extension for a stored media type; `bin` for one no longer taken.
fn extension(media_type: &str) -> &'static str {
    gridward_domain::evidence::extension_of(media_type).unwrap_or("bin")
}

/// RFC 8187 encoding for `filename*`: every byte but the attr-chars is percent-encoded.
fn rfc8187(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'!'
            | b'#'
            | b'$'
            | b'&'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Images and PDFs open in the browser; anything else is saved. The plain name is the record's id (always
/// ASCII); the name the file came with follows in RFC 8187 form.
pub fn content_disposition(record: &EvidenceRecord) -> String {
    let inline = record.media_type.starts_with("image/") || record.media_type == "application/pdf";
    let mut value =
        format!("{}; filename=\"{}.{}\"", if inline { "inline" } else { "attachment" }, record.id, extension(&record.media_type));
    if let Some(name) = record.original_name.as_deref().filter(|n| !n.trim().is_empty()) {
        value.push_str(&format!("; filename*=UTF-8''{}", rfc8187(name)));
    }
    value
}

/// The strong validator of a file: its SM3 digest, which never changes for an evidence id.
pub fn etag(record: &EvidenceRecord) -> String {
    format!("\"{}\"", record.digest)
}

/// Whether the browser already holds this very file.
pub fn not_modified(headers: &HeaderMap, record: &EvidenceRecord) -> bool {
    let tag = etag(record);
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// The file with its stored type, a disposition, and no sniffing. Browsers keep it privately and ask again
/// each time, so a withdrawn right to read is honoured, yet an unchanged file is not sent twice.
pub fn content_response(record: EvidenceRecord, bytes: Option<Vec<u8>>) -> Response {
    let mut headers = HeaderMap::new();
    set(&mut headers, header::ETAG, &etag(&record));
    set(&mut headers, header::CACHE_CONTROL, "private, no-cache");
    set(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let Some(bytes) = bytes else { return (StatusCode::NOT_MODIFIED, headers).into_response() };
    set(&mut headers, header::CONTENT_TYPE, &record.media_type);
    set(&mut headers, header::CONTENT_DISPOSITION, &content_disposition(&record));
    set(&mut headers, header::HeaderName::from_static("x-evidence-sm3"), &record.digest);
    (headers, bytes).into_response()
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(media_type: &str, name: Option<&str>) -> EvidenceRecord {
        EvidenceRecord {
            id: "ev-1".into(),
            object_type: "body".into(),
            object_id: "squad.1".into(),
            jurisdiction: "320613007000".into(),
            digest: "ab".repeat(32),
            media_type: media_type.into(),
            kind: "photo".into(),
            size: 1,
            original_name: name.map(str::to_string),
            captured_at: None,
            latitude: None,
            longitude: None,
            uploaded_by: "u".into(),
            uploaded_at: 0,
            ledger_seq: 1,
        }
    }

    #[test]
    fn pictures_and_pdfs_open_in_place_everything_else_is_saved() {
        assert_eq!(content_disposition(&record("image/jpeg", None)), "inline; filename=\"ev-1.jpg\"");
        assert_eq!(content_disposition(&record("application/pdf", None)), "inline; filename=\"ev-1.pdf\"");
        assert_eq!(content_disposition(&record("video/mp4", None)), "attachment; filename=\"ev-1.mp4\"");
        // The name it came with cannot break out of the header: quotes, semicolons and CJK are encoded.
        let named = content_disposition(&record("audio/mpeg", Some("现场\"录音\"; x=1.mp3")));
        assert_eq!(
            named,
            "attachment; filename=\"ev-1.mp3\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%22%E5%BD%95%E9%9F%B3%22%3B%20x%3D1.mp3"
        );
        assert!(HeaderValue::from_str(&named).is_ok());
    }

    #[test]
    fn sizes_read_like_a_phone_shows_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(8357), "8.2 KB");
        assert_eq!(human_size(20 * 1024 * 1024), "20.0 MB");
    }
}
