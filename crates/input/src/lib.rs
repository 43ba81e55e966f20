//! Opening the files a user names.
//!
//! Every path Touchstone reads because someone typed it (a suite, a dataset, a profile, a key, a
//! certificate) goes through here, for two reasons:
//!
//! - **Nothing blocks in `open()`.** Opening a FIFO for reading waits for a writer, forever, and
//!   a device can stream without end. Files are opened with `O_NONBLOCK` (which changes nothing
//!   for a regular file) and checked with `fstat` on the opened descriptor, so there is no window
//!   between the check and the open; anything but a regular file is refused at once with what it
//!   is.
//! - **Memory is bounded.** A reader that takes a whole file takes at most a stated number of
//!   bytes, and says so when a file is larger, before reading it.
//!
//! Errors are [`std::io::Error`]s carrying an [`InputError`], so the crates that already wrap
//! I/O errors with their path keep doing so, and the message says what to do.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// One mebibyte, for limits.
pub const MIB: u64 = 1024 * 1024;

/// What a path names when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Other,
}

impl FileKind {
    fn of(meta: &Metadata) -> Option<FileKind> {
        let t = meta.file_type();
        Some(if t.is_file() {
            return None;
        } else if t.is_dir() {
            FileKind::Directory
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_char_device() {
            FileKind::CharDevice
        } else if t.is_block_device() {
            FileKind::BlockDevice
        } else if t.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        })
    }

    fn chinese(self) -> &'static str {
        match self {
            FileKind::Directory => "目录",
            FileKind::Fifo => "命名管道",
            FileKind::CharDevice => "字符设备",
            FileKind::BlockDevice => "块设备",
            FileKind::Socket => "套接字",
            FileKind::Other => "特殊文件",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a named pipe (FIFO)",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a file",
        })
    }
}

/// Why a named file was refused (inside the [`io::Error`] the functions here return).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(
        "it is {kind}, not a regular file: name a file (a pipe or device would be read without end) / 不是普通文件，而是{}",
        kind.chinese()
    )]
    NotRegular { kind: FileKind },
    #[error(
        "it is {size} bytes, more than the {limit} bytes accepted here: is it the right file? / 文件过大（上限 {limit} 字节）"
    )]
    TooLarge { size: u64, limit: u64 },
}

impl InputError {
    /// The refusal inside an error from this crate, if it is one.
    pub fn of(error: &io::Error) -> Option<&InputError> {
        error.get_ref()?.downcast_ref::<InputError>()
    }
}

fn refuse(error: InputError) -> io::Error {
    let kind = match error {
        InputError::NotRegular {
            kind: FileKind::Directory,
        } => io::ErrorKind::IsADirectory,
        InputError::NotRegular { .. } => io::ErrorKind::InvalidInput,
        InputError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
    };
    io::Error::new(kind, error)
}

/// Opens a regular file for reading; a FIFO, device, socket or directory is refused at once.
pub fn open(path: &Path) -> io::Result<File> {
    open_regular(path).map(|(file, _)| file)
}

/// The opened file with the `fstat` that admitted it, so callers need not ask again.
fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    match FileKind::of(&meta) {
        None => Ok((file, meta)),
        Some(kind) => Err(refuse(InputError::NotRegular { kind })),
    }
}

/// Refuses a path that exists and is not a regular file (for paths handed to a library that
/// opens them itself, such as a database). A path that cannot be looked at (missing, or under
/// something that is not a directory) passes: the caller's own open says what is wrong with it.
pub fn check_not_special(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path).ok().as_ref().and_then(FileKind::of) {
        None => Ok(()),
        Some(kind) => Err(refuse(InputError::NotRegular { kind })),
    }
}

/// Opens a regular file and checks it holds at most `limit` bytes.
pub fn open_bounded(path: &Path, limit: u64) -> io::Result<(File, u64)> {
    let (file, meta) = open_regular(path)?;
    let size = meta.len();
    if size > limit {
        return Err(refuse(InputError::TooLarge { size, limit }));
    }
    Ok((file, size))
}

/// The bytes of a regular file of at most `limit` bytes. The bound holds even if the file grows
/// while it is read.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, size) = open_bounded(path, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(refuse(InputError::TooLarge {
            size: bytes.len() as u64,
            limit,
        }));
    }
    Ok(bytes)
}

/// The UTF-8 text of a regular file of at most `limit` bytes.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read(path, limit)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {}) / 不是 UTF-8 文本",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn mkfifo(path: &Path) {
        let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
        assert!(ok, "mkfifo failed");
    }

    #[test]
    fn a_fifo_is_refused_at_once_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("suite.yaml");
        mkfifo(&fifo);
        // Without O_NONBLOCK this open would wait for a writer that never comes.
        let err = read(&fifo, MIB).unwrap_err();
        assert!(
            matches!(
                InputError::of(&err),
                Some(InputError::NotRegular {
                    kind: FileKind::Fifo
                })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("named pipe (FIFO)"), "{err}");
        assert!(err.to_string().contains("命名管道"), "{err}");
    }

    #[test]
    fn devices_and_directories_are_refused_with_what_they_are() {
        let err = read(Path::new("/dev/zero"), MIB).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = open(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        assert!(err.to_string().contains("a directory"), "{err}");
        assert!(check_not_special(Path::new("/dev/full")).is_err());
        assert!(check_not_special(&dir.path().join("new.db")).is_ok());
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let file = File::create(&path).unwrap();
        // A sparse gibibyte: refusing it must not read (or allocate) it.
        file.set_len(1024 * MIB).unwrap();
        let err = read(&path, MIB).unwrap_err();
        assert!(
            matches!(
                InputError::of(&err),
                Some(InputError::TooLarge { size, limit }) if *size == 1024 * MIB && *limit == MIB
            ),
            "{err}"
        );
        std::fs::write(&path, b"small").unwrap();
        assert_eq!(read(&path, MIB).unwrap(), b"small");
        assert_eq!(read(&path, 5).unwrap(), b"small");
        assert!(read(&path, 4).is_err());
    }

    #[test]
    fn missing_files_keep_their_ordinary_error() {
        let err = read(Path::new("/nonexistent/suite.yaml"), MIB).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(InputError::of(&err).is_none());
    }

    #[test]
    fn text_that_is_not_utf8_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, b"ok\xff").unwrap();
        let err = read_to_string(&path, MIB).unwrap_err();
        assert!(err.to_string().contains("offset 2"), "{err}");
    }
}
