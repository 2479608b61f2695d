//! Acting for a creator as an agency: list the agency's creators, read one
//! creator's media library, and upload media on their behalf (the
//! `/creators/{creatorUserUuid}/...` endpoints).
//!
//! ```sh
//! cargo run -p fanvue-api-ext --example agency
//! ```
//!
//! Runs against a local fake unless Fanvue credentials are set (see
//! `quickstart.rs`); the token then needs the `read:creator` and
//! `write:creator` scopes (and `read:media` / `write:media`). Set
//! `FANVUE_CREATOR_UUID` to pick the creator, else the first one is used.

mod common;

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::upload::Phase;
use fanvue_fake::model::{Creator, MediaItem};
use futures::TryStreamExt as _;
use std::process::ExitCode;
use uuid::Uuid;

#[tokio::main]
async fn main() -> ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), common::BoxError> {
    let (fanvue, backend) = common::connect(|fake| {
        // Seed the first sample creator's library with a few items.
        fake.creator_media(
            Creator::sample(0).user.uuid,
            (100..105).map(MediaItem::sample).collect(),
        )
    })
    .await?;
    let api = fanvue.api();

    // The agency's creators, as a stream of items over pages.
    let creators: Vec<_> = api.list_creators().items().try_collect().await?;
    println!("The agency manages {} creator(s):", creators.len());
    for creator in &creators {
        println!(
            "  {} @{} ({})",
            creator.uuid, creator.handle, creator.display_name
        );
    }
    let creator = match std::env::var("FANVUE_CREATOR_UUID") {
        Ok(uuid) => uuid.parse::<Uuid>()?,
        Err(_) => creators
            .first()
            .map(|c| c.uuid)
            .ok_or("this account manages no creator")?,
    };
    println!("Acting for creator {creator}");

    // The creator's media library (the first 10 items).
    let media: Vec<_> = api
        .get_creator_media()
        .creator_user_uuid(creator)
        .paginate()
        .page_size(10)
        .max_items(10)
        .items()
        .try_collect()
        .await?;
    println!("Their library starts with {} item(s):", media.len());
    for item in &media {
        println!(
            "  media {} {:<10} {}",
            item.uuid,
            item.status.to_string(),
            item.name.as_deref().unwrap_or("(unnamed)")
        );
    }

    // Upload into the creator's vault: the same upload, `.for_creator(uuid)`.
    let png = common::generated_png(640, 480);
    println!("Uploading {} for them...", common::mib(png.len() as u64));
    let upload = fanvue
        .media()
        .upload(png)
        .filename("agency-upload.png")
        .name("Uploaded by the agency")
        .for_creator(creator)
        .on_progress(|p| {
            if p.phase == Phase::Completing {
                println!("  all {} part(s) sent, completing", p.parts_total);
            }
        });
    let uploaded = common::tune_for(&backend, upload).send().await?;
    common::print_media(&uploaded);
    if let Some(fake) = backend.fake() {
        let session = fake.upload_for_media(uploaded.uuid);
        println!(
            "(fake: the upload session belongs to creator {:?})",
            session.and_then(|s| s.creator)
        );
    }
    Ok(())
}
