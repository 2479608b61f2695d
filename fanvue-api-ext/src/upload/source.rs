//! What to upload: a file path (read part by part, never whole), bytes in
//! memory, or any async reader with a known length.

use std::fmt;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use super::error::SourceError;

/// The bytes to upload.
///
/// Build one with [`UploadSource::path`], [`UploadSource::bytes`] or
/// [`UploadSource::reader`], or let `From` do it: a `&Path` or `PathBuf` is a
/// **file path**; `Bytes`, `Vec<u8>` and `&'static [u8]` are the content
/// itself. A string is neither: say which with [`UploadSource::path`].
pub struct UploadSource {
    kind: SourceKind,
}

enum SourceKind {
    Path(PathBuf),
    Bytes(Bytes),
    Reader {
        reader: Box<dyn AsyncRead + Send + Unpin>,
        len: u64,
    },
}

impl UploadSource {
    /// A file, read part by part as the upload goes (never loaded whole).
    /// Its name gives the default filename and media type.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: SourceKind::Path(path.into()),
        }
    }

    /// Content already in memory (not copied: parts are slices of it).
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            kind: SourceKind::Bytes(bytes.into()),
        }
    }

    /// Any async reader that yields exactly `len` bytes. It is read once,
    /// front to back; parts are still sent concurrently. The upload fails with
    /// [`SourceError::TooShort`]/[`SourceError::TooLong`] if the reader yields
    /// another number of bytes.
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, len: u64) -> Self {
        Self {
            kind: SourceKind::Reader {
                reader: Box::new(reader),
                len,
            },
        }
    }

    /// The file path, when the source is a file.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.kind {
            SourceKind::Path(p) => Some(p),
            _ => None,
        }
    }

    /// Opens the source: finds its length (a file's from its metadata).
    pub(crate) async fn open(self) -> Result<OpenedSource, SourceError> {
        let (reader, len) = match self.kind {
            SourceKind::Path(path) => {
                let file = tokio::fs::File::open(&path).await?;
                let meta = file.metadata().await?;
                if !meta.is_file() {
                    return Err(SourceError::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not a regular file",
                    )));
                }
                (Reader::File(file), meta.len())
            }
            SourceKind::Bytes(bytes) => {
                let len = bytes.len() as u64;
                (Reader::Bytes(bytes), len)
            }
            SourceKind::Reader { reader, len } => (Reader::Stream(reader), len),
        };
        Ok(OpenedSource {
            reader,
            len,
            pos: 0,
        })
    }
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SourceKind::Path(p) => f.debug_tuple("UploadSource::Path").field(p).finish(),
            SourceKind::Bytes(b) => write!(f, "UploadSource::Bytes({} bytes)", b.len()),
            SourceKind::Reader { len, .. } => write!(f, "UploadSource::Reader({len} bytes)"),
        }
    }
}

impl From<PathBuf> for UploadSource {
    fn from(p: PathBuf) -> Self {
        Self::path(p)
    }
}
impl From<&Path> for UploadSource {
    fn from(p: &Path) -> Self {
        Self::path(p)
    }
}
impl From<&PathBuf> for UploadSource {
    fn from(p: &PathBuf) -> Self {
        Self::path(p.clone())
    }
}
impl From<Bytes> for UploadSource {
    fn from(b: Bytes) -> Self {
        Self::bytes(b)
    }
}
impl From<Vec<u8>> for UploadSource {
    fn from(b: Vec<u8>) -> Self {
        Self::bytes(b)
    }
}
impl From<&'static [u8]> for UploadSource {
    fn from(b: &'static [u8]) -> Self {
        Self::bytes(b)
    }
}

enum Reader {
    File(tokio::fs::File),
    Bytes(Bytes),
    Stream(Box<dyn AsyncRead + Send + Unpin>),
}

/// One part read from the source, with the MD5 of its bytes.
#[derive(Clone)]
pub(crate) struct PartData {
    pub(crate) number: u32,
    pub(crate) bytes: Bytes,
    pub(crate) md5_hex: String,
}

/// An opened source, read front to back part by part.
pub(crate) struct OpenedSource {
    reader: Reader,
    len: u64,
    pos: u64,
}

/// Size of the scratch buffer used to skip over a non-seekable reader.
const SKIP_CHUNK: usize = 64 * 1024;

