//! What to upload: a file path (each part read from its own range, never the
//! whole file), bytes in memory, an async reader of known length, or a reader
//! or byte stream of unknown length (uploaded in parts until its end).

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::error::SourceError;
use super::file::SourceFile;

/// The bytes to upload.
///
/// Build one with [`UploadSource::path`], [`UploadSource::bytes`],
/// [`UploadSource::reader`] (known length), [`UploadSource::stream`] or
/// [`UploadSource::byte_stream`] (unknown length), or let `From` do it: a
/// `&Path` or `PathBuf` is a **file path**; `Bytes`, `Vec<u8>` and
/// `&'static [u8]` are the content itself. A string is neither: say which
/// with [`UploadSource::path`].
pub struct UploadSource {
    kind: SourceKind,
}

/// A boxed async reader.
type BoxReader = Pin<Box<dyn AsyncRead + Send>>;

enum SourceKind {
    Path(PathBuf),
    Bytes(Bytes),
    Reader { reader: BoxReader, len: Option<u64> },
}

impl UploadSource {
    /// A file, read part by part as the upload goes (never loaded whole; each
    /// part is read from its own range, so parts are read in parallel). Its
    /// name gives the default filename and media type.
    ///
    /// The file is opened once: every part is read from that handle, so a
    /// file renamed over the path later is never read. Its length,
    /// modification time and identity are checked again before the session
    /// is completed; a change is [`UploadError::SourceChanged`](super::UploadError::SourceChanged)
    /// and nothing is completed.
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
    pub fn reader(reader: impl AsyncRead + Send + 'static, len: u64) -> Self {
        Self {
            kind: SourceKind::Reader {
                reader: Box::pin(reader),
                len: Some(len),
            },
        }
    }

    /// An async reader of **unknown length** (a download being re-uploaded, a
    /// transcoder's output): it is read front to back into parts of the part
    /// size and uploaded until it ends. Memory stays bounded by about
    /// `concurrency × part size`, whatever its length.
    ///
    /// Limits: at most 10,000 parts, so at most `10,000 × part size` bytes
    /// (78 GiB with the default 8 MiB parts; set a bigger
    /// [`part_size`](super::UploadBuilder::part_size) for more), else
    /// [`SourceError::StreamTooLong`]. An empty stream is
    /// [`ValidationError::EmptySource`](super::ValidationError::EmptySource)
    /// before any request. **Resume is not available**: the bytes already
    /// read cannot be read again, so [`MediaUploads::resume`](super::MediaUploads::resume)
    /// refuses such a source (the error's state still names the media).
    pub fn stream(reader: impl AsyncRead + Send + 'static) -> Self {
        Self {
            kind: SourceKind::Reader {
                reader: Box::pin(reader),
                len: None,
            },
        }
    }

    /// A stream of byte chunks of unknown length (e.g. a `reqwest` response's
    /// `bytes_stream()`); see [`UploadSource::stream`] for the limits.
    pub fn byte_stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: bytes::Buf + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        use futures::TryStreamExt;
        let stream = stream.map_err(std::io::Error::other);
        Self::stream(tokio_util::io::StreamReader::new(stream))
    }

    /// The file path, when the source is a file.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.kind {
            SourceKind::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The length, when known without reading (`None` for a file: it is
    /// measured when opened).
    pub(crate) fn known_len(&self) -> Option<u64> {
        match &self.kind {
            SourceKind::Bytes(b) => Some(b.len() as u64),
            SourceKind::Reader { len, .. } => *len,
            SourceKind::Path(_) => None,
        }
    }

    /// Opens the source: finds its length (a file's from its metadata).
    pub(crate) async fn open(self) -> Result<OpenedSource, SourceError> {
        Ok(match self.kind {
            SourceKind::Path(path) => {
                let file = tokio::task::spawn_blocking(move || SourceFile::open(path))
                    .await
                    .map_err(|e| {
                        std::io::Error::other(format!("opening the file stopped: {e}"))
                    })??;
                OpenedSource {
                    len: Some(file.len()),
                    reader: Reader::File(Arc::new(file)),
                    pos: 0,
                }
            }
            SourceKind::Bytes(bytes) => OpenedSource {
                len: Some(bytes.len() as u64),
                reader: Reader::Bytes(bytes),
                pos: 0,
            },
            SourceKind::Reader { reader, len } => OpenedSource {
                reader: Reader::Stream(reader),
                len,
                pos: 0,
            },
        })
    }
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SourceKind::Path(p) => f.debug_tuple("UploadSource::Path").field(p).finish(),
            SourceKind::Bytes(b) => write!(f, "UploadSource::Bytes({} bytes)", b.len()),
            SourceKind::Reader { len: Some(len), .. } => {
                write!(f, "UploadSource::Reader({len} bytes)")
            }
            SourceKind::Reader { len: None, .. } => write!(f, "UploadSource::Stream"),
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
    File(Arc<SourceFile>),
    Bytes(Bytes),
    Stream(BoxReader),
}

