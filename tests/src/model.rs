//! Seed data served by the fake: the current user, media, chats, tracking links, earnings and agency creators.
//!
//! Every type serializes to the camelCase JSON shape of the Fanvue API. Tests can build their own items
//! (all fields are public) or use the `sample` constructors, which derive deterministic values from an index.

use serde::Serialize;
use uuid::Uuid;

/// Deterministic UUID derived from a namespace tag and an index, so seeded data is stable across runs.
pub fn seeded_uuid(tag: &str, index: usize) -> Uuid {
    let mut bytes = [0u8; 16];
    let tag_bytes = tag.as_bytes();
    for (i, b) in tag_bytes.iter().take(8).enumerate() {
        bytes[i] = *b;
    }
    bytes[8..16].copy_from_slice(&(index as u64).to_be_bytes());
    // Mark as version 4, RFC 4122 variant, so strict parsers accept it.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

fn sample_timestamp(index: usize) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let t = base + chrono::Duration::hours(index as i64);
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Follower / subscriber counts of the current user.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FanCounts {
    /// Number of followers.
    pub followers_count: u64,
    /// Number of subscribers.
    pub subscribers_count: u64,
}

/// Content counts of the current user.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContentCounts {
    /// Images.
    pub image_count: u64,
    /// Videos.
    pub video_count: u64,
    /// Audio files.
    pub audio_count: u64,
    /// Posts.
    pub post_count: u64,
    /// Pay-to-view posts.
    pub pay_to_view_post_count: u64,
}

/// The authenticated user returned by `GET /users/me`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUser {
    /// User id.
    pub uuid: Uuid,
    /// E-mail address.
    pub email: String,
    /// Handle.
    pub handle: String,
    /// Bio text.
    pub bio: String,
    /// Display name.
    pub display_name: String,
    /// Whether the user is a creator.
    pub is_creator: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339), if any.
    pub updated_at: Option<String>,
    /// Avatar URL, if any.
    pub avatar_url: Option<String>,
    /// Banner URL, if any.
    pub banner_url: Option<String>,
    /// Number of likes.
    pub likes_count: u64,
    /// Fan counts.
    pub fan_counts: FanCounts,
    /// Content counts.
    pub content_counts: ContentCounts,
}

impl CurrentUser {
    /// A deterministic sample user.
    pub fn sample() -> Self {
        CurrentUser {
            uuid: seeded_uuid("user", 0),
            email: "creator@example.test".into(),
            handle: "fake-creator".into(),
            bio: "A creator that only exists on loopback.".into(),
            display_name: "Fake Creator".into(),
            is_creator: true,
            created_at: sample_timestamp(0),
            updated_at: None,
            avatar_url: None,
            banner_url: None,
            likes_count: 42,
            fan_counts: FanCounts {
                followers_count: 100,
                subscribers_count: 10,
            },
            content_counts: ContentCounts {
                image_count: 3,
                video_count: 2,
                audio_count: 1,
                post_count: 5,
                pay_to_view_post_count: 1,
            },
        }
    }
}

/// Kind of a media item (`mediaType`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// An image.
    Image,
    /// A video.
    Video,
    /// An audio file.
    Audio,
    /// A document.
    Document,
}

impl MediaType {
    /// Parses the wire value (`image`, `video`, `audio`, `document`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "image" => Some(MediaType::Image),
            "video" => Some(MediaType::Video),
            "audio" => Some(MediaType::Audio),
            "document" => Some(MediaType::Document),
            _ => None,
        }
    }
}

/// Processing status of a media item.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MediaStatus {
    /// Upload session created, not completed yet.
    Created,
    /// Upload completed, the media is being processed.
    Processing,
    /// Processing done: variants are available.
    Ready,
    /// Processing failed.
    Error,
}

impl MediaStatus {
    /// The wire value (`created`, `processing`, `ready`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::Created => "created",
            MediaStatus::Processing => "processing",
            MediaStatus::Ready => "ready",
            MediaStatus::Error => "error",
        }
    }
}

/// The variant types a media item can expose.
pub const VARIANT_TYPES: [&str; 4] = ["main", "thumbnail", "blurred", "thumbnail_gallery"];

/// One rendition of a media item.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MediaVariant {
    /// Variant id.
    pub uuid: Uuid,
    /// `main`, `thumbnail`, `blurred` or `thumbnail_gallery`.
    pub variant_type: String,
    /// Position for display.
    pub display_position: u32,
    /// URL of the rendition.
    pub url: String,
    /// Width in pixels, if known.
    pub width: Option<u32>,
    /// Height in pixels, if known.
    pub height: Option<u32>,
    /// Length in milliseconds (audio/video), if known.
    pub length_ms: Option<u64>,
}

