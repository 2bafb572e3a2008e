//! Evidence (证据): files attached to an enforcement object — photos, video, audio and documents — with
//! the rules on which types are taken and how large they may be.

use serde::{Deserialize, Serialize};

/// What kind of evidence a file is, decided from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Photo,
    Video,
    Audio,
    Document,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Photo => "photo",
            EvidenceKind::Video => "video",
            EvidenceKind::Audio => "audio",
            EvidenceKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceKind> {
        [EvidenceKind::Photo, EvidenceKind::Video, EvidenceKind::Audio, EvidenceKind::Document]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The largest file of this kind taken in one upload. Uploads are held in memory while they are
    /// checked and hashed, so the ceiling stays well below what a small server can spare.
    pub fn max_bytes(self) -> usize {
        const MIB: usize = 1024 * 1024;
        match self {
            EvidenceKind::Photo => 20 * MIB,
            EvidenceKind::Document => 50 * MIB,
            EvidenceKind::Audio => 50 * MIB,
            EvidenceKind::Video => MAX_EVIDENCE_BYTES,
        }
    }
}

/// The largest upload of any kind.
pub const MAX_EVIDENCE_BYTES: usize = 64 * 1024 * 1024;

/// The media types taken as evidence: the kind each is, and the file extension browsers and file managers
/// expect for it. Anything else (scripts, archives, office macros, HTML) is refused: evidence is looked at
/// by reviewers and courts, and must not carry code.
const MEDIA_TYPES: &[(&str, EvidenceKind, &str)] = &[
    ("image/jpeg", EvidenceKind::Photo, "jpg"),
    ("image/png", EvidenceKind::Photo, "png"),
    ("image/webp", EvidenceKind::Photo, "webp"),
    ("image/heif", EvidenceKind::Photo, "heif"),
    ("image/heic", EvidenceKind::Photo, "heic"),
    ("image/tiff", EvidenceKind::Photo, "tiff"),
    ("video/mp4", EvidenceKind::Video, "mp4"),
    ("video/quicktime", EvidenceKind::Video, "mov"),
    ("video/3gpp", EvidenceKind::Video, "3gp"),
    ("video/x-matroska", EvidenceKind::Video, "mkv"),
    ("video/webm", EvidenceKind::Video, "webm"),
    ("audio/mpeg", EvidenceKind::Audio, "mp3"),
    ("audio/m4a", EvidenceKind::Audio, "m4a"),
    ("audio/mp4", EvidenceKind::Audio, "m4a"),
    ("audio/x-wav", EvidenceKind::Audio, "wav"),
    ("audio/wav", EvidenceKind::Audio, "wav"),
    ("audio/amr", EvidenceKind::Audio, "amr"),
    ("audio/aac", EvidenceKind::Audio, "aac"),
    ("audio/ogg", EvidenceKind::Audio, "ogg"),
    ("application/pdf", EvidenceKind::Document, "pdf"),
];

/// The kind of evidence a media type is, or `None` if it is not taken.
pub fn kind_of(media_type: &str) -> Option<EvidenceKind> {
    MEDIA_TYPES.iter().find(|(t, _, _)| *t == media_type).map(|(_, kind, _)| *kind)
}

/// The file extension of a media type taken as evidence.
pub fn extension_of(media_type: &str) -> Option<&'static str> {
    MEDIA_TYPES.iter().find(|(t, _, _)| *t == media_type).map(|(_, _, ext)| *ext)
}

/// The kinds of object evidence can be attached to today. Later features (cases, inspections, reports)
/// add theirs here.
pub const ATTACHABLE_OBJECTS: &[&str] = &["division", "body", "staff", "report", "case"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_media_types_are_evidence() {
        assert_eq!(kind_of("image/jpeg"), Some(EvidenceKind::Photo));
        assert_eq!(kind_of("application/pdf"), Some(EvidenceKind::Document));
        assert_eq!(kind_of("text/html"), None);
        assert_eq!(kind_of("application/zip"), None);
        assert!(EvidenceKind::Photo.max_bytes() < EvidenceKind::Video.max_bytes());
        assert_eq!(EvidenceKind::parse("audio"), Some(EvidenceKind::Audio));
    }
}