impl OpenedSource {
    /// The declared (or measured) length.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Reads the bytes `start..end` (with `start` at or after the previous
    /// part's end) as part `number`, computing its MD5. When `end` is the
    /// declared length, also checks the source has nothing more.
    pub(crate) async fn read_part(
        &mut self,
        number: u32,
        start: u64,
        end: u64,
    ) -> Result<PartData, SourceError> {
        debug_assert!(start >= self.pos && end > start && end <= self.len);
        self.skip_to(start).await?;
        let len = usize::try_from(end - start)
            .map_err(|_| SourceError::Io(std::io::Error::other("part does not fit in memory")))?;
        let mut md5 = Md5::new();
        let bytes = match &mut self.reader {
            Reader::Bytes(all) => {
                // start/end are within len == all.len().
                let slice = all.slice(start as usize..end as usize);
                md5.update(&slice);
                slice
            }
            Reader::File(r) => {
                let mut buf = BytesMut::zeroed(len);
                fill(r, &mut buf, &mut md5, start, self.len).await?;
                buf.freeze()
            }
            Reader::Stream(r) => {
                let mut buf = BytesMut::zeroed(len);
                fill(r, &mut buf, &mut md5, start, self.len).await?;
                buf.freeze()
            }
        };
        self.pos = end;
        if end == self.len {
            self.check_exhausted().await?;
        }
        Ok(PartData {
            number,
            bytes,
            md5_hex: hex::encode(md5.finalize()),
        })
    }

    async fn skip_to(&mut self, target: u64) -> Result<(), SourceError> {
        if target == self.pos {
            return Ok(());
        }
        match &mut self.reader {
            Reader::Bytes(_) => {}
            Reader::File(f) => {
                f.seek(SeekFrom::Start(target)).await?;
            }
            Reader::Stream(r) => {
                let mut scratch = vec![0u8; SKIP_CHUNK];
                let mut pos = self.pos;
                while pos < target {
                    let want = usize::try_from(target - pos)
                        .unwrap_or(SKIP_CHUNK)
                        .min(SKIP_CHUNK);
                    let n = r.read(&mut scratch[..want]).await?;
                    if n == 0 {
                        return Err(SourceError::TooShort {
                            expected: self.len,
                            actual: pos,
                        });
                    }
                    pos += n as u64;
                }
            }
        }
        self.pos = target;
        Ok(())
    }

    async fn check_exhausted(&mut self) -> Result<(), SourceError> {
        let mut one = [0u8; 1];
        let extra = match &mut self.reader {
            Reader::Bytes(_) => 0,
            Reader::File(f) => f.read(&mut one).await?,
            Reader::Stream(r) => r.read(&mut one).await?,
        };
        if extra > 0 {
            return Err(SourceError::TooLong { expected: self.len });
        }
        Ok(())
    }
}

/// Fills `buf` from `r`, hashing as it goes; a premature end is `TooShort`.
async fn fill<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
    md5: &mut Md5,
    start: u64,
    declared: u64,
) -> Result<(), SourceError> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = r.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Err(SourceError::TooShort {
                expected: declared,
                actual: start + filled as u64,
            });
        }
        md5.update(&buf[filled..filled + n]);
        filled += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn md5_hex(b: &[u8]) -> String {
        hex::encode(Md5::digest(b))
    }

    #[tokio::test]
    async fn reads_parts_from_every_kind_of_source() {
        let data = pattern(100_000);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&data).unwrap();
        let sources = vec![
            UploadSource::path(file.path()),
            UploadSource::bytes(data.clone()),
            UploadSource::reader(std::io::Cursor::new(data.clone()), data.len() as u64),
        ];
        for source in sources {
            let mut opened = source.open().await.unwrap();
            assert_eq!(opened.len(), 100_000);
            // skip part 1 (a resume), read parts 2 and 3
            let p2 = opened.read_part(2, 40_000, 80_000).await.unwrap();
            assert_eq!(&p2.bytes[..], &data[40_000..80_000]);
            assert_eq!(p2.md5_hex, md5_hex(&data[40_000..80_000]));
            let p3 = opened.read_part(3, 80_000, 100_000).await.unwrap();
            assert_eq!(&p3.bytes[..], &data[80_000..]);
        }
    }

    #[tokio::test]
    async fn reader_length_mismatches_are_errors() {
        let data = pattern(1000);
        let mut short = UploadSource::reader(std::io::Cursor::new(data.clone()), 2000)
            .open()
            .await
            .unwrap();
        assert!(matches!(
            short.read_part(1, 0, 2000).await,
            Err(SourceError::TooShort {
                expected: 2000,
                actual: 1000
            })
        ));
        let mut long = UploadSource::reader(std::io::Cursor::new(data), 500)
            .open()
            .await
            .unwrap();
        assert!(matches!(
            long.read_part(1, 0, 500).await,
            Err(SourceError::TooLong { expected: 500 })
        ));
    }

    #[tokio::test]
    async fn missing_file_is_an_io_error() {
        let err = UploadSource::path("/definitely/not/here.jpg")
            .open()
            .await
            .err()
            .unwrap();
        assert!(matches!(err, SourceError::Io(e) if e.kind() == std::io::ErrorKind::NotFound));
    }
}
