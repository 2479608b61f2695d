//! Telling the media type (image, video, audio, document) of a source from
//! its file extension or, failing that, its first bytes.

use std::fmt;

/// The kind of media Fanvue stores, as sent in `mediaType` when creating the
/// upload session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// A picture.
    Image,
    /// A video.
    Video,
    /// A sound recording.
    Audio,
    /// A document (PDF, text, office files).
    Document,
}

impl MediaType {
    /// The API's wire value.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Video => "video",
            MediaType::Audio => "audio",
            MediaType::Document => "document",
        }
    }

    /// The media type a MIME type names, if any.
    pub fn from_mime(mime: &str) -> Option<Self> {
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
    pub fn from_filename(filename: &str) -> Option<Self> {
        mime_guess::from_path(filename)
            .iter()
            .find_map(|m| Self::from_mime(m.essence_str()))
    }

    /// Guesses from the first bytes of the content (magic numbers of common
    /// image, video, audio and document formats).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        let starts = |magic: &[u8]| head.starts_with(magic);
        let at =
            |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
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
            || (head.len() >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0)
        {
            return Some(MediaType::Audio);
        }
        if starts(b"%PDF-") {
            return Some(MediaType::Document);
        }
        None
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_extension() {
        assert_eq!(MediaType::from_filename("a.JPG"), Some(MediaType::Image));
        assert_eq!(MediaType::from_filename("clip.mp4"), Some(MediaType::Video));
        assert_eq!(MediaType::from_filename("clip.mov"), Some(MediaType::Video));
        assert_eq!(MediaType::from_filename("song.mp3"), Some(MediaType::Audio));
        assert_eq!(
            MediaType::from_filename("doc.pdf"),
            Some(MediaType::Document)
        );
        assert_eq!(
            MediaType::from_filename("notes.txt"),
            Some(MediaType::Document)
        );
        assert_eq!(MediaType::from_filename("blob.bin"), None);
        assert_eq!(MediaType::from_filename("noext"), None);
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(
            MediaType::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(MediaType::Image)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(MediaType::Image)
        );
        assert_eq!(
            MediaType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaType::Image)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x20ftypisom\0\0"),
            Some(MediaType::Video)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x20ftypheic\0\0"),
            Some(MediaType::Image)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x20ftypM4A \0\0"),
            Some(MediaType::Audio)
        );
        assert_eq!(
            MediaType::sniff(b"\x1A\x45\xDF\xA3...."),
            Some(MediaType::Video)
        );
        assert_eq!(MediaType::sniff(b"ID3\x04......"), Some(MediaType::Audio));
        assert_eq!(MediaType::sniff(b"%PDF-1.7"), Some(MediaType::Document));
        assert_eq!(MediaType::sniff(b"hello world"), None);
        assert_eq!(MediaType::sniff(b""), None);
    }
}
