use std::fmt;
use std::str::FromStr;

/// An OAuth scope of the Fanvue API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `openid`
    OpenId,
    /// `offline_access` (needed to receive a refresh token)
    OfflineAccess,
    /// `read:self`
    ReadSelf,
    /// `read:media`
    ReadMedia,
    /// `write:media`
    WriteMedia,
    /// `read:chat`
    ReadChat,
    /// `write:chat`
    WriteChat,
    /// `read:creator`
    ReadCreator,
    /// `write:creator`
    WriteCreator,
    /// `read:insights`
    ReadInsights,
    /// `read:tracking_links`
    ReadTrackingLinks,
    /// `write:tracking_links`
    WriteTrackingLinks,
    /// `read:post`
    ReadPost,
    /// `write:post`
    WritePost,
    /// `read:fan`
    ReadFan,
    /// Any other scope, as written.
    Unknown(String),
}

const KNOWN: &[(Scope, &str)] = &[
    (Scope::OpenId, "openid"),
    (Scope::OfflineAccess, "offline_access"),
    (Scope::ReadSelf, "read:self"),
    (Scope::ReadMedia, "read:media"),
    (Scope::WriteMedia, "write:media"),
    (Scope::ReadChat, "read:chat"),
    (Scope::WriteChat, "write:chat"),
    (Scope::ReadCreator, "read:creator"),
    (Scope::WriteCreator, "write:creator"),
    (Scope::ReadInsights, "read:insights"),
    (Scope::ReadTrackingLinks, "read:tracking_links"),
    (Scope::WriteTrackingLinks, "write:tracking_links"),
    (Scope::ReadPost, "read:post"),
    (Scope::WritePost, "write:post"),
    (Scope::ReadFan, "read:fan"),
];

impl Scope {
    /// The scope as the authorization server spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Unknown(s) => s,
            known => KNOWN
                .iter()
                .find(|(scope, _)| scope == known)
                .map(|(_, name)| *name)
                .unwrap_or(""),
        }
    }

    /// Every scope the API documents (plus `openid` and `offline_access`).
    pub fn all() -> impl Iterator<Item = Scope> {
        KNOWN.iter().map(|(scope, _)| scope.clone())
    }
}

impl FromStr for Scope {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(KNOWN
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(scope, _)| scope.clone())
            .unwrap_or_else(|| Scope::Unknown(s.to_owned())))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for scope in Scope::all() {
            assert!(!scope.as_str().is_empty());
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        assert_eq!(
            "read:vault".parse::<Scope>().unwrap(),
            Scope::Unknown("read:vault".into())
        );
        assert_eq!(
            Scope::WriteTrackingLinks.to_string(),
            "write:tracking_links"
        );
    }
}