/// Where a part's bytes are when it is sent.
#[derive(Clone)]
pub(crate) enum Payload {
    /// In memory: a slice of the source's bytes, or read from a reader.
    Memory(Bytes),
    /// A range of the file, read again from its handle as it is sent (so it
    /// is never held in memory). Its MD5 was taken when it was hashed: if the
    /// file changed since, the storage refuses the bytes (`Content-MD5`).
    File {
        file: Arc<SourceFile>,
        start: u64,
        len: u64,
    },
}

/// One part, hashed: where its bytes are, and their MD5.
#[derive(Clone)]
pub(crate) struct PartData {
    pub(crate) number: u32,
    pub(crate) payload: Payload,
    pub(crate) md5: [u8; 16],
}

impl PartData {
    /// Hashes `bytes` as part `number`.
    pub(crate) fn hashed(number: u32, bytes: Bytes) -> Self {
        let md5 = Md5::digest(&bytes).into();
        Self {
            number,
            payload: Payload::Memory(bytes),
            md5,
        }
    }

    /// The part's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        match &self.payload {
            Payload::Memory(bytes) => bytes.len() as u64,
            Payload::File { len, .. } => *len,
        }
    }

    /// Up to `n` bytes from the part's start (to sniff the media type from).
    pub(crate) async fn head(&self, n: usize) -> Result<Bytes, SourceError> {
        match &self.payload {
            Payload::Memory(bytes) => Ok(bytes.slice(..n.min(bytes.len()))),
            Payload::File { file, start, len } => {
                let want = usize::try_from(*len).unwrap_or(n).min(n);
                let (file, start) = (file.clone(), *start);
                let read = tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0u8; want];
                    let mut filled = 0;
                    while filled < want {
                        let at = start.saturating_add(filled as u64);
                        let n = file.read_at(buf.get_mut(filled..).unwrap_or_default(), at)?;
                        if n == 0 {
                            break;
                        }
                        filled = filled.saturating_add(n);
                    }
                    buf.truncate(filled);
                    Ok::<_, std::io::Error>(Bytes::from(buf))
                })
                .await
                .map_err(|e| std::io::Error::other(format!("reading the file stopped: {e}")))??;
                Ok(read)
            }
        }
    }

    /// Gives a memory part's buffer back to the pool.
    pub(crate) fn recycle(self, pool: &BufferPool) {
        if let Payload::Memory(bytes) = self.payload {
            pool.give(bytes);
        }
    }

    /// The MD5 as lowercase hex (kept in the state).
    pub(crate) fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }

    /// The MD5 as base64 (the `Content-MD5` header).
    pub(crate) fn md5_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.md5)
    }
}

