//! Evidence: typed from content, EXIF time and place kept, stored by digest, recorded in the ledger,
//! read only within the object's territory, and checked by `audit verify`.

use std::sync::Arc;

use exif::{Field, In, Rational, Tag, Value};
use gridward_app::evidence::{FsBlobStore, Upload};
use gridward_app::{App, AppError};
use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_store::Store;
use gridward_testkit::store_test;

fn officer(street: &str) -> Principal {
    Principal {
        username: format!("officer.{street}"),
        display_name: "队员".into(),
        roles: vec![Role::Officer],
        scope: DivisionCode::parse(street).unwrap(),
    }
}

/// A JPEG container holding only EXIF data: a capture time and a position in 崇川区.
fn jpeg_with_exif() -> Vec<u8> {
    let r = |n: u32, d: u32| Rational { num: n, denom: d };
    let fields = [
        Field { tag: Tag::DateTimeOriginal, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"2026:11:20 10:15:30".to_vec()]) },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: Value::Rational(vec![r(32, 1), r(0, 1), r(36, 1)]) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: Value::Rational(vec![r(120, 1), r(52, 1), r(0, 1)]) },
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    jpeg.extend_from_slice(b"Exif\0\0");
    jpeg.extend_from_slice(&tiff);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

store_test!(evidence_is_typed_recorded_and_kept_in_its_territory, |store: Arc<dyn Store>| async move {
    let blobs = tempfile::tempdir().unwrap();
    let app = App::new(store.clone()).unwrap().with_evidence_store(Arc::new(FsBlobStore::new(blobs.path())));
    app.load_demo_city("demo-password-1").await.unwrap();
    let wenfeng = officer("320613008000");
    let upload = |object_id: &'static str, bytes: &'static [u8]| Upload {
        object_type: "body",
        object_id,
        bytes,
        original_name: Some("现场照片.txt"),
    };
    let photo: &'static [u8] = Box::leak(jpeg_with_exif().into_boxed_slice());

    let ev = app.attach_evidence(&wenfeng, upload("squad.320613008", photo)).await.unwrap();
    assert_eq!((ev.media_type.as_str(), ev.kind.as_str()), ("image/jpeg", "photo"), "typed from content, not the .txt name");
    assert_eq!(ev.captured_at.as_deref(), Some("2026-11-20 10:15:30"));
    assert!((ev.latitude.unwrap() - 32.01).abs() < 1e-9 && (ev.longitude.unwrap() - (120.0 + 52.0 / 60.0)).abs() < 1e-9);
    assert_eq!(ev.jurisdiction, "320613008000");
    let entry = store.ledger_entries(ev.ledger_seq as u64, 1).await.unwrap().remove(0);
    assert_eq!((entry.entry.object_type.as_str(), entry.entry.object_id.as_str()), ("evidence", ev.id.as_str()));
    assert!(entry.payload.contains(&ev.digest));

    let (read, bytes) = app.evidence_content(&wenfeng, &ev.id).await.unwrap();
    assert_eq!((read.id, bytes.as_slice()), (ev.id.clone(), photo));
    assert_eq!(app.evidence_of(&wenfeng, "body", "squad.320613008").await.unwrap().len(), 1);

    // Another street sees nothing, by id or by object; and cannot attach to this one.
    let zhongxiu = officer("320613007000");
    assert!(matches!(app.evidence(&zhongxiu, &ev.id).await, Err(AppError::NotFound(_))));
    assert!(matches!(app.evidence_of(&zhongxiu, "body", "squad.320613008").await, Err(AppError::NotFound(_))));
    assert!(matches!(app.attach_evidence(&zhongxiu, upload("squad.320613008", photo)).await, Err(AppError::NotFound(_))));

    // Content decides: text is not evidence, a PDF is a document, an oversized photo is refused.
    let refused = app.attach_evidence(&wenfeng, upload("squad.320613008", b"hello, this is not a photo")).await;
    assert!(matches!(refused, Err(AppError::BadRequest { code: "unsupported_evidence_type", .. })), "{refused:?}");
    let pdf = app.attach_evidence(&wenfeng, upload("squad.320613008", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")).await.unwrap();
    assert_eq!(pdf.kind, "document");
    let mut huge = jpeg_with_exif();
    huge.resize(21 * 1024 * 1024, 0);
    let huge: &'static [u8] = Box::leak(huge.into_boxed_slice());
    assert!(matches!(
        app.attach_evidence(&wenfeng, upload("squad.320613008", huge)).await,
        Err(AppError::BadRequest { code: "payload_too_large", .. })
    ));
    let procurator = Principal { roles: vec![Role::Procuratorate], ..officer("320600000000") };
    assert!(matches!(app.attach_evidence(&procurator, upload("squad.320613008", photo)).await, Err(AppError::Forbidden)));

    // A file changed on disk is named by the audit and never served.
    assert!(app.verify_ledger().await.unwrap().is_intact());
    let path = blobs.path().join(&ev.digest[..2]).join(&ev.digest);
    let mut changed = std::fs::read(&path).unwrap();
    changed[10] ^= 1;
    std::fs::write(&path, changed).unwrap();
    let report = app.verify_ledger().await.unwrap();
    assert_eq!((report.findings[0].seq, report.findings[0].code), (Some(ev.ledger_seq as u64), "evidence_mismatch"));
    assert!(matches!(app.evidence_content(&wenfeng, &ev.id).await, Err(AppError::Internal(_))));
    std::fs::remove_file(&path).unwrap();
    assert_eq!(app.verify_ledger().await.unwrap().findings[0].code, "evidence_missing");
});
