//! Telling the media type (image, video, audio, document) of a source from
//! its file extension or, failing that, its first bytes.

pub(crate) use fanvue_api::types::MediaType;

/// The media type a MIME type names, if any.
pub(crate) fn from_mime(mime: &str) -> Option<MediaType> {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (top, sub) = mime.split_once('/')?;
    match top {
        "image" => Some(MediaType::Image),
        "video" => Some(MediaType::Video),
        "audio" => Some(MediaType::Audio),
        "text" => Some(MediaType::Document),
        "application" => {
            let doc = sub == "pdf"
                || sub == "msword"
                || sub == "rtf"
                || sub == "epub+zip"
                || sub.starts_with("vnd.openxmlformats-officedocument")
                || sub.starts_with("vnd.oasis.opendocument")
                || sub.starts_with("vnd.ms-excel")
                || sub.starts_with("vnd.ms-powerpoint");
            doc.then_some(MediaType::Document)
        }
        _ => None,
    }
}

/// Guesses from a filename's extension.
pub(crate) fn from_filename(filename: &str) -> Option<MediaType> {
    mime_guess::from_path(filename)
        .iter()
        .find_map(|m| from_mime(m.essence_str()))
}

/// Guesses from the first bytes of the content (magic numbers of common
/// image, video, audio and document formats).
pub(crate) fn sniff(head: &[u8]) -> Option<MediaType> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| {
        head.get(offset..offset.saturating_add(magic.len())) == Some(magic)
    };
    if starts(b"\xFF\xD8\xFF")
        || starts(b"\x89PNG\r\n\x1a\n")
        || starts(b"GIF87a")
        || starts(b"GIF89a")
        || (starts(b"RIFF") && at(8, b"WEBP"))
        || starts(b"II*\0")
        || starts(b"MM\0*")
        || starts(b"BM") && head.len() > 14 && at(6, b"\0\0\0\0")
    {
        return Some(MediaType::Image);
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or(b"");
        return match brand {
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"avif" | b"heim" | b"heis" => {
                Some(MediaType::Image)
            }
            b"M4A " | b"M4B " | b"M4P " => Some(MediaType::Audio),
            _ => Some(MediaType::Video),
        };
    }
    if starts(b"\x1A\x45\xDF\xA3") || (starts(b"RIFF") && at(8, b"AVI ")) {
        return Some(MediaType::Video);
    }
    if starts(b"ID3")
        || starts(b"fLaC")
        || starts(b"OggS")
        || (starts(b"RIFF") && at(8, b"WAVE"))
        || matches!(head, [0xFF, second, ..] if second & 0xE0 == 0xE0)
    {
        return Some(MediaType::Audio);
    }
    if starts(b"%PDF-") {
        return Some(MediaType::Document);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_extension() {
        assert_eq!(from_filename("a.JPG"), Some(MediaType::Image));
        assert_eq!(from_filename("clip.mp4"), Some(MediaType::Video));
        assert_eq!(from_filename("clip.mov"), Some(MediaType::Video));
        assert_eq!(from_filename("song.mp3"), Some(MediaType::Audio));
        assert_eq!(from_filename("doc.pdf"), Some(MediaType::Document));
        assert_eq!(from_filename("notes.txt"), Some(MediaType::Document));
        assert_eq!(from_filename("blob.bin"), None);
        assert_eq!(from_filename("noext"), None);
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(MediaType::Image));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(MediaType::Image));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaType::Image));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0"), Some(MediaType::Video));
        assert_eq!(sniff(b"\0\0\0\x20ftypheic\0\0"), Some(MediaType::Image));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0"), Some(MediaType::Audio));
        assert_eq!(sniff(b"\x1A\x45\xDF\xA3...."), Some(MediaType::Video));
        assert_eq!(sniff(b"ID3\x04......"), Some(MediaType::Audio));
        assert_eq!(sniff(b"%PDF-1.7"), Some(MediaType::Document));
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(sniff(b""), None);
    }
}