/// Part buffers kept for reuse: allocating and freeing a part-sized buffer
/// for every part (on whichever thread) fragments the allocator's arenas and
/// lets the resident memory grow well past the parts actually held.
#[derive(Default)]
pub(crate) struct BufferPool {
    free: std::sync::Mutex<Vec<BytesMut>>,
    /// The most buffers kept.
    max: usize,
}

impl BufferPool {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            free: std::sync::Mutex::new(Vec::new()),
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BytesMut>> {
        match self.free.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A zero-filled buffer of `len` bytes (a reused one when possible).
    pub(crate) fn take(&self, len: usize) -> BytesMut {
        let reused = {
            let mut free = self.lock();
            let at = free.iter().position(|b| b.capacity() >= len);
            at.map(|i| free.swap_remove(i))
        };
        match reused {
            Some(mut buf) => {
                buf.clear();
                buf.resize(len, 0);
                buf
            }
            None => BytesMut::zeroed(len),
        }
    }

    /// Takes back a part's bytes once nothing else holds them.
    pub(crate) fn give(&self, bytes: Bytes) {
        if let Ok(buf) = bytes.try_into_mut() {
            let mut free = self.lock();
            if free.len() < self.max {
                free.push(buf);
            }
        }
    }
}

/// Where a part's bytes come from, resolved in the part's task (so reading
/// and hashing run in parallel and off the loop that starts parts).
pub(crate) enum PartBytes {
    /// Already read (streams) or in memory; hashed in the task.
    Ready(Bytes),
    /// To be read from a file range in the task.
    File {
        file: Arc<SourceFile>,
        start: u64,
        len: u64,
    },
}

impl PartBytes {
    /// Hashes the part (reading a file range through a small buffer: the
    /// part is not kept in memory), off the async threads.
    pub(crate) async fn load(self, number: u32) -> Result<PartData, SourceError> {
        let joined = tokio::task::spawn_blocking(move || match self {
            PartBytes::Ready(bytes) => Ok(PartData::hashed(number, bytes)),
            PartBytes::File { file, start, len } => {
                let md5 = hash_file_range(&file, start, len)?;
                Ok(PartData {
                    number,
                    payload: Payload::File { file, start, len },
                    md5,
                })
            }
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) => Err(SourceError::Io(std::io::Error::other(format!(
                "reading part {number} stopped: {e}"
            )))),
        }
    }
}

/// The buffer a file range is hashed through.
const HASH_CHUNK: u64 = 1024 * 1024;

/// The MD5 of `start..start + len` of the file, read through a small buffer.
/// A file shorter than that is [`SourceError::Changed`].
pub(crate) fn hash_file_range(
    file: &SourceFile,
    start: u64,
    len: u64,
) -> Result<[u8; 16], SourceError> {
    let mut buf = vec![0u8; usize::try_from(len.min(HASH_CHUNK)).unwrap_or(0)];
    let mut md5 = Md5::new();
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(HASH_CHUNK)).unwrap_or(0);
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let at = start.saturating_add(len.saturating_sub(left));
        let n = file.read_at(chunk, at)?;
        if n == 0 {
            return Err(SourceError::Changed {
                expected: start.saturating_add(len),
                actual: start.saturating_add(len.saturating_sub(left)),
            });
        }
        md5.update(chunk.get(..n).unwrap_or_default());
        left = left.saturating_sub(n as u64);
    }
    Ok(md5.finalize().into())
}

/// An opened source, cut into parts front to back.
pub(crate) struct OpenedSource {
    reader: Reader,
    len: Option<u64>,
    pos: u64,
}

impl OpenedSource {
    /// The declared (or measured) length; `None` for a stream.
    pub(crate) fn len(&self) -> Option<u64> {
        self.len
    }

