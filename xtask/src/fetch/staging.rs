//! Writing the downloaded pages so that the output folder is never half-written.
//!
//! The pages are written into a fresh temporary folder beside the output folder (same parent, hence the same
//! filesystem), which is then renamed into place. An existing output folder is first renamed aside, and is
//! removed only once the new folder is in place (it is renamed back if that fails). The two renames leave a
//! very short moment where the output path does not exist, but never one where it holds a mix of old and new
//! pages or a partial download.

use std::path::{Path, PathBuf};

use super::FetchError;
use super::index::PageRef;

/// Checks, before anything is downloaded, that `out` can be (re)placed: it has a final name, and it is not
/// an existing file (or symlink). Returns that final name.
pub fn check_destination(out: &Path) -> Result<String, FetchError> {
    let name =
        out.file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| FetchError::InvalidOutput {
                path: out.to_path_buf(),
            })?;
    match std::fs::symlink_metadata(out) {
        Ok(meta) if !meta.is_dir() => Err(FetchError::NotADirectory {
            path: out.to_path_buf(),
        }),
        _ => Ok(name.to_owned()),
    }
}

/// Writes `pages` (each with its markdown) as `out/<group>/<slug>.md`, replacing `out` as a whole.
pub fn replace_dir(out: &Path, pages: &[(PageRef, String)]) -> Result<(), FetchError> {
    replace_dir_with(out, pages, &[])
}

/// Like [`replace_dir`], with `extra` files (path relative to `out`, content) written beside the pages.
pub fn replace_dir_with(
    out: &Path,
    pages: &[(PageRef, String)],
    extra: &[(PathBuf, String)],
) -> Result<(), FetchError> {
    let name = check_destination(out)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;

    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.fetch-"))
        .tempdir_in(&parent)
        .map_err(io_error(&parent))?;
    for (page, markdown) in pages {
        let path = staging.path().join(page.relative_path());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        std::fs::write(&path, markdown).map_err(io_error(&path))?;
    }
    for (rel, text) in extra {
        let path = staging.path().join(rel);
        std::fs::write(&path, text).map_err(io_error(&path))?;
    }

    if out.exists() {
        let aside = free_sibling(&parent, &format!(".{name}.old-"));
        std::fs::rename(out, &aside).map_err(io_error(out))?;
        if let Err(e) = std::fs::rename(staging.path(), out) {
            // Put the old folder back; the staging folder is removed when `staging` drops.
            let _ = std::fs::rename(&aside, out);
            return Err(io_error(out)(e));
        }
        // The new folder is in place; a leftover hidden `.old-` folder is harmless.
        let _ = std::fs::remove_dir_all(&aside);
    } else {
        std::fs::rename(staging.path(), out).map_err(io_error(out))?;
    }
    // The staging path no longer exists; dropping it is a no-op.
    let _ = staging.keep();
    Ok(())
}

/// A path `parent/<prefix><n>` that does not exist yet.
fn free_sibling(parent: &Path, prefix: &str) -> PathBuf {
    let pid = std::process::id();
    (0u32..)
        .map(|n| parent.join(format!("{prefix}{pid}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| parent.join(format!("{prefix}{pid}")))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}
