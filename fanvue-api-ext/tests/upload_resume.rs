//! Resuming an interrupted upload sends only the missing parts; cancelling
//! (token or dropped future) stops the part uploads at once.

mod upload_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fanvue_api_ext::upload::{CancellationToken, UploadError, UploadSource, UploadState};
use fanvue_fake::FakeFanvue;
use upload_common::*;

/// 21 MiB: five parts of 5 MiB (the last 1 MiB).
const LEN: usize = 21 * MIB;

#[tokio::test]
async fn resume_after_a_failed_part_sends_only_the_missing_parts() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, sha) = temp_file(LEN, 21, ".mp4");
    // A 400 is not retryable: the upload stops at part 3.
    fake.fail_part(3, 400, 1);
    let checkpoints: Arc<Mutex<Vec<UploadState>>> = Arc::default();
    let sink = checkpoints.clone();
    let err = quick(fanvue.media().upload(file.path()))
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .on_checkpoint(move |s| sink.lock().unwrap().push(s.clone()))
        .send()
        .await
        .expect_err("part 3 fails");
    let UploadError::PartUpload { part: 3, state, .. } = &err else {
        panic!("expected part 3 to fail, got {err:?}");
    };
    let done: Vec<u32> = state
        .completed_parts
        .iter()
        .map(|p| p.part_number)
        .collect();
    assert_eq!(done, vec![1, 2]);
    assert_eq!(checkpoints.lock().unwrap().last(), Some(&**state));
    // The state survives a trip through JSON (e.g. a file).
    let json = serde_json::to_string(err.resume_state().unwrap()).unwrap();
    let state: UploadState = serde_json::from_str(&json).unwrap();

    let media = quick(fanvue.media().resume(state.clone(), file.path()))
        .send()
        .await
        .expect("resume succeeds");
    assert_eq!(uuid_of(&media), state.media_uuid);
    assert_assembled(&fake, state.media_uuid, &sha, LEN);
    let counts = fake.part_put_counts(state.media_uuid);
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![(1, 1), (2, 1), (3, 2), (4, 1), (5, 1)]
    );
    assert_eq!(fake.uploads().len(), 1, "no second session");
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn resume_from_a_reader_skips_the_finished_parts() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let data = pseudo_random(LEN, 22);
    fake.fail_part(4, 404, 1);
    let err = quick(fanvue.media().upload(data.clone()))
        .filename("a.mp4")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .send()
        .await
        .expect_err("part 4 fails");
    let state = err.resume_state().expect("resumable").clone();
    assert_eq!(state.completed_parts.len(), 3);
    let reader = UploadSource::reader(std::io::Cursor::new(data.clone()), LEN as u64);
    quick(fanvue.media().resume(state.clone(), reader))
        .send()
        .await
        .expect("resume succeeds");
    assert_assembled(&fake, state.media_uuid, &sha256_hex(&data), LEN);
    let counts = fake.part_put_counts(state.media_uuid);
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![(1, 1), (2, 1), (3, 1), (4, 2), (5, 1)]
    );
}

#[tokio::test]
async fn resume_rejects_a_source_of_another_size() {
    let fake = fake().await;
    let fanvue = client(&fake);
    fake.fail_part(1, 400, 1);
    let err = quick(fanvue.media().upload(pseudo_random(100, 1)))
        .filename("a.jpg")
        .send()
        .await
        .expect_err("part 1 fails");
    let state = err.resume_state().unwrap().clone();
    let requests = fake.requests().len();
    let err = fanvue
        .media()
        .resume(state, pseudo_random(99, 1))
        .send()
        .await
        .expect_err("size differs");
    assert!(err.to_string().contains("100"), "{err}");
    assert_eq!(fake.requests().len(), requests, "nothing sent");
}

/// A fake whose S3 takes ~0.25 s per 5 MiB part, so parts are in flight when cancelled.
async fn slow_fake() -> Arc<FakeFanvue> {
    let fake = fake().await;
    fake.set_s3_bandwidth(Some(20_000_000));
    Arc::new(fake)
}

