//! The file of a file upload, opened once: every part is read from that one
//! handle by position (so a file renamed over the path mid-upload is never
//! read), and what the file was when the upload started (length,
//! modification time, identity) is checked again before the session is
//! completed.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What identifies the file's content at a point in time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    len: u64,
    modified: Option<SystemTime>,
    /// Device and inode (unix): another file renamed over the path has others.
    #[cfg(unix)]
    node: (u64, u64),
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            node: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
        }
    }

    /// What differs between `self` (at the start) and `now`, if anything.
    fn change(&self, now: &Identity) -> Option<&'static str> {
        #[cfg(unix)]
        if self.node != now.node {
            return Some("file identity");
        }
        if self.len != now.len {
            Some("length")
        } else if self.modified != now.modified {
            Some("modification time")
        } else {
            None
        }
    }
}

/// An upload's source file: one open handle and its identity at the start.
#[derive(Debug)]
pub(crate) struct SourceFile {
    file: File,
    path: PathBuf,
    at_start: Identity,
    /// Positioned reads without `pread` are a seek and a read, in one piece.
    #[cfg(not(any(unix, windows)))]
    lock: std::sync::Mutex<()>,
}

impl SourceFile {
    /// Opens `path` (a regular file) and records its identity.
    pub(crate) fn open(path: PathBuf) -> io::Result<Self> {
        let file = File::open(&path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(Self {
            file,
            at_start: Identity::of(&meta),
            path,
            #[cfg(not(any(unix, windows)))]
            lock: std::sync::Mutex::new(()),
        })
    }

    /// The path the file was opened at.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The length when the upload started.
    pub(crate) fn len(&self) -> u64 {
        self.at_start.len
    }

    /// Reads into `buf` from `offset` (fewer bytes at the end of the file).
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
        }
        #[cfg(not(any(unix, windows)))]
        {
            use std::io::{Read, Seek, SeekFrom};
            let _held = match self.lock.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let mut file = &self.file;
            file.seek(SeekFrom::Start(offset))?;
            file.read(buf)
        }
    }

    /// What changed since the upload started, if anything: the handle's
    /// file written to (length, modification time), or another file at the
    /// path (identity; a file that is gone is a change too).
    pub(crate) fn change(&self) -> Option<&'static str> {
        let handle = match self.file.metadata() {
            Ok(meta) => Identity::of(&meta),
            Err(_) => return Some("file identity"),
        };
        if let Some(change) = self.at_start.change(&handle) {
            return Some(change);
        }
        match std::fs::metadata(&self.path) {
            Ok(meta) => self.at_start.change(&Identity::of(&meta)),
            Err(_) => Some("file identity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_by_position_and_sees_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = SourceFile::open(path.clone()).unwrap();
        assert_eq!(file.len(), 10);
        let mut buf = [0u8; 4];
        assert_eq!(file.read_at(&mut buf, 3).unwrap(), 4);
        assert_eq!(&buf, b"3456");
        assert_eq!(file.read_at(&mut buf, 8).unwrap(), 2);
        assert_eq!(file.change(), None);

        // Another file renamed over the path: the handle still reads the old one.
        let other = dir.path().join("b.bin");
        std::fs::write(&other, b"abcdefghij").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(file.read_at(&mut buf, 0).unwrap(), 4);
        assert_eq!(&buf, b"0123");
        assert!(file.change().is_some());

        // Appended to in place.
        let file = SourceFile::open(path.clone()).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"k")
            .unwrap();
        assert_eq!(file.change(), Some("length"));

        // Rewritten in place with as many bytes: only the modification time tells (set a second
        // later, as a coarse file-system clock could otherwise leave it equal).
        let file = SourceFile::open(path.clone()).unwrap();
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut rewrite = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        rewrite.write_all(b"ABCDEFGHIJK").unwrap();
        rewrite
            .set_modified(before + std::time::Duration::from_secs(1))
            .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 11);
        assert_eq!(file.change(), Some("modification time"));
    }
}