/// A media item in the library (`GET /media`, `GET /media/{uuid}`).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaItem {
    /// Media id.
    pub uuid: Uuid,
    /// Status; only `ready` items expose their details.
    pub status: MediaStatus,
    /// Creation date (`YYYY-MM-DD` or RFC 3339).
    pub created_at: String,
    /// Caption.
    pub caption: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Kind of media.
    pub media_type: MediaType,
    /// Recommended price, if any.
    pub recommended_price: Option<f64>,
    /// All variants; responses only include those named in the `variants` query parameter.
    pub variants: Vec<MediaVariant>,
}

impl MediaItem {
    /// A deterministic ready sample item with all four variants.
    pub fn sample(index: usize) -> Self {
        let uuid = seeded_uuid("media", index);
        MediaItem {
            uuid,
            status: MediaStatus::Ready,
            created_at: sample_timestamp(index),
            caption: Some(format!("caption {index}")),
            description: None,
            name: Some(format!("media-{index}")),
            media_type: if index.is_multiple_of(3) {
                MediaType::Video
            } else {
                MediaType::Image
            },
            recommended_price: None,
            variants: sample_variants(uuid),
        }
    }

    /// The JSON the API returns for this item, keeping only the requested variant types.
    ///
    /// Items that are not `ready` answer with `{uuid, status}` only, as the API does.
    pub fn to_json(&self, requested_variants: &[String]) -> serde_json::Value {
        if self.status != MediaStatus::Ready {
            return serde_json::json!({ "uuid": self.uuid, "status": self.status });
        }
        let variants: Vec<&MediaVariant> = self
            .variants
            .iter()
            .filter(|v| requested_variants.iter().any(|r| r == &v.variant_type))
            .collect();
        let url = self
            .variants
            .iter()
            .find(|v| v.variant_type == "main")
            .filter(|_| requested_variants.iter().any(|r| r == "main"))
            .map(|v| v.url.clone());
        let mut value = serde_json::json!({
            "uuid": self.uuid,
            "status": self.status,
            "createdAt": self.created_at,
            "caption": self.caption,
            "description": self.description,
            "name": self.name,
            "mediaType": self.media_type,
            "recommendedPrice": self.recommended_price,
            "variants": variants,
        });
        if let (Some(url), Some(obj)) = (url, value.as_object_mut()) {
            obj.insert("url".into(), serde_json::Value::String(url));
        }
        value
    }
}

/// The four sample variants of a media item, with fake CDN URLs.
pub fn sample_variants(media: Uuid) -> Vec<MediaVariant> {
    VARIANT_TYPES
        .iter()
        .enumerate()
        .map(|(i, t)| MediaVariant {
            uuid: seeded_uuid(&format!("var{i}"), media.as_u128() as usize),
            variant_type: (*t).to_string(),
            display_position: i as u32,
            url: format!("https://cdn.fake.invalid/{media}/{t}"),
            width: Some(1080),
            height: Some(1350),
            length_ms: None,
        })
        .collect()
}

/// A short user reference, used in chats, earnings and the agency creators list.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    /// User id.
    pub uuid: Uuid,
    /// Handle.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// Nickname set by the creator, if any.
    pub nickname: Option<String>,
    /// Whether the user is a top spender.
    pub is_top_spender: bool,
}

impl UserRef {
    /// A deterministic sample fan.
    pub fn sample(index: usize) -> Self {
        UserRef {
            uuid: seeded_uuid("fan", index),
            handle: format!("fan{index}"),
            display_name: format!("Fan {index}"),
            nickname: None,
            is_top_spender: index.is_multiple_of(5),
        }
    }
}

/// The last message of a chat.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LastMessage {
    /// Text, if any.
    pub text: Option<String>,
    /// Message type (e.g. `SINGLE_RECIPIENT`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Message id.
    pub uuid: String,
    /// Send time.
    pub sent_at: String,
    /// Whether the message has media.
    pub has_media: Option<bool>,
    /// Media type, if any.
    pub media_type: Option<MediaType>,
    /// Sender id.
    pub sender_uuid: Uuid,
    /// The team member who sent it on the creator's behalf (`null` when the creator did).
    pub sent_by_user_id: Option<String>,
}

