//! The bytes of an input file: a large regular file is mapped into memory,
//! anything else (a small file, a pipe, standard input) is read.
//!
//! Reading copies the file from the page cache into fresh memory, and the
//! kernel faults in and zeroes that memory a page at a time: for a 29 MB
//! file this was a third of `scan`'s whole process. A map shares the page
//! cache's pages, filled in one call (`MAP_POPULATE`).
//!
//! The one hazard of a map, as for ripgrep and every tool that maps: the
//! file must not be truncated or rewritten while it is scanned (another
//! process truncating it ends this one with SIGBUS). Appending is harmless
//! (the map's length is fixed when it is made). `--no-mmap` reads instead.

#![allow(unsafe_code)]

use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;

/// Files at least this large are mapped: below it, reading costs less
/// than setting up a map.
const MAP_AT_LEAST: u64 = 1 << 20;

/// An input's bytes, read or mapped.
pub(crate) enum InputBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl Deref for InputBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            InputBytes::Read(v) => v,
            InputBytes::Mapped(m) => m,
        }
    }
}

/// Standard input, read to its end.
pub(crate) fn read_stdin() -> io::Result<InputBytes> {
    let mut buf = Vec::new();
    io::stdin().read_to_end(&mut buf)?;
    Ok(InputBytes::Read(buf))
}

/// The bytes of the file at `path`: mapped when it is a regular file of
/// [`MAP_AT_LEAST`] bytes or more and `map` allows, else read.
pub(crate) fn read_file(path: &Path, map: bool) -> io::Result<InputBytes> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if map && meta.is_file() && meta.len() >= MAP_AT_LEAST {
        // SAFETY: the map is read-only and private to this process; its
        // bytes are only read, through `&[u8]`, while the map lives (it is
        // dropped with `InputBytes`). What memory safety still assumes is
        // that no other process truncates or rewrites the file meanwhile:
        // the documented hazard of every map (see the module docs and
        // `--no-mmap`).
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        return Ok(InputBytes::Mapped(map));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut buf)?;
    Ok(InputBytes::Read(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_files_are_mapped_and_small_ones_read_with_the_same_bytes() {
        let dir = std::env::temp_dir().join(format!("input-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (small, large) = (dir.join("small.txt"), dir.join("large.txt"));
        let small_text = "手机13800138000\n".repeat(10);
        let large_text = "手机13800138000\n".repeat(100_000);
        std::fs::write(&small, &small_text).unwrap();
        std::fs::write(&large, &large_text).unwrap();
        let read = read_file(&small, true).unwrap();
        assert!(matches!(read, InputBytes::Read(_)));
        assert_eq!(&*read, small_text.as_bytes());
        let mapped = read_file(&large, true).unwrap();
        assert!(matches!(mapped, InputBytes::Mapped(_)));
        assert_eq!(&*mapped, large_text.as_bytes());
        let unmapped = read_file(&large, false).unwrap();
        assert!(matches!(unmapped, InputBytes::Read(_)));
        assert_eq!(&*unmapped, large_text.as_bytes());
        // An empty file is read (a map of nothing is an error).
        let empty = dir.join("empty.txt");
        std::fs::write(&empty, "").unwrap();
        assert!(read_file(&empty, true).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