    /// For a file, what changed since it was opened (length, modification
    /// time, identity), if anything; checked off the async threads.
    pub(crate) fn change(
        &self,
    ) -> impl Future<Output = Option<(PathBuf, &'static str)>> + Send + use<> {
        let file = match &self.reader {
            Reader::File(file) => Some(file.clone()),
            _ => None,
        };
        async move {
            let file = file?;
            let path = file.path().to_owned();
            let change = tokio::task::spawn_blocking(move || file.change())
                .await
                .unwrap_or(Some("file identity"))?;
            Some((path, change))
        }
    }

    /// Whether the parts are file ranges (not held in memory while sent).
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.reader, Reader::File(_))
    }

    /// Whether the parts are read from a reader into memory (the bytes of
    /// [`UploadSource::bytes`] are sliced, not copied).
    pub(crate) fn is_reader(&self) -> bool {
        matches!(self.reader, Reader::Stream(_))
    }

    /// Part `start..end` (with `start` at or after the previous part's end):
    /// a file range to read later, a slice of the bytes, or the bytes read
    /// now from a reader. A reader of declared length is checked to end
    /// exactly there. A reader of unknown length may end early: the part is
    /// then shorter, and empty at the end of the stream.
    pub(crate) async fn part(
        &mut self,
        start: u64,
        end: u64,
        pool: &BufferPool,
    ) -> Result<PartBytes, SourceError> {
        let want = end.saturating_sub(start);
        let part = match &mut self.reader {
            Reader::Bytes(all) => {
                let (s, e) = (to_usize(start)?, to_usize(end)?);
                PartBytes::Ready(all.slice(s.min(all.len())..e.min(all.len())))
            }
            Reader::File(file) => PartBytes::File {
                file: file.clone(),
                start,
                len: want,
            },
            Reader::Stream(r) => {
                skip(r, self.pos, start, self.len).await?;
                let mut buf = pool.take(to_usize(want)?);
                let mut filled: usize = 0;
                while filled < buf.len() {
                    let n = r.read(buf.get_mut(filled..).unwrap_or_default()).await?;
                    if n == 0 {
                        break;
                    }
                    filled = filled.saturating_add(n);
                }
                let got = start.saturating_add(filled as u64);
                if let Some(len) = self.len {
                    if filled < buf.len() {
                        return Err(SourceError::TooShort {
                            expected: len,
                            actual: got,
                        });
                    }
                    if end == len {
                        let mut one = [0u8; 1];
                        if r.read(&mut one).await? > 0 {
                            return Err(SourceError::TooLong { expected: len });
                        }
                    }
                }
                buf.truncate(filled);
                PartBytes::Ready(buf.freeze())
            }
        };
        self.pos = end;
        Ok(part)
    }
}

fn to_usize(n: u64) -> Result<usize, SourceError> {
    usize::try_from(n)
        .map_err(|_| SourceError::Io(std::io::Error::other("offset does not fit in memory")))
}

/// Size of the scratch buffer used to skip over a reader.
const SKIP_CHUNK: usize = 64 * 1024;

