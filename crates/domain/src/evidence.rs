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

/// The media types taken as evidence, by the kind they are. Anything else (scripts, archives, office
/// macros, HTML) is refused: evidence is looked at by reviewers and courts, and must not carry code.
pub fn kind_of(media_type: &str) -> Option<EvidenceKind> {
    match media_type {
        "image/jpeg" | "image/png" | "image/webp" | "image/heif" | "image/heic" | "image/tiff" => Some(EvidenceKind::Photo),
        "video/mp4" | "video/quicktime" | "video/3gpp" | "video/x-matroska" | "video/webm" => Some(EvidenceKind::Video),
        "audio/mpeg" | "audio/m4a" | "audio/mp4" | "audio/x-wav" | "audio/wav" | "audio/amr" | "audio/aac" | "audio/ogg" => {
            Some(EvidenceKind::Audio)
        }
        "application/pdf" => Some(EvidenceKind::Document),
        _ => None,
    }
}

/// The kinds of object evidence can be attached to today. Later features (cases, inspections, reports)
/// add theirs here.
pub const ATTACHABLE_OBJECTS: &[&str] = &["division", "body", "staff"];

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
