//! File parts: planned with lead parts when no part size is given, streamed
//! from the file as they are sent (never held whole in memory), sent again
//! from the file when corrupted in transit, and refused for good when the
//! file itself changed after the part was hashed.

mod upload_common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fanvue_api_ext::upload::plan::{LeadParts, PartPlan};
use fanvue_api_ext::upload::{PartUploadError, UploadError, UploadState};
use fanvue_fake::{Fault, FaultTarget};
use upload_common::*;

/// 41 MiB: with one connection, a lead part of 8 MiB, then 9 MiB parts.
const LEAD_LEN: usize = 41 * MIB;

#[tokio::test]
async fn a_file_without_a_part_size_gets_lead_parts_and_resumes_with_them() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, sha) = temp_file(LEAD_LEN, 41, ".mp4");
    // A 400 is not retryable: the upload stops at part 3.
    fake.fail_part(3, 400, 1);
    let err = quick(fanvue.media().upload(file.path()))
        .concurrency(1)
        .send()
        .await
        .expect_err("part 3 fails");
    let state = err.resume_state().expect("resumable").clone();
    let lead = LeadParts {
        count: 1,
        part_size: 8 * MIB as u64,
    };
    assert_eq!(state.lead_parts, Some(lead));
    assert_eq!(state.part_size, 9 * MIB as u64);
    assert_eq!(
        PartPlan::for_connections(LEAD_LEN as u64, 1).unwrap(),
        PartPlan::with_lead(LEAD_LEN as u64, lead, 9 * MIB as u64).unwrap()
    );
    // The lead parts survive a trip through JSON.
    let json = serde_json::to_string(&state).unwrap();
    assert!(
        json.contains(r#""leadParts":{"count":1,"partSize":8388608}"#),
        "{json}"
    );
    let state: UploadState = serde_json::from_str(&json).unwrap();

    quick(fanvue.media().resume(state.clone(), file.path()))
        .send()
        .await
        .expect("resume succeeds");
    assert_assembled(&fake, state.media_uuid, &sha, LEAD_LEN);
    let upload = fake.upload_for_media(state.media_uuid).unwrap();
    let sizes: Vec<u64> = upload
        .stored_parts
        .values()
        .map(|b| *b / MIB as u64)
        .collect();
    assert_eq!(sizes, vec![8, 9, 9, 9, 6], "MiB per part");
    let counts = fake.part_put_counts(state.media_uuid);
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![(1, 1), (2, 1), (3, 2), (4, 1), (5, 1)]
    );
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn a_file_part_corrupted_in_transit_is_sent_again_from_the_file() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, sha) = temp_file(21 * MIB, 7, ".mp4");
    // One byte of part 2 flips on arrival: S3 answers 400 BadDigest; the
    // file still holds the hashed bytes, so the part is read and sent again.
    fake.inject(FaultTarget::S3Part(Some(2)), Fault::CorruptBody, 1);
    let media = quick(fanvue.media().upload(file.path()))
        .part_size(5 * MIB as u64)
        .send()
        .await
        .expect("upload survives the corruption");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha, 21 * MIB);
    assert_eq!(fake.part_put_counts(uuid).get(&2), Some(&2));
    assert_eq!(fake.pending_faults(), 0);
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn a_file_changed_after_its_part_was_hashed_fails_without_resending() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, _) = temp_file(21 * MIB, 8, ".mp4");
    let path = file.path().to_owned();
    // Part 1 is hashed before the session is created; the first checkpoint
    // (the session exists, nothing sent yet) flips a byte of it in the file.
    let flipped = Arc::new(AtomicBool::new(false));
    let once = flipped.clone();
    let err = quick(fanvue.media().upload(file.path()))
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .on_checkpoint(move |_| {
            if !once.swap(true, Ordering::SeqCst) {
                let mut f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .unwrap();
                let mut byte = [0u8; 1];
                f.seek(SeekFrom::Start(1000)).unwrap();
                f.read_exact(&mut byte).unwrap();
                f.seek(SeekFrom::Start(1000)).unwrap();
                f.write_all(&[byte[0] ^ 0xFF]).unwrap();
                f.sync_all().unwrap();
            }
        })
        .send()
        .await
        .expect_err("the file changed");
    assert!(flipped.load(Ordering::SeqCst));
    let UploadError::PartUpload {
        part: 1,
        source: PartUploadError::SourceChanged { start: 0, end },
        state,
    } = &err
    else {
        panic!("expected part 1 to fail as changed, got {err:?}");
    };
    assert_eq!(*end, 5 * MIB as u64);
    assert!(err.to_string().contains("part 1"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some_and(|s| s.to_string().contains("the file changed")),
        "{err:?}"
    );
    // Refused once by S3, not sent again with bytes that cannot match.
    assert_eq!(fake.part_put_counts(state.media_uuid).get(&1), Some(&1));
    assert!(state.completed_parts.is_empty());
}