/// Reads and drops `from..to` of a reader.
async fn skip(
    r: &mut BoxReader,
    from: u64,
    to: u64,
    declared: Option<u64>,
) -> Result<(), SourceError> {
    let mut scratch = vec![0u8; SKIP_CHUNK];
    let mut pos = from;
    while pos < to {
        let want = usize::try_from(to.saturating_sub(pos))
            .unwrap_or(SKIP_CHUNK)
            .min(SKIP_CHUNK);
        let n = r.read(scratch.get_mut(..want).unwrap_or_default()).await?;
        if n == 0 {
            return Err(SourceError::TooShort {
                expected: declared.unwrap_or(to),
                actual: pos,
            });
        }
        pos = pos.saturating_add(n as u64);
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

    async fn load(
        opened: &mut OpenedSource,
        n: u32,
        start: u64,
        end: u64,
    ) -> Result<PartData, SourceError> {
        let pool = Arc::new(BufferPool::new(2));
        opened.part(start, end, &pool).await?.load(n).await
    }

    /// The part's bytes, wherever they are.
    async fn content(part: &PartData) -> Vec<u8> {
        let len = usize::try_from(part.len()).unwrap();
        part.head(len).await.unwrap().to_vec()
    }

    #[test]
    fn the_pool_reuses_buffers_nothing_else_holds() {
        let pool = BufferPool::new(1);
        let mut a = pool.take(100);
        a[0] = 7;
        let a = a.freeze();
        let ptr = a.as_ptr();
        let shared = a.slice(10..20);
        pool.give(a);
        // Still shared with a slice: not reused.
        assert_ne!(pool.take(100).as_ptr(), ptr);
        drop(shared);
        let b = pool.take(100).freeze();
        let ptr = b.as_ptr();
        pool.give(b);
        let c = pool.take(50);
        assert_eq!(c.as_ptr(), ptr, "reused");
        assert!(c.iter().all(|&x| x == 0), "zero-filled");
    }

    #[tokio::test]
    async fn reads_parts_from_every_kind_of_source() {
        let data = pattern(100_000);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&data).unwrap();
        let sources = vec![
            (UploadSource::path(file.path()), Some(100_000)),
            (UploadSource::bytes(data.clone()), Some(100_000)),
            (
                UploadSource::reader(std::io::Cursor::new(data.clone()), data.len() as u64),
                Some(100_000),
            ),
            (
                UploadSource::stream(std::io::Cursor::new(data.clone())),
                None,
            ),
        ];
        for (source, len) in sources {
            let mut opened = source.open().await.unwrap();
            assert_eq!(opened.len(), len);
            // skip part 1 (a resume), read parts 2 and 3
            let p2 = load(&mut opened, 2, 40_000, 80_000).await.unwrap();
            assert_eq!(&content(&p2).await[..], &data[40_000..80_000]);
            assert_eq!(p2.md5, <[u8; 16]>::from(Md5::digest(&data[40_000..80_000])));
            let p3 = load(&mut opened, 3, 80_000, 100_000).await.unwrap();
            assert_eq!(&content(&p3).await[..], &data[80_000..]);
        }
    }

    #[tokio::test]
    async fn a_stream_ends_with_a_short_then_an_empty_part() {
        let data = pattern(25_000);
        let chunks: Vec<Result<Bytes, std::io::Error>> = data
            .chunks(999)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let mut opened = UploadSource::byte_stream(futures::stream::iter(chunks))
            .open()
            .await
            .unwrap();
        let p1 = load(&mut opened, 1, 0, 10_000).await.unwrap();
        assert_eq!(&content(&p1).await[..], &data[..10_000]);
        let p2 = load(&mut opened, 2, 10_000, 20_000).await.unwrap();
        assert_eq!(&content(&p2).await[..], &data[10_000..20_000]);
        let p3 = load(&mut opened, 3, 20_000, 30_000).await.unwrap();
        assert_eq!(&content(&p3).await[..], &data[20_000..]);
        let p4 = load(&mut opened, 4, 30_000, 40_000).await.unwrap();
        assert_eq!(p4.len(), 0);
    }

    #[tokio::test]
    async fn reader_length_mismatches_are_errors() {
        let data = pattern(1000);
        let mut short = UploadSource::reader(std::io::Cursor::new(data.clone()), 2000)
            .open()
            .await
            .unwrap();
        assert!(matches!(
            load(&mut short, 1, 0, 2000).await,
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
            load(&mut long, 1, 0, 500).await,
            Err(SourceError::TooLong { expected: 500 })
        ));
    }

    #[tokio::test]
    async fn a_file_that_shrinks_is_an_error() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&pattern(1000)).unwrap();
        let mut opened = UploadSource::path(file.path()).open().await.unwrap();
        file.as_file().set_len(600).unwrap();
        assert!(matches!(
            load(&mut opened, 1, 0, 1000).await,
            Err(SourceError::Changed {
                expected: 1000,
                actual: 600
            })
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