/// Asserts the part uploads stopped after cancellation; returns the number of
/// S3 requests seen once they had.
///
/// A request handed to a pooled connection just before the cancellation may
/// still reach the server a moment later (the connection task writes what it
/// was given), so at most `in_flight` such requests are allowed in the first
/// observation window. In the second window nothing at all may arrive: no new
/// part is started once the upload is cancelled or dropped.
async fn assert_no_more_puts(fake: &FakeFanvue, in_flight: usize) -> usize {
    let before = fake.s3_requests().len();
    // Observation windows (not synchronisation): a running upload would start
    // its next part within ~0.3 s.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let settled = fake.s3_requests().len();
    assert!(
        settled <= before + in_flight,
        "{} part requests arrived after cancellation (at most {in_flight} were in flight)",
        settled - before
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        fake.s3_requests().len(),
        settled,
        "a part was sent after cancellation"
    );
    settled
}

#[tokio::test]
async fn cancel_token_stops_the_upload_and_resume_finishes_it() {
    let fake = slow_fake().await;
    let fanvue = client(&fake);
    let data = pseudo_random(8 * 5 * MIB, 23);
    let token = CancellationToken::new();
    let canceller = token.clone();
    let err = quick(fanvue.media().upload(data.clone()))
        .filename("a.mp4")
        .part_size(5 * MIB as u64)
        .concurrency(2)
        .cancel_token(token)
        .on_checkpoint(move |s| {
            if s.completed_parts.len() >= 2 {
                canceller.cancel();
            }
        })
        .send()
        .await
        .expect_err("cancelled");
    let UploadError::Cancelled { state: Some(state) } = &err else {
        panic!("expected a cancellation with state, got {err:?}");
    };
    assert!(state.completed_parts.len() >= 2 && state.completed_parts.len() < 8);
    assert_no_more_puts(&fake, 2).await;
    assert!(fake.assembled(state.media_uuid).is_none());

    fake.set_s3_bandwidth(None);
    quick(fanvue.media().resume((**state).clone(), data.clone()))
        .send()
        .await
        .expect("resume succeeds");
    assert_assembled(&fake, state.media_uuid, &sha256_hex(&data), data.len());
    let info = fake.upload_for_media(state.media_uuid).unwrap();
    for part in &state.completed_parts {
        assert_eq!(
            info.part_successes.get(&part.part_number),
            Some(&1),
            "finished part {} not sent again",
            part.part_number
        );
    }
}

#[tokio::test]
async fn dropping_the_future_stops_the_part_uploads() {
    let fake = slow_fake().await;
    let fanvue = client(&fake);
    let data = pseudo_random(8 * 5 * MIB, 24);
    let (first_part_tx, first_part_rx) = tokio::sync::oneshot::channel::<()>();
    let first_part_tx = Mutex::new(Some(first_part_tx));
    let upload = quick(fanvue.media().upload(data))
        .filename("a.mp4")
        .part_size(5 * MIB as u64)
        .concurrency(3)
        .on_checkpoint(move |s| {
            if !s.completed_parts.is_empty()
                && let Some(tx) = first_part_tx.lock().unwrap().take()
            {
                let _ = tx.send(());
            }
        })
        .send();
    let media_uuid = tokio::select! {
        result = upload => panic!("the upload should still be running: {result:?}"),
        _ = first_part_rx => {
            fake.uploads().pop().expect("session exists").media_uuid
        }
    };
    // The upload future is dropped here.
    let seen = assert_no_more_puts(&fake, 3).await;
    assert!(seen < 8, "not every part was sent ({seen} PUTs)");
    assert!(fake.assembled(media_uuid).is_none());
    assert_eq!(fake.request_count(fanvue_fake::ApiRoute::CompleteUpload), 0);
}

