//! Numbers as the document describes them, decoded through `.send()` against the fake: amounts in cents keep
//! any value exactly (`availableBalance: 1234.56`), undescribed numbers are decimals (`price: 9.99`), counts are
//! integers that accept `3840.0` and refuse `2.5` naming the field.

use fanvue_api_ext::api::Cents;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue};
use fanvue_fake::spec::Spec;
use fanvue_fake::synth::{Mode, synthesize};
use fanvue_fake::{FakeFanvue, Override};
use serde_json::Value;

fn client(fake: &FakeFanvue) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .build()
        .unwrap()
}

/// A full answer of operation `id` as the spec describes it, with `edit` applied, served by the fake.
fn serve(fake: &FakeFanvue, id: &str, edit: impl FnOnce(&mut Value)) {
    let spec = Spec::load();
    let op = spec
        .operation(id)
        .unwrap_or_else(|| panic!("no operation {id}"));
    let response = op.response.as_ref().expect("a JSON answer");
    let mut body = synthesize(spec, &response.schema, Mode::Full);
    edit(&mut body);
    fake.override_operation(id, Override::status(op.success_status).with_body(body));
}

const CREATOR: &str = "2b8f1c1e-5b8a-4a53-9d6c-0d9f4e6a7b11";

#[tokio::test]
async fn fractional_balances_decode_exactly_and_serialize_back_as_received() {
    let fake = FakeFanvue::start().await.unwrap();
    let fanvue = client(&fake);
    serve(&fake, "get-account", |body| {
        body["account"]["earnings"]["availableBalance"] = serde_json::from_str("1234.56").unwrap();
    });
    let account = fanvue.api().get_account().send().await.unwrap();
    let balance = &account.account.earnings.available_balance;
    assert_eq!(balance.to_string(), "1234.56");
    assert_eq!(balance.whole(), None);
    assert_eq!(balance.to_f64(), 1234.56);
    let again = serde_json::to_string(&account).unwrap();
    assert!(again.contains(r#""availableBalance":1234.56"#), "{again}");

    serve(&fake, "get-creator-account", |body| {
        body["account"]["earnings"]["availableBalance"] = serde_json::from_str("100.5").unwrap();
    });
    let account = fanvue
        .api()
        .get_creator_account()
        .creator_user_uuid(CREATOR.parse::<uuid::Uuid>().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        account.account.earnings.available_balance.to_string(),
        "100.5"
    );

    // A whole amount is an exact integer.
    serve(&fake, "get-account", |body| {
        body["account"]["earnings"]["availableBalance"] = 250_000.into();
    });
    let account = fanvue.api().get_account().send().await.unwrap();
    assert_eq!(
        account.account.earnings.available_balance.whole(),
        Some(250_000)
    );
    assert_eq!(
        account.account.earnings.available_balance,
        Cents::from(250_000)
    );
}

#[tokio::test]
async fn an_undescribed_plan_price_is_a_decimal() {
    let fake = FakeFanvue::start().await.unwrap();
    serve(&fake, "get-app-subscription-status", |body| {
        let plans = body["pricingPlans"].as_array_mut().expect("plans");
        assert!(!plans.is_empty());
        plans[0]["price"] = serde_json::from_str("9.99").unwrap();
    });
    let status = client(&fake)
        .api()
        .get_app_subscription_status()
        .app_uuid(CREATOR.parse::<uuid::Uuid>().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(status.pricing_plans[0].price, 9.99);
}

#[tokio::test]
async fn counts_accept_integral_floats_and_refuse_fractions_naming_the_field() {
    let fake = FakeFanvue::start().await.unwrap();
    let fanvue = client(&fake);
    serve(&fake, "get-current-user", |body| {
        body["fanCounts"]["followersCount"] = serde_json::from_str("3840.0").unwrap();
    });
    let me = fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(me.fan_counts.expect("fanCounts").followers_count, 3840);

    serve(&fake, "get-current-user", |body| {
        body["fanCounts"]["followersCount"] = serde_json::from_str("2.5").unwrap();
    });
    match fanvue.api().get_current_user().send().await {
        Err(error @ Error::Decode { .. }) => {
            let text = format!("{error} {error:?}");
            assert!(text.contains("followersCount"), "{text}");
            assert!(text.contains("2.5"), "{text}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_fractional_price_is_sent_exactly_and_the_fake_accepts_what_the_document_does() {
    let fake = FakeFanvue::start().await.unwrap();
    serve(&fake, "send-message", |_| {});
    let price: Cents = "300.5".parse().unwrap();
    client(&fake)
        .api()
        .send_message()
        .user_uuid(CREATOR.parse::<uuid::Uuid>().unwrap())
        .body_map(|body| body.text(Some("hi".to_string())).price(Some(price)))
        .send()
        .await
        .unwrap();
    let sent = fake.api_requests();
    let body = sent.last().expect("sent").body.clone().expect("a body");
    let body = String::from_utf8_lossy(&body).into_owned();
    assert!(body.contains(r#""price":300.5"#), "{body}");
}