/// A chat in `GET /chats`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    /// Creation time.
    pub created_at: String,
    /// Time of the last message.
    pub last_message_at: Option<String>,
    /// Whether the chat is read.
    pub is_read: bool,
    /// Whether the chat is muted.
    pub is_muted: bool,
    /// Unread messages.
    pub unread_messages_count: u32,
    /// The other user, with avatar and registration time.
    pub user: ChatUser,
    /// Last message, if any.
    pub last_message: Option<LastMessage>,
}

/// The other participant of a chat.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChatUser {
    /// Short user reference.
    #[serde(flatten)]
    pub user: UserRef,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Registration time.
    pub registered_at: String,
}

impl Chat {
    /// A deterministic sample chat.
    pub fn sample(index: usize) -> Self {
        let user = UserRef::sample(index);
        let sender = user.uuid;
        Chat {
            created_at: sample_timestamp(index),
            last_message_at: Some(sample_timestamp(index + 1)),
            is_read: index.is_multiple_of(2),
            is_muted: false,
            unread_messages_count: (index % 3) as u32,
            user: ChatUser {
                user,
                avatar_url: None,
                registered_at: sample_timestamp(index),
            },
            last_message: Some(LastMessage {
                text: Some(format!("hello {index}")),
                kind: "SINGLE_RECIPIENT".into(),
                uuid: seeded_uuid("msg", index).to_string(),
                sent_at: sample_timestamp(index + 1),
                has_media: Some(false),
                media_type: None,
                sender_uuid: sender,
                sent_by_user_id: None,
            }),
        }
    }
}

/// A tracking link in `GET /tracking-links`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrackingLink {
    /// Link id.
    pub uuid: Uuid,
    /// Name.
    pub name: String,
    /// The public URL.
    pub link_url: String,
    /// Social platform (e.g. `instagram`).
    pub external_social_platform: String,
    /// Creation time.
    pub created_at: String,
    /// Click count.
    pub clicks: u64,
    /// Followers and subscribers the link brought.
    pub engagement: serde_json::Value,
    /// What the link earned (`null` when nothing yet).
    pub earnings: Option<serde_json::Value>,
}

impl TrackingLink {
    /// A deterministic sample link.
    pub fn sample(index: usize) -> Self {
        TrackingLink {
            uuid: seeded_uuid("link", index),
            name: format!("link {index}"),
            link_url: format!("https://fanvue.fake.invalid/l/{index}"),
            external_social_platform: "instagram".into(),
            created_at: sample_timestamp(index),
            clicks: index as u64 * 7,
            engagement: serde_json::json!({
                "acquiredFollowers": index, "acquiredSubscribers": 0,
                "totalFollowers": index, "totalSubscribers": 0
            }),
            earnings: None,
        }
    }
}

/// One earnings entry in `GET /insights/earnings`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Earning {
    /// Date of the transaction.
    pub date: String,
    /// Gross amount (cents).
    pub gross: i64,
    /// Net amount (cents).
    pub net: i64,
    /// Currency, if any.
    pub currency: Option<String>,
    /// Source (e.g. `subscription`, `tip`).
    pub source: String,
    /// The order the earning belongs to.
    pub transaction_order_id: String,
    /// `availableForPayout` or `pendingBalance`.
    pub transaction_order_status: String,
    /// The paying fan, if any.
    pub user: Option<UserRef>,
}

impl Earning {
    /// A deterministic sample entry.
    pub fn sample(index: usize) -> Self {
        Earning {
            date: sample_timestamp(index),
            gross: 1000 + index as i64,
            net: 800 + index as i64,
            currency: Some("USD".into()),
            source: if index.is_multiple_of(2) {
                "subscription"
            } else {
                "tip"
            }
            .into(),
            transaction_order_id: format!("order-{index}"),
            transaction_order_status: "availableForPayout".into(),
            user: Some(UserRef::sample(index)),
        }
    }
}

/// A creator of the agency (`GET /creators`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Creator {
    /// Short user reference.
    #[serde(flatten)]
    pub user: UserRef,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Registration time.
    pub registered_at: String,
    /// Role in the agency.
    pub role: String,
}

impl Creator {
    /// A deterministic sample creator.
    pub fn sample(index: usize) -> Self {
        Creator {
            user: UserRef {
                uuid: seeded_uuid("creator", index),
                handle: format!("creator{index}"),
                display_name: format!("Creator {index}"),
                nickname: None,
                is_top_spender: false,
            },
            avatar_url: None,
            registered_at: sample_timestamp(index),
            role: "creator".into(),
        }
    }
}