#[tokio::test]
async fn resume_after_an_unrecorded_completion_goes_on_to_processing() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let data = pseudo_random(6 * MIB, 25);
    let checkpoints: Arc<Mutex<Vec<UploadState>>> = Arc::default();
    let sink = checkpoints.clone();
    quick(fanvue.media().upload(data.clone()))
        .filename("a.mp4")
        .part_size(5 * MIB as u64)
        .on_checkpoint(move |s| sink.lock().unwrap().push(s.clone()))
        .send()
        .await
        .expect("upload succeeds");
    // The last state saved before completion: every part done, session not
    // marked complete (as if the process died right after completing).
    let state = checkpoints
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|s| !s.session_completed)
        .cloned()
        .unwrap();
    assert_eq!(state.completed_parts.len(), 2);
    let puts = fake.s3_requests().len();
    let media = quick(fanvue.media().resume(state.clone(), data))
        .send()
        .await
        .expect("resume sees the completed media");
    assert_eq!(uuid_of(&media), state.media_uuid);
    assert_eq!(fake.s3_requests().len(), puts, "no part sent again");
    assert_eq!(fake.request_count(fanvue_fake::ApiRoute::CompleteUpload), 2);
}

#[tokio::test]
async fn resume_after_the_file_changed_at_the_same_size_resends_the_changed_parts() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, _) = temp_file(LEN, 26, ".mp4");
    fake.fail_part(4, 400, 1);
    let err = quick(fanvue.media().upload(file.path()))
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .send()
        .await
        .expect_err("part 4 fails");
    let state = err.resume_state().expect("resumable").clone();
    let done: Vec<u32> = state
        .completed_parts
        .iter()
        .map(|p| p.part_number)
        .collect();
    assert_eq!(done, vec![1, 2, 3]);
    assert!(state.completed_parts.iter().all(|p| p.md5.is_some()));
    // Edit part 2's range in place: same size, other bytes.
    let mut edited = std::fs::read(file.path()).unwrap();
    for b in &mut edited[5 * MIB + 100..5 * MIB + 200] {
        *b = !*b;
    }
    std::fs::write(file.path(), &edited).unwrap();
    let json = serde_json::to_string(&state).unwrap();
    let state: UploadState = serde_json::from_str(&json).unwrap();
    quick(fanvue.media().resume(state.clone(), file.path()))
        .send()
        .await
        .expect("resume succeeds");
    // The object is the new file, not a mix of old and new parts.
    assert_assembled(&fake, state.media_uuid, &sha256_hex(&edited), LEN);
    let info = fake.upload_for_media(state.media_uuid).unwrap();
    assert_eq!(
        info.part_successes.into_iter().collect::<Vec<_>>(),
        vec![(1, 1), (2, 2), (3, 1), (4, 1), (5, 1)],
        "only the changed part and the missing ones were sent"
    );
}

#[tokio::test]
async fn an_invalid_resume_state_is_rejected_before_any_request() {
    let fake = fake().await;
    let fanvue = client(&fake);
    fake.fail_part(3, 400, 1);
    let data = pseudo_random(LEN, 27);
    let err = quick(fanvue.media().upload(data.clone()))
        .filename("a.mp4")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .send()
        .await
        .expect_err("part 3 fails");
    let good = err.resume_state().unwrap().clone();
    let requests = fake.requests().len();
    type Edit = Box<dyn Fn(&mut UploadState)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "listed twice",
            Box::new(|s| {
                let first = s.completed_parts[0].clone();
                s.completed_parts.insert(1, first)
            }),
        ),
        ("not sorted", Box::new(|s| s.completed_parts.reverse())),
        (
            "outside 1..=5",
            Box::new(|s| s.completed_parts[1].part_number = 9),
        ),
        ("part size 1000", Box::new(|s| s.part_size = 1000)),
        (
            "malformed MD5",
            Box::new(|s| s.completed_parts[0].md5 = Some("zz".into())),
        ),
    ];
    for (expected, edit) in cases {
        let mut state = good.clone();
        edit(&mut state);
        let err = fanvue
            .media()
            .resume(state, data.clone())
            .send()
            .await
            .expect_err(expected);
        assert!(
            matches!(
                err,
                UploadError::Validation(fanvue_api_ext::upload::ValidationError::BadResumeState(_))
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    // A stream of unknown length cannot be checked against the state.
    let err = fanvue
        .media()
        .resume(
            good.clone(),
            UploadSource::stream(std::io::Cursor::new(data.clone())),
        )
        .send()
        .await
        .expect_err("stream");
    assert!(err.to_string().contains("unknown length"), "{err}");
    assert_eq!(fake.requests().len(), requests, "nothing sent");
}
